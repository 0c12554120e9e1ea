"""From the board, a clerk invites a named person or offers places to a partner team: the same service and gates
as the API (POST …/invitations, …/team-offers), refusals said by gate in both languages, nothing written twice."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from callups.dispatch import send_due_callups
from notices.models import Notification
from campaigns.models import CallUp, CallUpStatus, CampaignStatus, PositionSkill
from core.clock import utcnow
from extensions import db
from tests.conftest import form_csrf_token
from tests.factories import TeamFactory, VolunteerFactory
from tests.scheduler.helpers import make_position
from tests.web.test_office_pages import ALWAYS
from volunteers.models import Volunteer, VolunteerSkill


def _flashes(office, campaign_id: int) -> str:
    page = office.get(f"/office/campaigns/{campaign_id}").get_data(as_text=True)
    return page[page.find('id="flashes"'):page.find("</ul>", page.find('id="flashes"'))]


def _world(tree):
    now = utcnow()
    position = make_position(now=now, headcount=2, office_grid_id=tree.community_a.id, title="燃气安全入户宣传",
                             status=CampaignStatus.PUBLISHED, published_at=now)
    db.session.add(PositionSkill(position_id=position.id, skill_id=tree.skills["gas_check"].id, min_level=2))
    able = VolunteerFactory(home_grid_id=tree.grid_a1.id, availability_mask=ALWAYS, name="李娜", mobile="13911110001")
    db.session.add(VolunteerSkill(volunteer_id=able.id, skill_id=tree.skills["gas_check"].id, level=3,
                                  certificate_no="ZJ-GAS-2026-0001", certificate_expires_on=date(2030, 6, 30)))
    VolunteerFactory(home_grid_id=tree.grid_a2.id, availability_mask=ALWAYS, name="赵磊", mobile="13911110002")
    VolunteerFactory(home_grid_id=tree.grid_b1.id, availability_mask=ALWAYS, name="湘湖的人", mobile="13911110003")
    db.session.commit()
    return position, able


def test_a_named_person_is_invited_from_the_board_and_the_call_up_goes_out(login_as, tree):
    position, able = _world(tree)
    campaign_id = position.shift.campaign_id
    office = login_as("office", grid_id=tree.community_a.id)
    board = office.get(f"/office/campaigns/{campaign_id}")
    assert 'id="invite-form"' in board.get_data(as_text=True)
    token = form_csrf_token(board)
    url = f"/office/campaigns/{campaign_id}/invite"
    field = "mobile"

    assert office.post(url, data={"csrf_token": token, "position_id": position.id, field: "13911110002"}).status_code == 302
    assert "未邀请：赵磊：缺少所需技能或等级<" in _flashes(office, campaign_id)
    office.post(url, data={"csrf_token": token, "position_id": position.id, field: "13911110003"})
    assert "您的辖区内没有此手机号的人" in _flashes(office, campaign_id)
    office.post(url, data={"csrf_token": token, "position_id": position.id, field: "139"})
    assert "未邀请" in _flashes(office, campaign_id)
    assert db.session.scalar(select(func.count()).select_from(CallUp)) == 0

    office.post(url, data={"csrf_token": token, "position_id": position.id, field: "13911110001"})
    assert "已邀请 李娜" in _flashes(office, campaign_id)
    office.post(url, data={"csrf_token": token, "position_id": position.id, field: "13911110001"})
    assert "已召集过此人" in _flashes(office, campaign_id)
    [callup] = db.session.scalars(select(CallUp)).all()
    assert (callup.volunteer_id, callup.status, callup.events[0].note) == (able.id, CallUpStatus.SCHEDULED,
                                                                          "invited by name")
    send_due_callups(now=utcnow())
    db.session.expire_all()
    assert db.session.get(CallUp, callup.id).status is CallUpStatus.SENT
    assert db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.volunteer_id == able.id)) >= 1


def test_the_api_invites_by_id_with_the_same_rules(api, tree):
    position, able = _world(tree)
    campaign_id = position.shift.campaign_id
    url = f"/campaigns/{campaign_id}/positions/{position.id}/invitations"
    missing = api.post(url, json={})
    assert missing.status_code == 422 and "volunteer_id" in missing.get_json()["errors"]["json"]
    zhao = db.session.scalar(select(Volunteer.id).where(Volunteer.mobile == "13911110002"))
    refused = api.post(url, json={"volunteer_id": zhao})
    assert refused.status_code == 422
    assert "lacks skill gas_check" in refused.get_json()["errors"]["json"]["volunteer_id"][0]
    created = api.post(url, json={"volunteer_id": able.id})
    assert created.status_code == 201 and created.get_json()["status"] == "scheduled"
    assert api.post(url, json={"volunteer_id": able.id}).status_code == 409
    assert api.post(f"/campaigns/{campaign_id}/positions/999999/invitations",
                    json={"volunteer_id": able.id}).status_code == 404


def test_places_are_offered_to_a_partner_team_from_the_board(login_as, tree):
    position, _ = _world(tree)
    leader = VolunteerFactory(home_grid_id=tree.grid_a1.id, name="周强")
    team = TeamFactory(name="燃气安全服务队", leader_id=leader.id)
    db.session.commit()
    campaign_id, team_id = position.shift.campaign_id, team.id
    office = login_as("office", grid_id=tree.community_a.id)
    board = office.get(f"/office/campaigns/{campaign_id}")
    text = board.get_data(as_text=True)
    assert 'id="team-form"' in text and "燃气安全服务队" in text
    url = f"/office/campaigns/{campaign_id}/team-offer"
    data = {"csrf_token": form_csrf_token(board), "position_id": str(position.id), "team_id": str(team_id),
            "places": "5"}
    office.post(url, data=data)
    assert "未发出" in _flashes(office, campaign_id)  # more places than are open
    office.post(url, data=dict(data, **{"places": "2"}))
    assert "已向队伍发出 2 个名额" in _flashes(office, campaign_id)
    [offer] = db.session.scalars(select(CallUp).where(CallUp.team_id == team_id)).all()
    assert (offer.places, offer.status) == (2, CallUpStatus.SENT)
    office.post(url, data=dict(data, **{"places": "1"}))
    assert "未发出" in _flashes(office, campaign_id)  # an offer is already open
