"""Job bodies for the scheduler: open an app context, call one service with now=utcnow(), log counts."""
from __future__ import annotations

import logging

from flask import Flask

from accounts import privacy
from callups import dispatch, followup
from gridwork import whistles
from notices.channels import build_channels, close_channels
from campaigns import backfill, hours, recurrence, responses
from core.clock import utcnow

log = logging.getLogger("gridmuster.jobs")


# The dispatch tick drains a backlog for up to this long; it stays under the 1 s interval so the
# next tick is never skipped (APScheduler would log every skip).
DISPATCH_BUDGET_SECONDS = 0.9


def dispatch_outbox(app: Flask) -> None:
    """Send due outbox messages: passes back to back while a backlog remains, within the tick."""
    with app.app_context():
        channels = _channels(app)
        stats = dispatch.drain_outbox(channels=channels, budget_seconds=DISPATCH_BUDGET_SECONDS)
        if stats.claimed:
            log.info("dispatch_outbox: claimed %d sent %d retried %d failed %d skipped %d", stats.claimed,
                     stats.sent, stats.retried, stats.failed, stats.skipped)


def send_due_callups(app: Flask) -> None:
    """Send scheduled call-ups whose time has come."""
    with app.app_context():
        count = dispatch.send_due_callups(now=utcnow())
        if count:
            log.info("send_due_callups: sent %d call-ups", count)


def follow_up_silent(app: Flask) -> None:
    """Contact again, on another channel, people who neither opened nor answered an urgent call-up."""
    with app.app_context():
        count = followup.follow_up_silent(now=utcnow())
        if count:
            log.info("follow_up_silent: followed up %d call-ups", count)


def escalate_whistles(app: Flask) -> None:
    """Escalate unanswered whistles past their deadline: to the street office, then the district."""
    with app.app_context():
        count = whistles.escalate_whistles(now=utcnow())
        if count:
            log.info("escalate_whistles: escalated %d whistles", count)


def expire_unanswered(app: Flask) -> None:
    """Expire call-ups past their answer deadline."""
    with app.app_context():
        positions = responses.expire_unanswered(now=utcnow())
        if positions:
            # backfill_open_positions offers these places again on its next tick.
            log.info("expire_unanswered: positions with expiries %s", positions)


def backfill_open_positions(app: Flask) -> None:
    """Update campaign staffing statuses, then offer freed places to the next best people."""
    with app.app_context():
        now = utcnow()
        moved = backfill.update_campaign_statuses(now=now)
        if any(moved.values()):
            log.info("backfill_open_positions: campaign statuses %s", moved)
        stats = backfill.backfill_open_positions(now=now, timezone_name=app.config["TIMEZONE"])
        if stats.callups or stats.failed:
            log.info("backfill_open_positions: %d call-ups for %d campaigns, %d waiting for a wave, %d failed",
                     stats.callups, stats.campaigns, stats.waiting, stats.failed)


def send_reminders(app: Flask) -> None:
    """Queue reminders before accepted shifts."""
    with app.app_context():
        count = dispatch.send_reminders(now=utcnow())
        if count:
            log.info("send_reminders: queued %d reminders", count)


def materialise_recurring_campaigns(app: Flask) -> None:
    """Create and publish the coming occurrences of recurring campaigns."""
    with app.app_context():
        created = recurrence.materialise_recurring_campaigns(now=utcnow(), timezone_name=app.config["TIMEZONE"])
        if created:
            log.info("materialise_recurring_campaigns: created campaigns %s", [c.id for c in created])


def book_service_hours(app: Flask) -> None:
    """Book the hours of attended call-ups whose shift has ended on the ledger (never before the end)."""
    with app.app_context():
        count = hours.book_ended_shifts(now=utcnow(), timezone_name=app.config["TIMEZONE"])
        if count:
            log.info("book_service_hours: booked %d call-ups", count)


def purge_departed_volunteers(app: Flask) -> None:
    """Anonymise people who left long ago (GRIDMUSTER_RETENTION_DAYS after their last activity)."""
    with app.app_context():
        erased = privacy.purge_departed_volunteers(now=utcnow(), retention_days=app.config["RETENTION_DAYS"])
        if erased:
            log.info("purge_departed_volunteers: anonymised %d people who left", len(erased))


def _channels(app: Flask):
    # One registry per process, so HTTP connections are pooled across ticks.
    channels = app.extensions.get("gridmuster_channels")
    if channels is None:
        channels = app.extensions["gridmuster_channels"] = build_channels(app.config)
    return channels


__all__ = ["dispatch_outbox", "send_due_callups", "follow_up_silent", "escalate_whistles", "expire_unanswered",
           "send_reminders", "backfill_open_positions", "materialise_recurring_campaigns", "book_service_hours",
           "purge_departed_volunteers", "close_channels"]
