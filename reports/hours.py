"""Service hours for reports, from ONE function, read from the append-only hours ledger.

Every hours figure of the reports and the cockpit (by grid, skill, kind, month, enterprise) reads
``attended_hours``: per call-up, the net minutes of its ledger rows (``hours_entries``: the booking from
check-in and check-out when the shift ended, hours added by hand, and corrections), so the cockpit, the
volunteer's totals and the certificate of service count the same hours.
"""
from __future__ import annotations

from sqlalchemy import Select, func, select

from campaigns.models import CallUp, HoursEntry, Position
from grids.models import Grid
from reports.areas import shift_rows
from reports.period import Period


def summed_minutes(minutes):
    """A sum of ledger minutes: whole numbers, turned into hours (``figures._tenths``) only once added up, so a
    total does not depend on the order the database adds fractions of hours in."""
    return func.coalesce(func.sum(minutes), 0)


def attended_hours(area: Grid, period: Period, *, teams_only: bool = False):
    """One row per person-shift with hours on the ledger in the area and period: who, which team, position, place
    group, kind, shift start and minutes (reports add them up with ``summed_minutes``). A subquery the report
    queries group in the database."""
    return attended_hours_select(area, period, teams_only=teams_only).subquery("attended_hours")


def attended_hours_select(area: Grid, period: Period, *, teams_only: bool = False) -> Select:
    """The SELECT behind ``attended_hours``, for a statement that reads it several times (a common table
    expression, computed once). ``teams_only``: person-shifts answered through a team (a small partial index
    finds their call-ups)."""
    shifts = shift_rows(area, period)
    # Joined from the area's shifts down to their ledger rows (indexed by call-up), then summed per call-up: the
    # ledger is never read beyond the area and period.
    keys = (CallUp.id, CallUp.volunteer_id, CallUp.team_id, CallUp.position_id, shifts.c.shift_id,
            shifts.c.child_id, shifts.c.kind, shifts.c.start_at)
    minutes = func.sum(HoursEntry.minutes)
    return (select(CallUp.id.label("callup_id"), CallUp.volunteer_id, CallUp.team_id, CallUp.position_id,
                   shifts.c.shift_id, shifts.c.child_id, shifts.c.kind, shifts.c.start_at,
                   minutes.label("minutes"))
            .select_from(shifts)
            .join(Position, Position.shift_id == shifts.c.shift_id)
            .join(CallUp, CallUp.position_id == Position.id)
            .join(HoursEntry, HoursEntry.callup_id == CallUp.id)
            .where(CallUp.is_person, *([CallUp.team_id.is_not(None)] if teams_only else []))
            .group_by(*keys).having(minutes > 0))
