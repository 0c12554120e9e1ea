"""The answer path stays short: a bounded number of SQL statements for one 'yes' or 'no'."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from campaigns.models import CallUp, CallUpStatus, Position
from campaigns.places import _offer_to_standby
from campaigns.responses import accept_callup, decline_callup
from core.errors import Conflict
from extensions import db
from notices.models import Notification, NotificationKind
from tests.scheduler.helpers import make_position, sent_callups

S = CallUpStatus
# Statements of one answer (load, take or give back a place, move, record, notify), commit aside.
# Accept: 25 before campaigns/places.py, 12 after it, 5 now (the call-up, its person and their consents
# in one query; the counter's RETURNING feeds the office notice; every outbox row in one INSERT).
ANSWER_QUERY_BUDGET = 8


@contextmanager
def counted_statements():
    """Every statement the session's engine executes inside the block, as a list of SQL strings."""
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.strip().upper() not in {"BEGIN", "BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"}:
            seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _notifications() -> int:
    return db.session.scalar(select(func.count()).select_from(Notification))


def _answered(answer, now):
    """One sent call-up answered by ``answer``: the call-up after it and the statements it ran."""
    callup_id = sent_callups(make_position(now=now), 1, now=now)[0].id
    db.session.expire_all()
    with counted_statements() as statements:
        callup = answer(callup_id, actor="v", now=now)
    return callup, statements


def test_places_accept_runs_within_its_query_budget(now):
    accepted, statements = _answered(accept_callup, now)
    assert accepted.status is S.ACCEPTED
    assert len(statements) <= 5, "\n".join(statements)
    # The person's confirmation (one row per channel) and the office's notice went in one INSERT.
    assert sum(sql.startswith("INSERT INTO notifications") for sql in statements) == 1
    assert _notifications() >= 2


def test_places_decline_runs_within_its_query_budget(now):
    declined, statements = _answered(decline_callup, now)
    assert declined.status is S.DECLINED
    assert len(statements) <= ANSWER_QUERY_BUDGET, "\n".join(statements)


def test_places_withdrawal_runs_within_its_query_budget(now):
    position = make_position(now=now)
    callup_id = sent_callups(position, 1, now=now)[0].id
    accept_callup(callup_id, actor="v", now=now)
    db.session.expire_all()
    with counted_statements() as statements:
        withdrawn = decline_callup(callup_id, actor="v", now=now + timedelta(minutes=1))
    assert withdrawn.status is S.DECLINED
    assert len(statements) <= ANSWER_QUERY_BUDGET, "\n".join(statements)
    assert db.session.get(Position, position.id).accepted_count == 0


def test_places_accept_to_standby_runs_within_its_query_budget(now):
    position = make_position(now=now, headcount=1)
    first, second = sent_callups(position, 2, now=now)
    accept_callup(first.id, actor="v", now=now)
    second_id = second.id
    db.session.expire_all()
    with counted_statements() as statements:
        with pytest.raises(Conflict):
            accept_callup(second_id, actor="v", now=now + timedelta(minutes=1))
    assert len(statements) <= 4, "\n".join(statements)
    # Seen full when read: the position's row (and its lock, which a stampede's last places hold) is not touched.
    assert not [sql for sql in statements if sql.startswith("UPDATE positions")], "\n".join(statements)
    db.session.expire_all()
    assert db.session.get(CallUp, second_id).standby_at is not None


def test_places_withdrawal_offers_standby_in_one_outbox_insert(now):
    """A withdrawal that offers the place to the first on standby writes the decline's confirmation, the
    office's notice and the offer in one INSERT."""
    position = make_position(now=now, headcount=1)
    first, second, third = sent_callups(position, 3, now=now)
    accept_callup(first.id, actor="v", now=now)
    for callup in (second, third):
        with pytest.raises(Conflict):
            accept_callup(callup.id, actor="v", now=now + timedelta(minutes=1))
    first_id = first.id
    db.session.expire_all()
    with counted_statements() as statements:
        decline_callup(first_id, actor="v", now=now + timedelta(minutes=2))
    assert sum(sql.startswith("INSERT INTO notifications") for sql in statements) == 1
    # load, move, give back, find the standby, their daily-cap count, move them, two events, link, outbox
    assert len(statements) <= 10, "\n".join(statements)
    offers = db.session.scalars(select(Notification.callup_id).where(
        Notification.kind == NotificationKind.CALLUP)).all()
    assert set(offers) == {second.id}


def test_places_several_freed_places_are_offered_to_standby_in_bulk(now):
    """Three places freed at once (a headcount raised): the first three on standby are offered them with
    one UPDATE and one outbox INSERT, the fourth keeps waiting."""
    position = make_position(now=now, headcount=1)
    callups = sent_callups(position, 5, now=now)
    accept_callup(callups[0].id, actor="v", now=now)
    for minute, callup in enumerate(callups[1:], start=1):
        with pytest.raises(Conflict):
            accept_callup(callup.id, actor="v", now=now + timedelta(minutes=minute))
    db.session.execute(Position.__table__.update().where(Position.id == position.id).values(headcount=4))
    db.session.commit()
    db.session.expire_all()
    later = now + timedelta(minutes=10)
    with counted_statements() as statements:
        offered = _offer_to_standby(position.id, now=later, actor="test")
        db.session.commit()
    assert offered == [c.id for c in callups[1:4]]
    assert sum(sql.startswith("INSERT INTO notifications") for sql in statements) == 1
    assert sum(sql.startswith("UPDATE call_ups") for sql in statements) == 1
    db.session.expire_all()
    assert db.session.get(CallUp, callups[4].id).standby_at is not None
    assert [db.session.get(CallUp, c.id).standby_at for c in callups[1:4]] == [None] * 3
