"""Days ahead of the real clock, for tests that go through the API or the pages, whose services read it.

Tests of a service pass their own fixed ``now``; a request cannot, so a shift it publishes must lie ahead of
the day the suite runs, whatever that day is.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from core.clock import utcnow

SHANGHAI = ZoneInfo("Asia/Shanghai")


def saturday_ahead(weeks: int = 1) -> date:
    """The Saturday at least ``weeks`` weeks after today in Shanghai (7 to 13 days ahead for one week)."""
    today = utcnow().astimezone(SHANGHAI).date()
    return today + timedelta(days=(5 - today.weekday()) % 7 + 7 * weeks)


def local_at(day: date, hour: int, minute: int = 0) -> datetime:
    """``day`` at ``hour:minute`` in Shanghai, timezone-aware."""
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)
