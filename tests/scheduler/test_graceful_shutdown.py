"""SIGTERM to a scheduler in the middle of a dispatch: the message in flight is finished, the rest of its batch is
given back at once (not held until the lease runs out), nothing is lost or sent twice; and its metrics port."""
from __future__ import annotations

import collections
import signal
import time
import urllib.request
from datetime import timedelta

import pytest

from tests.ops.helpers import sample
from bench.stampede import free_port
from notices.models import NotificationStatus
from core.clock import utcnow
from extensions import db
from tests.scheduler.helpers import outbox, queue_raw
from tests.scheduler.test_dispatch_processes import _spawn, _stop, _wait_for

LEASE = "120"  # far longer than the test: a row left claimed would visibly wait for it


def _scrape(port: int) -> str:
    return urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()


@pytest.mark.slow
def test_sigterm_during_dispatch_finishes_or_releases_every_claimed_message(app, http_receiver, smtp_server):
    total = 300
    http_receiver.delay = 0.02  # about six seconds of sending: the signal lands mid-dispatch
    queue_raw(total, due_at=utcnow() - timedelta(seconds=1), prefix="term")
    db.session.rollback()
    port = free_port()
    first = _spawn(app, http_receiver.url + "/hook", smtp_server.url, "scheduler", "run",
                   GRIDMUSTER_OUTBOX_LEASE_SECONDS=LEASE, GRIDMUSTER_SCHEDULER_METRICS_PORT=str(port))
    second = None
    try:
        assert _wait_for(lambda: len(http_receiver.keys()) >= 40, timeout=60), "the scheduler sent nothing"
        metrics = _scrape(port)
        first.send_signal(signal.SIGTERM)
        output, _ = first.communicate(timeout=30)
        stopped_at = time.monotonic()
        delivered_at_stop = len(http_receiver.keys())
        rows = outbox()
        # Nothing is left claimed by the stopped process: every row is sent or pending again.
        assert {row.status for row in rows} <= {NotificationStatus.SENT, NotificationStatus.PENDING}, \
            collections.Counter(row.status for row in rows)
        assert not [row for row in rows if row.lease_owner or row.lease_until]
        sent = {row.idempotency_key for row in rows if row.status is NotificationStatus.SENT}
        assert sent == set(http_receiver.keys()), "a message went out but is not marked sent (or the reverse)"
        assert delivered_at_stop < total, "every message had gone before the signal: nothing was in flight"
        # Released rows were not charged an attempt.
        assert {row.attempts for row in rows if row.status is NotificationStatus.PENDING} == {0}
        db.session.rollback()  # hold no SQLite lock while the replacement works
        second = _spawn(app, http_receiver.url + "/hook", smtp_server.url, "scheduler", "run",
                        GRIDMUSTER_OUTBOX_LEASE_SECONDS=LEASE)
        # A replacement sends the rest at once, long before a 120 s lease would have run out.
        assert _wait_for(lambda: len(set(http_receiver.keys())) >= total, timeout=60)
        took = time.monotonic() - stopped_at
    finally:
        outputs = _stop([process for process in (first, second) if process is not None and process.poll() is None])
    assert first.returncode == 0, output
    assert "scheduler: stopped" in output and "Traceback" not in output, output
    counts = collections.Counter(http_receiver.keys())
    assert set(counts) == {f"term:{i}" for i in range(total)}, outputs
    assert set(counts.values()) == {1}, "a message was sent twice"
    assert {row.status for row in outbox()} == {NotificationStatus.SENT}
    assert took < 60
    # The scheduler's own metrics, scraped while it ran.
    assert sample(metrics, "gridmuster_scheduler_job_runs_total", job="dispatch_outbox") >= 1
    assert sample(metrics, "gridmuster_scheduler_job_runs_total", job="send_due_callups") >= 1
    assert sample(metrics, "gridmuster_scheduler_job_failures_total", default=None, job="dispatch_outbox") == 0
    # The scrape may come just before the last sends seen at the receiver were marked.
    assert sample(metrics, "gridmuster_outbox_sends_total", channel="webhook", result="sent") >= 30
    assert sample(metrics, "gridmuster_dispatch_delay_seconds_count", channel="webhook") >= 30
    # A job's last success is stamped when a run ends: the first dispatch run may still be draining the backlog
    # at the scrape on a slow machine (runs are counted at their start), while the call-up job's runs are short.
    assert sample(metrics, "gridmuster_scheduler_job_last_success_timestamp_seconds", job="send_due_callups") > 0
    print(f"\nSIGTERM mid-dispatch: {delivered_at_stop} of {total} sent before the signal, the rest "
          f"{took:.1f} s after it, 0 duplicates")
