"""`flask scheduler run` (the clock process) and `flask outbox flush|work` (dispatch by hand)."""
from __future__ import annotations

import logging
import time

import click
from flask import current_app
from flask.cli import AppGroup

from callups import dispatch
from notices.channels import build_channels, close_channels
from core.clock import utcnow

scheduler_cli = AppGroup("scheduler", help="The clock process that sends call-ups, reminders and expiries.")
outbox_cli = AppGroup("outbox", help="The notification outbox.")


@scheduler_cli.command("run")
def run_scheduler() -> None:
    """Run the scheduler in the foreground (one process; several are safe)."""
    from callups.scheduler import JOBS, build_scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # APScheduler logs every tick at INFO; our jobs log their counts instead.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    app = current_app._get_current_object()
    scheduler = build_scheduler(app)
    click.echo(f"scheduler: {len(JOBS)} jobs: " + ", ".join(f"{job.id}/{job.seconds}s" for job in JOBS))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass


@outbox_cli.command("flush")
def flush_outbox() -> None:
    """Run one dispatch pass now and print what happened."""
    channels = build_channels(current_app.config)
    try:
        stats = dispatch.dispatch_outbox(now=utcnow(), channels=channels)
    finally:
        close_channels(channels)
    click.echo(f"claimed {stats.claimed}, sent {stats.sent}, retried {stats.retried}, "
               f"failed {stats.failed}, skipped {stats.skipped}")


@outbox_cli.command("work")
@click.option("--idle-exit", type=float, default=0.0, help="Stop after this many idle seconds (0: never).")
@click.option("--pause", type=float, default=0.05, show_default=True, help="Sleep between empty passes.")
def work_outbox(idle_exit: float, pause: float) -> None:
    """Dispatch continuously in this process (a dedicated dispatcher worker)."""
    channels = build_channels(current_app.config)
    owner = dispatch.dispatcher_id()
    total = dispatch.DispatchStats()
    idle_since = time.monotonic()
    try:
        while True:
            stats = dispatch.drain_outbox(channels=channels, owner=owner, budget_seconds=60)
            total.add(stats)
            if stats.claimed:
                idle_since = time.monotonic()
                continue
            if idle_exit and time.monotonic() - idle_since >= idle_exit:
                break
            time.sleep(pause)
    finally:
        close_channels(channels)
    click.echo(f"worker {owner}: claimed {total.claimed}, sent {total.sent}, retried {total.retried}, "
               f"failed {total.failed}, skipped {total.skipped}")
