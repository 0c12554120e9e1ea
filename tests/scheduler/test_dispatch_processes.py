"""Several dispatcher processes on one database, with and without kill -9, counted at a real receiver."""
from __future__ import annotations

import collections
import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from callups.models import NotificationStatus
from core.clock import utcnow
from extensions import db
from tests.scheduler.helpers import outbox, queue_raw

ROOT = Path(__file__).resolve().parents[2]


def _spawn(app, receiver_url: str, idle_exit: float) -> subprocess.Popen:
    """A `flask outbox work` process with its own engine on the session's database."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GRIDMUSTER_")}
    env.update({"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "GRIDMUSTER_WEBHOOK_URL": receiver_url,
                "GRIDMUSTER_OUTBOX_BATCH_SIZE": "10", "GRIDMUSTER_OUTBOX_LEASE_SECONDS": "5",
                "GRIDMUSTER_CHANNEL_TIMEOUT_SECONDS": "2", "GRIDMUSTER_ENV": "development"})
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "outbox", "work",
                             "--idle-exit", str(idle_exit)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _finish(processes, timeout=40):
    outputs = []
    for process in processes:
        out, _ = process.communicate(timeout=timeout)
        outputs.append((process.returncode, out))
    return outputs


@pytest.mark.slow
def test_two_dispatcher_processes_deliver_every_message_exactly_once(app, http_receiver):
    total = 400
    queue_raw(total, due_at=utcnow() - timedelta(seconds=1), prefix="two")
    db.session.rollback()  # hold no SQLite lock while the children work
    workers = [_spawn(app, http_receiver.url + "/hook", idle_exit=2) for _ in range(2)]
    results = _finish(workers)
    assert [code for code, _ in results] == [0, 0], results
    counts = collections.Counter(http_receiver.keys())
    assert len(counts) == total and set(counts.values()) == {1}
    assert {row.status for row in outbox()} == {NotificationStatus.SENT}
    # Both processes took part.
    assert all("sent 0," not in out for _, out in results), results


@pytest.mark.slow
def test_kill_9_during_dispatch_loses_nothing(app, http_receiver):
    total, kills = 400, 3
    http_receiver.delay = 0.015
    queue_raw(total, due_at=utcnow() - timedelta(seconds=1), prefix="kill")
    db.session.rollback()
    live = [_spawn(app, http_receiver.url + "/hook", idle_exit=7) for _ in range(2)]
    finished = []
    rng = random.Random(7)
    for _ in range(kills):
        seen = len(http_receiver.keys())
        assert http_receiver.wait_for(seen + 5, timeout=15), "dispatchers made no progress"
        time.sleep(rng.uniform(0.3, 0.8))
        victim = live.pop(0)
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait()
        assert victim.returncode == -signal.SIGKILL
        live.append(_spawn(app, http_receiver.url + "/hook", idle_exit=7))
    finished = _finish(live, timeout=60)
    assert [code for code, _ in finished] == [0] * len(finished), finished
    counts = collections.Counter(http_receiver.keys())
    lost = total - len(counts)
    duplicates = sum(counts.values()) - len(counts)
    print(f"\nkill -9 test: kills={kills} lost={lost} duplicates={duplicates} arrivals={sum(counts.values())}")
    assert lost == 0
    assert duplicates <= kills
    assert {row.status for row in outbox()} == {NotificationStatus.SENT}
