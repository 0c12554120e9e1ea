"""Light reports: whistles against their deadlines by kind, grade, unit or grid; visit coverage per round and grid."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from core.scope import Scope
from extensions import db
from grids.models import Grid
from gridwork import visits
from gridwork.models import ResponderUnit, Whistle, WhistleStatus, WhistleSummons

GROUPS = ("kind", "grade", "unit", "grid")


def _minutes(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else round((end - start).total_seconds() / 60, 1)


def _median(values: list[float]) -> float | None:
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else round((values[mid - 1] + values[mid]) / 2, 1)


def whistle_report(*, scope: Scope, group_by: str, now: datetime, since: datetime | None = None,
                   until: datetime | None = None) -> list[dict[str, Any]]:
    """Per group: whistles, closed, and for the answers (per summons) how many came within their deadlines,
    with median minutes to acknowledge, to report on site and to close. Default window: the last 30 days."""
    until = until or now
    since = since or until - timedelta(days=30)
    rows = db.session.execute(
        select(Whistle, WhistleSummons, ResponderUnit.name, Grid.name.label("grid_name"))
        .join(Grid, Grid.id == Whistle.grid_id)
        .outerjoin(WhistleSummons, WhistleSummons.whistle_id == Whistle.id)
        .outerjoin(ResponderUnit, ResponderUnit.id == WhistleSummons.unit_id)
        .where(scope.grid_clause(Grid.path), Whistle.raised_at >= since, Whistle.raised_at < until)
        .order_by(Whistle.id)).all()
    groups: dict[str, dict[str, Any]] = {}
    seen: set[tuple[str, int]] = set()
    for whistle, summons, unit_name, grid_name in rows:
        key = {"kind": whistle.kind.value, "grade": whistle.grade.value, "grid": grid_name,
               "unit": unit_name or "-"}[group_by]
        entry = groups.setdefault(key, {"group": key, "whistles": 0, "closed": 0, "closed_on_time": 0,
                                        "summons": 0, "acked_on_time": 0, "arrived_on_time": 0,
                                        "_ack": [], "_arrive": [], "_close": []})
        if (key, whistle.id) not in seen:
            seen.add((key, whistle.id))
            entry["whistles"] += 1
            if whistle.status is WhistleStatus.CLOSED:
                entry["closed"] += 1
                entry["closed_on_time"] += int(whistle.closed_at <= whistle.resolve_due_at)
                entry["_close"].append(_minutes(whistle.raised_at, whistle.closed_at))
        if summons is not None:
            entry["summons"] += 1
            entry["acked_on_time"] += int(summons.acked_at is not None and summons.acked_at <= whistle.ack_due_at)
            entry["arrived_on_time"] += int(summons.arrived_at is not None
                                            and summons.arrived_at <= whistle.arrive_due_at)
            entry["_ack"].append(_minutes(summons.summoned_at, summons.acked_at))
            entry["_arrive"].append(_minutes(summons.summoned_at, summons.arrived_at))
    out = []
    for entry in groups.values():
        entry["median_ack_minutes"] = _median(entry.pop("_ack"))
        entry["median_arrive_minutes"] = _median(entry.pop("_arrive"))
        entry["median_close_minutes"] = _median(entry.pop("_close"))
        out.append(entry)
    return sorted(out, key=lambda e: str(e["group"]))


def visit_report(*, scope: Scope, now: datetime, limit: int = 12) -> list[dict[str, Any]]:
    """Coverage of the caller's latest rounds, per grid."""
    rounds = db.session.scalars(visits.list_rounds(scope=scope).limit(limit)).all()
    return [visits.coverage(r.id, now=now) for r in rounds]
