"""Declarative base, UTC-aware time columns and per-dialect engine settings."""
from __future__ import annotations

import enum
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import DateTime, Enum, MetaData, event, exists, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from core.clock import utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every model; constraint names are stable across databases."""

    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator):
    """A datetime that is always stored and returned as timezone-aware UTC.

    SQLite keeps no offset, so values go in as naive UTC and come back tagged UTC;
    PostgreSQL uses ``timestamptz``. Naive input is refused: it is ambiguous.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def value_enum(enum_cls: type[enum.Enum], name: str) -> Enum:
    """Store an enum by its value, checked by the database on both dialects."""
    return Enum(enum_cls, name=name, native_enum=False, create_constraint=True, length=32,
                values_callable=lambda members: [member.value for member in members],
                validate_strings=True)



class TimestampMixin:
    """created_at / updated_at audit columns."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


def engine_options(url: str) -> dict[str, Any]:
    """Engine keyword arguments suited to the database in ``url``."""
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 5}}
    return {
        "pool_pre_ping": True,
        "connect_args": {"options": "-c lock_timeout=5000 -c statement_timeout=120000",
                         "application_name": "gridmuster"},
    }


# Whether transactions begun now may read without the write lock (a GET request): see configure_sqlite.
_reads_only: ContextVar[bool] = ContextVar("gridmuster_reads_only", default=False)
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


@contextmanager
def reads_first() -> Iterator[None]:
    """Transactions begun inside the block read without taking SQLite's write lock (``BEGIN``, deferred).

    For requests that read (GET, HEAD): WAL lets them read while a writer holds the lock, so a page
    view never queues behind answers. Should such a transaction write after all (an audit row, a
    'seen' mark), it is committed (it changed nothing) and a ``BEGIN IMMEDIATE`` one takes its place
    before the first write, so no write can fail half-way with "database is locked"; the reads made
    before it are not part of the write's transaction, which is why only requests that read use this.
    """
    token = _reads_only.set(True)
    try:
        yield
    finally:
        _reads_only.reset(token)


@contextmanager
def kept_after_commit(session) -> Iterator[None]:
    """Commits inside the block leave ``session``'s objects as they are instead of expiring them.

    For a request that shows what it has just written: its page is drawn from the objects the transaction
    read and changed (their new values set as committed) instead of reading them all again.
    """
    session = session()  # the scoped session's own
    before, session.expire_on_commit = session.expire_on_commit, False
    try:
        yield
    finally:
        session.expire_on_commit = before


def reads_before_writing(view):
    """Mark a view whose request reads before it writes and whose writes are guarded by their own conditions
    (the answer link): its SQLite transaction begins deferred like a GET's (``reads_first``), so the reading
    and the page after the answer do not hold the write lock; only the writes take it. Correct for code that
    is already correct on PostgreSQL's READ COMMITTED, where reads never lock either."""
    view.reads_first = True
    return view


def configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys and a busy timeout; a transaction that may write takes the write lock up front.

    With pysqlite's own transaction handling switched off, ``BEGIN IMMEDIATE``
    makes a transaction wait for the single writer slot at its start (up to
    busy_timeout) instead of failing half-way when it first writes. Inside ``reads_first`` a
    transaction begins deferred and is upgraded to ``BEGIN IMMEDIATE`` at its first write.
    """
    if sqlite3.sqlite_version_info < (3, 35):
        raise RuntimeError(f"SQLite {sqlite3.sqlite_version} is too old: 3.35+ is needed for RETURNING")

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - exercised by every test
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # pragma: no cover - exercised by every test
        deferred = _reads_only.get()
        connection.info["sqlite_deferred"] = deferred
        connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")

    @event.listens_for(engine, "before_cursor_execute")
    def _before_write(connection, cursor, statement, parameters, context, executemany):
        if connection.info.get("sqlite_deferred") and statement.lstrip()[:7].upper().startswith(_WRITES):
            # A read transaction is about to write: start over holding the write lock, so the write
            # waits for its turn (busy_timeout) rather than failing on a snapshot another writer moved.
            connection.info["sqlite_deferred"] = False
            raw = connection.connection.dbapi_connection
            raw.execute("COMMIT")
            try:
                raw.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:  # busy past busy_timeout: the 503 handler's error
                raise OperationalError("BEGIN IMMEDIATE", None, error) from error


def configure_postgresql(engine: Engine) -> None:
    """Let psycopg's prepared statements outlive the transaction that prepared them.

    psycopg prepares a statement on the server once a connection has run it five times, so the planner's
    work is done once per connection: for the answer link's read of a call-up with its position, shift,
    campaign and person (seven joins) that is 1.7 ms a time unprepared and 0.4 ms prepared. But psycopg
    forgets every prepared statement at each ``rollback()`` (a rolled-back transaction may have dropped what
    they refer to), and every request ends in one when its session closes, so none ever lived long enough.
    Here SQLAlchemy's rollback goes to libpq directly. The schema changes only in migrations, and psycopg
    still forgets its statements when it sees a DROP or ALTER go by.
    """
    from psycopg import pq

    idle, done = pq.TransactionStatus.IDLE, pq.ExecStatus.COMMAND_OK
    fallback = engine.dialect.do_rollback

    def do_rollback(dbapi_connection) -> None:
        pgconn = dbapi_connection.pgconn
        if pgconn.transaction_status == idle:
            return
        if pgconn.exec_(b"ROLLBACK").status != done:
            fallback(dbapi_connection)  # psycopg's own rollback: it raises the error SQLAlchemy classifies

    engine.dialect.do_rollback = do_rollback


def referencing_tables(session, table_name: str, row_id: int, metadata: MetaData) -> list[str]:
    """Tables whose restricting foreign keys still point at ``table_name`` row ``row_id``.

    Cascading and SET NULL references are left out: they do not block a delete.
    """
    found = []
    for table in metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name != table_name or (fk.ondelete or "RESTRICT").upper() in {"CASCADE", "SET NULL"}:
                continue
            if session.scalar(select(exists().where(fk.parent == row_id))):
                found.append(table.name)
    return found
