"""Emergencies on the pages: a volunteer's emergency preference and self check-in on /me, the office's grid alert
and the street office's override on its own campaign."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from campaigns.models import CallUp, CallUpStatus, CampaignStatus, GridAlertRecipient, Priority
from campaigns.services import staffing
from core.clock import utcnow
from extensions import db
from tests.conftest import form_csrf_token
from tests.web.test_office_pages import _campaign, _flashes
from tests.factories import VolunteerFactory
from volunteers.models import Identity, Volunteer


def test_volunteer_chooses_only_available_hours_for_emergencies(login_as, tree):
    client = login_as("volunteer")
    page = client.get("/me").get_data(as_text=True)
    assert 'id="emergency-calls-form"' in page, page
    assert 'checked id="emergency_calls-0"' in page
    token = form_csrf_token(client.get("/me"))
    response = client.post("/me/emergency-calls", data={"csrf_token": token, "emergency_calls": "available_hours"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Volunteer, client.user.volunteer_id).emergency_calls == "available_hours"
    assert client.post("/me/emergency-calls", data={"csrf_token": token, "emergency_calls": "never"}).status_code == 400
    assert db.session.get(Volunteer, client.user.volunteer_id).emergency_calls == "available_hours"


def test_volunteer_checks_in_on_arrival_and_the_board_counts_it_against_the_hour(login_as, tree):
    client = login_as("volunteer")
    campaign = _campaign(tree.community_a, "爆管抢修", status=CampaignStatus.PUBLISHED, priority=Priority.EMERGENCY,
                         start_in=timedelta(minutes=20))
    campaign.published_at = utcnow() - timedelta(minutes=10)
    position = campaign.shifts[0].positions[0]
    mine = CallUp(position_id=position.id, volunteer_id=client.user.volunteer_id, status=CallUpStatus.ACCEPTED,
                  sent_at=utcnow() - timedelta(minutes=10), responded_at=utcnow(), eta_minutes=15)
    other = CallUp(position_id=position.id, volunteer_id=VolunteerFactory(home_grid_id=tree.grid_a1.id).id,
                   status=CallUpStatus.SENT, sent_at=utcnow(), expires_at=utcnow() + timedelta(minutes=10))
    db.session.add_all([mine, other])
    db.session.commit()
    page = client.get("/me").get_data(as_text=True)
    assert f'id="arrived-{mine.id}"' in page
    token = form_csrf_token(client.get("/me"))
    assert client.post(f"/me/call-ups/{other.id}/arrived", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/me/call-ups/{mine.id}/arrived", data={}).status_code == 400
    assert client.post(f"/me/call-ups/{mine.id}/arrived", data={"csrf_token": token}).status_code == 302
    db.session.expire_all()
    checked = db.session.get(CallUp, mine.id)
    assert checked.status is CallUpStatus.ATTENDED and checked.attended_at is not None
    assert staffing(campaign.id)["arrivals"]["within_15"] == 1


def test_office_sends_a_grid_alert_from_the_board(login_as, tree):
    VolunteerFactory(home_grid_id=tree.grid_a1.id, identity_flags=Identity.GRID_WORKER.bit)
    campaign = _campaign(tree.community_a, "防汛", status=CampaignStatus.PUBLISHED, priority=Priority.EMERGENCY,
                         start_in=timedelta(hours=1))
    office = login_as("office", grid_id=tree.community_a.id)
    page = office.get(f"/office/campaigns/{campaign.id}")
    assert 'id="alert-form"' in page.get_data(as_text=True)
    token = form_csrf_token(page)
    response = office.post(f"/office/campaigns/{campaign.id}/alert",
                           data={"csrf_token": token, "message": "低洼地带请入户提醒"})
    assert response.status_code == 302
    assert "预警已发给 2 人" in _flashes(office, campaign.id)  # the office's own account and the grid worker
    assert len(db.session.scalars(select(GridAlertRecipient)).all()) == 2
    board = office.get(f"/office/campaigns/{campaign.id}").get_data(as_text=True)
    assert 'id="alert-summary"' in board


def test_street_office_may_widen_its_own_campaign_to_the_district_from_the_board(login_as, tree):
    campaign = _campaign(tree.street, "街道应急", status=CampaignStatus.PUBLISHED, priority=Priority.EMERGENCY,
                         start_in=timedelta(hours=2))
    street = login_as("office", grid_id=tree.street.id)
    page = street.get(f"/office/campaigns/{campaign.id}").get_data(as_text=True)
    assert f'<option value="{tree.district.id}">滨江区</option>' in page
    token = form_csrf_token(street.get(f"/office/campaigns/{campaign.id}"))
    response = street.post(f"/office/campaigns/{campaign.id}/override",
                           data={"csrf_token": token, "grid_id": tree.district.id, "reason": "全区支援抢险", "hours": 3})
    assert response.status_code == 302
    assert "已立即重新匹配" in _flashes(street, campaign.id)
