"""POST /api/v1/callups/{id}/attendance and a volunteer's service hours on GET /api/v1/me."""
from __future__ import annotations

from datetime import timedelta

import pytest

from accounts.models import Role
from accounts.services import create_token
from campaigns.hours import book_ended_shifts
from campaigns.models import CallUp, CallUpStatus
from campaigns.responses import accept_callup
from core.clock import utcnow
from extensions import db
from tests.conftest import ApiClient
from tests.scheduler.helpers import make_position, sent_callups


def _accepted_now(tree, *, started_ago=timedelta(minutes=30)):
    """One accepted call-up to a three-hour shift of community A that began ``started_ago``."""
    now = utcnow()
    position = make_position(now=now, headcount=1, starts_in=-started_ago, office_grid_id=tree.community_a.id)
    [callup] = sent_callups(position, 1, now=now - started_ago - timedelta(hours=1))
    accept_callup(callup.id, actor="v", now=now - started_ago - timedelta(minutes=50))
    return callup.id, callup.volunteer_id


def _token(role: Role, **binding) -> str:
    return create_token(name=f"test {role.value}", role=role, now=utcnow(), **binding)[1]


def test_office_checks_a_person_in_and_the_hours_show_on_their_me(client, tree):
    callup_id, volunteer_id = _accepted_now(tree)
    office = ApiClient(client, _token(Role.OFFICE, grid_id=tree.community_a.id))
    response = office.post(f"/callups/{callup_id}/attendance", json={"attended": True})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["attended_at"] is not None) == ("attended", True)
    volunteer = ApiClient(client, _token(Role.VOLUNTEER, volunteer_id=volunteer_id))
    # Hours are booked when the shift ends, never before.
    assert volunteer.get("/me").get_json()["service_hours"] == {"shifts": 0, "hours": 0.0}
    book_ended_shifts(now=utcnow() + timedelta(hours=3), timezone_name="Asia/Shanghai")
    me = volunteer.get("/me").get_json()
    # Checked in half an hour into the shift (and the clock moved on a little while the test ran).
    assert me["service_hours"]["shifts"] == 1 and 2.45 <= me["service_hours"]["hours"] <= 2.5
    assert office.get("/me").get_json()["service_hours"] is None


def test_no_show_then_correction_over_the_api(api, tree):
    callup_id, _ = _accepted_now(tree)
    assert api.post(f"/callups/{callup_id}/attendance", json={"attended": False}).get_json()["status"] == "no_show"
    assert api.post(f"/callups/{callup_id}/attendance", json={"attended": True}).get_json()["status"] == "attended"


@pytest.mark.parametrize("body", [{}, {"attended": "yes"}, {"attended": 1}, {"attended": None},
                                  {"attended": True, "hours": 3}])
def test_bad_attendance_bodies_are_422_naming_the_field(api, tree, body):
    callup_id, _ = _accepted_now(tree)
    response = api.post(f"/callups/{callup_id}/attendance", json=body)
    assert response.status_code == 422
    fields = response.get_json()["errors"]["json"]
    assert set(fields) == ({"hours"} if "hours" in body else {"attended"})
    db.session.expire_all()
    assert db.session.get(CallUp, callup_id).status is CallUpStatus.ACCEPTED


def test_marking_someone_who_did_not_accept_or_too_early_is_409(api, tree):
    now = utcnow()
    position = make_position(now=now, headcount=1, starts_in=timedelta(hours=5), office_grid_id=tree.community_a.id)
    [open_one, accepted] = sent_callups(position, 2, now=now)
    accept_callup(accepted.id, actor="v", now=now)
    refused = api.post(f"/callups/{open_one.id}/attendance", json={"attended": True})
    assert refused.status_code == 409 and "attended" in refused.get_json()["errors"]["json"]
    early = api.post(f"/callups/{accepted.id}/attendance", json={"attended": True})
    assert early.status_code == 409 and "two hours" in early.get_json()["errors"]["json"]["attended"][0]


def test_another_community_and_the_volunteer_cannot_mark(client, tree):
    callup_id, volunteer_id = _accepted_now(tree)
    other = ApiClient(client, _token(Role.OFFICE, grid_id=tree.community_b.id))
    assert other.post(f"/callups/{callup_id}/attendance", json={"attended": True}).status_code == 404
    own = ApiClient(client, _token(Role.VOLUNTEER, volunteer_id=volunteer_id))
    assert own.post(f"/callups/{callup_id}/attendance", json={"attended": True}).status_code == 403
    db.session.expire_all()
    assert db.session.get(CallUp, callup_id).status is CallUpStatus.ACCEPTED
