"""A PostgreSQL connection cut after the answer was made (a server restart, pg_terminate_backend) fails the
session's closing ROLLBACK; the request's teardown throws that connection away instead of turning a finished
answer into a 500, and the next request gets a fresh connection."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text

from extensions import db
from web.ops import _release_session


def test_a_connection_cut_after_the_answer_is_dropped_quietly(app, is_postgres, caplog):
    if not is_postgres:
        pytest.skip("SQLite has no server that could cut the connection")
    pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()  # the request's transaction is open
    killer = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with killer.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
            for _ in range(50):  # the backend is gone once pg_stat_activity stops listing it
                if not conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
                                    {"pid": pid}).scalar():
                    break
                time.sleep(0.05)
    finally:
        killer.dispose()

    with caplog.at_level("WARNING", logger="web.ops"):
        _release_session(None)  # raised AttributeError from the except branch before
    assert "database connection lost at the end of a request" in caplog.text
    # The next request's session works on a new connection.
    assert db.session.execute(text("SELECT pg_backend_pid()")).scalar() != pid
