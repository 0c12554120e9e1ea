"""The append-only hours ledger: hours booked from check-in and check-out when a shift ends, hours added by
hand, corrections as new rows, totals by month and year, and certificates of service with a public code.

Rows are never updated (the database refuses it): an entry's hours are its own minutes plus those of the
corrections that name it. Hours recorded by check-in (``recorded``) are kept apart from hours added by hand
(``manual``), as the national volunteer registries distinguish them; both count in the totals.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, select
from sqlalchemy.dialects import postgresql, sqlite

from campaigns.models import (CallUp, CallUpStatus, Campaign, HoursEntry, HoursSource, Position,
                              ServiceCertificate, Shift)
from core.errors import Conflict, NotFound, ValidationFailed
from core.i18n import _l
from extensions import db
from volunteers.services import get_volunteer

R, M = HoursSource.RECORDED, HoursSource.MANUAL
# Verification codes: no 0/O, 1/I/L, so a code read out over the phone is typed right; 10 characters ≈ 50 bits.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10


def shift_minutes(shift: Shift) -> int:
    """The shift's length in whole minutes: the cap on what one call-up can book."""
    return int((shift.end_at - shift.start_at).total_seconds() // 60)


def recorded_minutes(callup: CallUp, shift: Shift) -> int:
    """Minutes served by check-in and check-out, within the shift: arriving early or staying late adds nothing.

    No check-out counts to the shift's end (most people leave when the work is done and forget to check out);
    a person not marked attended served nothing.
    """
    if callup.status is not CallUpStatus.ATTENDED or callup.attended_at is None:
        return 0
    start = max(callup.attended_at, shift.start_at)
    end = min(callup.checked_out_at or shift.end_at, shift.end_at)
    return max(int((end - start).total_seconds() // 60), 0)


def _served_on(shift: Shift, timezone_name: str) -> date:
    return shift.start_at.astimezone(ZoneInfo(timezone_name)).date()


def _net(callup_id: int, source: HoursSource) -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(HoursEntry.minutes), 0))
                                 .where(HoursEntry.callup_id == callup_id, HoursEntry.source == source)))


def _lock_callup(callup_id: int) -> tuple[CallUp, Shift]:
    """The call-up and its shift, the call-up row locked (PostgreSQL; SQLite's one writer serialises anyway)."""
    row = db.session.execute(
        select(CallUp, Shift).join(Position, Position.id == CallUp.position_id)
        .join(Shift, Shift.id == Position.shift_id).where(CallUp.id == callup_id)
        .with_for_update(of=CallUp).execution_options(populate_existing=True)).first()
    if row is None:
        raise NotFound.of("callup", callup_id)
    return row[0], row[1]


def _sync_recorded(callup_id: int, *, actor: str, now: datetime, reason: str | None = None) -> int:
    """After an attendance change: once the call-up's hours are booked, append a correction row for the difference
    between its check-in/out and the recorded hours so far, with ``actor`` as approver. Returns the minutes added.
    Before the first booking there is nothing to correct: ``book_ended_shifts`` books what the record says then.
    No commit.

    The call-up row is locked first, so a booking and a correction of the same call-up never both miss the
    other: whichever comes second sees what the first committed.
    """
    callup, shift = _lock_callup(callup_id)
    if now < shift.end_at or callup.volunteer_id is None:
        return 0  # hours are booked when the shift ends, never before
    booking = db.session.scalar(select(HoursEntry).where(
        HoursEntry.callup_id == callup_id, HoursEntry.source == R, HoursEntry.corrects_id.is_(None)))
    if booking is None:
        return 0
    delta = recorded_minutes(callup, shift) - _net(callup_id, R)
    if delta:
        db.session.add(HoursEntry(volunteer_id=callup.volunteer_id, callup_id=callup_id, source=R, minutes=delta,
                                  served_on=booking.served_on, corrects_id=booking.id, booked_at=now,
                                  booked_by=actor[:100], approved_by=actor[:100],
                                  reason=(reason or "attendance corrected after the shift")[:500]))
    return delta


BOOKING_BATCH = 200


def book_ended_shifts(*, now: datetime, timezone_name: str, actor: str = "scheduler", limit: int = 2000) -> int:
    """Book the hours of every attended call-up whose shift has ended and that has no booking yet.

    A batch at a time: its call-up rows are locked in id order (so a correction of one of them waits, or is
    seen), its bookings go in with one INSERT that skips any a second scheduler wrote first (the unique index
    on the first booking), then it commits. Returns how many were booked.
    """
    booked = select(HoursEntry.id).where(HoursEntry.callup_id == CallUp.id, HoursEntry.source == R)
    due = db.session.scalars(
        select(CallUp.id).join(Position, Position.id == CallUp.position_id)
        .join(Shift, Shift.id == Position.shift_id)
        .where(CallUp.status == CallUpStatus.ATTENDED, CallUp.volunteer_id.is_not(None), Shift.end_at <= now,
               ~booked.exists()).order_by(CallUp.id).limit(limit)).all()
    count = 0
    for first in range(0, len(due), BOOKING_BATCH):
        rows = db.session.execute(
            select(CallUp, Shift).join(Position, Position.id == CallUp.position_id)
            .join(Shift, Shift.id == Position.shift_id)
            .where(CallUp.id.in_(due[first:first + BOOKING_BATCH]), CallUp.status == CallUpStatus.ATTENDED)
            .order_by(CallUp.id).with_for_update(of=CallUp).execution_options(populate_existing=True)).all()
        values = [{"volunteer_id": callup.volunteer_id, "callup_id": callup.id, "source": R,
                   "minutes": recorded_minutes(callup, shift), "served_on": _served_on(shift, timezone_name),
                   "booked_at": now, "booked_by": actor[:100]} for callup, shift in rows]
        if values:
            dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
            count += len(db.session.execute(dialect.insert(HoursEntry).values(values).on_conflict_do_nothing()
                                            .returning(HoursEntry.id)).all())
        db.session.commit()
    return count


def add_manual_hours(callup_id: int, *, volunteer_id: int, hours: float, reason: str, approved_by: str,
                     now: datetime, timezone_name: str) -> HoursEntry:
    """Hours added by hand for a call-up of someone on the roster, after the shift ended; with all other
    hours of the call-up, never more than the shift's length."""
    if db.session.get(CallUp, callup_id) is None:
        raise ValidationFailed({"callup_id": [_l("Not a call-up of this volunteer.")]})
    callup, shift = _lock_callup(callup_id)
    if callup.volunteer_id != volunteer_id:
        raise ValidationFailed({"callup_id": [_l("Not a call-up of this volunteer.")]})
    if callup.volunteer_id is None or callup.status not in (CallUpStatus.ACCEPTED, CallUpStatus.ATTENDED,
                                                            CallUpStatus.NO_SHOW):
        raise Conflict(_l("only people on the roster can be given hours"),
                       {"callup_id": [_l("The call-up was not accepted.")]})
    if now < shift.end_at:
        raise Conflict(_l("hours are booked once the shift has ended"),
                       {"callup_id": [_l("The shift has not ended yet.")]})
    minutes = _minutes(hours)
    room = shift_minutes(shift) - _net(callup_id, R) - _net(callup_id, M)
    if minutes > room:
        raise ValidationFailed({"hours": [_l("At most %(more)s more hours: the shift is %(long)s hours long and "
                                             "%(booked)s are booked.", more=format(room / 60, "g"),
                                             long=format(shift_minutes(shift) / 60, "g"),
                                             booked=format((shift_minutes(shift) - room) / 60, "g"))]})
    entry = HoursEntry(volunteer_id=callup.volunteer_id, callup_id=callup_id, source=M, minutes=minutes,
                       served_on=_served_on(shift, timezone_name), booked_at=now, booked_by=approved_by[:100],
                       approved_by=approved_by[:100], reason=reason[:500])
    db.session.add(entry)
    db.session.commit()
    return entry


def correct_entry(entry_id: int, *, volunteer_id: int, hours: float, reason: str, approved_by: str,
                  now: datetime) -> HoursEntry:
    """Set a booking's hours to ``hours`` by appending a correction row for the difference (never an edit)."""
    entry = db.session.get(HoursEntry, entry_id)
    if entry is None or entry.volunteer_id != volunteer_id:
        raise ValidationFailed({"entry_id": [_l("No such entry for this volunteer.")]})
    if entry.corrects_id is not None:
        raise ValidationFailed({"entry_id": [_l("Correct the booking itself, not a correction.")]})
    callup, shift = _lock_callup(entry.callup_id)
    minutes = _minutes(hours)
    current = int(db.session.scalar(select(func.coalesce(func.sum(HoursEntry.minutes), 0)).where(
        (HoursEntry.id == entry_id) | (HoursEntry.corrects_id == entry_id))))
    other = _net(callup.id, R) + _net(callup.id, M) - current
    if minutes + other > shift_minutes(shift):
        raise ValidationFailed({"hours": [_l("At most %(most)s hours: the shift is %(long)s hours long.",
                                             most=format((shift_minutes(shift) - other) / 60, "g"),
                                             long=format(shift_minutes(shift) / 60, "g"))]})
    if minutes == current:
        raise Conflict(_l("the entry already has these hours"), {"hours": [_l("Nothing to correct.")]})
    row = HoursEntry(volunteer_id=entry.volunteer_id, callup_id=entry.callup_id, source=entry.source,
                     minutes=minutes - current, served_on=entry.served_on, corrects_id=entry.id, booked_at=now,
                     booked_by=approved_by[:100], approved_by=approved_by[:100], reason=reason[:500])
    db.session.add(row)
    db.session.commit()
    return row


def _minutes(hours: float) -> int:
    minutes = round(float(hours) * 60)
    if minutes <= 0:
        raise ValidationFailed({"hours": [_l("Must be more than zero.")]})
    return minutes


def list_entries(volunteer_id: int) -> Select:
    """A person's ledger rows, newest first (NotFound for an unknown person)."""
    get_volunteer(volunteer_id)
    return (select(HoursEntry).where(HoursEntry.volunteer_id == volunteer_id)
            .order_by(HoursEntry.served_on.desc(), HoursEntry.id.desc()))


@dataclass
class Totals:
    recorded_minutes: int = 0
    manual_minutes: int = 0
    shifts: int = 0

    @property
    def minutes(self) -> int:
        return self.recorded_minutes + self.manual_minutes

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 2)

    @property
    def recorded_hours(self) -> float:
        return round(self.recorded_minutes / 60, 2)

    @property
    def manual_hours(self) -> float:
        return round(self.manual_minutes / 60, 2)


@dataclass
class HoursSummary:
    total: Totals
    years: dict[int, Totals] = field(default_factory=dict)
    months: dict[str, Totals] = field(default_factory=dict)  # "2026-12"


def _sum_into(totals: Totals, source: HoursSource, minutes: int) -> None:
    if source is R:
        totals.recorded_minutes += minutes
    else:
        totals.manual_minutes += minutes


def hours_summary(volunteer_id: int, *, through_entry_id: int | None = None) -> HoursSummary:
    """Totals over the whole ledger, by year and by month (of the shift's local day); shifts with hours count."""
    get_volunteer(volunteer_id)
    stmt = (select(HoursEntry.callup_id, HoursEntry.served_on, HoursEntry.source, func.sum(HoursEntry.minutes))
            .where(HoursEntry.volunteer_id == volunteer_id)
            .group_by(HoursEntry.callup_id, HoursEntry.served_on, HoursEntry.source))
    if through_entry_id is not None:
        stmt = stmt.where(HoursEntry.id <= through_entry_id)
    summary = HoursSummary(total=Totals())
    served: dict[int, tuple[date, int]] = {}
    for callup_id, served_on, source, minutes in db.session.execute(stmt):
        minutes = int(minutes)
        year = summary.years.setdefault(served_on.year, Totals())
        month = summary.months.setdefault(f"{served_on.year}-{served_on.month:02d}", Totals())
        for totals in (summary.total, year, month):
            _sum_into(totals, source, minutes)
        day, total = served.get(callup_id, (served_on, 0))
        served[callup_id] = (day, total + minutes)
    for day, minutes in served.values():
        if minutes > 0:
            for totals in (summary.total, summary.years[day.year], summary.months[f"{day.year}-{day.month:02d}"]):
                totals.shifts += 1
    summary.years = dict(sorted(summary.years.items(), reverse=True))
    summary.months = dict(sorted(summary.months.items(), reverse=True))
    return summary


@dataclass(frozen=True)
class ServedShift:
    served_on: date
    title: str
    role: str
    recorded_minutes: int
    manual_minutes: int


def served_shifts(volunteer_id: int, *, through_entry_id: int | None = None) -> list[ServedShift]:
    """The shifts with hours on the ledger, oldest first: what a certificate lists."""
    recorded = func.sum(HoursEntry.minutes).filter(HoursEntry.source == R)
    manual = func.sum(HoursEntry.minutes).filter(HoursEntry.source == M)
    stmt = (select(HoursEntry.callup_id, func.min(HoursEntry.served_on), Campaign.title, Position.role,
                   func.coalesce(recorded, 0), func.coalesce(manual, 0))
            .join(CallUp, CallUp.id == HoursEntry.callup_id).join(Position, Position.id == CallUp.position_id)
            .join(Shift, Shift.id == Position.shift_id).join(Campaign, Campaign.id == Shift.campaign_id)
            .where(HoursEntry.volunteer_id == volunteer_id)
            .group_by(HoursEntry.callup_id, Campaign.title, Position.role).order_by(func.min(HoursEntry.served_on),
                                                                                    HoursEntry.callup_id))
    if through_entry_id is not None:
        stmt = stmt.where(HoursEntry.id <= through_entry_id)
    return [ServedShift(day, title, role, int(rec), int(man))
            for _, day, title, role, rec, man in db.session.execute(stmt) if int(rec) + int(man) > 0]


def issue_certificate(volunteer_id: int, *, now: datetime) -> ServiceCertificate:
    """The person's certificate of service as of now: the last one again when no hours changed since."""
    get_volunteer(volunteer_id)
    last_entry = db.session.scalar(select(func.max(HoursEntry.id)).where(HoursEntry.volunteer_id == volunteer_id))
    if last_entry is None:
        raise Conflict(_l("no hours on the ledger yet"), {"hours": [_l("No service hours have been booked yet.")]})
    latest = db.session.scalar(select(ServiceCertificate).where(ServiceCertificate.volunteer_id == volunteer_id)
                               .order_by(ServiceCertificate.id.desc()).limit(1))
    if latest is not None and latest.through_entry_id == last_entry:
        return latest
    summary = hours_summary(volunteer_id, through_entry_id=last_entry)
    certificate = ServiceCertificate(code="".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)),
                                     volunteer_id=volunteer_id, issued_at=now, through_entry_id=last_entry,
                                     recorded_minutes=summary.total.recorded_minutes,
                                     manual_minutes=summary.total.manual_minutes, shifts=summary.total.shifts)
    db.session.add(certificate)
    db.session.commit()
    return certificate


def find_certificate(code: str) -> ServiceCertificate | None:
    """A certificate by its verification code (case and spaces forgiven), or None."""
    code = "".join(code.split()).upper()
    if not code or len(code) > CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return db.session.scalar(select(ServiceCertificate).where(ServiceCertificate.code == code))


def recent_hours(*, since: datetime, timezone_name: str) -> Select:
    """(volunteer id, minutes) served on or after ``since`` per person, from the ledger: the matcher's load."""
    day = since.astimezone(ZoneInfo(timezone_name)).date()
    return (select(HoursEntry.volunteer_id, func.sum(HoursEntry.minutes))
            .where(and_(HoursEntry.served_on >= day)).group_by(HoursEntry.volunteer_id))
