"""`flask scheduler run` (the clock process) and `flask outbox flush|work` (dispatch by hand)."""
from __future__ import annotations

import logging
import signal
import time

import click
from flask import current_app
from flask.cli import AppGroup

from callups import dispatch
from notices.channels import build_channels, close_channels
from core.clock import utcnow
from core.logs import configure_logging

# The scheduler's own lines go through the configured handler: JSON objects in GRIDMUSTER_LOG_FORMAT=json.
log = logging.getLogger("gridmuster.scheduler")

scheduler_cli = AppGroup("scheduler", help="The clock process that sends call-ups, reminders and expiries.")
outbox_cli = AppGroup("outbox", help="The notification outbox.")


class Stop(Exception):
    """SIGTERM or SIGINT arrived."""


def _stop_on_signals(*, interrupt_main: bool) -> None:
    """SIGTERM (systemd stop) and SIGINT end the process gracefully: dispatch stops claiming, the message in
    flight is finished and the rest of its batch given back (callups/dispatch.py STOPPING). ``interrupt_main``
    raises Stop in the main thread, for the scheduler whose jobs run in other threads; a dispatcher that sends
    from the main thread only sees the flag between messages. A second signal while stopping is ignored."""

    def stop(signum, frame):
        if dispatch.STOPPING.is_set():
            return
        dispatch.STOPPING.set()
        if interrupt_main:
            raise Stop(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


@scheduler_cli.command("run")
@click.option("--metrics-port", type=click.IntRange(0, 65535), envvar="GRIDMUSTER_SCHEDULER_METRICS_PORT",
              default=0, show_default=True, help="Serve Prometheus metrics on this port (0: none).")
@click.option("--metrics-host", envvar="GRIDMUSTER_SCHEDULER_METRICS_HOST", default="127.0.0.1", show_default=True,
              help="Address the metrics port listens on.")
def run_scheduler(metrics_port: int, metrics_host: str) -> None:
    """Run the scheduler in the foreground (one process; several are safe); SIGTERM stops it gracefully."""
    from callups.scheduler import JOBS, build_scheduler

    app = current_app._get_current_object()
    configure_logging(log_format=app.config["LOG_FORMAT"], level=app.config["LOG_LEVEL"])
    # First, so that a stop arriving at any later point (even before the metrics port answers) is graceful.
    _stop_on_signals(interrupt_main=True)
    scheduler = None
    try:
        if metrics_port:
            from prometheus_client import start_http_server

            start_http_server(metrics_port, addr=metrics_host)
            log.info("scheduler: metrics on http://%s:%d/metrics", metrics_host, metrics_port)
        scheduler = build_scheduler(app)
        log.info("scheduler: %d jobs: %s", len(JOBS), ", ".join(f"{job.id}/{job.seconds}s" for job in JOBS))
        scheduler.start()
    except (Stop, KeyboardInterrupt, SystemExit) as reason:
        log.info("scheduler: stopping (%s), waiting for running jobs", reason or "interrupted")
    finally:
        dispatch.STOPPING.set()
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=True)
        close_channels(app.extensions.get("gridmuster_channels") or {})
    log.info("scheduler: stopped")


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
    """Dispatch continuously in this process (a dedicated dispatcher worker); SIGTERM stops it gracefully."""
    configure_logging(log_format=current_app.config["LOG_FORMAT"], level=current_app.config["LOG_LEVEL"])
    channels = build_channels(current_app.config)
    owner = dispatch.dispatcher_id()
    total = dispatch.DispatchStats()
    idle_since = time.monotonic()
    _stop_on_signals(interrupt_main=False)
    try:
        while not dispatch.STOPPING.is_set():
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
               f"failed {total.failed}, skipped {total.skipped}, released {total.released}")
