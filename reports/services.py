"""The reports as use cases: resolve the caller's area and the period, then count (one code path for API and pages)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask_babel.speaklater import LazyString
from sqlalchemy import text

from core.errors import BadRequest
from core.i18n import _l
from core.scope import Scope
from extensions import db
from grids.models import Grid
from reports import figures
from reports.areas import resolve_area
from reports.period import Period, make_period

# name -> (title, function of (area, period))
REPORTS: dict[str, tuple[LazyString, Callable[[Grid, Period], dict]]] = {
    "campaigns": (_l("Campaigns and call-ups"), figures.campaign_report),
    "emergencies": (_l("Emergencies: arrived within one hour"), figures.emergency_report),
    "people": (_l("People by skill, identity and grid"), lambda area, period: figures.people_report(area)),
    "activity": (_l("Active and dormant people"), figures.activity_report),
    "hours": (_l("Service hours"), figures.hours_report),
    "enterprises": (_l("Partner enterprises' contribution"), figures.enterprise_report),
}


# A report groups a few hundred thousand call-ups by person or place: with PostgreSQL's default 4 MB it sorts on
# disk (measured: external merges of 3-4 MB per worker), with this it hashes in memory. For this transaction only.
REPORT_WORK_MEM = "64MB"


def _room_to_sort() -> None:
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'"))


@dataclass(frozen=True)
class Report:
    name: str
    area: Grid
    period: Period
    data: dict


def report_area(scope: Scope, grid_id: int | None, first: date | None, last: date | None, *,
                today: date, zone: str) -> tuple[Grid, Period]:
    """The area (404 outside the caller's subtree) and the period (400 naming ``from``/``to``) of a request."""
    period = make_period(first, last, today=today, zone=zone)
    return resolve_area(scope, grid_id), period


def build_report(name: str, *, scope: Scope, grid_id: int | None = None, first: date | None = None,
                 last: date | None = None, today: date, zone: str) -> Report:
    """One report for the caller's area and period."""
    if name not in REPORTS:
        raise BadRequest({"report": [_l("Unknown report; one of %(reports)s.", reports=', '.join(REPORTS))]})
    area, period = report_area(scope, grid_id, first, last, today=today, zone=zone)
    _room_to_sort()
    return Report(name=name, area=area, period=period, data=REPORTS[name][1](area, period))


def build_cockpit(*, scope: Scope, grid_id: int | None = None, first: date | None = None, last: date | None = None,
                  today: date, zone: str) -> dict[str, Report]:
    """Every report for one area and period: the cockpit's figures."""
    area, period = report_area(scope, grid_id, first, last, today=today, zone=zone)
    _room_to_sort()
    data = {}
    # The hours report first: the campaign report takes its hours by child node from it (figures.sharing).
    with figures.sharing():
        for name in sorted(REPORTS, key=lambda name: name != "hours"):
            data[name] = REPORTS[name][1](area, period)
    return {name: Report(name=name, area=area, period=period, data=data[name]) for name in REPORTS}
