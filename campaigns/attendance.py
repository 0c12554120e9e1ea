"""Attendance: who came to a shift (attended) and who did not (no-show), and the hours it books.

It feeds the reliability that the matcher and the at-risk rule read (show-up history), and each
person's service hours. One code path for the API, the office console and any import.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select

from campaigns.models import CallUp, CallUpStatus, Position, Shift
from campaigns.places import join_shift
from campaigns.services import get_callup
from campaigns.states import _transition
from core.errors import Conflict
from extensions import db
from volunteers.models import Volunteer

S = CallUpStatus
# Check-in opens before the shift (people arrive early); a no-show only once the shift has begun.
CHECK_IN_OPENS = timedelta(hours=2)
# Marks may be given, and corrected, until a week after the shift ends.
MARKS_CLOSE = timedelta(days=7)
MARKED = (S.ATTENDED, S.NO_SHOW)
ON_THE_ROSTER = (S.ACCEPTED, S.ATTENDED, S.NO_SHOW)


def marking_window(shift: Shift, *, attended: bool) -> tuple[datetime, datetime]:
    """When a mark may be given for ``shift``: (opens, closes). The one rule for the service and the board."""
    opens = shift.start_at - CHECK_IN_OPENS if attended else shift.start_at
    return opens, shift.end_at + MARKS_CLOSE


def may_check_in_self(callup: CallUp, now: datetime) -> bool:
    """A person checks themselves in: accepted, from two hours before the shift until it ends."""
    shift = callup.position.shift
    return callup.status is S.ACCEPTED and marking_window(shift, attended=True)[0] <= now <= shift.end_at


def check_in_self(callup_id: int, *, volunteer_id: int, now: datetime) -> CallUp:
    """"I have arrived": the person checks in on their own call-up (the arrival time feeds the one-hour board)."""
    callup = get_callup(callup_id)
    if callup.volunteer_id != volunteer_id:
        raise Conflict("not your call-up", {"attended": ["This is not your call-up."]})
    if callup.status is S.ATTENDED:
        return callup
    if not may_check_in_self(callup, now):
        raise Conflict("check-in is not open", {"attended": [
            "You can check in from two hours before the shift until it ends, once you have accepted."]})
    return record_attendance(callup_id, attended=True, actor=f"volunteer:{volunteer_id}", now=now)


def record_attendance(callup_id: int, *, attended: bool, actor: str, now: datetime) -> CallUp:
    """Mark an accepted person as attended or as a no-show; a mark may be corrected, giving it again is harmless.

    Attended from two hours before the shift starts, no-show from its start, both until a week after
    it ends. The place stays taken either way (the counter does not move). One conditional UPDATE.
    """
    callup = get_callup(callup_id)
    target = S.ATTENDED if attended else S.NO_SHOW
    if callup.status is target:
        return callup
    if callup.status not in ON_THE_ROSTER:
        raise Conflict(f"only people who accepted can be marked; this call-up is {callup.status.value}",
                       {"attended": [f"The call-up is {callup.status.value}, not accepted."]})
    opens, closes = marking_window(callup.position.shift, attended=attended)
    if now < opens:
        raise Conflict("too early to record attendance for this shift",
                       {"attended": ["Check-in opens two hours before the shift." if attended
                                     else "A no-show can be recorded once the shift has started."]})
    if now > closes:
        raise Conflict("too late to record attendance for this shift",
                       {"attended": ["Attendance closes a week after the shift ends."]})
    values = {"attended_at": now if attended else None}
    note = "correction" if callup.status in MARKED else None
    if not _transition(callup_id, callup.status, target, now=now, actor=actor, values=values, note=note):
        db.session.rollback()
        current = get_callup(callup_id)
        if current.status is target:
            return current
        raise Conflict(f"the call-up changed meanwhile; it is {current.status.value}",
                       {"attended": [f"The call-up is {current.status.value}."]})
    db.session.commit()
    return get_callup(callup_id)


def list_roster(campaign_id: int) -> Select:
    """The people who accepted a campaign's places (and how they were marked), by shift, position and name."""
    return (join_shift(select(CallUp, Volunteer, Position, Shift)
            .join(Volunteer, Volunteer.id == CallUp.volunteer_id))
            .where(Shift.campaign_id == campaign_id, CallUp.status.in_(ON_THE_ROSTER))
            .order_by(Shift.start_at, Position.id, Volunteer.name, CallUp.id))


@dataclass(frozen=True)
class ServiceHours:
    shifts: int
    hours: float


def service_hours(volunteer_id: int) -> ServiceHours:
    """The shifts a person attended and their length in hours."""
    rows = db.session.execute(
        select(Shift.start_at, Shift.end_at).join(Position, Position.shift_id == Shift.id)
        .join(CallUp, CallUp.position_id == Position.id)
        .where(CallUp.volunteer_id == volunteer_id, CallUp.status == S.ATTENDED)).all()
    seconds = sum((row.end_at - row.start_at).total_seconds() for row in rows)
    return ServiceHours(shifts=len(rows), hours=round(seconds / 3600, 2))


def callup_tally(volunteer_id: int) -> dict[CallUpStatus, int]:
    """How many of a person's call-ups are in each state (states never reached are left out)."""
    rows = db.session.execute(select(CallUp.status, func.count()).where(CallUp.volunteer_id == volunteer_id)
                              .group_by(CallUp.status)).all()
    return {status: count for status, count in rows}
