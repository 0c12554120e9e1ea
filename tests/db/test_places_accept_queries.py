"""The accept path stays short: a bounded number of SQL statements for one 'yes'."""
from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from campaigns.models import CallUpStatus
from campaigns.responses import accept_callup
from extensions import db
from tests.scheduler.helpers import make_position, sent_callups

# Statements of one accept (load, take a place, record, notify, commit): 25 before campaigns/places.py, 12 after.
ACCEPT_QUERY_BUDGET = 12


@contextmanager
def counted_statements():
    """Every statement the session's engine executes inside the block, as a list of SQL strings."""
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_places_accept_runs_within_its_query_budget(now):
    position = make_position(now=now)
    callup_id = sent_callups(position, 1, now=now)[0].id
    db.session.expire_all()
    with counted_statements() as statements:
        accepted = accept_callup(callup_id, actor="v", now=now)
    assert accepted.status is CallUpStatus.ACCEPTED
    assert len(statements) <= ACCEPT_QUERY_BUDGET, "\n".join(statements)
