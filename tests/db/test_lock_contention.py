"""When another writer holds the database, do reads go on, and does a write get 503 + Retry-After, not 500?"""
import threading
import time

from sqlalchemy import create_engine, event, func, select, text

from accounts.models import AuditEvent
from core.db import reads_first
from extensions import db
from grids.models import Grid
from tests.conftest import volunteer_body
from tests.factories import CampaignFactory
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


def _hold_write_lock(url: str, is_postgres: bool, ready: threading.Event, seconds: float, campaign_id: int) -> None:
    """Hold the writer's lock for ``seconds``: SQLite's one write slot, or on PostgreSQL the campaign's row."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("BEGIN" if is_postgres else "BEGIN IMMEDIATE")
        conn.execute(text("UPDATE campaigns SET title = title WHERE id = :id"), {"id": campaign_id})
        ready.set()
        time.sleep(seconds)
        conn.exec_driver_sql("ROLLBACK")
    engine.dispose()


def _while_locked(app, is_postgres, campaign_id, seconds, request):
    ready = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(app.config["SQLALCHEMY_DATABASE_URI"], is_postgres,
                                                             ready, seconds, campaign_id))
    holder.start()
    assert ready.wait(10)
    started = time.monotonic()
    try:
        response = request()
        return response, time.monotonic() - started
    finally:
        holder.join()


def test_page_view_completes_while_another_connection_holds_the_write_lock(app, login_as, tree, is_postgres):
    office = login_as("office", grid_id=tree.community_a.id)
    campaign_id = CampaignFactory(office_grid_id=tree.community_a.id, title="锁外读取 reads past the lock").id
    db.session.commit()  # end the test's own transaction: on SQLite it would hold the write slot
    response, waited = _while_locked(app, is_postgres, campaign_id, 3.0, lambda: office.get("/office/campaigns"))
    assert response.status_code == 200
    assert "锁外读取" in response.get_data(as_text=True)
    # Before reads began deferred, the page queued for the whole 3 s hold (and past busy_timeout, failed).
    assert waited < 1.5


def test_read_request_that_writes_waits_for_the_lock_then_writes(app, login_as, tree, is_postgres):
    """A GET that writes (the audited data download) takes the write lock before its first write: it waits
    for the holder and then succeeds, never failing half-way with 'database is locked'."""
    person = login_as("volunteer")
    campaign_id = CampaignFactory(office_grid_id=tree.community_a.id).id
    db.session.commit()
    response, waited = _while_locked(app, is_postgres, campaign_id, 1.5, lambda: person.get("/me/data"))
    assert response.status_code == 200
    if not is_postgres:
        assert waited >= 1.0  # it queued behind the writer for its audit row (PostgreSQL locks rows only)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "GET profile.my_data")) == 1


def test_sqlite_read_transactions_begin_deferred_and_take_the_lock_to_write(is_postgres, tree):
    if is_postgres:
        assert db.engine.dialect.name == "postgresql"
        return
    db.session.commit()
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement.split()[0].upper() + (" IMMEDIATE" if "IMMEDIATE" in statement else ""))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        with reads_first():
            db.session.get(Grid, tree.street.id)
            tree.street.name = "读后写"
            db.session.commit()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert statements[:2] == ["BEGIN", "SELECT"]
    assert "UPDATE" in statements and "BEGIN" not in statements[2:]
    db.session.expire_all()
    assert db.session.get(Grid, tree.street.id).name == "读后写"


def test_sqlite_answer_link_reads_without_the_write_lock_and_takes_it_to_answer(client, is_postgres):
    """A tap reads its link and call-up, and draws the page after, outside SQLite's write lock (marked
    ``reads_before_writing``): in a stampede only the answer's own writes queue for the one writer."""
    from tests.web.test_response_links import _callup, _link

    _, [callup_id], [token] = _link()
    db.session.commit()
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement.split()[0].upper() + (" IMMEDIATE" if "IMMEDIATE" in statement else ""))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert client.post(f"/r/{token}", data={"action": "accept"}).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert _callup(callup_id).status.value == "accepted"
    if not is_postgres:
        assert statements[:2] == ["BEGIN", "SELECT"], statements
        assert "BEGIN IMMEDIATE" not in statements, statements  # the upgrade at the first write is not a new begin
        assert statements.index("UPDATE") > statements.index("SELECT")
