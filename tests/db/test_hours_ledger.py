"""The hours ledger: booked from check-in and check-out at the shift's end (never before), append-only,
corrections as new rows, hours by hand capped at the shift's length, totals by month and year; check-in and
check-out with late arrival and early leave, "everyone came" with undo, and the attendance trail."""
from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from campaigns import attendance, hours
from campaigns.models import AttendanceChange, CallUp, CallUpStatus, HoursEntry, HoursSource
from campaigns.responses import accept_callup
from core.errors import Conflict, ValidationFailed
from extensions import db
from tests.scheduler.helpers import make_position, sent_callups

S = CallUpStatus
TZ = "Asia/Shanghai"


def _accepted(now, count=2, starts_in=timedelta(hours=1)):
    """``count`` accepted call-ups to a three-hour shift starting ``starts_in`` after ``now``."""
    position = make_position(now=now, headcount=count, starts_in=starts_in)
    callups = sent_callups(position, count, now=now, window=timedelta(minutes=30))
    for callup in callups:
        accept_callup(callup.id, actor="v", now=now)
    return position, [c.id for c in callups]


def _entries(volunteer_id=None):
    db.session.expire_all()
    stmt = select(HoursEntry).order_by(HoursEntry.id)
    if volunteer_id is not None:
        stmt = stmt.where(HoursEntry.volunteer_id == volunteer_id)
    return db.session.scalars(stmt).all()


def _callup(callup_id):
    db.session.expire_all()
    return db.session.get(CallUp, callup_id)


def test_hours_are_booked_from_check_in_and_out_at_the_shift_end_never_before(now):
    position, [late, early] = _accepted(now)
    start, end = now + timedelta(hours=1), now + timedelta(hours=4)
    # Late by 40 minutes; the other leaves an hour early.
    attendance.check_in_self(late, volunteer_id=_callup(late).volunteer_id, now=start + timedelta(minutes=40))
    attendance.check_in_self(early, volunteer_id=_callup(early).volunteer_id, now=start - timedelta(minutes=10))
    attendance.check_out_self(early, volunteer_id=_callup(early).volunteer_id, now=end - timedelta(hours=1))
    shift = position.shift
    assert attendance.punctuality(_callup(late), shift) == attendance.Punctuality(40, 0)
    assert attendance.punctuality(_callup(early), shift) == attendance.Punctuality(0, 60)

    assert hours.book_ended_shifts(now=end - timedelta(seconds=1), timezone_name=TZ) == 0
    assert _entries() == []
    assert hours.book_ended_shifts(now=end, timezone_name=TZ) == 2
    booked = {e.callup_id: e for e in _entries()}
    assert booked[late].minutes == 140 and booked[early].minutes == 120  # arriving early adds nothing
    assert {e.source for e in booked.values()} == {HoursSource.RECORDED}
    assert booked[late].served_on == date(2026, 12, 1)  # the shift's local day (10:00-13:00 in Shanghai)
    # Running the job again books nothing twice.
    assert hours.book_ended_shifts(now=end + timedelta(minutes=1), timezone_name=TZ) == 0
    assert len(_entries()) == 2


def test_the_ledger_refuses_updates_a_correction_is_a_new_row(now, is_postgres):
    _, [a] = _accepted(now, count=1)
    attendance.record_attendance(a, attended=True, actor="office", now=now + timedelta(hours=1))
    hours.book_ended_shifts(now=now + timedelta(hours=4), timezone_name=TZ)
    [booking] = _entries()
    with pytest.raises(DBAPIError):
        db.session.execute(update(HoursEntry).where(HoursEntry.id == booking.id).values(minutes=1))
        db.session.flush()
    db.session.rollback()
    if is_postgres:  # PostgreSQL refuses deletes too
        with pytest.raises(DBAPIError):
            db.session.execute(text("DELETE FROM hours_entries"))
        db.session.rollback()
    assert [e.minutes for e in _entries()] == [180]

    fixed = hours.correct_entry(booking.id, volunteer_id=booking.volunteer_id, hours=2.5, reason="left at 12:30",
                                approved_by="user:7", now=now + timedelta(days=1))
    assert (fixed.minutes, fixed.corrects_id, fixed.approved_by, fixed.reason) == (-30, booking.id, "user:7",
                                                                                   "left at 12:30")
    assert [e.minutes for e in _entries()] == [180, -30]
    assert hours.hours_summary(booking.volunteer_id).total.hours == 2.5
    with pytest.raises(ValidationFailed) as too_many:
        hours.correct_entry(booking.id, volunteer_id=booking.volunteer_id, hours=3.5, reason="x", approved_by="u",
                            now=now + timedelta(days=1))
    assert "hours" in too_many.value.errors
    with pytest.raises(ValidationFailed) as not_theirs:
        hours.correct_entry(booking.id, volunteer_id=booking.volunteer_id + 99, hours=1, reason="x", approved_by="u",
                            now=now + timedelta(days=1))
    assert "entry_id" in not_theirs.value.errors


def test_a_correction_of_attendance_after_booking_books_the_difference_with_its_reason(now):
    position, [a] = _accepted(now, count=1)
    start, end = now + timedelta(hours=1), now + timedelta(hours=4)
    attendance.record_attendance(a, attended=True, actor="office", now=start)
    hours.book_ended_shifts(now=end, timezone_name=TZ)
    # A week later: they were in fact a no-show; then it turns out they came at 11:00 after all.
    attendance.record_attendance(a, attended=False, actor="user:3", now=end + timedelta(days=1), reason="不在现场")
    assert [e.minutes for e in _entries()] == [180, -180]
    attendance.record_attendance(a, attended=True, actor="user:3", now=end + timedelta(days=2),
                                 at=start + timedelta(hours=1), reason="签到表有记录")
    assert [e.minutes for e in _entries()] == [180, -180, 120]
    assert [(e.approved_by, e.reason) for e in _entries()[1:]] == [("user:3", "不在现场"), ("user:3", "签到表有记录")]
    trail = db.session.scalars(select(AttendanceChange).where(AttendanceChange.callup_id == a)
                               .order_by(AttendanceChange.id)).all()
    assert [(c.actor, c.field, c.before, c.after, c.reason) for c in trail] == [
        ("user:3", "status", "attended", "no_show", "不在现场"),
        ("user:3", "status", "no_show", "attended", "签到表有记录")]
    # A time corrected with a reason: the trail keeps before and after, the ledger the difference.
    attendance.correct_times(a, actor="user:4", now=end + timedelta(days=3), reason="按签到表",
                             checked_out_at=end - timedelta(minutes=30))
    assert [e.minutes for e in _entries()][-1] == -30
    last = db.session.scalars(select(AttendanceChange).order_by(AttendanceChange.id.desc())).first()
    assert (last.field, last.before, last.after, last.reason) == (
        "checked_out_at", None, (end - timedelta(minutes=30)).isoformat(), "按签到表")
    assert hours.hours_summary(_callup(a).volunteer_id).total.minutes == 90


def test_bad_times_are_refused_by_name_and_change_nothing(now):
    _, [a] = _accepted(now, count=1)
    start = now + timedelta(hours=1)
    attendance.record_attendance(a, attended=True, actor="office", now=start)
    with pytest.raises(ValidationFailed) as error:
        attendance.correct_times(a, actor="o", now=start + timedelta(hours=1), reason="r",
                                 checked_out_at=start - timedelta(minutes=5))
    assert "checked_out_at" in error.value.errors
    with pytest.raises(ValidationFailed) as future:
        attendance.record_attendance(_accepted(now, count=1)[1][0], attended=True, actor="o", now=start,
                                     at=start + timedelta(minutes=1))
    assert "at" in future.value.errors
    assert _callup(a).checked_out_at is None
    assert db.session.scalar(select(func.count()).select_from(AttendanceChange)) == 0


def test_hours_by_hand_are_kept_apart_and_capped_at_the_shift_length(now):
    _, [came, forgot] = _accepted(now)
    start, end = now + timedelta(hours=1), now + timedelta(hours=4)
    attendance.record_attendance(came, attended=True, actor="office", now=start + timedelta(hours=1))
    with pytest.raises(Conflict):  # not before the shift ends
        hours.add_manual_hours(forgot, volunteer_id=_callup(forgot).volunteer_id, hours=1, reason="纸质签到",
                               approved_by="user:1", now=end - timedelta(minutes=1), timezone_name=TZ)
    hours.book_ended_shifts(now=end, timezone_name=TZ)
    # The one who came late gets the missed hour by hand; a second hour would pass the shift's three hours.
    volunteer = _callup(came).volunteer_id
    entry = hours.add_manual_hours(came, volunteer_id=volunteer, hours=1, reason="提前到场布置", approved_by="user:1",
                                   now=end, timezone_name=TZ)
    assert (entry.source, entry.minutes, entry.approved_by) == (HoursSource.MANUAL, 60, "user:1")
    with pytest.raises(ValidationFailed) as capped:
        hours.add_manual_hours(came, volunteer_id=volunteer, hours=0.5, reason="x", approved_by="user:1", now=end,
                               timezone_name=TZ)
    assert "hours" in capped.value.errors
    with pytest.raises(ValidationFailed) as other:
        hours.add_manual_hours(came, volunteer_id=_callup(forgot).volunteer_id, hours=1, reason="x",
                               approved_by="user:1", now=end, timezone_name=TZ)
    assert "callup_id" in other.value.errors
    totals = hours.hours_summary(volunteer).total
    assert (totals.recorded_hours, totals.manual_hours, totals.hours, totals.shifts) == (2.0, 1.0, 3.0, 1)


def test_totals_by_month_and_year(now):
    volunteer_ids = []
    for days_back in (0, 31, 400):  # December 2026, October/November 2026, late 2025
        _, [a] = _accepted(now - timedelta(days=days_back), count=1)
        attendance.record_attendance(a, attended=True, actor="o", now=now - timedelta(days=days_back, hours=-1))
        volunteer_ids.append(_callup(a).volunteer_id)
    # One person for all three: move the call-ups onto the first volunteer.
    db.session.execute(update(CallUp).values(volunteer_id=volunteer_ids[0]))
    db.session.commit()
    hours.book_ended_shifts(now=now + timedelta(hours=5), timezone_name=TZ)
    summary = hours.hours_summary(volunteer_ids[0])
    assert (summary.total.hours, summary.total.shifts) == (9.0, 3)
    assert {year: t.hours for year, t in summary.years.items()} == {2026: 6.0, 2025: 3.0}
    assert list(summary.months) == ["2026-12", "2026-10", "2025-10"]
    assert summary.months["2026-12"].shifts == 1


def test_everyone_came_and_undo_keep_a_trail(now):
    position, ids = _accepted(now, count=3)
    start = now + timedelta(hours=1)
    batch, marked = attendance.mark_everyone_attended(position.shift_id, actor="user:2", now=start + timedelta(minutes=20))
    assert sorted(marked) == sorted(ids)
    assert {_callup(i).status for i in ids} == {S.ATTENDED}
    assert _callup(ids[0]).attended_at == start  # "everyone came" means on time
    # One of them is then marked a no-show by hand: the undo leaves that later mark alone.
    attendance.record_attendance(ids[0], attended=False, actor="user:2", now=start + timedelta(minutes=30))
    undone = attendance.undo_batch(position.shift_id, batch, actor="user:2", now=start + timedelta(minutes=31))
    assert sorted(undone) == sorted(ids[1:])
    assert [_callup(i).status for i in ids] == [S.NO_SHOW, S.ACCEPTED, S.ACCEPTED]
    assert _callup(ids[1]).attended_at is None
    undo_trail = db.session.scalars(select(AttendanceChange.callup_id).where(
        AttendanceChange.after == "accepted")).all()
    assert sorted(undo_trail) == sorted(ids[1:])
    with pytest.raises(ValidationFailed):
        attendance.undo_batch(position.shift_id, "nosuch", actor="user:2", now=start)


def test_self_check_in_window_and_check_out_rules(now):
    _, [a] = _accepted(now, count=1, starts_in=timedelta(hours=3))
    volunteer = _callup(a).volunteer_id
    start, end = now + timedelta(hours=3), now + timedelta(hours=6)
    with pytest.raises(Conflict):
        attendance.check_in_self(a, volunteer_id=volunteer, now=start - timedelta(hours=2, minutes=1))
    with pytest.raises(Conflict):
        attendance.check_out_self(a, volunteer_id=volunteer, now=start)  # not checked in
    with pytest.raises(Conflict):
        attendance.check_in_self(a, volunteer_id=volunteer + 1, now=start)  # not theirs
    attendance.check_in_self(a, volunteer_id=volunteer, now=start - timedelta(minutes=15))
    with pytest.raises(Conflict):
        attendance.check_out_self(a, volunteer_id=volunteer, now=end + timedelta(hours=2, minutes=1))
    out = attendance.check_out_self(a, volunteer_id=volunteer, now=end + timedelta(minutes=5))
    assert out.checked_out_at == end + timedelta(minutes=5)
    # Checking out again changes nothing.
    again = attendance.check_out_self(a, volunteer_id=volunteer, now=end + timedelta(minutes=20))
    assert again.checked_out_at == end + timedelta(minutes=5)


def test_two_schedulers_booking_at_once_book_each_call_up_once(app, now, is_postgres):
    _, ids = _accepted(now, count=4)
    for callup_id in ids:
        attendance.record_attendance(callup_id, attended=True, actor="o", now=now + timedelta(hours=1))
    errors = []

    def run():
        with app.app_context():
            try:
                hours.book_ended_shifts(now=now + timedelta(hours=4), timezone_name=TZ)
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                db.session.remove()

    db.session.remove()  # hold no SQLite write lock while the threads run
    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    entries = _entries()
    assert sorted(e.callup_id for e in entries) == sorted(ids)
    with pytest.raises(IntegrityError):  # the database itself refuses a second booking
        db.session.add(HoursEntry(volunteer_id=entries[0].volunteer_id, callup_id=entries[0].callup_id,
                                  source=HoursSource.RECORDED, minutes=1, served_on=date(2026, 12, 1),
                                  booked_at=now, booked_by="x"))
        db.session.flush()
    db.session.rollback()


def test_the_scheduler_job_books_ended_shifts(app):
    from callups import jobs
    from callups.scheduler import JOBS
    from core.clock import utcnow

    position, [a] = _accepted(utcnow() - timedelta(hours=5), count=1)  # a shift that ended an hour ago
    attendance.record_attendance(a, attended=True, actor="office", now=utcnow() - timedelta(hours=3),
                                 at=position.shift.start_at)
    db.session.remove()
    jobs.book_service_hours(app)
    assert [(e.callup_id, e.minutes, e.booked_by) for e in _entries()] == [(a, 180, "scheduler")]
    assert {job.id: job.seconds for job in JOBS}["book_service_hours"] == 60
