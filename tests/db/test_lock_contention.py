"""When another writer holds the database too long, does a request get 503 + Retry-After, not 500?"""
import threading
import time

from sqlalchemy import create_engine, event, func, select, text

from extensions import db
from tests.conftest import volunteer_body
from volunteers.models import Volunteer


def _hold_lock(url: str, is_postgres: bool, ready: threading.Event, seconds: float) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT" if not is_postgres else None)
    with engine.connect() as conn:
        if is_postgres:
            conn.execute(text("BEGIN"))
            conn.execute(text("LOCK TABLE volunteers IN ACCESS EXCLUSIVE MODE"))
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        ready.set()
        time.sleep(seconds)
        conn.exec_driver_sql("ROLLBACK")
    engine.dispose()


def test_lock_held_too_long_gives_503_and_no_partial_rows(app, api, client, tree, is_postgres):
    body = volunteer_body(tree.grid_a1.id)
    db.session.commit()  # end the test's own read transaction: on SQLite it holds the write slot
    ready = threading.Event()
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    holder = threading.Thread(target=_hold_lock, args=(url, is_postgres, ready, 6.5))
    holder.start()
    assert ready.wait(10)
    started = time.monotonic()
    response = client.post("/api/v1/volunteers", json=body, headers={"Authorization": f"Bearer {api.token}"})
    waited = time.monotonic() - started
    holder.join()
    assert response.status_code == 503, response.get_json()
    assert response.get_json()["code"] == 503
    assert response.headers["Retry-After"]
    assert waited < 6.4
    assert db.session.scalar(select(func.count()).select_from(Volunteer)) == 0
    assert api.post("/volunteers", json=body).status_code == 201


def test_sqlite_write_transactions_begin_immediate(is_postgres, tree):
    if is_postgres:
        assert db.engine.dialect.name == "postgresql"
        return
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        tree.street.name = "新街道"
        db.session.commit()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert "BEGIN IMMEDIATE" in statements
