"""The period a report covers: whole local days, turned into UTC bounds and calendar months once."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from core.errors import ValidationFailed
from core.i18n import _l

DEFAULT_DAYS = 30
MAX_DAYS = 3 * 366
# Not answered nor attended in this many days before the period's end: dormant.
DORMANT_DAYS = 180


@dataclass(frozen=True)
class Period:
    """``first`` to ``last`` inclusive, local days of ``zone``."""

    first: date
    last: date
    zone: str

    def _utc(self, day: date) -> datetime:
        return datetime.combine(day, time(), tzinfo=ZoneInfo(self.zone)).astimezone(timezone.utc)

    @property
    def start_at(self) -> datetime:
        return self._utc(self.first)

    @property
    def end_at(self) -> datetime:
        """The instant after the period (midnight after ``last``)."""
        return self._utc(self.last + timedelta(days=1))

    @property
    def dormant_since(self) -> datetime:
        return self.end_at - timedelta(days=DORMANT_DAYS)

    def months(self) -> list[tuple[str, datetime, datetime]]:
        """Calendar months the period touches, as (``YYYY-MM``, UTC start, UTC end), clipped to the period."""
        months, day = [], self.first.replace(day=1)
        while day <= self.last:
            following = (day + timedelta(days=32)).replace(day=1)
            months.append((f"{day:%Y-%m}", max(self._utc(day), self.start_at), min(self._utc(following), self.end_at)))
            day = following
        return months


def make_period(first: date | None, last: date | None, *, today: date, zone: str) -> Period:
    """The period asked for; without dates the last 30 days up to ``today``. A period that ends before it starts or
    is too long is refused (422) naming ``to`` or ``from``; a date that is no date never gets here (the schemas
    answer 400)."""
    last = last or today
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    if last < first:
        raise ValidationFailed({"to": [_l("The end date is before the start date.")]})
    if (last - first).days >= MAX_DAYS:
        raise ValidationFailed({"from": [_l("A report covers at most %(max_days)s days.",
                                            max_days=MAX_DAYS)]})
    return Period(first=first, last=last, zone=zone)
