"""The call-up state machine: allowed transitions, each applied as one conditional UPDATE.

    scheduled ──send──▶ sent ──accept──▶ accepted ──decline (withdraw)──▶ declined
        │                 ├──decline──▶ declined   └──check-in──▶ attended ◀──correction──▶ no_show
        │                 │                             (either mark may be undone back to accepted)
        │                 └──deadline──▶ expired
        └── shift already started ──▶ expired

Every transition is ``UPDATE call_ups SET status=:to … WHERE id=:id AND status IN (:from) AND <guard>``
with the row count checked, so running it twice, or racing another process, changes nothing.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, insert, update

from campaigns.models import CallUp, CallUpEvent, CallUpStatus
from extensions import db

S = CallUpStatus
ALLOWED: dict[CallUpStatus, frozenset[CallUpStatus]] = {
    S.PROPOSED: frozenset({S.SCHEDULED, S.WITHDRAWN}),
    S.SCHEDULED: frozenset({S.SENT, S.EXPIRED, S.WITHDRAWN}),
    S.SENT: frozenset({S.ACCEPTED, S.DECLINED, S.EXPIRED, S.WITHDRAWN}),
    S.ACCEPTED: frozenset({S.DECLINED, S.WITHDRAWN, S.ATTENDED, S.NO_SHOW}),
    S.DECLINED: frozenset(),
    S.EXPIRED: frozenset(),
    S.WITHDRAWN: frozenset(),
    # Attendance marks may be corrected, or undone back to accepted (campaigns/attendance.py).
    S.ATTENDED: frozenset({S.NO_SHOW, S.ACCEPTED}),
    S.NO_SHOW: frozenset({S.ATTENDED, S.ACCEPTED}),
}


def can_move(current: CallUpStatus, target: CallUpStatus) -> bool:
    """Whether the state machine allows ``current`` → ``target``."""
    return target in ALLOWED[current]


def _transition(callup_id: int, source: CallUpStatus, target: CallUpStatus, *, now: datetime, actor: str,
                guard: ColumnElement[bool] | None = None, values: dict[str, Any] | None = None,
                note: str | None = None) -> bool:
    """Move one call-up from ``source`` to ``target`` if it is still there; record the event. No commit."""
    if not can_move(source, target):
        raise ValueError(f"{source.value} → {target.value} is not a call-up transition")
    stmt = (update(CallUp).where(CallUp.id == callup_id, CallUp.status == source)
            .values(status=target, updated_at=now, **(values or {}))
            .execution_options(synchronize_session=False))
    if guard is not None:
        stmt = stmt.where(guard)
    if db.session.execute(stmt).rowcount != 1:
        return False
    _record_events([(callup_id, source, target)], now=now, actor=actor, note=note)
    return True


def _transition_many(source: CallUpStatus, target: CallUpStatus, *where: ColumnElement[bool], now: datetime,
                     actor: str, note: str | None = None,
                     values: dict[str, Any] | None = None) -> list[tuple[int, int]]:
    """Move every call-up in ``source`` matching ``where`` to ``target`` in one conditional UPDATE and record
    their events; returns (call-up id, position id) of those moved. No commit. The bulk twin of ``_transition``."""
    if not can_move(source, target):
        raise ValueError(f"{source.value} → {target.value} is not a call-up transition")
    rows = db.session.execute(
        update(CallUp).where(CallUp.status == source, *where).values(status=target, updated_at=now, **(values or {}))
        .returning(CallUp.id, CallUp.position_id).execution_options(synchronize_session=False)).all()
    _record_events([(row.id, source, target) for row in rows], now=now, actor=actor, note=note)
    return [(row.id, row.position_id) for row in rows]


def _record_event(callup_id: int, source: CallUpStatus | None, target: CallUpStatus, *, now: datetime,
                  actor: str, note: str | None = None) -> None:
    """Append one CallUpEvent to the caller's transaction, written at its next flush: several recorded in a row
    go in one INSERT. One event written at once is ``_record_events`` with one row (no unit of work)."""
    db.session.add(CallUpEvent(callup_id=callup_id, at=now, actor=actor[:100],
                               from_state=source.value if source else None, to_state=target.value,
                               note=note[:500] if note else None))


def _record_events(rows: list[tuple[int, CallUpStatus | None, CallUpStatus]], *, now: datetime, actor: str,
                   note: str | None = None) -> None:
    """Bulk-append events for a batch transition (expiry, sending) or for new call-ups (no source state)."""
    if rows:
        note = note[:500] if note else None
        db.session.execute(insert(CallUpEvent), [
            {"callup_id": cid, "at": now, "actor": actor[:100], "from_state": src.value if src else None,
             "to_state": dst.value, "note": note} for cid, src, dst in rows])
