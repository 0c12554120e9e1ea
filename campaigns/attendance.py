"""Attendance: check-in and check-out (by the shift's code, on the call-up page, or by the office, one by one or
"everyone came" with undo), no-shows, corrections with their trail, and the hours they book when the shift ends.

It feeds the reliability that the matcher and the at-risk rule read (show-up history), and the hours ledger
(campaigns/hours.py). One code path for the API, the office console, the volunteer's pages and any import.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Load

from campaigns import hours
from campaigns.models import AttendanceChange, CallUp, CallUpEvent, CallUpStatus, Position, Shift
from campaigns.places import join_shift
from campaigns.services import get_callup
from campaigns.states import _transition, _transition_many
from core.errors import Conflict, NotFound, ValidationFailed, word
from core.i18n import _l
from core.scope import Role, Scope
from extensions import db
from volunteers.models import Volunteer

S = CallUpStatus
# Check-in opens before the shift (people arrive early); a no-show only once the shift has begun.
CHECK_IN_OPENS = timedelta(hours=2)
# A person may check themselves out until two hours after the shift ends.
CHECK_OUT_CLOSES = timedelta(hours=2)
# Marks may be given, and corrected, until a week after the shift ends.
MARKS_CLOSE = timedelta(days=7)
# Arriving later than this after the start is late; leaving earlier than this before the end is early.
GRACE = timedelta(minutes=5)
MARKED = (S.ATTENDED, S.NO_SHOW)
ON_THE_ROSTER = (S.ACCEPTED, S.ATTENDED, S.NO_SHOW)
BULK_NOTE = "bulk:"


def marking_window(shift: Shift, *, attended: bool) -> tuple[datetime, datetime]:
    """When a mark may be given for ``shift``: (opens, closes). The one rule for the service and the board."""
    opens = shift.start_at - CHECK_IN_OPENS if attended else shift.start_at
    return opens, shift.end_at + MARKS_CLOSE


def self_check_in_window(shift: Shift) -> tuple[datetime, datetime]:
    """When a person may check themselves in (by the shift's code or on their call-up): around the start."""
    return shift.start_at - CHECK_IN_OPENS, shift.end_at


def may_check_in_self(callup: CallUp, now: datetime) -> bool:
    """A person checks themselves in: accepted, from two hours before the shift until it ends."""
    opens, closes = self_check_in_window(callup.position.shift)
    return callup.status is S.ACCEPTED and opens <= now <= closes


def may_check_out_self(callup: CallUp, now: datetime) -> bool:
    """A person checks themselves out: checked in, not out yet, until two hours after the shift ends."""
    return (callup.status is S.ATTENDED and callup.checked_out_at is None and callup.attended_at is not None
            and callup.attended_at <= now <= callup.position.shift.end_at + CHECK_OUT_CLOSES)


@dataclass(frozen=True)
class Punctuality:
    late_minutes: int   # 0: on time
    early_minutes: int  # left this long before the end (0: stayed, or no check-out)


def punctuality(callup: CallUp, shift: Shift) -> Punctuality:
    """Late arrival and early leave from the real check-in and check-out times (beyond a five-minute grace)."""
    late = early = 0
    if callup.status is S.ATTENDED and callup.attended_at and callup.attended_at > shift.start_at + GRACE:
        late = int((callup.attended_at - shift.start_at).total_seconds() // 60)
    if callup.status is S.ATTENDED and callup.checked_out_at and callup.checked_out_at < shift.end_at - GRACE:
        early = int((shift.end_at - callup.checked_out_at).total_seconds() // 60)
    return Punctuality(late, early)


def _iso(value) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _record_change(callup_id: int, field: str, before, after, *, actor: str, now: datetime,
                   reason: str | None) -> None:
    """Append one line to the attendance trail (who, when, what, before, after, why). No commit."""
    db.session.add(AttendanceChange(callup_id=callup_id, at=now, actor=actor[:100], field=field,
                                    before=_iso(before.value if isinstance(before, S) else before),
                                    after=_iso(after.value if isinstance(after, S) else after),
                                    reason=reason[:500] if reason else None))


def _own(callup_id: int, volunteer_id: int) -> CallUp:
    callup = get_callup(callup_id)
    if callup.volunteer_id != volunteer_id:
        raise Conflict(_l("not your call-up"), {"attended": [_l("This is not your call-up.")]})
    return callup


def check_in_self(callup_id: int, *, volunteer_id: int, now: datetime) -> CallUp:
    """"I have arrived": the person checks in on their own call-up (the arrival time feeds the one-hour board)."""
    callup = _own(callup_id, volunteer_id)
    if callup.status is S.ATTENDED:
        return callup
    if not may_check_in_self(callup, now):
        raise Conflict(_l("check-in is not open"), {"attended": [
            _l("You can check in from two hours before the shift until it ends, once you have accepted.")]})
    return record_attendance(callup_id, attended=True, actor=f"volunteer:{volunteer_id}", now=now)


def check_out_self(callup_id: int, *, volunteer_id: int, now: datetime) -> CallUp:
    """"I am leaving": the person checks out of their own call-up (the time books their hours at the shift's end)."""
    callup = _own(callup_id, volunteer_id)
    if callup.status is S.ATTENDED and callup.checked_out_at is not None:
        return callup
    if not may_check_out_self(callup, now):
        raise Conflict(_l("check-out is not open"), {"checked_out_at": [
            _l("You can check out once checked in, until two hours after the shift ends.")]})
    return check_out(callup_id, actor=f"volunteer:{volunteer_id}", now=now)


def check_in(callup_id: int, *, scope: Scope, now: datetime, at: datetime | None = None) -> CallUp:
    """Check in: a volunteer themselves, now (in the window around the start); an office anyone, at a given time."""
    if scope.role is Role.VOLUNTEER:
        if at is not None:
            raise ValidationFailed({"at": [_l("You check in at the moment you arrive: leave 'at' out.")]})
        return check_in_self(callup_id, volunteer_id=scope.volunteer_id, now=now)
    return record_attendance(callup_id, attended=True, actor=scope.actor, now=now, at=at)


def check_out_by(callup_id: int, *, scope: Scope, now: datetime, at: datetime | None = None) -> CallUp:
    """Check out: a volunteer themselves, now; an office anyone, at a given time."""
    if scope.role is Role.VOLUNTEER:
        if at is not None:
            raise ValidationFailed({"at": [_l("You check out at the moment you leave: leave 'at' out.")]})
        return check_out_self(callup_id, volunteer_id=scope.volunteer_id, now=now)
    return check_out(callup_id, actor=scope.actor, now=now, at=at)


def own_callup_on_shift(shift_id: int, volunteer_id: int) -> CallUp | None:
    """The person's call-up on ``shift_id`` that is on the roster (the one a shift's code checks in), or None."""
    return db.session.scalar(
        select(CallUp).join(Position, Position.id == CallUp.position_id)
        .where(Position.shift_id == shift_id, CallUp.volunteer_id == volunteer_id,
               CallUp.status.in_(ON_THE_ROSTER)).order_by(CallUp.id).limit(1))


def record_attendance(callup_id: int, *, attended: bool, actor: str, now: datetime, at: datetime | None = None,
                      reason: str | None = None) -> CallUp:
    """Mark an accepted person as attended (arrived ``at``, default now) or as a no-show; a mark may be corrected
    (the trail keeps who, when, before, after and why), giving it again is harmless.

    Attended from two hours before the shift starts, no-show from its start, both until a week after
    it ends. The place stays taken either way (the counter does not move). One conditional UPDATE; a
    correction after the shift ended books the difference in hours as a correction row.
    """
    callup = get_callup(callup_id)
    target = S.ATTENDED if attended else S.NO_SHOW
    if callup.status is target:
        return callup
    if callup.status not in ON_THE_ROSTER:
        raise Conflict(_l("only people who accepted can be marked; this call-up is %(status)s",
                          status=word(callup.status.value)),
                       {"attended": [_l("The call-up is %(status)s, not accepted.",
                                        status=word(callup.status.value))]})
    opens, closes = marking_window(callup.position.shift, attended=attended)
    if now < opens:
        raise Conflict(_l("too early to record attendance for this shift"),
                       {"attended": ["Check-in opens two hours before the shift." if attended
                                     else "A no-show can be recorded once the shift has started."]})
    if now > closes:
        raise Conflict(_l("too late to record attendance for this shift"),
                       {"attended": [_l("Attendance closes a week after the shift ends.")]})
    if at is not None and (at > now or at < opens):
        raise ValidationFailed({"at": [_l("The arrival time must lie between two hours before the shift and now.")]})
    values = {"attended_at": (at or now) if attended else None, "checked_out_at": None}
    correction = callup.status in MARKED
    if not _transition(callup_id, callup.status, target, now=now, actor=actor, values=values,
                       note="correction" if correction else None):
        db.session.rollback()
        current = get_callup(callup_id)
        if current.status is target:
            return current
        raise Conflict(_l("the call-up changed meanwhile; it is %(status)s", status=word(current.status.value)),
                       {"attended": [_l("The call-up is %(status)s.", status=word(current.status.value))]})
    if correction:
        _record_change(callup_id, "status", callup.status, target, actor=actor, now=now, reason=reason)
    hours._sync_recorded(callup_id, actor=actor, now=now, reason=reason or f"marked {target.value}")
    db.session.commit()
    return get_callup(callup_id)


def check_out(callup_id: int, *, actor: str, now: datetime, at: datetime | None = None,
              reason: str | None = None) -> CallUp:
    """Record when a checked-in person left (default now); leaving early shows on the board and books fewer hours."""
    callup = get_callup(callup_id)
    shift = callup.position.shift
    at = at or now
    if callup.status is not S.ATTENDED or callup.attended_at is None:
        raise Conflict(_l("only people who checked in can check out"),
                       {"checked_out_at": [_l("The call-up is %(status)s, not checked in.",
                                              status=word(callup.status.value))]})
    if now > shift.end_at + MARKS_CLOSE:
        raise Conflict(_l("too late to record attendance for this shift"),
                       {"checked_out_at": [_l("Attendance closes a week after the shift ends.")]})
    if at > now or at < callup.attended_at:
        raise ValidationFailed({"checked_out_at": [_l("The leaving time must lie between the check-in and now.")]})
    return _set_times(callup, {"checked_out_at": at}, actor=actor, now=now, reason=reason)


def correct_times(callup_id: int, *, actor: str, now: datetime, reason: str | None = None,
                  checked_in_at: datetime | None = None, checked_out_at: datetime | None = None) -> CallUp:
    """Correct the real arrival or leaving time of a checked-in person, with a reason; the trail keeps the old and
    new values."""
    callup = get_callup(callup_id)
    if not reason:
        raise ValidationFailed({"reason": [_l("Say why the times change: the trail keeps it.")]})
    shift = callup.position.shift
    if callup.status is not S.ATTENDED:
        raise Conflict(_l("only the times of people who checked in can be corrected"),
                       {"status": [_l("The call-up is %(status)s, not attended.",
                                      status=word(callup.status.value))]})
    if now > shift.end_at + MARKS_CLOSE:
        raise Conflict(_l("too late to correct attendance for this shift"),
                       {"checked_in_at": [_l("Attendance closes a week after the shift ends.")]})
    arrived = checked_in_at or callup.attended_at
    left = checked_out_at or callup.checked_out_at
    errors = {}
    if checked_in_at and not (shift.start_at - CHECK_IN_OPENS <= checked_in_at <= min(now, shift.end_at)):
        errors["checked_in_at"] = ["Must lie between two hours before the shift and its end (and not in the future)."]
    if checked_out_at and (checked_out_at > now or (arrived and checked_out_at < arrived)):
        errors["checked_out_at"] = ["Must lie between the check-in and now."]
    if not errors and left and arrived and left < arrived:
        errors["checked_in_at"] = ["Must be before the check-out."]
    if errors:
        raise ValidationFailed(errors)
    values = {key: value for key, value in (("attended_at", checked_in_at), ("checked_out_at", checked_out_at))
              if value is not None}
    if not values:
        raise ValidationFailed({"checked_in_at": [_l("Give checked_in_at, checked_out_at or both.")]})
    return _set_times(callup, values, actor=actor, now=now, reason=reason)


def _set_times(callup: CallUp, values: dict[str, datetime], *, actor: str, now: datetime,
               reason: str | None) -> CallUp:
    """Write check-in/out times of an attended call-up (guarded: still attended), the trail for each time that
    already had a value, and the hours' difference once the shift ended. One transaction."""
    changed = {key: value for key, value in values.items() if getattr(callup, key) != value}
    if not changed:
        return callup
    result = db.session.execute(update(CallUp).where(CallUp.id == callup.id, CallUp.status == S.ATTENDED)
                                .values(updated_at=now, **changed).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        raise Conflict(_l("the call-up changed meanwhile"), {"status": [_l("The call-up is no longer attended.")]})
    names = {"attended_at": "checked_in_at", "checked_out_at": "checked_out_at"}
    for key, value in changed.items():
        if getattr(callup, key) is not None or reason:
            _record_change(callup.id, names[key], getattr(callup, key), value, actor=actor, now=now, reason=reason)
    hours._sync_recorded(callup.id, actor=actor, now=now, reason=reason or "check-in or check-out time changed")
    db.session.commit()
    db.session.expire_all()
    return get_callup(callup.id)


def mark_everyone_attended(shift_id: int, *, actor: str, now: datetime) -> tuple[str, list[int]]:
    """"Everyone came": every accepted person of the shift checked in at once (at the start, or now if earlier).

    Returns a batch code that ``undo_batch`` takes back while nobody changed those marks since.
    """
    shift = db.session.get(Shift, shift_id)
    if shift is None:
        raise NotFound.of("shift", shift_id)
    opens, closes = marking_window(shift, attended=True)
    if not opens <= now <= closes:
        raise Conflict(_l("attendance is not open for this shift"), {"attended": [
            _l("Check-in opens two hours before the shift and closes a week after it ends.")]})
    batch = secrets.token_hex(4)
    on_shift = select(Position.id).where(Position.shift_id == shift_id)
    moved = _transition_many(S.ACCEPTED, S.ATTENDED, CallUp.position_id.in_(on_shift), CallUp.volunteer_id.is_not(None),
                             now=now, actor=actor, note=f"{BULK_NOTE}{batch}",
                             values={"attended_at": min(now, shift.start_at), "checked_out_at": None})
    for callup_id, _ in moved:
        hours._sync_recorded(callup_id, actor=actor, now=now)
    db.session.commit()
    return batch, [callup_id for callup_id, _ in moved]


def undo_batch(shift_id: int, batch: str, *, actor: str, now: datetime) -> list[int]:
    """Take back an "everyone came": those still marked as the batch left them return to accepted (trail kept)."""
    if not batch or len(batch) > 16:
        raise ValidationFailed({"batch": [_l("Unknown batch.")]})
    ids = db.session.scalars(
        select(CallUpEvent.callup_id).join(CallUp, CallUp.id == CallUpEvent.callup_id)
        .join(Position, Position.id == CallUp.position_id)
        .where(Position.shift_id == shift_id, CallUpEvent.note == f"{BULK_NOTE}{batch}")).all()
    if not ids:
        raise ValidationFailed({"batch": [_l("Unknown batch for this shift.")]})
    undone = []
    for callup_id in ids:
        callup = get_callup(callup_id)
        if callup.status is not S.ATTENDED or callup.checked_out_at is not None:
            continue  # marked again or checked out since: that later mark stands
        if _transition(callup_id, S.ATTENDED, S.ACCEPTED, now=now, actor=actor, note=f"undo:{batch}",
                       values={"attended_at": None, "checked_out_at": None}):
            _record_change(callup_id, "status", S.ATTENDED, S.ACCEPTED, actor=actor, now=now,
                           reason="undo of \"everyone came\"")
            hours._sync_recorded(callup_id, actor=actor, now=now, reason="undo of everyone came")
            undone.append(callup_id)
    db.session.commit()
    return undone


def list_changes(callup_id: int) -> Select:
    """The attendance trail of a call-up, oldest first (NotFound for an unknown call-up)."""
    get_callup(callup_id)
    return select(AttendanceChange).where(AttendanceChange.callup_id == callup_id).order_by(AttendanceChange.id)


def list_roster(campaign_id: int) -> Select:
    """The people who accepted a campaign's places (and how they were marked), by shift, position and name:
    rows of (CallUp, name, mobile, role, Shift), nothing else loaded (a big emergency has thousands)."""
    return (join_shift(select(CallUp, Volunteer.name, Volunteer.mobile, Position.role, Shift)
            .join(Volunteer, Volunteer.id == CallUp.volunteer_id))
            .where(Shift.campaign_id == campaign_id, CallUp.status.in_(ON_THE_ROSTER))
            .order_by(Shift.start_at, Position.id, Volunteer.name, CallUp.id)
            .options(Load(CallUp).lazyload("*"), Load(Shift).lazyload("*")))


def callup_tally(volunteer_id: int) -> dict[CallUpStatus, int]:
    """How many of a person's call-ups are in each state (states never reached are left out)."""
    rows = db.session.execute(select(CallUp.status, func.count()).where(CallUp.volunteer_id == volunteer_id)
                              .group_by(CallUp.status)).all()
    return {status: count for status, count in rows}
