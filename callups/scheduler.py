"""The periodic job table and the APScheduler clock that ticks it (the database holds the work)."""
from __future__ import annotations

import functools
import logging
import uuid
from dataclasses import dataclass
from typing import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from callups import jobs
from core.logs import request_id_var
from core.metrics import timed_job

log = logging.getLogger("gridmuster.scheduler")


@dataclass(frozen=True)
class JobDefinition:
    func: Callable[[Flask], None]
    seconds: int

    @property
    def id(self) -> str:
        return self.func.__name__


# Every job is a fixed-interval tick asking "what is due as of now?", so a missed tick loses nothing.
JOBS: tuple[JobDefinition, ...] = (
    JobDefinition(jobs.dispatch_outbox, 1),
    JobDefinition(jobs.send_due_callups, 1),
    JobDefinition(jobs.follow_up_silent, 10),
    JobDefinition(jobs.escalate_whistles, 10),
    JobDefinition(jobs.expire_unanswered, 10),
    JobDefinition(jobs.send_reminders, 10),
    JobDefinition(jobs.backfill_open_positions, 15),
    JobDefinition(jobs.materialise_recurring_campaigns, 60),
    JobDefinition(jobs.book_service_hours, 60),
    # Hourly, so a clock restarted every day still runs it; a run with nobody due costs one query.
    JobDefinition(jobs.purge_departed_volunteers, 3600),
)
# misfire_grace_time=None: a late tick still runs (the default of 1 s would drop it).
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}


def observed(func: Callable[[Flask], None]) -> Callable[[Flask], None]:
    """``func`` counted in the job metrics, its log lines and audit rows under one run id (job:<name>:<hex>)."""

    @functools.wraps(func)
    def run(app: Flask) -> None:
        token = request_id_var.set(f"job:{func.__name__}:{uuid.uuid4().hex[:12]}")
        try:
            with timed_job(func.__name__):
                func(app)
        finally:
            request_id_var.reset(token)

    return run


def build_scheduler(app: Flask, scheduler_cls: type[BaseScheduler] = BlockingScheduler) -> BaseScheduler:
    """A scheduler with the in-memory job store and every job of the table registered."""
    scheduler = scheduler_cls(job_defaults=JOB_DEFAULTS, timezone="UTC")
    for job in JOBS:
        scheduler.add_job(observed(job.func), "interval", seconds=job.seconds, args=[app], id=job.id, name=job.id,
                          replace_existing=True, **JOB_DEFAULTS)
    return scheduler


def start_background_scheduler(app: Flask) -> BaseScheduler:
    """For the single-process dev server only; web workers never call this."""
    scheduler = build_scheduler(app, BackgroundScheduler)
    scheduler.start()
    log.info("background scheduler started with %d jobs", len(JOBS))
    return scheduler
