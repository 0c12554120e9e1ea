"""Real `flask scheduler run` processes on one database, with and without kill -9, counted at a real
SMTP server and a real HTTP receiver."""
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

from notices.models import Channel, NotificationStatus
from campaigns.models import CallUp, CallUpStatus, Priority
from core.clock import utcnow
from extensions import db
from tests.scheduler.helpers import make_callups, make_position, outbox, queue_raw
from tests.factories import GridFactory
from volunteers.models import Volunteer

ROOT = Path(__file__).resolve().parents[2]


def _spawn(app, receiver_url: str | None, smtp_url: str, *command: str, **settings: str) -> subprocess.Popen:
    """A flask CLI process with its own engine on the session's database and the local receivers;
    ``settings`` adds environment variables (TIMEZONE, GRIDMUSTER_SMS_GATEWAY_URL, …)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GRIDMUSTER_")}
    env.update({"DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
                "GRIDMUSTER_SMTP_URL": smtp_url, "GRIDMUSTER_PUBLIC_URL": "https://gm.example.cn",
                "GRIDMUSTER_OUTBOX_BATCH_SIZE": "10", "GRIDMUSTER_OUTBOX_LEASE_SECONDS": "5",
                "GRIDMUSTER_CHANNEL_TIMEOUT_SECONDS": "2", "GRIDMUSTER_ENV": "development"})
    if receiver_url:
        env["GRIDMUSTER_WEBHOOK_URL"] = receiver_url
    env.update(settings)
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", *command], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _scheduler(app, http_receiver, smtp_server) -> subprocess.Popen:
    return _spawn(app, http_receiver.url + "/hook", smtp_server.url, "scheduler", "run")


def _stop(processes) -> list[str]:
    """Stop the (still running) processes; their output, for failure messages."""
    outputs = []
    for process in processes:
        process.send_signal(signal.SIGINT)
    for process in processes:
        try:
            out, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            out, _ = process.communicate()
        outputs.append(out)
    return outputs


def _emergency_callups(count: int) -> list[int]:
    """``count`` scheduled call-ups of an emergency (never held by quiet hours or the daily cap), due now,
    to people with an e-mail address; the headcount equals the count, so no backfill adds any."""
    now = utcnow()
    position = make_position(now=now, headcount=count, starts_in=timedelta(hours=2), priority=Priority.EMERGENCY)
    home = GridFactory().id
    callups = make_callups(position, count, now=now, send_at=now - timedelta(seconds=1), home_grid_id=home)
    for callup in callups:
        db.session.get(Volunteer, callup.volunteer_id).email = f"v{callup.volunteer_id}@example.cn"
    db.session.commit()
    return [callup.id for callup in callups]


def _mail_keys(smtp_server) -> list[str]:
    return [message["X-Idempotency-Key"] for message in list(smtp_server.messages)]


def _wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _callup_states(ids: list[int]) -> collections.Counter:
    db.session.expire_all()
    return collections.Counter(db.session.scalars(db.select(CallUp.status).where(CallUp.id.in_(ids))))


@pytest.mark.slow
def test_two_scheduler_processes_send_every_callup_exactly_once(app, http_receiver, smtp_server):
    total = 120
    ids = _emergency_callups(total)
    db.session.rollback()  # hold no SQLite lock while the children work
    schedulers = [_scheduler(app, http_receiver, smtp_server) for _ in range(2)]
    try:
        arrived = _wait_for(lambda: len(set(http_receiver.keys())) >= total
                            and len(set(_mail_keys(smtp_server))) >= total, timeout=90)
        time.sleep(2.5)  # two more ticks of both clocks: a duplicate would show now
        alive = [process.poll() is None for process in schedulers]
    finally:
        outputs = _stop(schedulers)
    assert arrived, outputs
    assert alive == [True, True], outputs
    hooks = collections.Counter(http_receiver.keys())
    mails = collections.Counter(_mail_keys(smtp_server))
    # One webhook and one e-mail per call-up, each exactly once.
    assert sorted(hooks) == sorted(f"{i}:callup:webhook:1" for i in ids)
    assert sorted(mails) == sorted(f"{i}:callup:email:1" for i in ids)
    assert set(hooks.values()) == {1} and set(mails.values()) == {1}
    assert _callup_states(ids) == {CallUpStatus.SENT: total}
    assert {row.status for row in outbox()} == {NotificationStatus.SENT}
    assert len(outbox(channel=Channel.INAPP)) == total


@pytest.mark.slow
def test_kill_9_of_a_scheduler_during_dispatch_loses_nothing(app, http_receiver, smtp_server):
    total, raw, kills = 200, 300, 3
    http_receiver.delay = 0.01  # slow enough that every kill lands mid-dispatch
    ids = _emergency_callups(total)
    queue_raw(raw, due_at=utcnow() - timedelta(seconds=1), prefix="raw")
    db.session.rollback()
    live = [_scheduler(app, http_receiver, smtp_server) for _ in range(2)]
    killed = 0
    rng = random.Random(7)
    expected_hooks = total + raw

    def delivered() -> int:
        return len(set(http_receiver.keys())) + len(set(_mail_keys(smtp_server)))

    try:
        for _ in range(kills):
            seen = delivered()
            assert _wait_for(lambda: delivered() >= seen + 5, timeout=30), "schedulers made no progress"
            time.sleep(rng.uniform(0.3, 0.8))
            victim = live.pop(0)
            os.kill(victim.pid, signal.SIGKILL)
            victim.wait()
            assert victim.returncode == -signal.SIGKILL
            killed += 1
            live.append(_scheduler(app, http_receiver, smtp_server))
        in_flight = delivered() < expected_hooks + total
        # The leases of rows a victim held run out (5 s); the survivors send them then.
        arrived = _wait_for(lambda: delivered() >= expected_hooks + total, timeout=120)
        time.sleep(2.5)
    finally:
        outputs = _stop(live)
    assert in_flight, "every message had gone before the last kill: the test killed nothing mid-dispatch"
    assert arrived, outputs
    hooks = collections.Counter(http_receiver.keys())
    mails = collections.Counter(_mail_keys(smtp_server))
    lost = (expected_hooks - len(hooks)) + (total - len(mails))
    duplicates = (sum(hooks.values()) - len(hooks)) + (sum(mails.values()) - len(mails))
    print(f"\nkill -9 of the scheduler: kills={killed} lost={lost} duplicates={duplicates} "
          f"webhooks={sum(hooks.values())} mails={sum(mails.values())}")
    assert lost == 0
    assert duplicates <= killed
    assert set(hooks) == {f"{i}:callup:webhook:1" for i in ids} | {f"raw:{i}" for i in range(raw)}
    assert set(mails) == {f"{i}:callup:email:1" for i in ids}
    assert _callup_states(ids) == {CallUpStatus.SENT: total}
    assert {row.status for row in outbox()} == {NotificationStatus.SENT}


@pytest.mark.slow
def test_dedicated_dispatcher_processes_share_the_backlog(app, http_receiver, smtp_server):
    """`flask outbox work` (extra dispatchers beside the clock) claims with the same leases."""
    total = 300
    queue_raw(total, due_at=utcnow() - timedelta(seconds=1), prefix="work")
    db.session.rollback()
    workers = [_spawn(app, http_receiver.url + "/hook", smtp_server.url, "outbox", "work", "--idle-exit", "2")
               for _ in range(2)]
    outputs = [process.communicate(timeout=60) for process in workers]
    assert [process.returncode for process in workers] == [0, 0], outputs
    counts = collections.Counter(http_receiver.keys())
    assert len(counts) == total and set(counts.values()) == {1}
    assert {row.status for row in outbox()} == {NotificationStatus.SENT}
    # Both processes took part.
    assert all("sent 0," not in out for out, _ in outputs), outputs
