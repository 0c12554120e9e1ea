"""Accept and decline against the database: state rules, the position counter, races."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from notices.models import NotificationKind
from campaigns.models import CallUp, CallUpEvent, CallUpStatus, Position
from campaigns.responses import accept_callup, decline_callup, expire_unanswered
from core.errors import Conflict
from extensions import db
from tests.scheduler.helpers import make_callups, make_position, outbox, sent_callups

S = CallUpStatus


def _state(position_id: int) -> tuple[int, int]:
    """(accepted_count, number of accepted call-ups) as committed."""
    db.session.expire_all()
    counter = db.session.get(Position, position_id).accepted_count
    accepted = db.session.scalar(db.select(db.func.count()).select_from(CallUp).where(
        CallUp.position_id == position_id, CallUp.status == S.ACCEPTED))
    return counter, accepted


def test_accept_fills_the_position_writes_event_and_confirmation(now):
    position = make_position(now=now)
    [callup] = sent_callups(position, 1, now=now)
    answered = accept_callup(callup.id, actor="token:1:office", now=now, eta_minutes=15)
    assert (answered.status, answered.responded_at, answered.answered_by, answered.eta_minutes) == (
        S.ACCEPTED, now, "token:1:office", 15)
    assert _state(position.id) == (1, 1)
    [event] = db.session.scalars(db.select(CallUpEvent).where(CallUpEvent.callup_id == callup.id)).all()
    assert (event.from_state, event.to_state, event.actor) == ("sent", "accepted", "token:1:office")
    assert [r.idempotency_key for r in outbox(kind=NotificationKind.CONFIRMATION)] == [
        f"{callup.id}:confirmation:inapp:accepted"]


def test_accept_twice_answers_the_same_and_counts_once(now):
    position = make_position(now=now)
    [callup] = sent_callups(position, 1, now=now)
    first = accept_callup(callup.id, actor="a", now=now)
    again = accept_callup(callup.id, actor="a", now=now + timedelta(minutes=1))
    assert again.id == first.id and again.status is S.ACCEPTED and again.responded_at == now
    assert _state(position.id) == (1, 1)


@pytest.mark.parametrize("status", [S.DECLINED, S.EXPIRED, S.WITHDRAWN, S.SCHEDULED])
def test_accept_refuses_a_callup_that_is_not_open(now, status):
    position = make_position(now=now)
    [callup] = make_callups(position, 1, now=now, status=status, expires_at=now + timedelta(hours=1))
    with pytest.raises(Conflict):
        accept_callup(callup.id, actor="a", now=now)
    assert _state(position.id) == (0, 0)


def test_accept_after_the_deadline_is_refused_even_before_the_expiry_tick(now):
    position = make_position(now=now)
    [callup] = sent_callups(position, 1, now=now, window=timedelta(minutes=10))
    with pytest.raises(Conflict):
        accept_callup(callup.id, actor="a", now=now + timedelta(minutes=10))
    assert _state(position.id) == (0, 0)
    assert accept_callup(callup.id, actor="a", now=now + timedelta(minutes=9, seconds=59)).status is S.ACCEPTED


def test_accept_when_full_answers_409_and_keeps_the_person_on_standby(now):
    position = make_position(now=now, headcount=1)
    first, second = sent_callups(position, 2, now=now)
    accept_callup(first.id, actor="a", now=now)
    with pytest.raises(Conflict) as raised:
        accept_callup(second.id, actor="b", now=now)
    assert "full" in raised.value.message
    db.session.expire_all()
    waiting = db.session.get(CallUp, second.id)
    assert (waiting.status, waiting.standby_at) == (S.SENT, now)
    assert _state(position.id) == (1, 1)
    assert outbox(kind=NotificationKind.FILLED)[0].callup_id == second.id
    # A place frees: the person on standby can now take it.
    decline_callup(first.id, actor="a", now=now)
    assert accept_callup(second.id, actor="b", now=now).status is S.ACCEPTED
    assert _state(position.id) == (1, 1)


def test_decline_a_sent_callup_leaves_the_counter(now):
    position = make_position(now=now)
    [callup] = sent_callups(position, 1, now=now)
    declined = decline_callup(callup.id, actor="v", now=now, reason="出差")
    assert (declined.status, declined.reason) == (S.DECLINED, "出差")
    assert _state(position.id) == (0, 0)
    assert decline_callup(callup.id, actor="v", now=now).status is S.DECLINED
    with pytest.raises(Conflict):
        accept_callup(callup.id, actor="v", now=now)


def test_decline_after_accept_frees_the_place_exactly_once(now):
    position = make_position(now=now, headcount=2)
    callup, other = sent_callups(position, 2, now=now)
    accept_callup(callup.id, actor="v", now=now)
    accept_callup(other.id, actor="w", now=now)
    assert _state(position.id) == (2, 2)
    decline_callup(callup.id, actor="v", now=now)
    decline_callup(callup.id, actor="v", now=now)
    assert _state(position.id) == (1, 1)


def test_decline_after_the_shift_started_is_refused(now):
    position = make_position(now=now, starts_in=timedelta(hours=1))
    [callup] = sent_callups(position, 1, now=now)
    accept_callup(callup.id, actor="v", now=now)
    with pytest.raises(Conflict):
        decline_callup(callup.id, actor="v", now=now + timedelta(hours=1))
    assert _state(position.id) == (1, 1)


def test_expire_unanswered_at_the_deadline_and_returns_positions(now):
    position = make_position(now=now)
    early, late = sent_callups(position, 2, now=now, window=timedelta(minutes=10))
    db.session.execute(db.update(CallUp).where(CallUp.id == late.id).values(expires_at=now + timedelta(minutes=20)))
    db.session.commit()
    assert expire_unanswered(now=now + timedelta(minutes=9, seconds=59)) == []
    assert expire_unanswered(now=now + timedelta(minutes=10)) == [position.id]
    assert expire_unanswered(now=now + timedelta(minutes=10)) == []
    db.session.expire_all()
    assert (db.session.get(CallUp, early.id).status, db.session.get(CallUp, late.id).status) == (S.EXPIRED, S.SENT)
    events = db.session.scalars(db.select(CallUpEvent).where(CallUpEvent.to_state == "expired")).all()
    assert [e.callup_id for e in events] == [early.id]


def _race(app, calls, *, threads: int):
    """Run callables from ``threads`` threads, each with its own app context (session, connection)."""
    # On SQLite every transaction, even a read, holds the single writer lock: end ours first.
    db.session.rollback()
    results, errors = [], []
    lock = threading.Lock()
    chunks = [calls[i::threads] for i in range(threads)]
    barrier = threading.Barrier(threads)

    def work(chunk):
        with app.app_context():
            barrier.wait()
            for call in chunk:
                try:
                    outcome = call()
                except Conflict as error:
                    outcome = ("conflict", error.message)
                except Exception as error:  # noqa: BLE001 - any other error fails the test
                    with lock:
                        errors.append(repr(error))
                    continue
                finally:
                    db.session.rollback()
                with lock:
                    results.append(outcome)

    pool = [threading.Thread(target=work, args=(chunk,)) for chunk in chunks]
    [t.start() for t in pool]
    [t.join() for t in pool]
    return results, errors


@pytest.mark.slow
def test_concurrent_accepts_never_overfill(app, now):
    """8 workers × 25 accepts on a headcount of 10: exactly 10 win, the rest get 'full'."""
    position = make_position(now=now, headcount=10)
    ids = [c.id for c in sent_callups(position, 200, now=now)]
    calls = [lambda cid=callup_id: accept_callup(cid, actor="race", now=now).status for callup_id in ids]
    results, errors = _race(app, calls, threads=8)
    assert errors == []
    assert results.count(S.ACCEPTED) == 10
    assert len([r for r in results if r != S.ACCEPTED and "full" in r[1]]) == 190
    assert _state(position.id) == (10, 10)
    standby = db.session.scalar(db.select(db.func.count()).select_from(CallUp).where(CallUp.standby_at.is_not(None)))
    assert standby == 190


@pytest.mark.slow
def test_double_submit_accepts_once(app, now):
    position = make_position(now=now, headcount=3)
    [callup] = sent_callups(position, 1, now=now)
    callup_id = callup.id
    results, errors = _race(app, [lambda: accept_callup(callup_id, actor="twice", now=now).status] * 10, threads=10)
    assert errors == [] and results == [S.ACCEPTED] * 10
    assert _state(position.id) == (1, 1)
    assert len(outbox(kind=NotificationKind.CONFIRMATION)) == 1


@pytest.mark.slow
def test_accept_and_decline_racing_end_in_one_state(app, now):
    position = make_position(now=now, headcount=20)
    ids = [c.id for c in sent_callups(position, 40, now=now)]
    calls = []
    for callup_id in ids:
        calls.append(lambda cid=callup_id: accept_callup(cid, actor="a", now=now).status)
        calls.append(lambda cid=callup_id: decline_callup(cid, actor="d", now=now).status)
    results, errors = _race(app, calls, threads=8)
    assert errors == []
    counter, accepted = _state(position.id)
    assert counter == accepted <= 20
    db.session.expire_all()
    for callup_id in ids:
        assert db.session.get(CallUp, callup_id).status in (S.ACCEPTED, S.DECLINED)
