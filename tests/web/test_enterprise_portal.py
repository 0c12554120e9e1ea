"""Partner enterprises on the pages: sign-up, review by their street office, teams, employees, team answers."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from accounts.models import Role, User
from campaigns.models import CallUp, CallUpStatus, Position
from core.clock import utcnow
from extensions import db
from tests.conftest import form_csrf_token, new_page_client
from tests.factories import CampaignFactory, PositionFactory, ShiftFactory, TeamFactory, VolunteerFactory
from volunteers.availability import windows_to_mask
from volunteers.models import Enterprise, EnterpriseStatus, Identity, Team, Volunteer

PASSWORD = "harbour-lamp-2026"
ALWAYS = windows_to_mask([(day, 0, 24 * 60) for day in range(7)])


def _signup_form(tree, **changes) -> dict:
    form = {"name": "澜湾燃气有限公司", "credit_code": "91330100MA2H123456", "address": "东新路12号",
            "contact_name": "陈经理", "contact_mobile": "13811112222", "requested_grid_id": str(tree.street.id),
            "login": "lanwan-gas", "password": PASSWORD}
    form.update(changes)
    return form


def _sign_up(app, tree, **changes):
    client = new_page_client(app)
    token = form_csrf_token(client.get("/partners/signup"))
    return client, client.post("/partners/signup", data={"csrf_token": token, **_signup_form(tree, **changes)})


def _counts() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(Enterprise)),
            db.session.scalar(select(func.count()).select_from(User)))


def _flashes(client, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    start = page.find('id="flashes"')
    assert start >= 0, page[:1500]
    return page[start:page.find("</ul>", start)]


def test_signup_names_each_bad_field_and_writes_nothing(app, tree):
    before = _counts()
    for changes, field, words in [
        ({"name": ""}, "name", "该字段是必填字段"),
        ({"contact_mobile": "1381111222"}, "contact_mobile", "11位手机号"),
        ({"credit_code": "abc"}, "credit_code", "18 位"),
        ({"requested_grid_id": ""}, "requested_grid_id", ""),
        ({"requested_grid_id": str(tree.grid_a1.id)}, "requested_grid_id", "结对的街道或社区"),
        ({"password": "short"}, "password", "至少 8 位"),
    ]:
        _, response = _sign_up(app, tree, **changes)
        text = response.get_data(as_text=True)
        assert response.status_code == 422, (changes, response.status_code)
        assert f'id="{field}-error"' in text and words in text, (changes, text[text.find("field-error") - 200:][:600])
        db.session.expire_all()
        assert _counts() == before, changes


def test_signup_refuses_a_taken_name_or_login_without_a_half_written_record(app, tree, login_as):
    _sign_up(app, tree)
    before = _counts()
    _, same_name = _sign_up(app, tree, login="another-login")
    _, same_login = _sign_up(app, tree, name="另一家公司", credit_code="")
    assert same_name.status_code == 409 and 'id="name-error"' in same_name.get_data(as_text=True)
    assert same_login.status_code == 409 and 'id="login-error"' in same_login.get_data(as_text=True)
    db.session.expire_all()
    assert _counts() == before


def test_enterprise_signs_up_waits_for_its_street_office_and_then_forms_a_team(app, tree, login_as):
    client, response = _sign_up(app, tree)
    assert response.status_code == 302 and response.headers["Location"].endswith("/enterprise")
    enterprise = db.session.scalars(select(Enterprise)).one()
    assert enterprise.status == EnterpriseStatus.PENDING.value and enterprise.requested_grid_id == tree.street.id
    portal = client.get("/enterprise").get_data(as_text=True)
    assert 'id="enterprise-status">待审核</span>' in portal and "西兴街道" in portal and 'id="team-form"' not in portal

    # Pending: a forged form post forms no team.
    token = form_csrf_token(client.get("/enterprise"))
    client.post("/enterprise/teams", data={"csrf_token": token, "name": "燃气安全服务队"})
    assert "单位尚未通过审核" in _flashes(client, "/enterprise")
    assert db.session.scalar(select(func.count()).select_from(Team)) == 0

    # The other community's office neither sees nor reviews it; the street office does.
    elsewhere = login_as("office", grid_id=tree.community_b.id)
    assert f'id="enterprise-{enterprise.id}"' not in elsewhere.get("/partners/review").get_data(as_text=True)
    token = form_csrf_token(elsewhere.get("/office/campaigns/new"))
    refused = elsewhere.post(f"/partners/review/{enterprise.id}", data={"csrf_token": token, "decision": "approve"})
    assert refused.status_code == 404
    db.session.expire_all()
    assert db.session.get(Enterprise, enterprise.id).status == EnterpriseStatus.PENDING.value

    street = login_as("office", grid_id=tree.street.id)
    page = street.get("/partners/review").get_data(as_text=True)
    assert f'id="enterprise-{enterprise.id}" data-status="pending"' in page and "13811112222" in page
    token = form_csrf_token(street.get("/partners/review"))
    street.post(f"/partners/review/{enterprise.id}", data={"csrf_token": token, "decision": "reject", "note": ""})
    assert "请填写不通过的原因" in _flashes(street, "/partners/review")
    street.post(f"/partners/review/{enterprise.id}", data={"csrf_token": token, "decision": "approve"})
    db.session.expire_all()
    approved = db.session.get(Enterprise, enterprise.id)
    assert approved.status == EnterpriseStatus.APPROVED.value and approved.reviewed_by.startswith("user:")
    again = street.post(f"/partners/review/{enterprise.id}", data={"csrf_token": token, "decision": "reject",
                                                                   "note": "重复"})
    assert again.status_code == 303 and "未能完成：状态：当前为“已通过”。" in _flashes(street, "/partners/review")

    portal = client.get("/enterprise").get_data(as_text=True)
    assert 'id="enterprise-status">已通过</span>' in portal and 'id="team-form"' in portal
    token = form_csrf_token(client.get("/enterprise"))
    client.post("/enterprise/teams", data={"csrf_token": token, "name": "燃气安全服务队",
                                           "paired_grid_ids": [str(tree.community_a.id)]})
    team = db.session.scalars(select(Team)).one()
    assert team.enterprise_id == enterprise.id and team.paired_grid_ids == [tree.community_a.id]


def test_enterprise_adds_employees_sets_a_leader_and_removes_members(app, tree, login_as):
    team = TeamFactory(name="应急抢修队")
    db.session.commit()
    client = login_as("enterprise", enterprise_id=team.enterprise_id)
    token = form_csrf_token(client.get("/enterprise"))
    added = client.post(f"/enterprise/teams/{team.id}/members", data={
        "csrf_token": token, "name": "周强", "mobile": "13900001111", "home_grid_id": str(tree.grid_a2.id)})
    assert added.status_code == 303
    person = db.session.scalars(select(Volunteer).where(Volunteer.mobile == "13900001111")).one()
    assert person.home_grid_id == tree.grid_a2.id and Identity.ENTERPRISE_MEMBER in person.identities
    assert person.consented_channels == []  # nobody is texted before consenting themselves
    page = client.get("/enterprise").get_data(as_text=True)
    assert "周强" in page and "139****1111" in page and "13900001111" not in page

    # A number already registered: refused without naming anyone; a street office is not a home grid.
    VolunteerFactory(mobile="13900002222", name="何静", home_grid_id=tree.grid_b1.id)
    db.session.commit()
    client.post(f"/enterprise/teams/{team.id}/members", data={
        "csrf_token": token, "name": "冒名", "mobile": "13900002222", "home_grid_id": str(tree.grid_a1.id)})
    flashed = _flashes(client, "/enterprise")
    assert "未能完成" in flashed and "何静" not in flashed
    client.post(f"/enterprise/teams/{team.id}/members", data={
        "csrf_token": token, "name": "吴敏", "mobile": "13900003333", "home_grid_id": str(tree.street.id)})
    assert "居住的社区或网格" in _flashes(client, "/enterprise")
    client.post(f"/enterprise/teams/{team.id}/members", data={
        "csrf_token": token, "name": "吴敏", "mobile": "1390000", "home_grid_id": str(tree.grid_a1.id)})
    assert "11位手机号" in _flashes(client, "/enterprise")
    db.session.expire_all()
    assert db.session.get(Team, team.id).member_ids == [person.id]

    client.post(f"/enterprise/teams/{team.id}/leader", data={"csrf_token": token, "member_id": str(person.id)})
    db.session.expire_all()
    assert db.session.get(Team, team.id).leader_id == person.id
    client.post(f"/enterprise/teams/{team.id}/remove", data={"csrf_token": token, "member_id": str(person.id)})
    db.session.expire_all()
    left = db.session.get(Team, team.id)
    assert left.member_ids == [] and left.leader_id is None
    assert db.session.get(Volunteer, person.id) is not None  # their record stays


def test_another_enterprise_cannot_touch_the_team_or_its_call_ups(app, tree, login_as):
    team = TeamFactory(name="医疗志愿服务队")
    member = VolunteerFactory(home_grid_id=tree.grid_a1.id)
    team.members = [member]
    db.session.commit()
    callup = _team_callup(tree, team, places=1)
    other = login_as("enterprise")
    token = form_csrf_token(other.get("/enterprise"))
    assert other.post(f"/enterprise/teams/{team.id}/members", data={
        "csrf_token": token, "name": "x", "mobile": "13900004444", "home_grid_id": str(tree.grid_a1.id)}).status_code == 404
    assert other.post(f"/enterprise/call-ups/{callup.id}/answer", data={
        "csrf_token": token, "action": "send", "member_ids": [str(member.id)]}).status_code == 404
    assert "医疗志愿服务队" not in other.get("/enterprise").get_data(as_text=True)
    volunteer = login_as("volunteer")
    assert volunteer.get("/enterprise").status_code == 403
    assert volunteer.get("/partners/review").status_code == 403
    db.session.expire_all()
    assert db.session.get(CallUp, callup.id).status is CallUpStatus.SENT


def _team_callup(tree, team, *, places: int) -> CallUp:
    now = utcnow()
    campaign = CampaignFactory(office_grid_id=tree.community_a.id, title="燃气入户检查")
    shift = ShiftFactory(campaign=campaign, start_at=now + timedelta(days=2), place="江南小区")
    position = PositionFactory(shift=shift, headcount=3, role="入户检查员")
    callup = CallUp(position_id=position.id, team_id=team.id, places=places, status=CallUpStatus.SENT, wave=1,
                    send_at=now, sent_at=now, expires_at=now + timedelta(hours=12), created_at=now, updated_at=now)
    db.session.add(callup)
    db.session.commit()
    return callup


def test_enterprise_answers_its_team_call_up_on_the_portal(app, tree, login_as):
    team = TeamFactory(name="燃气安全服务队")
    members = [VolunteerFactory(home_grid_id=tree.grid_a1.id, name=name, availability_mask=ALWAYS)
               for name in ("甲", "乙", "丙")]
    team.members = members
    db.session.commit()
    callup = _team_callup(tree, team, places=2)
    client = login_as("enterprise", enterprise_id=team.enterprise_id)
    page = client.get("/enterprise").get_data(as_text=True)
    assert f'id="callup-{callup.id}"' in page and "燃气入户检查" in page and "入户检查员" in page
    token = form_csrf_token(client.get("/enterprise"))

    client.post(f"/enterprise/call-ups/{callup.id}/answer", data={"csrf_token": token, "action": "send"})
    assert "请至少选择一名成员" in _flashes(client, "/enterprise")
    client.post(f"/enterprise/call-ups/{callup.id}/answer", data={
        "csrf_token": token, "action": "send", "member_ids": [str(m.id) for m in members]})
    assert "未能完成" in _flashes(client, "/enterprise")  # three named for two places: nothing changes
    db.session.expire_all()
    assert db.session.get(CallUp, callup.id).status is CallUpStatus.SENT

    client.post(f"/enterprise/call-ups/{callup.id}/answer", data={
        "csrf_token": token, "action": "send", "member_ids": [str(members[0].id), str(members[1].id)]})
    assert "已派出 2 人" in _flashes(client, "/enterprise")
    db.session.expire_all()
    assert db.session.get(CallUp, callup.id).status is CallUpStatus.ACCEPTED
    sent = db.session.scalars(select(CallUp.volunteer_id).where(
        CallUp.team_id == team.id, CallUp.volunteer_id.is_not(None), CallUp.status == CallUpStatus.ACCEPTED)).all()
    assert sorted(sent) == sorted([members[0].id, members[1].id])
    assert db.session.get(Position, db.session.get(CallUp, callup.id).position_id).accepted_count == 2
    assert f'id="callup-{callup.id}"' not in client.get("/enterprise").get_data(as_text=True)


def test_admin_registered_enterprises_stay_approved_and_the_account_role_is_enterprise(app, tree):
    _, response = _sign_up(app, tree)
    user = db.session.scalars(select(User).where(User.login == "lanwan-gas")).one()
    assert user.role is Role.ENTERPRISE and user.enterprise_id is not None
    from volunteers.teams import register_enterprise
    direct = register_enterprise({"name": "区属国企"})
    assert direct.status == EnterpriseStatus.APPROVED.value


def test_a_pending_enterprises_team_is_offered_nothing(app, tree):
    from campaigns.team_offers import offer_to_team
    from core.errors import ValidationFailed
    from core.scope import Scope

    leader = VolunteerFactory(home_grid_id=tree.grid_a1.id)
    team = TeamFactory(name="待审核队伍", leader_id=leader.id, members=[leader])
    team.enterprise.status = EnterpriseStatus.PENDING.value
    db.session.commit()
    now = utcnow()
    campaign = CampaignFactory(office_grid_id=tree.community_a.id, status="published")
    shift = ShiftFactory(campaign=campaign, start_at=now + timedelta(days=2))
    position = PositionFactory(shift=shift, headcount=3)
    db.session.commit()
    try:
        offer_to_team(position.id, team.id, scope=Scope.system("office"), now=now, places=2)
    except ValidationFailed as refused:
        assert "not approved" in refused.errors["team_id"][0]
    else:
        raise AssertionError("a pending enterprise's team was offered places")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(CallUp)) == 0


def test_the_api_shows_an_enterprises_review_state(app, tree, api):
    _sign_up(app, tree)
    enterprise = db.session.scalars(select(Enterprise)).one()
    shown = api.get(f"/enterprises/{enterprise.id}").get_json()
    assert (shown["status"], shown["requested_grid_id"]) == ("pending", tree.street.id)
    created = api.post("/enterprises", json={"name": "区属国企二"}).get_json()
    assert (created["status"], created["requested_grid_id"]) == ("approved", None)


def test_an_enterprise_sees_its_members_community_service_by_quarter(app, tree, login_as):
    """双报到 seen by a co-building enterprise: its team members' call-ups and hours (from the ledger) this quarter."""
    from campaigns.hours import book_ended_shifts
    from campaigns.models import CampaignStatus

    team = TeamFactory(name="燃气安全服务队")
    busy, idle = (VolunteerFactory(home_grid_id=tree.grid_a1.id, name=name) for name in ("周强", "吴敏"))
    team.members = [busy, idle]
    other = VolunteerFactory(home_grid_id=tree.grid_a1.id, name="不是队员")
    ended = utcnow() - timedelta(hours=5)
    campaign = CampaignFactory(office_grid_id=tree.community_a.id, status=CampaignStatus.DONE)
    position = PositionFactory(shift=ShiftFactory(campaign=campaign, start_at=ended, end_at=ended + timedelta(hours=3)),
                               headcount=3, accepted_count=2)
    for person, status in ((busy, CallUpStatus.ATTENDED), (idle, CallUpStatus.DECLINED), (other, CallUpStatus.ATTENDED)):
        db.session.add(CallUp(position_id=position.id, volunteer_id=person.id, status=status, send_at=ended,
                              sent_at=ended - timedelta(days=1), responded_at=ended - timedelta(hours=20),
                              attended_at=ended if status is CallUpStatus.ATTENDED else None))
    db.session.commit()
    book_ended_shifts(now=utcnow(), timezone_name=app.config["TIMEZONE"])
    client = login_as("enterprise", enterprise_id=team.enterprise_id)

    page = client.get("/enterprise").get_data(as_text=True)
    table = page[page.index('id="service-table"'):page.index("</table>", page.index('id="service-table"'))]
    assert "不是队员" not in table
    row = table[table.index(f'id="service-{busy.id}"'):table.index("</tr>", table.index(f'id="service-{busy.id}"'))]
    assert [cell.split(">")[-1] for cell in row.split("</td>")[2:6]] == ["1", "1", "1", "3.0"]
    row = table[table.index(f'id="service-{idle.id}"'):table.index("</tr>", table.index(f'id="service-{idle.id}"'))]
    assert [cell.split(">")[-1] for cell in row.split("</td>")[2:6]] == ["1", "0", "0", "0.0"]
    earlier = client.get("/enterprise?quarter=2020Q1").get_data(as_text=True)
    assert "<small>2020Q1</small>" in earlier and 'id="no-service"' in earlier  # nobody had joined yet
    garbage = client.get("/enterprise?quarter=garbage")
    assert garbage.status_code == 200 and 'id="service-table"' in garbage.get_data(as_text=True)  # this quarter
