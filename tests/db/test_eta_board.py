"""The emergency ETA board in staffing: who arrives when, and is everyone at their post within the hour?"""
from __future__ import annotations

from datetime import timedelta

from campaigns.models import Priority
from campaigns.responses import accept_callup
from campaigns.services import staffing
from core.masking import mask_name
from extensions import db
from tests.scheduler.helpers import make_position, sent_callups
from volunteers.models import Volunteer


def _emergency(now, headcount: int, people: int | None = None):
    position = make_position(now=now, headcount=headcount, priority=Priority.EMERGENCY, starts_in=timedelta(hours=2))
    return position, sent_callups(position, people or headcount, now=now, window=timedelta(hours=2))


def _board(campaign_id: int) -> dict:
    return staffing(campaign_id)["positions"][0]


def test_eta_board_groups_people_by_when_they_can_be_there(now):
    position, callups = _emergency(now, headcount=5)
    for callup, eta in zip(callups, (0, 15, 30, 60, None)):
        accept_callup(callup.id, actor="v", now=now + timedelta(minutes=2), eta_minutes=eta)
    entry = _board(position.shift.campaign_id)
    board = entry["eta_board"]
    columns = {name: [p["callup_id"] for p in people] for name, people in board.items()}
    assert columns == {"on_site": [callups[0].id], "within_15": [callups[1].id], "within_30": [callups[2].id],
                       "within_60": [callups[3].id], "later": [], "unknown": [callups[4].id]}
    assert board["within_30"][0]["arrive_at"] == now + timedelta(minutes=32)
    assert board["unknown"][0]["arrive_at"] is None
    # One person did not say when: the board cannot promise the hour.
    assert entry["all_within_hour"] is False and entry["last_arrival_at"] is None


def test_eta_board_everyone_in_time_and_full_meets_the_standard(now):
    position, callups = _emergency(now, headcount=2)
    accept_callup(callups[0].id, actor="v", now=now + timedelta(minutes=1), eta_minutes=15)
    accept_callup(callups[1].id, actor="v", now=now + timedelta(minutes=10), eta_minutes=30)
    result = staffing(position.shift.campaign_id)
    entry = result["positions"][0]
    assert entry["all_within_hour"] is True
    assert entry["last_arrival_at"] == now + timedelta(minutes=40)
    assert result["alarm_at"] == now and result["standard_met"] is True


def test_eta_board_counts_the_hour_from_the_alarm_not_the_answer(now):
    """Does a late answer with a short ETA still miss the hour?"""
    position, callups = _emergency(now, headcount=1)
    accept_callup(callups[0].id, actor="v", now=now + timedelta(minutes=50), eta_minutes=15)
    result = staffing(position.shift.campaign_id)
    [person] = result["positions"][0]["eta_board"]["within_15"]
    assert person["arrive_at"] == now + timedelta(minutes=65) and person["in_time"] is False
    assert result["positions"][0]["all_within_hour"] is False and result["standard_met"] is False


def test_eta_board_in_time_but_not_full_misses_the_standard(now):
    position, callups = _emergency(now, headcount=3)
    accept_callup(callups[0].id, actor="v", now=now + timedelta(minutes=1), eta_minutes=0)
    result = staffing(position.shift.campaign_id)
    assert result["positions"][0]["all_within_hour"] is True and result["positions"][0]["open"] == 2
    assert result["standard_met"] is False


def test_eta_board_nobody_accepted_is_not_within_the_hour(now):
    position, _ = _emergency(now, headcount=2)
    entry = _board(position.shift.campaign_id)
    assert entry["all_within_hour"] is False
    assert all(people == [] for people in entry["eta_board"].values())


def test_eta_board_only_for_emergencies(now):
    position = make_position(now=now, headcount=1)
    [callup] = sent_callups(position, 1, now=now)
    accept_callup(callup.id, actor="v", now=now, eta_minutes=15)
    result = staffing(position.shift.campaign_id)
    assert "eta_board" not in result["positions"][0]
    assert result["alarm_at"] is None and result["standard_met"] is None


def test_eta_board_through_the_api_masks_names_and_shows_no_mobile(api, now):
    position, callups = _emergency(now, headcount=1)
    accept_callup(callups[0].id, actor="v", now=now + timedelta(minutes=3), eta_minutes=30)
    person = db.session.get(Volunteer, callups[0].volunteer_id)
    response = api.get(f"/campaigns/{position.shift.campaign_id}/staffing")
    assert response.status_code == 200
    body = response.get_json()
    [arriving] = body["positions"][0]["eta_board"]["within_30"]
    assert arriving["name"] == mask_name(person.name) and arriving["name"] != person.name
    assert arriving["eta_minutes"] == 30 and arriving["in_time"] is True
    assert arriving["arrive_at"] == (now + timedelta(minutes=33)).astimezone(
        arriving_zone(arriving["arrive_at"])).isoformat()
    assert body["standard_met"] is True and body["positions"][0]["all_within_hour"] is True
    text = response.get_data(as_text=True)
    assert person.mobile not in text and person.name not in text


def arriving_zone(stamp: str):
    """The UTC offset an ISO time was written with."""
    from datetime import datetime

    return datetime.fromisoformat(stamp).tzinfo
