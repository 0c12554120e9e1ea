"""Attendance: checking accepted people in, no-shows, corrections, the window, hours and reliability."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from campaigns import services
from campaigns.attendance import list_roster, record_attendance
from campaigns.hours import book_ended_shifts, hours_summary
from campaigns.models import CallUp, CallUpEvent, CallUpStatus, Position
from campaigns.responses import accept_callup
from core.errors import Conflict
from extensions import db
from tests.scheduler.helpers import make_position, sent_callups

S = CallUpStatus


def _accepted(now, count=2, headcount=2, starts_in=timedelta(hours=1)):
    """``count`` accepted call-ups to a three-hour shift starting ``starts_in`` after ``now``."""
    position = make_position(now=now, headcount=headcount, starts_in=starts_in)
    callups = sent_callups(position, count, now=now, window=timedelta(minutes=30))
    for callup in callups:
        accept_callup(callup.id, actor="v", now=now)
    return position, [c.id for c in callups]


def _status(callup_id):
    db.session.expire_all()
    return db.session.get(CallUp, callup_id)


def test_check_in_opens_two_hours_before_and_books_the_shift(now):
    position, [a, b] = _accepted(now, starts_in=timedelta(hours=3))
    start = now + timedelta(hours=3)
    with pytest.raises(Conflict) as early:
        record_attendance(a, attended=True, actor="office", now=start - timedelta(hours=2, seconds=1))
    assert "attended" in early.value.errors and _status(a).status is S.ACCEPTED
    marked = record_attendance(a, attended=True, actor="token:1:office", now=start - timedelta(minutes=20))
    assert (marked.status, marked.attended_at) == (S.ATTENDED, start - timedelta(minutes=20))
    event = db.session.scalars(select(CallUpEvent).where(CallUpEvent.callup_id == a)
                               .order_by(CallUpEvent.id.desc())).first()
    assert (event.from_state, event.to_state, event.actor) == ("accepted", "attended", "token:1:office")
    # The place stays taken.
    assert db.session.get(Position, position.id).accepted_count == 2
    assert book_ended_shifts(now=start + timedelta(hours=3) - timedelta(seconds=1), timezone_name="Asia/Shanghai") == 0
    assert book_ended_shifts(now=start + timedelta(hours=3), timezone_name="Asia/Shanghai") == 1
    hours = hours_summary(_status(a).volunteer_id).total
    assert (hours.shifts, hours.hours) == (1, 3.0)  # arriving early adds nothing
    assert hours_summary(_status(b).volunteer_id).total.shifts == 0


def test_no_show_only_once_the_shift_started_and_a_mark_can_be_corrected(now):
    _, [a, _b] = _accepted(now)
    start = now + timedelta(hours=1)
    with pytest.raises(Conflict):
        record_attendance(a, attended=False, actor="office", now=start - timedelta(minutes=1))
    assert record_attendance(a, attended=False, actor="office", now=start + timedelta(minutes=30)).status is S.NO_SHOW
    assert _status(a).attended_at is None
    # They came late after all: corrected, and the event says so.
    corrected = record_attendance(a, attended=True, actor="office", now=start + timedelta(hours=1))
    assert corrected.status is S.ATTENDED
    notes = db.session.scalars(select(CallUpEvent.note).where(CallUpEvent.callup_id == a,
                                                              CallUpEvent.to_state == "attended")).all()
    assert notes == ["correction"]
    # Giving the same mark again changes nothing.
    again = record_attendance(a, attended=True, actor="office", now=start + timedelta(hours=2))
    assert again.attended_at == start + timedelta(hours=1)
    states = db.session.scalars(select(CallUpEvent.to_state).where(CallUpEvent.callup_id == a)
                                .order_by(CallUpEvent.id)).all()
    assert states == ["accepted", "no_show", "attended"]


def test_attendance_closes_a_week_after_the_shift_and_needs_an_acceptance(now):
    position, [a] = _accepted(now, count=1, headcount=1)
    [open_one] = sent_callups(position, 1, now=now)
    end = now + timedelta(hours=4)
    with pytest.raises(Conflict) as late:
        record_attendance(a, attended=True, actor="office", now=end + timedelta(days=7, seconds=1))
    assert "week" in late.value.errors["attended"][0]
    with pytest.raises(Conflict) as not_accepted:
        record_attendance(open_one.id, attended=True, actor="office", now=now + timedelta(hours=1))
    assert "sent" in not_accepted.value.errors["attended"][0]
    assert (_status(a).status, _status(open_one.id).status) == (S.ACCEPTED, S.SENT)


def test_roster_lists_accepted_and_marked_people_only(now):
    position, [a, b] = _accepted(now, count=2, headcount=3)
    [waiting] = sent_callups(position, 1, now=now)
    record_attendance(a, attended=False, actor="office", now=now + timedelta(hours=2))
    rows = db.session.execute(list_roster(position.shift.campaign_id)).all()
    assert sorted((row.CallUp.id, row.CallUp.status) for row in rows) == [(a, S.NO_SHOW), (b, S.ACCEPTED)]
    assert waiting.id not in {row.CallUp.id for row in rows}


def test_no_shows_lower_the_expected_attendance_of_the_next_campaign(now):
    """Reliability comes from recorded attendance: the at-risk rule reads it."""
    past, [a, b] = _accepted(now, count=2, headcount=2)
    for callup_id in (a, b):
        record_attendance(callup_id, attended=False, actor="office", now=now + timedelta(hours=2))
    people = [_status(a).volunteer_id, _status(b).volunteer_id]
    upcoming = make_position(now=now, headcount=2, starts_in=timedelta(days=2))
    for person in people:
        callup = CallUp(position_id=upcoming.id, volunteer_id=person, status=S.SENT, send_at=now, sent_at=now,
                        expires_at=now + timedelta(hours=1))
        db.session.add(callup)
        db.session.commit()
        accept_callup(callup.id, actor="v", now=now)
    [board] = services.staffing(upcoming.shift.campaign_id)["positions"]
    # One no-show each, with the district's prior Beta(3.4, 0.6) (too little history to fit, campaigns/reliability.py):
    # show-up chance (0 + 3.4) / (1 + 4) = 0.68, so 1.36 people expected of 2.
    assert board["accepted"] == 2 and board["expected_attendance"] == pytest.approx(1.36, abs=0.01)
    assert board["at_risk"] is True
