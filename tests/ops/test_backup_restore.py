"""scripts/backup while people keep answering, scripts/restore into a fresh database: every row that existed when
the backup began is there, and the copy is one consistent moment (no position counts an answer it lacks)."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, inspect, select, text

from campaigns.models import CallUp, CallUpEvent, CallUpStatus, Position
from campaigns.responses import accept_callup
from core.clock import utcnow
from core.errors import DomainError
from extensions import db
from web.ops import code_head
from tests.conftest import Tree
from tests.scheduler.helpers import make_callups, make_position

ROOT = Path(__file__).resolve().parents[2]
POSITIONS, PEOPLE, HEADCOUNT = 6, 40, 25


def _script(name: str, *args: str, url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": url, "PYTHON": sys.executable}
    done = subprocess.run([str(ROOT / "scripts" / name), *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return done


def _snapshot(engine) -> dict[str, dict[tuple, tuple]]:
    """Every row of every table, by primary key, read in one transaction (one consistent moment)."""
    tables = [t for t in db.metadata.sorted_tables]
    rows = {}
    with engine.connect() as conn, conn.begin():
        for table in tables:
            key = [column.name for column in table.primary_key.columns]
            rows[table.name] = {tuple(row._mapping[k] for k in key): tuple(row)
                                for row in conn.execute(select(table))}
    return rows


class Answerer(threading.Thread):
    """Accepts the call-ups one after another in its own app context until stopped; records each commit."""

    def __init__(self, app, ids: list[int]) -> None:
        super().__init__(daemon=True)
        self.app, self.ids = app, ids
        self.stop = threading.Event()
        self.answered: list[tuple[int, float]] = []
        self.errors: list[BaseException] = []

    def run(self) -> None:
        with self.app.app_context():
            for callup_id in self.ids:
                if self.stop.is_set():
                    break
                try:
                    accept_callup(callup_id, actor="test:answerer", now=utcnow())
                    self.answered.append((callup_id, time.monotonic()))
                except DomainError:
                    db.session.rollback()  # position full: kept on standby, still an answer
                    self.answered.append((callup_id, time.monotonic()))
                except Exception as error:  # noqa: BLE001 - reported by the test
                    db.session.rollback()
                    if "locked" not in str(error) and "busy" not in str(error):
                        self.errors.append(error)
                time.sleep(0.005)
            db.session.remove()


@pytest.mark.slow
def test_backup_while_answers_arrive_restores_every_row_of_its_moment(app, tmp_path, fresh_database):
    tree = Tree()
    now = utcnow()
    ids = []
    for _ in range(POSITIONS):
        position = make_position(now=now, headcount=HEADCOUNT, starts_in=timedelta(days=2))
        ids += [c.id for c in make_callups(position, PEOPLE, now=now, status=CallUpStatus.SENT,
                                           expires_at=now + timedelta(hours=6), home_grid_id=tree.grid_a1.id)]
    db.session.commit()
    db.session.remove()
    url = app.config["SQLALCHEMY_DATABASE_URI"]

    answerer = Answerer(app, ids)
    answerer.start()
    try:
        deadline = time.monotonic() + 60
        while len(answerer.answered) < 30 and time.monotonic() < deadline:
            time.sleep(0.05)
        before = _snapshot(db.engine)
        started = time.monotonic()
        _script("backup", str(tmp_path), url=url)
        finished = time.monotonic()
        # Answers keep coming after the backup too; a few more, then stop.
        while answerer.is_alive() and not any(at > finished + 0.3 for _, at in answerer.answered):
            time.sleep(0.02)
    finally:
        answerer.stop.set()
        answerer.join(timeout=60)
    assert not answerer.errors, answerer.errors
    during = [c for c, at in answerer.answered if started <= at <= finished]
    after = [c for c, at in answerer.answered if at > finished + 0.1]
    assert after, "no answer came after the backup: the test proved nothing about the snapshot"
    backups = [p for p in tmp_path.iterdir() if p.name.startswith("gridmuster-")]
    assert len(backups) == 1, backups
    [backup_file] = backups
    assert not list(tmp_path.glob("*.partial"))

    _script("restore", str(backup_file), url=fresh_database)
    restored_engine = create_engine(fresh_database)
    try:
        restored = _snapshot(restored_engine)
        with restored_engine.connect() as conn:
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            assert set(inspect(conn).get_table_names()) >= {t.name for t in db.metadata.sorted_tables}
            # One consistent moment: each position counts exactly the accepted call-ups the copy holds,
            # and each accepted call-up has its acceptance event.
            counts = dict(conn.execute(select(CallUp.position_id, func.count()).where(
                CallUp.status == CallUpStatus.ACCEPTED).group_by(CallUp.position_id)).all())
            accepted_counts = dict(conn.execute(select(Position.id, Position.accepted_count)).all())
            events = set(conn.execute(select(CallUpEvent.callup_id).where(
                CallUpEvent.to_state == CallUpStatus.ACCEPTED.value)).scalars())
            accepted = set(conn.execute(select(CallUp.id).where(CallUp.status == CallUpStatus.ACCEPTED)).scalars())
    finally:
        restored_engine.dispose()
    assert revision == code_head()
    missing = {name: sorted(set(rows) - set(restored[name]))[:5] for name, rows in before.items()
               if set(rows) - set(restored[name])}
    assert not missing, f"rows that existed before the backup are missing from the restore: {missing}"
    # Append-only rows come back exactly as they were.
    for name in ("call_up_events", "audit_events", "response_links", "volunteers"):
        assert all(restored[name][key] == row for key, row in before[name].items()), name
    assert {pid: counts.get(pid, 0) for pid in accepted_counts} == accepted_counts
    assert accepted <= events
    # The restore holds at least what had been answered when the backup began, and nothing answered after it.
    answered_before = {key for key, row in before["call_ups"].items()}
    assert len(restored["call_ups"]) == len(answered_before) == POSITIONS * PEOPLE
    accepted_before = {key[0] for key, row in before["call_ups"].items()
                       if row[list(CallUp.__table__.columns.keys()).index("status")] in ("accepted",
                                                                                         CallUpStatus.ACCEPTED)}
    assert accepted_before <= accepted
    assert not (set(after) & accepted - accepted_before - set(during)), "an answer given after the backup is in it"
    print(f"\nbackup during answers: {len(answerer.answered)} answers, {len(during)} during the "
          f"{finished - started:.2f} s backup, {len(accepted)} accepted in the copy, "
          f"file {backup_file.stat().st_size} B")
