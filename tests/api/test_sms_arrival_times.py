"""SMS replies with an arrival time: '1 15' is an emergency's yes, there within 15 minutes; '115' is refused."""
from __future__ import annotations

import pytest

from callups.dispatch import send_due_callups
from campaigns.models import CallUp, CallUpStatus, Priority
from campaigns.services import staffing
from core.clock import utcnow
from extensions import db
from tests.scheduler.helpers import make_callups, make_position


def _open(mobile: str, priority=Priority.EMERGENCY):
    now = utcnow()
    position = make_position(now=now, headcount=1, priority=priority)
    [callup] = make_callups(position, 1, now=now, mobile=mobile)
    send_due_callups(now=now)
    return position, callup.id


def _callup(callup_id) -> CallUp:
    db.session.expire_all()
    return db.session.get(CallUp, callup_id)


def test_sms_one_space_fifteen_accepts_an_emergency_with_its_eta(api):
    position, callup_id = _open("13812340001")
    response = api.post("/sms/inbound", json={"from": "13812340001", "text": "1 15"})
    body = response.get_json()
    assert response.status_code == 200 and body["status"] == "accepted" and body["answered_by"].startswith("sms:")
    assert _callup(callup_id).eta_minutes == 15
    board = staffing(position.shift.campaign_id)["positions"][0]["eta_board"]
    assert [person["callup_id"] for person in board["within_15"]] == [callup_id]


@pytest.mark.parametrize(("text", "eta"), [("1", None), ("1 0", 0), ("1 30", 30), (" 1  60 ", 60), ("1\u300030", 30)])
def test_sms_accepts_one_alone_or_with_an_arrival_time(api, text, eta):
    _, callup_id = _open("13812340002")
    response = api.post("/sms/inbound", json={"from": "13812340002", "text": text})
    assert response.status_code == 200 and response.get_json()["status"] == "accepted"
    assert (_callup(callup_id).status, _callup(callup_id).eta_minutes) == (CallUpStatus.ACCEPTED, eta)


@pytest.mark.parametrize("text", ["115", "10", "1 7", "1 15 30", "1 abc", "2 15", "1 015"])
def test_sms_ambiguous_or_unknown_arrival_time_is_422_on_text_and_answers_nothing(api, text):
    _, callup_id = _open("13812340003")
    response = api.post("/sms/inbound", json={"from": "13812340003", "text": text})
    assert response.status_code == 422 and "text" in response.get_json()["errors"]["json"]
    callup = _callup(callup_id)
    assert (callup.status, callup.eta_minutes, callup.responded_at) == (CallUpStatus.SENT, None, None)


def test_sms_arrival_time_on_a_routine_callup_is_422_and_one_alone_still_accepts(api):
    _, callup_id = _open("13812340004", priority=Priority.ROUTINE)
    refused = api.post("/sms/inbound", json={"from": "13812340004", "text": "1 15"})
    assert refused.status_code == 422 and "text" in refused.get_json()["errors"]["json"]
    assert _callup(callup_id).status is CallUpStatus.SENT
    accepted = api.post("/sms/inbound", json={"from": "13812340004", "text": "1"})
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "accepted"
    assert _callup(callup_id).eta_minutes is None
