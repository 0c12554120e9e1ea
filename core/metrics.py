"""The Prometheus metrics every process counts into, and how a process's metrics are exposed.

Under gunicorn ``PROMETHEUS_MULTIPROC_DIR`` is set (gunicorn.conf.py sets it from ``GRIDMUSTER_METRICS_DIR``
before anything imports prometheus_client): each worker writes its values to files there and /metrics adds
them up. The scheduler is one process with its own registry, served on its own port (callups/cli.py).
Gauges of what the database holds (call-ups by status, the outbox backlog) are computed at scrape time by
a collector (web/ops.py), never counted here.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from typing import Iterator

from prometheus_client import (REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest,
                               multiprocess)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

HTTP_REQUESTS = Counter("gridmuster_http_requests", "HTTP requests answered, by endpoint, method and status.",
                        ["endpoint", "method", "status"])
HTTP_LATENCY = Histogram("gridmuster_http_request_duration_seconds", "Time to answer an HTTP request.",
                         ["endpoint", "method"],
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
SENDS = Counter("gridmuster_outbox_sends", "Outbox messages handed to a channel, by channel and result "
                "(sent, retried, failed, lost: the lease had passed to another dispatcher).", ["channel", "result"])
DISPATCH_DELAY = Histogram("gridmuster_dispatch_delay_seconds",
                           "From a message's due time to its successful send.", ["channel"],
                           buckets=(0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600, 4 * 3600))
RELEASED = Counter("gridmuster_outbox_released", "Claimed messages given back unsent at shutdown.", ["channel"])
MATCH_SECONDS = Histogram("gridmuster_match_duration_seconds", "One matcher run: building the problem and solving it.",
                          buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60))
MATCH_SIZE = Histogram("gridmuster_match_size", "A matcher run's size: candidates considered and places to fill.",
                       ["dimension"], buckets=(1, 10, 100, 1_000, 10_000, 100_000, 1_000_000))
JOB_RUNS = Counter("gridmuster_scheduler_job_runs", "Scheduler job runs, by job.", ["job"])
JOB_FAILURES = Counter("gridmuster_scheduler_job_failures", "Scheduler job runs that raised, by job.", ["job"])
JOB_SECONDS = Histogram("gridmuster_scheduler_job_duration_seconds", "Time one scheduler job run took.", ["job"],
                        buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300))
JOB_LAST_SUCCESS = Gauge("gridmuster_scheduler_job_last_success_timestamp_seconds",
                         "Unix time of a job's last run that did not raise.", ["job"], multiprocess_mode="max")


@contextmanager
def timed_job(name: str) -> Iterator[None]:
    """Count one run of job ``name``: its duration, and a failure when it raises (re-raised)."""
    started = time.perf_counter()
    JOB_RUNS.labels(name).inc()
    failures = JOB_FAILURES.labels(name)  # shown at 0 from the first run, so a rate() has a series to read
    try:
        yield
    except BaseException:
        failures.inc()
        raise
    else:
        JOB_LAST_SUCCESS.labels(name).set(time.time())
    finally:
        JOB_SECONDS.labels(name).observe(time.perf_counter() - started)


def is_multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


def exposition(extra: Iterable[Callable[[CollectorRegistry], None]] = ()) -> bytes:
    """The text exposition of this process's metrics (all workers' under gunicorn), plus ``extra`` collectors,
    each given a fresh registry to register into."""
    if is_multiprocess():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    for register in extra:
        registry = CollectorRegistry()
        register(registry)
        body += generate_latest(registry)
    return body


def mark_worker_dead(pid: int) -> None:
    """gunicorn's child_exit: drop a dead worker's live gauges (its counters stay in the sums)."""
    if is_multiprocess():
        multiprocess.mark_process_dead(pid)
