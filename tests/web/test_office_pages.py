"""The office console with the Flask test client: scope, the staffing board, and the actions with their CSRF tokens."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from accounts.models import AuditEvent
from notices.models import Channel, Notification, NotificationKind, NotificationStatus
from campaigns.models import (CallUp, CallUpEvent, CallUpStatus, Campaign, CampaignStatus, Priority,
                              RecruitmentOverride)
from core.clock import utcnow
from core.kinds import CampaignKind
from extensions import db
from tests.conftest import form_csrf_token
from tests.factories import CampaignFactory, PositionFactory, ShiftFactory, VolunteerFactory
from volunteers.availability import windows_to_mask

ALWAYS = windows_to_mask([(day, 0, 24 * 60) for day in range(7)])


def _campaign(grid, title: str, *, status=CampaignStatus.DRAFT, priority=Priority.ROUTINE, headcount: int = 2,
              start_in=timedelta(days=3), kind=CampaignKind.GARBAGE_SORTING) -> Campaign:
    campaign = CampaignFactory(office_grid_id=grid.id, title=title, status=status, priority=priority, kind=kind)
    shift = ShiftFactory(campaign=campaign, start_at=utcnow() + start_in, place="江南小区3幢")
    PositionFactory(shift=shift, role="分类指导员", headcount=headcount)
    db.session.commit()
    return campaign


def _form_token(client, campaign_id: int) -> str:
    return form_csrf_token(client.get(f"/office/campaigns/{campaign_id}"))


def _flashes(client, campaign_id: int) -> str:
    page = client.get(f"/office/campaigns/{campaign_id}").get_data(as_text=True)
    start = page.find('id="flashes"')
    assert start >= 0, page[:800]
    return page[start:page.find("</ul>", start)]


def _status(campaign_id: int) -> CampaignStatus:
    db.session.expire_all()
    return db.session.get(Campaign, campaign_id).status


def test_office_console_lists_only_the_offices_campaigns_newest_first_with_filters(login_as, tree):
    older = _campaign(tree.community_a, "江南垃圾分类周末", status=CampaignStatus.PUBLISHED)
    newer = _campaign(tree.community_a, "江南燃气入户", priority=Priority.URGENT, kind=CampaignKind.GAS_SAFETY)
    _campaign(tree.community_b, "湘湖巡逻")
    office = login_as("office", grid_id=tree.community_a.id)

    page = office.get("/office/campaigns")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    text = page.get_data(as_text=True)
    assert "湘湖巡逻" not in text
    assert text.index("江南燃气入户") < text.index("江南垃圾分类周末")
    assert f'id="campaign-{newer.id}" data-status="draft" data-priority="urgent"' in text
    assert "燃气安全入户" in text and "0% <small>(0/2)</small>" in text

    published = office.get("/office/campaigns?status=published").get_data(as_text=True)
    assert f'id="campaign-{older.id}"' in published and f'id="campaign-{newer.id}"' not in published
    assert "还没有活动" in office.get("/office/campaigns?status=cancelled").get_data(as_text=True)


def test_office_console_pages_twenty_campaigns_at_a_time(login_as, tree):
    ids = [_campaign(tree.community_a, f"活动{n:02d}").id for n in range(21)]
    office = login_as("office", grid_id=tree.community_a.id)
    first = office.get("/office/campaigns").get_data(as_text=True)
    assert first.count('<tr id="campaign-') == 20 and f'id="campaign-{ids[0]}"' not in first
    assert "第 1 / 2 页" in first and 'id="next-page"' in first
    second = office.get("/office/campaigns?page=2").get_data(as_text=True)
    assert second.count('<tr id="campaign-') == 1 and f'id="campaign-{ids[0]}"' in second
    beyond = office.get("/office/campaigns?page=9").get_data(as_text=True)
    assert "第 2 / 2 页" in beyond and f'id="campaign-{ids[0]}"' in beyond
    for junk in ("0", "-1", "²", "9" * 5000, "x"):
        assert "第 1 / 2 页" in office.get(f"/office/campaigns?page={junk}").get_data(as_text=True)


def test_empty_console_says_how_to_create_a_campaign(login_as, tree):
    _campaign(tree.community_b, "湘湖巡逻")
    text = login_as("office", grid_id=tree.community_a.id).get("/office/campaigns").get_data(as_text=True)
    assert 'id="no-campaigns"' in text and "还没有活动" in text and "POST /api/v1/campaigns" in text


def test_another_communitys_campaign_is_not_found_and_cannot_be_acted_on(login_as, tree):
    theirs = _campaign(tree.community_b, "湘湖巡逻", status=CampaignStatus.PUBLISHED)
    mine = _campaign(tree.community_a, "江南巡逻")
    office = login_as("office", grid_id=tree.community_a.id)
    assert office.get(f"/office/campaigns/{theirs.id}").status_code == 404
    token = _form_token(office, mine.id)
    refused = office.post(f"/office/campaigns/{theirs.id}/cancel", data={"csrf_token": token, "reason": "不需要了", "confirm": "y"})
    assert refused.status_code == 404
    assert _status(theirs.id) is CampaignStatus.PUBLISHED
    refusal = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "POST office.cancel"))
    assert refusal.outcome == "refused" and refusal.object_id == str(theirs.id)
    assert office.get("/office/campaigns/999999").status_code == 404


def test_console_needs_an_office_or_admin_account(login_as, page_client, tree):
    campaign = _campaign(tree.community_a, "江南巡逻")
    volunteer = login_as("volunteer")
    assert volunteer.get("/office/campaigns").status_code == 403
    assert volunteer.get(f"/office/campaigns/{campaign.id}").status_code == 403
    assert login_as("enterprise").get("/office/campaigns").status_code == 403
    anonymous = page_client.get("/office/campaigns")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    admin = login_as("admin")
    assert 'id="campaign-%d"' % campaign.id in admin.get("/office/campaigns").get_data(as_text=True)
    assert admin.get(f"/office/campaigns/{campaign.id}").status_code == 200


def test_board_shows_counts_risk_failed_messages_and_the_latest_history(login_as, tree):
    campaign = _campaign(tree.community_a, "江南垃圾分类", status=CampaignStatus.PUBLISHED, headcount=2)
    position_id = campaign.shifts[0].positions[0].id
    now = utcnow()
    people = [VolunteerFactory(home_grid_id=tree.grid_a1.id, name=f"志愿者{n}") for n in range(3)]
    states = [CallUpStatus.ACCEPTED, CallUpStatus.SENT, CallUpStatus.DECLINED]
    for person, state in zip(people, states):
        callup = CallUp(position_id=position_id, volunteer_id=person.id, status=state, created_at=now, updated_at=now)
        callup.events.append(CallUpEvent(at=now, actor="test", from_state="sent", to_state=state.value))
        db.session.add(callup)
    db.session.flush()
    first = db.session.scalar(select(CallUp.id).order_by(CallUp.id))
    for n in range(55):  # more than the board shows: only the newest 50 appear
        db.session.add(CallUpEvent(callup_id=first, at=now + timedelta(seconds=n + 1), actor="test",
                                   from_state="accepted", to_state="accepted", note=f"event-{n}"))
    db.session.add(Notification(callup_id=first, volunteer_id=people[0].id, channel=Channel.SMS,
                                kind=NotificationKind.CALLUP, idempotency_key="failed-1",
                                status=NotificationStatus.FAILED, due_at=now, created_at=now))
    db.session.commit()

    office = login_as("office", grid_id=tree.community_a.id)
    text = office.get(f"/office/campaigns/{campaign.id}").get_data(as_text=True)
    row = text[text.index(f'id="position-{position_id}"'):]
    row = row[:row.index("</tr>")]
    # need 2, accepted 1, pending 1, declined 1, expired 0, open 1
    cells = [re.sub(r"<[^>]+>", " ", cell).split() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
    assert [cell[0] for cell in cells[2:8]] == ["2", "1", "1", "1", "0", "1"]
    assert re.search(r'<td class="figure open"[^>]*>1</td>', row)
    assert 'id="failed-notifications" class="alert">1\n' in text and 'id="messages-link"' in text
    assert "1 / 2 (50%)" in text
    assert "event-54" in text and "event-5<" in text and "event-4<" not in text
    assert 'id="arrivals"' not in text  # routine work has no arrival board


def test_emergency_board_shows_who_arrives_when(login_as, tree):
    campaign = _campaign(tree.community_a, "防汛应急", status=CampaignStatus.PUBLISHED, priority=Priority.EMERGENCY,
                         headcount=1, kind=CampaignKind.FLOOD_EMERGENCY, start_in=timedelta(hours=1))
    now = utcnow()
    person = VolunteerFactory(home_grid_id=tree.grid_a1.id, name="李强")
    db.session.add(CallUp(position_id=campaign.shifts[0].positions[0].id, volunteer_id=person.id,
                          status=CallUpStatus.ACCEPTED, sent_at=now, responded_at=now, eta_minutes=10,
                          created_at=now, updated_at=now))
    db.session.commit()
    office = login_as("office", grid_id=tree.community_a.id)
    text = office.get(f"/office/campaigns/{campaign.id}").get_data(as_text=True)
    assert 'id="arrivals"' in text and '<span class="ok">李强</span>' in text
    assert 'id="arrival-standard" class="ok"' in text


def test_publish_form_publishes_a_draft_and_refuses_without_a_token(login_as, tree):
    VolunteerFactory(home_grid_id=tree.grid_a1.id, availability_mask=ALWAYS)
    campaign = _campaign(tree.community_a, "江南垃圾分类")
    office = login_as("office", grid_id=tree.community_a.id)
    assert office.post(f"/office/campaigns/{campaign.id}/publish").status_code == 400
    assert _status(campaign.id) is CampaignStatus.DRAFT

    token = _form_token(office, campaign.id)
    # One person for more places: the page asks first, with the dry run's reasons, and publishes nothing.
    response = office.post(f"/office/campaigns/{campaign.id}/publish", data={"csrf_token": token})
    assert response.status_code == 302 and "confirm_publish=1" in response.headers["Location"]
    assert _status(campaign.id) is CampaignStatus.DRAFT
    page = office.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="confirm-publish"' in page and 'id="publish-anyway"' in page and "只有 1 名" in page

    response = office.post(f"/office/campaigns/{campaign.id}/publish", data={"csrf_token": token, "confirm": "1"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/office/campaigns/{campaign.id}")
    assert _status(campaign.id) is CampaignStatus.PUBLISHED
    assert db.session.scalar(select(func.count()).select_from(CallUp)) == 1
    flashes = _flashes(office, campaign.id)
    assert "已发布" in flashes and "Published" not in flashes and "无人可召集" in flashes
    board = office.get(f"/office/campaigns/{campaign.id}").get_data(as_text=True)
    assert 'class="unfilled"' in board  # the reasons stay on the board until the places fill


def test_publish_refusals_are_flashed_naming_the_field(login_as, tree):
    started = _campaign(tree.community_a, "已开始的活动", start_in=timedelta(hours=-1))
    published = _campaign(tree.community_a, "已发布的活动", status=CampaignStatus.PUBLISHED)
    office = login_as("office", grid_id=tree.community_a.id)
    token = _form_token(office, started.id)
    assert office.post(f"/office/campaigns/{started.id}/publish", data={"csrf_token": token}).status_code == 302
    flashes = _flashes(office, started.id)
    assert "未能发布：班次：" in flashes
    assert _status(started.id) is CampaignStatus.DRAFT
    assert office.post(f"/office/campaigns/{published.id}/publish", data={"csrf_token": token}).status_code == 302
    assert "状态：" in _flashes(office, published.id)


def test_cancel_form_needs_a_reason_and_a_token(login_as, tree):
    campaign = _campaign(tree.community_a, "江南垃圾分类", status=CampaignStatus.PUBLISHED)
    office = login_as("office", grid_id=tree.community_a.id)
    assert office.post(f"/office/campaigns/{campaign.id}/cancel", data={"reason": "暴雨"}).status_code == 400
    token = _form_token(office, campaign.id)
    assert office.post(f"/office/campaigns/{campaign.id}/cancel",
                       data={"csrf_token": token, "reason": "  "}).status_code == 302
    assert "未能取消" in _flashes(office, campaign.id)
    # One click and a one-letter reason no longer cancel: a reason people can read, and the tick.
    assert office.post(f"/office/campaigns/{campaign.id}/cancel",
                       data={"csrf_token": token, "reason": "x", "confirm": "y"}).status_code == 302
    assert "未能取消" in _flashes(office, campaign.id)
    assert office.post(f"/office/campaigns/{campaign.id}/cancel",
                       data={"csrf_token": token, "reason": "暴雨预警"}).status_code == 302
    assert "未能取消" in _flashes(office, campaign.id)
    assert _status(campaign.id) is CampaignStatus.PUBLISHED

    response = office.post(f"/office/campaigns/{campaign.id}/cancel",
                           data={"csrf_token": token, "reason": "暴雨预警", "confirm": "y"})
    assert response.status_code == 302
    assert _status(campaign.id) is CampaignStatus.CANCELLED
    assert db.session.get(Campaign, campaign.id).cancel_reason == "暴雨预警"
    audited = db.session.scalars(select(AuditEvent.outcome).where(AuditEvent.action == "POST office.cancel")).all()
    assert audited == ["302"] * 4  # three refused (blank, one letter, no tick) and the cancel; the token-less never ran
    page = office.get(f"/office/campaigns/{campaign.id}").get_data(as_text=True)
    assert "活动已取消" in page and 'id="cancel-reason">暴雨预警<' in page and 'id="cancel-form"' not in page

    again = office.post(f"/office/campaigns/{campaign.id}/cancel", data={"csrf_token": token, "reason": "再次取消活动", "confirm": "y"})
    assert again.status_code == 302 and "未能取消：状态：" in _flashes(office, campaign.id)


def test_match_dry_run_reports_proposals_and_changes_nothing(login_as, tree):
    VolunteerFactory(home_grid_id=tree.grid_a1.id, availability_mask=ALWAYS)
    campaign = _campaign(tree.community_a, "江南垃圾分类", headcount=3)
    office = login_as("office", grid_id=tree.community_a.id)
    assert office.post(f"/office/campaigns/{campaign.id}/match").status_code == 400
    token = _form_token(office, campaign.id)
    assert office.post(f"/office/campaigns/{campaign.id}/match", data={"csrf_token": token}).status_code == 302
    flashes = _flashes(office, campaign.id)
    assert "试匹配（未做任何更改）：拟召集 1 人，仍缺 2 人。" in flashes and "proposed" not in flashes
    reasons = office.get(f"/office/campaigns/{campaign.id}/preview").get_data(as_text=True)
    assert "2 个名额无人可召集" in reasons  # the reasons are on the dry run's own page
    assert db.session.scalar(select(func.count()).select_from(CallUp)) == 0
    assert _status(campaign.id) is CampaignStatus.DRAFT


def test_dry_run_shows_names_scores_terms_and_reasons_and_survives_a_reload(login_as, tree):
    near = VolunteerFactory(home_grid_id=tree.grid_a1.id, availability_mask=ALWAYS, name="李娜")
    VolunteerFactory(home_grid_id=tree.grid_a2.id, availability_mask=ALWAYS, name="赵磊")
    VolunteerFactory(home_grid_id=tree.grid_b1.id, availability_mask=ALWAYS, name="湘湖的人")  # out of scope
    campaign = _campaign(tree.community_a, "江南垃圾分类", headcount=3)
    office = login_as("office", grid_id=tree.community_a.id)
    response = office.post(f"/office/campaigns/{campaign.id}/match", data={"csrf_token": _form_token(office, campaign.id)})
    assert response.headers["Location"].endswith(f"/office/campaigns/{campaign.id}/preview")

    for _ in range(2):  # the reload shows the same: nothing was stored, nothing changed
        page = office.get(f"/office/campaigns/{campaign.id}/preview").get_data(as_text=True)
        position = campaign.shifts[0].positions[0]
        table = page[page.index(f'id="proposals-{position.id}"'):page.index("</table>", page.index("proposals-"))]
        assert table.count('class="proposal"') == 2 and "李娜" in table and "赵磊" in table
        assert "湘湖的人" not in page
        assert "<th scope=\"col\">距离</th>" in table and "Distance" not in table and f'data-volunteer="{near.id}"' in table
        assert "****" in table and near.mobile not in page  # mobiles masked
        assert f'id="reasons-{position.id}"' in page and "1 个名额无人可召集" in page
    assert db.session.scalar(select(func.count()).select_from(CallUp)) == 0
    assert _status(campaign.id) is CampaignStatus.DRAFT
    stranger = login_as("office", grid_id=tree.community_b.id)
    assert stranger.get(f"/office/campaigns/{campaign.id}/preview").status_code == 404


def test_street_office_opens_an_override_from_the_board(login_as, tree):
    campaign = _campaign(tree.community_a, "防汛应急", status=CampaignStatus.PUBLISHED, priority=Priority.EMERGENCY,
                         kind=CampaignKind.FLOOD_EMERGENCY)
    street = login_as("office", grid_id=tree.street.id)
    page = street.get(f"/office/campaigns/{campaign.id}").get_data(as_text=True)
    assert 'id="override-form"' in page and f'<option value="{tree.street.id}">西兴街道</option>' in page
    override = page[page.index('id="override-form"'):page.index("</form>", page.index('id="override-form"'))]
    assert f'value="{tree.district.id}"' not in override  # the district lies outside the street office's scope
    data = {"grid_id": tree.street.id, "reason": "江南社区人手不足", "hours": 2}
    assert street.post(f"/office/campaigns/{campaign.id}/override", data=data).status_code == 400
    token = form_csrf_token(street.get(f"/office/campaigns/{campaign.id}"))

    too_long = street.post(f"/office/campaigns/{campaign.id}/override", data=data | {"csrf_token": token, "hours": 100})
    assert too_long.status_code == 302 and "时长" in _flashes(street, campaign.id)
    below = street.post(f"/office/campaigns/{campaign.id}/override",
                        data=data | {"csrf_token": token, "grid_id": tree.grid_a1.id})
    assert below.status_code == 302 and "未能放宽招募范围：招募范围：" in _flashes(street, campaign.id)
    assert db.session.scalar(select(func.count()).select_from(RecruitmentOverride)) == 0

    opened = street.post(f"/office/campaigns/{campaign.id}/override", data=data | {"csrf_token": token})
    assert opened.status_code == 302
    override = db.session.scalar(select(RecruitmentOverride))
    assert override.grid_id == tree.street.id and override.reason == "江南社区人手不足"
    assert override.opened_by == f"user:{street.user.id}"
    page = street.get(f"/office/campaigns/{campaign.id}").get_data(as_text=True)
    assert "已放宽招募范围至 西兴街道" in page and 'id="overrides"' in page


def test_community_office_gets_no_override_form_and_a_refusal_if_it_posts(login_as, tree):
    campaign = _campaign(tree.community_a, "防汛应急", status=CampaignStatus.PUBLISHED, priority=Priority.EMERGENCY)
    office = login_as("office", grid_id=tree.community_a.id)
    page = office.get(f"/office/campaigns/{campaign.id}")
    assert 'id="override-form"' not in page.get_data(as_text=True)
    token = form_csrf_token(page)
    response = office.post(f"/office/campaigns/{campaign.id}/override",
                           data={"csrf_token": token, "grid_id": tree.street.id, "reason": "人手不足", "hours": 2})
    assert response.status_code == 302
    assert "未能放宽招募范围" in _flashes(office, campaign.id)
    assert db.session.scalar(select(func.count()).select_from(RecruitmentOverride)) == 0


def test_me_and_front_page_link_staff_to_the_console(login_as, tree):
    office = login_as("office", grid_id=tree.community_a.id)
    assert 'id="console-link" href="/office/campaigns"' in office.get("/me").get_data(as_text=True)
    assert 'id="console-link" href="/office/campaigns"' in office.get("/").get_data(as_text=True)
    volunteer = login_as("volunteer")
    assert 'id="console-link"' not in volunteer.get("/me").get_data(as_text=True)
    front = volunteer.get("/").get_data(as_text=True)
    assert 'id="signed-in-nav"' in front and 'id="console-link"' not in front


def test_office_board_history_says_changes_in_words_and_names_who_acted(login_as, tree):
    """The history read by a clerk: "已发送 · Sent → 已确认 · Accepted" by "王主任", not "sent → accepted" by "user:3"."""
    from accounts.models import Role
    from accounts.users import create_user
    from campaigns.attendance import record_attendance
    from campaigns.responses import accept_callup, decline_callup

    campaign = _campaign(tree.community_a, "江南垃圾分类周末", status=CampaignStatus.PUBLISHED, headcount=1,
                         start_in=timedelta(hours=1))
    position = campaign.shifts[0].positions[0]
    now = utcnow()
    first, second = (VolunteerFactory(home_grid_id=tree.grid_a1.id, name=name) for name in ("李娜", "赵磊"))
    callups = [CallUp(position_id=position.id, volunteer_id=person.id, status=CallUpStatus.SENT, send_at=now,
                      sent_at=now, expires_at=now + timedelta(minutes=30)) for person in (first, second)]
    db.session.add_all(callups)
    db.session.commit()
    accept_callup(callups[0].id, actor=f"volunteer:{first.id}", now=now)
    decline_callup(callups[1].id, actor="anonymous", now=now)
    clerk = create_user(login="wang", display_name="王主任", password="river-stone-42", role=Role.OFFICE,
                        actor="test", now=now, grid_id=tree.community_a.id)
    record_attendance(callups[0].id, attended=True, actor=f"user:{clerk.id}", now=now + timedelta(hours=1))
    office = login_as("office", grid_id=tree.community_a.id)

    text = office.get(f"/office/campaigns/{campaign.id}").get_data(as_text=True)
    history = text[text.index('id="timeline"'):text.index("</table>", text.index('id="timeline"'))]
    rows = [row for row in history.split("<tr>")[2:]]
    assert "李娜" in rows[0] and "<td>已发送 → 已确认</td>" in rows[0] and "李娜（本人）" in rows[0]
    assert "赵磊" in rows[1] and "<td>已发送 → 已婉拒</td>" in rows[1] and "回复链接" in rows[1]
    assert "<td>已确认 → 已到岗</td>" in rows[2] and "王主任" in rows[2]
    assert f"user:{clerk.id}" not in history and "sent → accepted" not in history


def test_a_big_emergency_board_pages_its_positions_and_roster(login_as, tree):
    """2,000 positions would make a 2 MB page: the tables show 100 rows a page, the figures cover all."""
    campaign = CampaignFactory(office_grid_id=tree.community_a.id, title="暴雨内涝抢险", status=CampaignStatus.PUBLISHED,
                               priority=Priority.EMERGENCY, kind=CampaignKind.FLOOD_EMERGENCY)
    shift = ShiftFactory(campaign=campaign, start_at=utcnow() + timedelta(hours=1))
    positions = [PositionFactory(shift=shift, role=f"抢险岗{i}", headcount=1, accepted_count=1) for i in range(150)]
    db.session.flush()
    people = [VolunteerFactory(home_grid_id=tree.grid_a1.id) for _ in range(120)]
    db.session.add_all(CallUp(position_id=position.id, volunteer_id=person.id, status=CallUpStatus.ACCEPTED,
                              send_at=utcnow(), sent_at=utcnow(), responded_at=utcnow())
                       for position, person in zip(positions, people))
    db.session.commit()
    office = login_as("office", grid_id=tree.community_a.id)

    first = office.get(f"/office/campaigns/{campaign.id}").get_data(as_text=True)
    table = first[first.index('id="positions"'):first.index("</table>", first.index('id="positions"'))]
    assert table.count('<tr id="position-') == 100
    assert "第 1 / 2 页，共 150 行" in first and "第 1 / 2 页，共 120 行" in first
    assert "（120 人已确认）" in first
    second = office.get(f"/office/campaigns/{campaign.id}?page=2&roster_page=2").get_data(as_text=True)
    table = second[second.index('id="positions"'):second.index("</table>", second.index('id="positions"'))]
    assert table.count('<tr id="position-') == 50 and "抢险岗149" in table and "抢险岗0<" not in table
    roster = second[second.index('id="roster-table"'):second.index("</table>", second.index('id="roster-table"'))]
    assert roster.count('<tr id="roster-') == 20
    assert 'href="?page=1&amp;roster_page=2#positions"' in second  # the other table's page is kept
    assert office.get(f"/office/campaigns/{campaign.id}?page=99").status_code == 200  # past the end: the last page
