"""A bounded loopback load with faults: gunicorn and two schedulers serve reads, answers and an outbox backlog while
a web worker is killed (-9), a scheduler is stopped (SIGTERM) and another killed (-9), and on PostgreSQL every
database connection is cut. Nothing is lost, nothing over-fills, service recovers, and the metrics keep counting."""
from __future__ import annotations

import collections
import os
import random
import signal
import statistics
import subprocess
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from accounts.models import Role
from accounts.services import create_token
from bench.stampede import free_port, start_gunicorn
from notices.links import _issue_link
from notices.models import NotificationStatus
from campaigns.models import CallUp, CallUpStatus, Position
from core.clock import utcnow
from extensions import db
from tests.factories import GridFactory
from tests.ops.helpers import sample
from tests.scheduler.helpers import make_callups, make_position, outbox, queue_raw
from tests.scheduler.test_dispatch_processes import _spawn, _stop, _wait_for

PLACES, PEOPLE, RAW, CLIENTS, SECONDS = 20, 240, 400, 8, 20


def _children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (gunicorn's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            if f"\nPPid:\t{pid}\n" in status:
                found.append(int(entry.name))
    return found


def _all_sent() -> bool:
    """Is every outbox row sent? Read and let go at once: an open SQLite transaction would stall the senders."""
    try:
        return {row.status for row in outbox()} == {NotificationStatus.SENT}
    finally:
        db.session.rollback()


@pytest.mark.slow
def test_load_with_faults_loses_nothing_and_recovers(app, is_postgres, http_receiver, smtp_server):
    now = utcnow()
    position = make_position(now=now, headcount=PLACES, starts_in=timedelta(days=1))
    callups = make_callups(position, PEOPLE, now=now, status=CallUpStatus.SENT, expires_at=now + timedelta(hours=1),
                           home_grid_id=GridFactory().id)
    tokens = [_issue_link(c.id, expires_at=now + timedelta(hours=1), now=now) for c in callups]
    _, admin_token = create_token(name="load", role=Role.ADMIN, now=now)
    queue_raw(RAW, due_at=now - timedelta(seconds=1), prefix="load")
    position_id, campaign_id = position.id, position.shift.campaign_id
    db.session.commit()
    db.session.rollback()  # hold no SQLite lock while the processes work
    http_receiver.delay = 0.005
    hook = http_receiver.url + "/hook"

    port = free_port()
    # No log pipe: nobody reads it during the run, and a full pipe would stall every worker on its access line.
    server = start_gunicorn(app.config["SQLALCHEMY_DATABASE_URI"], port, workers=3, threads=2)

    def scheduler() -> subprocess.Popen:
        """A scheduler process, returned once it is up (its metrics port answers: its stop handling is set)."""
        metrics_port = free_port()
        process = _spawn(app, hook, smtp_server.url, "scheduler", "run",
                         GRIDMUSTER_SCHEDULER_METRICS_PORT=str(metrics_port))

        def up() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        assert _wait_for(up, timeout=60), "the scheduler did not start"
        return process

    schedulers = [scheduler() for _ in range(2)]
    retired = []
    results: list[tuple[str, str, float, float]] = []  # kind, outcome, seconds, when (since start)
    lock = threading.Lock()
    pending_tokens = iter(tokens)
    stop = threading.Event()
    started = time.monotonic()

    def client(seed: int) -> None:
        rng = random.Random(seed)
        admin = {"Authorization": f"Bearer {admin_token}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as web:
            while not stop.is_set():
                roll = rng.random()
                if roll < 0.4:
                    with lock:
                        token = next(pending_tokens, None)
                    kind, call = "answer", (lambda: web.post(f"/r/{token}", data={"action": "accept"})) \
                        if token else None
                    if call is None:
                        kind, call = "staffing", lambda: web.get(f"/api/v1/campaigns/{campaign_id}/staffing",
                                                                   headers=admin)
                elif roll < 0.8:
                    kind, call = "staffing", lambda: web.get(f"/api/v1/campaigns/{campaign_id}/staffing",
                                                               headers=admin)
                else:
                    kind, call = "readyz", lambda: web.get("/readyz")
                begun = time.monotonic()
                try:
                    outcome = str(call().status_code)
                except httpx.HTTPError as error:
                    outcome = type(error).__name__
                with lock:
                    results.append((kind, outcome, time.monotonic() - begun, begun - started))

    faults = []
    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(3)
        victim = _children(server.pid)[0]
        os.kill(victim, signal.SIGKILL)
        faults.append(("kill -9 web worker", time.monotonic() - started))
        time.sleep(3)
        schedulers[0].send_signal(signal.SIGTERM)
        schedulers[0].wait(timeout=30)
        retired.append(schedulers.pop(0))
        schedulers.append(scheduler())
        faults.append(("SIGTERM scheduler, replaced", time.monotonic() - started))
        time.sleep(3)
        victim_scheduler = schedulers.pop(0)
        os.kill(victim_scheduler.pid, signal.SIGKILL)
        victim_scheduler.wait()
        retired.append(victim_scheduler)
        schedulers.append(scheduler())
        faults.append(("kill -9 scheduler, replaced", time.monotonic() - started))
        if is_postgres:
            time.sleep(3)
            with db.engine.connect() as conn:
                cut = conn.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                        "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
            faults.append((f"pg_terminate_backend x{cut}", time.monotonic() - started))

        time.sleep(max(SECONDS - (time.monotonic() - started), 3))
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        last_fault = faults[-1][1]
        # The backlog drains: every outbox row is sent (the killed scheduler's leases run out after 5 s).
        drained = _wait_for(_all_sent, timeout=120)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as web:
            metrics = web.get("/metrics").text
            ready = web.get("/readyz")
    finally:
        stop.set()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        outputs = _stop(schedulers)
    assert drained, (collections.Counter(row.status for row in outbox()), [out[-1500:] for out in outputs])
    assert ready.status_code == 200, ready.text

    # Messages: none lost; a duplicate only for the message in flight at the kill -9.
    hooks = collections.Counter(http_receiver.keys())
    raw_keys = {f"load:{i}" for i in range(RAW)}
    lost = raw_keys - set(hooks)
    duplicates = sum(hooks.values()) - len(hooks)
    assert not lost, sorted(lost)[:5]
    assert duplicates <= 1, {key: n for key, n in hooks.items() if n > 1}
    assert retired[0].returncode == 0  # the SIGTERM one stopped cleanly

    # Answers: exactly the places, never more, whatever was killed.
    db.session.expire_all()
    assert db.session.get(Position, position_id).accepted_count == PLACES
    assert db.session.scalar(db.select(db.func.count()).select_from(CallUp).where(
        CallUp.position_id == position_id, CallUp.status == CallUpStatus.ACCEPTED)) == PLACES
    db.session.rollback()

    # HTTP: failures only around the faults, none once the last fault is 3 s behind.
    outcomes = collections.Counter(outcome for _, outcome, _, _ in results)
    failed = [(kind, outcome, round(at, 1)) for kind, outcome, _, at in results
              if not outcome.isdigit() or int(outcome) >= 500]
    late = [f for f in failed if f[2] > last_fault + 3]
    assert not late, late
    assert len(failed) <= 12, failed
    assert outcomes["200"] > 100, outcomes
    answers = collections.Counter(outcome for kind, outcome, _, _ in results if kind == "answer")
    assert answers["200"] <= PLACES
    latencies = sorted(seconds for _, outcome, seconds, _ in results if outcome.isdigit())
    # Metrics: the killed worker's counts stay in the sums, so /metrics counts at least every answer seen.
    counted = sum(sample(metrics, "gridmuster_http_requests_total", endpoint="responses.answer", method="POST",
                         status=status) for status in ("200", "409"))
    assert counted >= answers["200"] + answers["409"]
    assert sample(metrics, "gridmuster_callups", default=None, status="accepted") == PLACES
    assert sample(metrics, "gridmuster_outbox_due_messages", default=None, channel="webhook") == 0
    print(f"\nload with faults ({'PostgreSQL' if is_postgres else 'SQLite'}): {len(results)} requests from "
          f"{CLIENTS} clients in {SECONDS} s, p50 {statistics.median(latencies) * 1000:.0f} ms, p95 "
          f"{latencies[int(0.95 * (len(latencies) - 1))] * 1000:.0f} ms; outcomes {dict(outcomes)}; "
          f"faults {[(name, round(at, 1)) for name, at in faults]}; failed {len(failed)}; "
          f"outbox lost 0, duplicates {duplicates}")
