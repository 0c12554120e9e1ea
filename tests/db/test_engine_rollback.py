"""The engine's rollback: it undoes the transaction on both databases, and on PostgreSQL it leaves the
connection's prepared statements in place (core.db.configure_postgresql)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import DBAPIError

from accounts.models import AuditEvent
from core.clock import utcnow
from extensions import db


def _events(conn) -> int:
    return conn.scalar(select(func.count()).select_from(AuditEvent))


def test_a_rollback_undoes_the_write_and_keeps_what_the_connection_prepared(is_postgres):
    with db.engine.connect() as conn:
        for _ in range(6):  # psycopg prepares a statement from its fifth run on a connection
            conn.execute(insert(AuditEvent).values(at=utcnow(), actor="test", action="test.rollback", outcome="ok"))
            assert _events(conn) == 1
            conn.rollback()
            assert _events(conn) == 0
        if is_postgres:
            prepared = conn.scalars(text("SELECT statement FROM pg_prepared_statements")).all()
            assert any("INSERT INTO audit_events" in sql for sql in prepared), prepared
            assert any("count(*)" in sql and "audit_events" in sql for sql in prepared), prepared


def test_a_failed_transaction_rolls_back_and_the_connection_goes_on():
    with db.engine.connect() as conn:
        with pytest.raises(DBAPIError):
            conn.execute(text("SELECT * FROM no_such_table"))
        conn.rollback()
        assert conn.scalar(text("SELECT 1")) == 1
        assert _events(conn) == 0
