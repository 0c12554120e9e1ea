"""The campaign editor as a clerk uses it: several shifts, a repeat rule and call-up rules on one form, drafts
changed and deleted, a published shift moved with everyone told, and a cancel that asks first."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from notices.models import Notification, NotificationKind
from campaigns.models import CallUp, CallUpStatus, Campaign, CampaignStatus
from core.clock import utcnow
from extensions import db
from tests.conftest import form_csrf_token
from tests.factories import CampaignFactory, PositionFactory, ShiftFactory, VolunteerFactory
from tests.calendar_ahead import local_at
from tests.web.test_office_new_campaign import SATURDAY, _body, _field_error

SUNDAY = SATURDAY + timedelta(days=1)
MOVED_TO = SATURDAY + timedelta(days=35)

pytestmark = pytest.mark.usefixtures("tree")


@pytest.fixture
def office(login_as, tree):
    return login_as("office", grid_id=tree.community_a.id)


def _two_shifts(tree, token: str, **changes) -> dict:
    """Saturday 09:00-12:30 (two positions) and Sunday 14:00-17:00 (one position), weekly."""
    body = _body(tree, token, shift_count="2", repeat="weekly", **{
        "s2-date": str(SUNDAY), "s2-start": "14:00", "s2-end": "17:00", "s2-place": "江南小区5幢",
        "s2-shift_grid_id": str(tree.grid_a2.id), "s2-role-1": "巡查员", "s2-headcount-1": "3",
        "s2-skill-1": "", "s2-min_level-1": "1", "s2-min_party_members-1": "1"})
    body.update(changes)
    return body


def _only_campaign() -> Campaign:
    db.session.expire_all()
    return db.session.scalars(select(Campaign)).one()


def test_add_a_shift_draws_one_more_block_copied_from_the_last_and_saves_nothing(office, tree):
    token = form_csrf_token(office.get("/office/campaigns/new"))
    page = office.post("/office/campaigns/new", data=_body(tree, token, add_shift="1"))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'name="shift_count" value="2"' in text and 'id="shift-fields-2"' in text
    assert f'name="s2-date" id="s2-date" value="{SATURDAY}"' in text  # the day and times of shift 1, to change
    assert 'name="s2-role-1" id="s2-role-1" value=""' in text
    assert 'value="江南垃圾分类周末"' in text  # what was typed stays
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_a_two_shift_weekly_campaign_with_its_own_answer_window(office, tree):
    token = form_csrf_token(office.get("/office/campaigns/new"))
    response = office.post("/office/campaigns/new", data=_two_shifts(tree, token, response_minutes="90",
                                                                     follow_up_minutes="20"))
    assert response.status_code == 302, _field_error(response.get_data(as_text=True), "title")
    campaign = _only_campaign()
    saturday, sunday = sorted(campaign.shifts, key=lambda s: s.start_at)
    assert saturday.start_at == local_at(SATURDAY, 9)
    assert (sunday.start_at, sunday.end_at) == (local_at(SUNDAY, 14), local_at(SUNDAY, 17))
    assert (sunday.grid_id, sunday.place) == (tree.grid_a2.id, "江南小区5幢")
    assert [(p.role, p.headcount, p.min_party_members) for p in sunday.positions] == [("巡查员", 3, 1)]
    assert len(saturday.positions) == 2
    assert campaign.recurrence_cron == "0 9 * * 6"  # Saturdays at 09:00, the first shift's time
    assert campaign.policy == {"response_minutes": 90, "follow_up_minutes": 20, "sign_ups": False}


def test_an_added_block_left_empty_is_not_a_shift(office, tree):
    token = form_csrf_token(office.get("/office/campaigns/new"))
    body = _body(tree, token, shift_count="2", **{"s2-date": str(SUNDAY), "s2-start": "09:00", "s2-end": "12:00"})
    assert office.post("/office/campaigns/new", data=body).status_code == 302
    assert len(_only_campaign().shifts) == 1


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"s2-end": "13:00"}, "s2-end", "结束时间（班次 2）：结束时间须晚于开始时间。"),
    ({"s2-headcount-1": "0"}, "s2-headcount-1", "人数（班次 2）（岗位 1）：超出允许范围。"),
    ({"s2-shift_grid_id": "999999"}, "s2-shift_grid_id", "班次网格（班次 2）：网格不存在或不在您的管辖范围内。"),
    ({"response_minutes": "0"}, "response_minutes", "回复时限（分钟）：超出允许范围。"),
    ({"repeat": "custom", "recurrence_cron": "* * * * *"}, "repeat", "重复："),
    ({"repeat": "custom", "recurrence_cron": "every saturday"}, "repeat", "重复："),
])
def test_a_bad_field_of_a_later_shift_or_a_rule_is_named_and_nothing_is_written(office, tree, changes, field, words):
    token = form_csrf_token(office.get("/office/campaigns/new"))
    response = office.post("/office/campaigns/new", data=_two_shifts(tree, token, **changes))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert words in _field_error(page, field)
    assert 'name="shift_count" value="2"' in page and 'value="巡查员"' in page  # both blocks come back as typed
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_a_draft_is_edited_on_the_same_form_and_what_the_form_does_not_show_is_kept(office, tree):
    token = form_csrf_token(office.get("/office/campaigns/new"))
    office.post("/office/campaigns/new", data=_two_shifts(tree, token))
    campaign = _only_campaign()
    campaign.policy = {**campaign.policy, "reminder_hours": [6]}  # set through the API; the form has no field
    db.session.commit()

    form = office.get(f"/office/campaigns/{campaign.id}/edit")
    text = form.get_data(as_text=True)
    assert form.status_code == 200 and "修改草稿" in text and 'id="form-cannot-show"' not in text
    assert 'name="s2-role-1" id="s2-role-1" value="巡查员"' in text
    assert '<option value="weekly" selected>' in text
    body = _two_shifts(tree, form_csrf_token(form), title="江南垃圾分类（改期）", repeat="",
                       **{"s2-role-1": "", "s2-headcount-1": ""})
    response = office.post(f"/office/campaigns/{campaign.id}/edit", data=body)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/office/campaigns/{campaign.id}")
    edited = _only_campaign()
    assert edited.title == "江南垃圾分类（改期）" and len(edited.shifts) == 1 and edited.recurrence_cron is None
    assert edited.policy == {"reminder_hours": [6], "sign_ups": False}
    assert "已保存活动草稿" in office.get(response.headers["Location"]).get_data(as_text=True)


def test_a_draft_with_more_than_the_form_holds_says_so_on_its_edit_page(office, tree):
    campaign = CampaignFactory(office_grid_id=tree.community_a.id, title="党员先锋岗")
    PositionFactory(shift=ShiftFactory(campaign=campaign, start_at=utcnow() + timedelta(days=3)),
                    required_identities=1)
    db.session.commit()
    page = office.get(f"/office/campaigns/{campaign.id}/edit").get_data(as_text=True)
    assert 'id="form-cannot-show"' in page


def test_a_published_campaign_is_not_edited_whole_and_a_draft_is_deleted_only_when_ticked(office, tree):
    published = CampaignFactory(office_grid_id=tree.community_a.id, status=CampaignStatus.PUBLISHED,
                                published_at=utcnow())
    draft = CampaignFactory(office_grid_id=tree.community_a.id, title="周末敬老院探访")
    db.session.commit()
    published_id, draft_id = published.id, draft.id
    moved = office.get(f"/office/campaigns/{published_id}/edit")
    assert moved.status_code == 302 and moved.headers["Location"].endswith(f"/office/campaigns/{published_id}")

    board = office.get(f"/office/campaigns/{draft_id}")
    assert 'id="edit-draft"' in board.get_data(as_text=True)
    token = form_csrf_token(board)
    unticked = office.post(f"/office/campaigns/{draft_id}/delete", data={"csrf_token": token})
    assert unticked.status_code == 302 and db.session.get(Campaign, draft_id) is not None
    assert office.post(f"/office/campaigns/{published_id}/delete",
                       data={"csrf_token": token, "confirm": "y"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Campaign, published_id).status is CampaignStatus.PUBLISHED
    deleted = office.post(f"/office/campaigns/{draft_id}/delete", data={"csrf_token": token, "confirm": "y"})
    assert deleted.status_code == 302 and deleted.headers["Location"].endswith("/office/campaigns")
    db.session.expire_all()
    assert db.session.get(Campaign, draft_id) is None
    assert "已删除活动草稿“周末敬老院探访”" in office.get("/office/campaigns").get_data(as_text=True)


def test_a_published_shift_moves_on_the_board_and_the_people_on_it_are_told(office, login_as, tree):
    campaign = CampaignFactory(office_grid_id=tree.community_a.id, status=CampaignStatus.PUBLISHED,
                               published_at=utcnow())
    shift = ShiftFactory(campaign=campaign, start_at=utcnow() + timedelta(days=3),
                         end_at=utcnow() + timedelta(days=3, hours=3), place="江南小区3幢")
    position = PositionFactory(shift=shift, headcount=2)
    person = VolunteerFactory(home_grid_id=tree.grid_a1.id)
    db.session.add(CallUp(position_id=position.id, volunteer_id=person.id, status=CallUpStatus.ACCEPTED,
                          send_at=utcnow(), sent_at=utcnow(), responded_at=utcnow()))
    db.session.commit()
    board = office.get(f"/office/campaigns/{campaign.id}")
    text = board.get_data(as_text=True)
    assert f'id="shift-form-{shift.id}"' in text
    token = form_csrf_token(board)
    prefix = f"shift-{shift.id}-"
    body = {"csrf_token": token, prefix + "day": str(MOVED_TO), prefix + "start": "08:30", prefix + "end": "11:00",
            prefix + "place": "江南社区广场", prefix + "note": "雨天改到广场"}
    response = office.post(f"/office/campaigns/{campaign.id}/shifts/{shift.id}", data=body)
    assert response.status_code == 302
    db.session.expire_all()
    moved = db.session.get(type(shift), shift.id)
    assert (moved.start_at, moved.place) == (local_at(MOVED_TO, 8, 30), "江南社区广场")
    told = db.session.scalars(select(Notification).where(Notification.kind == NotificationKind.CHANGE)).all()
    assert told and {n.volunteer_id for n in told} == {person.id}
    assert "已通知本班次" in office.get(f"/office/campaigns/{campaign.id}").get_data(as_text=True)

    # A message alone: the time and place as they are, a note for everyone on the shift.
    same = dict(body, **{prefix + "note": "请带好手套，8点在东门集合"})
    assert office.post(f"/office/campaigns/{campaign.id}/shifts/{shift.id}", data=same).status_code == 302
    db.session.expire_all()
    notes = db.session.scalars(select(Notification).where(Notification.kind == NotificationKind.CHANGE,
                                                          Notification.volunteer_id == person.id)).all()
    assert len(notes) == len(told) * 2 and any("请带好手套" in n.payload["text"] for n in notes)

    backwards = dict(body, **{prefix + "end": "08:00"})
    refused = office.post(f"/office/campaigns/{campaign.id}/shifts/{shift.id}", data=backwards)
    assert refused.status_code == 302
    assert "未修改班次" in office.get(f"/office/campaigns/{campaign.id}").get_data(as_text=True)
    other = CampaignFactory(office_grid_id=tree.community_a.id, status=CampaignStatus.PUBLISHED)
    db.session.commit()
    assert office.post(f"/office/campaigns/{other.id}/shifts/{shift.id}", data=body).status_code == 404
    stranger = login_as("office", grid_id=tree.community_b.id)
    assert stranger.post(f"/office/campaigns/{campaign.id}/shifts/{shift.id}",
                         data=dict(body, csrf_token=form_csrf_token(stranger.get("/office/campaigns")))
                         ).status_code == 404


def test_a_campaign_open_to_sign_ups_is_ticked_on_the_form_and_stays_ticked_when_edited(office, tree):
    token = form_csrf_token(office.get("/office/campaigns/new"))
    assert 'id="sign_ups"' in office.get("/office/campaigns/new").get_data(as_text=True)
    response = office.post("/office/campaigns/new", data=_two_shifts(tree, token, sign_ups="1"))
    assert response.status_code == 302
    campaign = _only_campaign()
    assert campaign.policy == {"sign_ups": True}  # nothing else typed: the priority's defaults
    edit = office.get(f"/office/campaigns/{campaign.id}/edit").get_data(as_text=True)
    assert 'value="1" checked>' in edit[edit.index('id="sign_ups"') - 80:edit.index('id="sign_ups"') + 40]
    unticked = office.post(f"/office/campaigns/{campaign.id}/edit", data=_two_shifts(tree, token))
    assert unticked.status_code == 302
    assert not _only_campaign().policy.get("sign_ups")
