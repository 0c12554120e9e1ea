"""Service hours for reports, from ONE function.

Every hours figure of the reports and the cockpit (by grid, skill, kind, month, enterprise) reads
``attended_hours``. For now it counts attended call-ups × the shift's length. An append-only hours ledger
(check-in/out booked per person and shift, corrections as new rows) is being built to replace this source:
when it lands, only this function changes to read the ledger, and every report follows.
"""
from __future__ import annotations

from sqlalchemy import select

from campaigns.models import CallUp, CallUpStatus, Position
from grids.models import Grid
from reports.areas import shift_rows
from reports.period import Period
from reports.sql import seconds_between


def attended_hours(area: Grid, period: Period):
    """One row per attended person-shift in the area and period: who, which team, position, place group, kind,
    shift start and hours. A subquery the report queries group in the database."""
    shifts = shift_rows(area, period)
    return (select(CallUp.id.label("callup_id"), CallUp.volunteer_id, CallUp.team_id, CallUp.position_id,
                   shifts.c.shift_id, shifts.c.child_id, shifts.c.kind, shifts.c.start_at,
                   (seconds_between(shifts.c.end_at, shifts.c.start_at) / 3600.0).label("hours"))
            .select_from(shifts)
            .join(Position, Position.shift_id == shifts.c.shift_id)
            .join(CallUp, CallUp.position_id == Position.id)
            .where(CallUp.status == CallUpStatus.ATTENDED, CallUp.is_person)
            .subquery("attended_hours"))
