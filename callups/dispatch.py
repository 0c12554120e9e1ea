"""Due work, claimed from the database: sending call-ups, reminders and the outbox dispatch loop.

Several dispatcher processes may run at once: each claims rows with a lease
(PostgreSQL: ``FOR UPDATE SKIP LOCKED``; SQLite: the single writer under
``BEGIN IMMEDIATE``), sends them one at a time and marks each only while it
still owns the lease. A crash repeats at most the one message in flight. In-app
rows are the inbox itself: a pass marks all of its in-app rows sent in one UPDATE.
"""
from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from flask import current_app
from sqlalchemy import and_, case, func, literal, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from notices.channels import Channel as ChannelProtocol
from notices.channels import DeliveryResult, OutboundMessage
from notices.channels.inapp import InAppChannel
from notices.links import _issue_link
from notices.models import Channel, Notification, NotificationKind, NotificationStatus
from notices.outbox import insert_rows
from campaigns.messaging import _queue_callup_message, callup_template, message_rows
from campaigns.models import CallUp, CallUpStatus, Campaign, CampaignStatus, Shift
from campaigns.places import answer_windows, join_shift, with_addressee
from campaigns.policy import effective_policy
from campaigns.states import _transition_many
from core.clock import utcnow
from core.metrics import DISPATCH_DELAY, RELEASED, SENDS
from extensions import db
from volunteers.models import Volunteer

log = logging.getLogger(__name__)

# Waits after the 1st, 2nd, … failed attempt; the last value repeats.
BACKOFF_SECONDS = (30, 120, 600, 1800, 7200)
# Any constant works: it names "the WeCom quota" for pg_advisory_xact_lock.
WECOM_LOCK_KEY = 0x67726964
LINK_IN_TEXT = re.compile(r"/r/[A-Za-z0-9_-]+")

N = Notification
S = CallUpStatus

# Set by SIGTERM in the scheduler and dispatcher processes (callups/cli.py): the message being sent is
# finished and marked, the rest of the claimed batch is given back at once, and no new batch is claimed.
STOPPING = threading.Event()


def dispatcher_id() -> str:
    """A lease owner name unique to this process and start."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def backoff(attempts: int) -> timedelta:
    """How long to wait before attempt ``attempts + 1``."""
    return timedelta(seconds=BACKOFF_SECONDS[min(max(attempts, 1), len(BACKOFF_SECONDS)) - 1])


@dataclass
class DispatchStats:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    released: int = 0

    def add(self, other: "DispatchStats") -> None:
        """Count ``other``'s rows in as well."""
        for name in ("claimed", "sent", "retried", "failed", "skipped", "released"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _claim(*, owner: str, now: datetime, lease_seconds: int, limit: int, wecom: bool) -> list[Any]:
    """Lease up to ``limit`` due rows (WeCom rows only, or all others) and return them. No commit."""
    if limit <= 0:
        return []
    due = and_(N.due_at <= now, or_(N.status == NotificationStatus.PENDING,
                                    and_(N.status == NotificationStatus.SENDING, N.lease_until < now)))
    lane = N.channel == Channel.WECOM if wecom else N.channel != Channel.WECOM
    pick = select(N.id).where(due, lane).order_by(N.due_at, N.id).limit(limit)
    if _is_postgres():
        # PostgreSQL only: concurrent dispatchers skip each other's rows instead of waiting.
        pick = pick.with_for_update(skip_locked=True)
    stmt = (update(N).where(N.id.in_(pick))
            .values(status=NotificationStatus.SENDING, lease_owner=owner,
                    lease_until=now + timedelta(seconds=lease_seconds), attempts=N.attempts + 1)
            .returning(N.id, N.channel, N.kind, N.idempotency_key, N.attempts, N.max_attempts, N.payload,
                       N.callup_id, N.volunteer_id, N.due_at)
            .execution_options(synchronize_session=False))
    return list(db.session.execute(stmt).all())


def _wecom_quota(*, now: datetime, per_minute: int) -> int:
    """Messages the WeCom robot may still take in the last minute's window (serialised across dispatchers)."""
    if _is_postgres():
        db.session.execute(select(func.pg_advisory_xact_lock(WECOM_LOCK_KEY)))
    recent = db.session.scalar(select(func.count()).select_from(N).where(
        N.channel == Channel.WECOM,
        or_(and_(N.status == NotificationStatus.SENT, N.sent_at > now - timedelta(minutes=1)),
            and_(N.status == NotificationStatus.SENDING, N.lease_until >= now))))
    return max(per_minute - int(recent or 0), 0)


def claim_due(*, owner: str, now: datetime, lease_seconds: int, batch: int, wecom_per_minute: int = 20,
              with_wecom: bool = True) -> list[Any]:
    """Claim due outbox rows in one short transaction; WeCom within its per-minute quota."""
    rows = _claim(owner=owner, now=now, lease_seconds=lease_seconds, limit=batch, wecom=False)
    if with_wecom:
        quota = _wecom_quota(now=now, per_minute=wecom_per_minute)
        rows += _claim(owner=owner, now=now, lease_seconds=lease_seconds, limit=min(quota, batch), wecom=True)
    db.session.commit()
    return rows


def _message(row: Any) -> OutboundMessage:
    payload = row.payload or {}
    return OutboundMessage(idempotency_key=row.idempotency_key, kind=row.kind.value,
                           recipient=payload.get("recipient"), subject=payload.get("subject", ""),
                           text=payload.get("text", ""), callup_id=row.callup_id,
                           volunteer_id=row.volunteer_id, language=payload.get("language", "zh"))


def _sent_payload(row: Any) -> dict[str, Any]:
    """The payload kept once a message is out: the plain token is needed only until then."""
    payload = dict(row.payload or {})
    payload["text"] = LINK_IN_TEXT.sub("/r/…", payload.get("text", ""))
    return payload


def _fast_commit(connection: Any) -> None:
    if connection.dialect.name == "postgresql":
        # Losing this commit in a database crash only means one resend (at-least-once holds),
        # so skip the WAL flush wait that otherwise caps throughput.
        connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")


def _finish(row: Any, result: DeliveryResult, *, owner: str, at: datetime) -> str:
    """Record one send's outcome while still holding the lease; returns sent/retried/failed/lost."""
    table = N.__table__  # a Core UPDATE: the ORM's bulk-update bookkeeping cost more than the send
    mine = (table.c.id == row.id, table.c.lease_owner == owner, table.c.status == NotificationStatus.SENDING)
    cleared = {"lease_owner": None, "lease_until": None}
    if result.ok:
        values = {"status": NotificationStatus.SENT, "sent_at": at, "last_error": None, "payload": _sent_payload(row)}
        outcome = "sent"
    elif result.permanent or row.attempts >= row.max_attempts:
        values = {"status": NotificationStatus.FAILED, "last_error": result.error}
        outcome = "failed"
    else:
        values = {"status": NotificationStatus.PENDING, "last_error": result.error,
                  "due_at": at + backoff(row.attempts)}
        outcome = "retried"
    connection = db.session.connection()
    _fast_commit(connection)
    done = connection.execute(update(table).where(*mine).values(**values, **cleared)).rowcount
    db.session.commit()
    outcome = outcome if done == 1 else "lost"
    _count_send(row, outcome, at=at)
    return outcome


def _count_send(row: Any, outcome: str, *, at: datetime) -> None:
    """The metrics of one row's send: its outcome by channel, and for a sent row how long after it fell due."""
    SENDS.labels(row.channel.value, outcome).inc()
    if outcome == "sent" and getattr(row, "due_at", None) is not None:
        DISPATCH_DELAY.labels(row.channel.value).observe(max((at - row.due_at).total_seconds(), 0.0))


def _deliver_inbox(rows: list[Any], *, owner: str, at: datetime) -> int:
    """Deliver in-app rows, which the inbox shows as they are: marking them sent is the whole send, so one
    UPDATE and one commit for the pass instead of one per row. Returns how many this owner still held."""
    table = N.__table__
    payloads = case({row.id: literal(_sent_payload(row), table.c.payload.type) for row in rows}, value=table.c.id)
    connection = db.session.connection()
    _fast_commit(connection)
    done = connection.execute(
        update(table).where(table.c.id.in_([row.id for row in rows]), table.c.lease_owner == owner,
                            table.c.status == NotificationStatus.SENDING)
        .values(status=NotificationStatus.SENT, sent_at=at, last_error=None, payload=payloads,
                lease_owner=None, lease_until=None)
        .returning(table.c.id)).scalars().all()
    db.session.commit()
    delivered = set(done)
    for row in rows:
        _count_send(row, "sent" if row.id in delivered else "lost", at=at)
    return len(delivered)


def release(rows: list[Any], *, owner: str) -> int:
    """Give claimed, unsent rows back (pending, lease cleared, the claim's attempt uncounted) so any dispatcher
    takes them at once instead of after the lease; only rows this owner still holds. Commits."""
    if not rows:
        return 0
    table = N.__table__
    released = db.session.execute(
        update(table).where(table.c.id.in_([row.id for row in rows]), table.c.lease_owner == owner,
                            table.c.status == NotificationStatus.SENDING)
        .values(status=NotificationStatus.PENDING, lease_owner=None, lease_until=None,
                attempts=table.c.attempts - 1)).rowcount
    db.session.commit()
    for row in rows:
        RELEASED.labels(row.channel.value).inc()
    return released


def dispatch_outbox(*, now: datetime, channels: Mapping[str, ChannelProtocol], owner: str | None = None,
                    lease_seconds: int | None = None, batch: int | None = None) -> DispatchStats:
    """One pass: claim due rows, send them one at a time, mark each; a failing channel blocks no other."""
    config = current_app.config
    owner = owner or dispatcher_id()
    lease_seconds = lease_seconds or config["OUTBOX_LEASE_SECONDS"]
    timeout = float(config["CHANNEL_TIMEOUT_SECONDS"])
    started = time.monotonic()
    rows = claim_due(owner=owner, now=now, lease_seconds=lease_seconds, batch=batch or config["OUTBOX_BATCH_SIZE"],
                     wecom_per_minute=config["WECOM_PER_MINUTE"], with_wecom="wecom" in channels)
    stats = DispatchStats(claimed=len(rows))
    if isinstance(channels.get(Channel.INAPP.value), InAppChannel):
        inbox = [row for row in rows if row.channel is Channel.INAPP]
        if inbox:
            delivered = _deliver_inbox(inbox, owner=owner, at=now + timedelta(seconds=time.monotonic() - started))
            stats.sent += delivered
            stats.skipped += len(inbox) - delivered
            rows = [row for row in rows if row.channel is not Channel.INAPP]
    lease_end = now + timedelta(seconds=lease_seconds)
    for index, row in enumerate(rows):
        if STOPPING.is_set():
            stats.released = release(rows[index:], owner=owner)
            log.info("dispatch stopping: gave back %d claimed messages", stats.released)
            break
        at = now + timedelta(seconds=time.monotonic() - started)
        if at + timedelta(seconds=timeout) >= lease_end:
            # Too close to the lease's end to finish safely: leave the row to whoever reclaims it.
            stats.skipped += 1
            continue
        channel = channels.get(row.channel.value)
        if channel is None:
            result = DeliveryResult.give_up(f"channel {row.channel.value} is not configured")
        else:
            try:
                result = channel.send(_message(row))
            except Exception as error:  # a broken channel must not stop the loop
                log.exception("channel %s raised on %s", row.channel.value, row.idempotency_key)
                result = DeliveryResult.retry(f"{type(error).__name__}: {error}")
        outcome = _finish(row, result, owner=owner, at=now + timedelta(seconds=time.monotonic() - started))
        if outcome == "lost":
            stats.skipped += 1
        else:
            setattr(stats, outcome, getattr(stats, outcome) + 1)
    return stats


def drain_outbox(*, channels: Mapping[str, ChannelProtocol], budget_seconds: float, owner: str | None = None,
                 clock: Callable[[], datetime] = utcnow) -> DispatchStats:
    """Dispatch passes back to back while due rows remain, for at most ``budget_seconds``; summed counts.

    A backlog (an emergency wave, a clock that was down) drains at full speed instead of one batch
    per tick; a pass that claims nothing ends the drain.
    """
    owner = owner or dispatcher_id()
    total = DispatchStats()
    started = time.monotonic()
    while True:
        if STOPPING.is_set():
            return total
        stats = dispatch_outbox(now=clock(), channels=channels, owner=owner)
        total.add(stats)
        if not stats.claimed or time.monotonic() - started >= budget_seconds:
            return total


# Call-ups turned into sent ones per transaction. Small enough that the first messages of a big emergency leave
# within a second or two of the tick and a crash (kill -9, a database restart) loses one slice's work, not a
# batch's (the rest is picked again); large enough that the per-slice statements stay few.
SEND_SLICE = 50


def send_due_callups(*, now: datetime, limit: int | None = None, actor: str = "scheduler",
                     slice_size: int = SEND_SLICE) -> int:
    """Turn scheduled call-ups whose send time has come into sent ones, with link, outbox rows and event: up to
    ``limit`` (``CALLUP_SEND_BATCH``) a run, committed ``slice_size`` at a time. Returns how many were sent."""
    budget = limit or current_app.config["CALLUP_SEND_BATCH"]
    picked = sent = 0
    while picked < budget:
        pick = (select(CallUp.id).where(CallUp.status == S.SCHEDULED, CallUp.send_at <= now,
                                        CallUp.volunteer_id.is_not(None))
                .order_by(CallUp.send_at, CallUp.id).limit(min(slice_size, budget - picked)))
        if _is_postgres():
            pick = pick.with_for_update(skip_locked=True)
        ids = db.session.scalars(pick).all()
        if not ids:
            break
        picked += len(ids)
        sent += _send_slice(ids, now=now, actor=actor)
        db.session.commit()
    return sent


def _send_slice(ids: list[int], *, now: datetime, actor: str) -> int:
    """Send the picked call-ups in the caller's transaction. Returns how many were sent."""
    # One query for the slice with each call-up's position, shift, campaign and person (with their channel
    # consents): the messages then read them from the session, not one query (and four loads) per person.
    rows = db.session.execute(with_addressee(select(CallUp, Volunteer)).where(CallUp.id.in_(ids))).unique().all()
    loaded = {callup.id: callup for callup, _person in rows}
    people = [person for _callup, person in rows]  # the identity map holds rows weakly: keep them while used
    # A person's daily cap counts the messages already written for them, so their second call-up in a slice is
    # timed after their first one's rows are in: rounds of one call-up per person, in order.
    rounds: list[list[int]] = []
    seen: dict[int, int] = {}
    for callup_id in ids:
        person = loaded[callup_id].volunteer_id
        turn = seen[person] = seen.get(person, -1) + 1
        if turn == len(rounds):
            rounds.append([])
        rounds[turn].append(callup_id)
    policies: dict[int, dict[str, Any]] = {}
    sent = sum(_send_round([loaded[callup_id] for callup_id in round_ids], policies, now=now, actor=actor)
               for round_ids in rounds)
    del people
    return sent


def _send_round(callups: list[CallUp], policies: dict[int, dict[str, Any]], *, now: datetime, actor: str) -> int:
    """Send call-ups of different people: one UPDATE per answer deadline (an emergency's share one), their
    events and links together, their outbox rows in one INSERT."""
    # The answer window opens when the message reaches the person: after quiet hours and their daily cap
    # (counted for the whole round at once: it holds one call-up per person).
    calls = []
    for callup in callups:
        campaign = callup.position.shift.campaign
        calls.append((callup.volunteer_id, callup.position.shift, campaign,
                      policies.setdefault(campaign.id, effective_policy(campaign))))
    windows = {callup.id: window for callup, window in zip(callups, answer_windows(calls, now=now))}
    by_deadline: dict[datetime, list[int]] = {}
    too_late = []
    for callup in callups:
        _reaches, expires = windows[callup.id]
        if expires <= now:
            too_late.append(callup.id)
        else:
            by_deadline.setdefault(expires, []).append(callup.id)
    if too_late:
        _transition_many(S.SCHEDULED, S.EXPIRED, CallUp.id.in_(too_late), now=now, actor=actor,
                         note="the shift starts before anyone could answer")
    loaded = {callup.id: callup for callup in callups}
    outbox: list[dict[str, Any]] = []
    sent = 0
    for expires, group in by_deadline.items():
        moved = _transition_many(S.SCHEDULED, S.SENT, CallUp.id.in_(group), now=now, actor=actor,
                                 values={"sent_at": now, "expires_at": expires})
        for callup_id, _position_id in moved:
            callup = loaded[callup_id]
            set_committed_value(callup, "expires_at", expires)
            set_committed_value(callup, "status", S.SENT)
            token = _issue_link(callup_id, expires_at=expires, now=now)
            outbox += message_rows(callup, NotificationKind.CALLUP, template=callup_template(callup), now=now,
                                   serial=str(callup.wave or 1), token=token, push_at=windows[callup_id][0])
        sent += len(moved)
    insert_rows(outbox)
    return sent


def _due_offset(offsets: list[int], *, start: datetime, accepted_at: datetime | None, now: datetime) -> int | None:
    """The reminder offset (hours before the start) due now: the closest one passed, skipping those
    that had already passed when the person accepted (they just got a confirmation)."""
    due = [h for h in offsets
           if start - timedelta(hours=h) <= now < start
           and (accepted_at is None or accepted_at <= start - timedelta(hours=h))]
    return min(due) if due else None


def send_reminders(*, now: datetime, horizon_hours: int = 336) -> int:
    """Queue one reminder per accepted call-up and due offset; the unique key makes re-runs harmless."""
    rows = db.session.execute(
        join_shift(select(CallUp.id, Shift.start_at, CallUp.responded_at, Shift.campaign_id))
        .join(Campaign, Campaign.id == Shift.campaign_id)
        .where(CallUp.status == S.ACCEPTED, CallUp.volunteer_id.is_not(None), Shift.start_at > now,
               Campaign.status != CampaignStatus.CANCELLED,
               Shift.start_at <= now + timedelta(hours=horizon_hours))).all()
    if not rows:
        return 0
    done = set(db.session.scalars(select(N.idempotency_key).where(
        N.kind == NotificationKind.REMINDER, N.callup_id.in_([row.id for row in rows]))).all())
    policies: dict[int, dict[str, Any]] = {}
    queued = 0
    for row in rows:
        callup = db.session.get(CallUp, row.id)
        campaign = callup.position.shift.campaign
        policy = policies.setdefault(row.campaign_id, effective_policy(campaign))
        offset = _due_offset([int(h) for h in policy.get("reminder_hours") or []], start=row.start_at,
                             accepted_at=row.responded_at, now=now)
        if offset is None or any(key.startswith(f"{row.id}:reminder:") and key.endswith(f":{offset}h")
                                 for key in done):
            continue
        queued += _queue_callup_message(callup, NotificationKind.REMINDER, template="reminder", now=now,
                                        serial=f"{offset}h") and 1
    db.session.commit()
    return queued
