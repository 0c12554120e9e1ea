"""Visit targets and rounds (循环走访): the register, the assignment of a round, visits and coverage.

``create_round`` is the only bridge to ``matching.visits``: rows → arrays → the exact per-grid
assignment → one visit row per target. A target's group is its grid (level 3; a micro-grid counts as
its grid); a visitor's group is their home grid. A visitor stands where their targets of the last cycle
were (else their linked households, else the middle of their grid's targets), so the assignment keeps
each visitor near their own area and, at equal cost, with the same households as last cycle.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Select, case, false, func, select

from core.errors import Conflict, NotFound, ValidationFailed
from core.i18n import _l
from core.scope import Role, Scope
from extensions import db
from grids.models import Grid
from grids.paths import path_ids
from gridwork import whistles
from gridwork.models import (RoundKind, Visit, VisitOutcome, VisitPriority, VisitRound, VisitTarget,
                             VisitTargetKind)
from matching.visits import VisitProblem, assign_visits
from volunteers.models import Identity, Volunteer, VolunteerStatus

# Who visits: grid workers (网格员, grid leaders among them), building leaders and party members (联户党员).
VISITOR_BITS = Identity.GRID_WORKER.bit | Identity.BUILDING_LEADER.bit | Identity.PARTY_MEMBER.bit
GRID_LEVEL = 3
RECORDABLE = (VisitOutcome.DONE, VisitOutcome.NOBODY_HOME, VisitOutcome.PROBLEM)


def get_target(target_id: int) -> VisitTarget:
    target = db.session.get(VisitTarget, target_id)
    if target is None:
        raise NotFound.of("target", target_id)
    return target


def list_targets(*, scope: Scope, grid_id: int | None = None, kind: VisitTargetKind | None = None,
                 priority_only: bool = False) -> Select:
    """Visit targets of the caller's subtree (a grid's subtree when ``grid_id`` is given)."""
    stmt = select(VisitTarget).join(Grid, Grid.id == VisitTarget.grid_id).where(scope.grid_clause(Grid.path))
    if grid_id is not None:
        path = db.session.scalar(select(Grid.path).where(Grid.id == grid_id))
        stmt = stmt.where(Grid.path.startswith(path, autoescape=True) if path else false())
    if kind is not None:
        stmt = stmt.where(VisitTarget.kind == kind)
    if priority_only:
        stmt = stmt.where(VisitTarget.priority.is_not(None))
    return stmt.order_by(VisitTarget.grid_id, VisitTarget.label, VisitTarget.id)


def _check_grid(grid_id: int | None, scope: Scope, field: str = "grid_id", min_level: int = GRID_LEVEL) -> Grid:
    grid = db.session.get(Grid, grid_id or 0)
    if grid is None or grid.level < min_level or not scope.covers(grid.path):
        raise ValidationFailed.field(field, _l("Choose a grid of yours."))
    return grid


def _apply_target(target: VisitTarget, data: dict[str, Any], scope: Scope) -> None:
    for name in ("label", "building", "unit_no", "x", "y", "active"):
        if name in data:
            setattr(target, name, data[name])
    if "kind" in data:
        target.kind = VisitTargetKind(data["kind"])
    if "priority" in data:
        target.priority = VisitPriority(data["priority"]) if data["priority"] else None
    if "linked_volunteer_id" in data:
        linked = data["linked_volunteer_id"]
        if linked is not None:
            path = db.session.scalar(select(Grid.path).join(Volunteer, Volunteer.home_grid_id == Grid.id)
                                     .where(Volunteer.id == linked))
            if path is None or not scope.covers(path):
                raise ValidationFailed.field("linked_volunteer_id", _l("Unknown id: %(linked)s.", linked=linked))
        target.linked_volunteer_id = linked


def register_targets(rows: list[dict[str, Any]], *, scope: Scope) -> list[VisitTarget]:
    """Add visit targets (one or a whole building list) in one transaction; a label repeated in a grid is a 409."""
    targets = []
    seen: set[tuple[int, str]] = set()
    for data in rows:
        grid = _check_grid(data.get("grid_id"), scope)
        key = (grid.id, data["label"])
        if key in seen or db.session.scalar(select(VisitTarget.id).where(VisitTarget.grid_id == grid.id,
                                                                         VisitTarget.label == data["label"])):
            db.session.rollback()
            raise Conflict.duplicate("label", data["label"])
        seen.add(key)
        target = VisitTarget(grid_id=grid.id, active=True, x=0.0, y=0.0, kind=VisitTargetKind.HOUSEHOLD)
        _apply_target(target, data, scope)
        db.session.add(target)
        targets.append(target)
    db.session.commit()
    return targets


def update_target(target_id: int, data: dict[str, Any], *, scope: Scope) -> VisitTarget:
    """Change a target (its flag, its linked party member, whether it is still visited)."""
    target = get_target(target_id)
    if "label" in data and data["label"] != target.label and db.session.scalar(select(VisitTarget.id).where(
            VisitTarget.grid_id == target.grid_id, VisitTarget.label == data["label"])):
        raise Conflict.duplicate("label", data["label"])
    _apply_target(target, data, scope)
    db.session.commit()
    return target


def get_round(round_id: int) -> VisitRound:
    found = db.session.get(VisitRound, round_id)
    if found is None:
        raise NotFound.of("round", round_id)
    return found


def list_rounds(*, scope: Scope) -> Select:
    """Rounds of areas in the caller's subtree, newest first."""
    return (select(VisitRound).join(Grid, Grid.id == VisitRound.grid_id).where(scope.grid_clause(Grid.path))
            .order_by(VisitRound.id.desc()))


def _grid_key(path: str) -> int:
    """The grid (level 3) a node belongs to: itself above that level, its level-3 ancestor below it."""
    ids = path_ids(path)
    return ids[min(GRID_LEVEL, len(ids) - 1)]


def create_round(data: dict[str, Any], *, scope: Scope, now: datetime) -> VisitRound:
    """Create a round over an area and assign every active target of its kinds to a visitor; one transaction."""
    area = _check_grid(data.get("grid_id"), scope, min_level=1)
    kinds = [VisitTargetKind(kind) for kind in dict.fromkeys(data.get("target_kinds") or ["household"])]
    if data["due_at"] <= now:
        raise ValidationFailed.field("due_at", _l("The round must end in the future."))
    targets = db.session.execute(
        select(VisitTarget.id, VisitTarget.x, VisitTarget.y, VisitTarget.linked_volunteer_id, Grid.path)
        .join(Grid, Grid.id == VisitTarget.grid_id)
        .where(VisitTarget.active.is_(True), VisitTarget.kind.in_(kinds), Grid.path.startswith(area.path, autoescape=True))
        .order_by(VisitTarget.id)).all()
    if not targets:
        raise ValidationFailed.field("grid_id", _l("No targets of these kinds to visit in this area."))
    visitors = _visitors(area, data.get("visitor_ids"))
    if not visitors:
        raise ValidationFailed.field("visitor_ids", _l("Nobody to visit: register grid workers, building leaders or "
                                                    "party members in this area."))
    round_ = VisitRound(grid_id=area.id, kind=RoundKind(data.get("kind") or "monthly"), title=data["title"],
                        period=data.get("period") or now.strftime("%Y-%m"),
                        target_kinds=",".join(kind.value for kind in kinds), due_at=data["due_at"],
                        created_by=scope.actor[:100], created_at=now)
    db.session.add(round_)
    db.session.flush()
    previous = _previous_visitors(area.id, round_.kind, before=round_.id)
    problem, visitor_ids = _problem(targets, visitors, previous)
    result = assign_visits(problem)
    rows = [{"round_id": round_.id, "target_id": row.id,
             "visitor_id": visitor_ids[index] if index >= 0 else None, "outcome": VisitOutcome.PENDING}
            for row, index in zip(targets, result.visitor.tolist())]
    db.session.execute(Visit.__table__.insert(), [r | {"outcome": r["outcome"].value} for r in rows])
    round_.assigned_cost = round(result.cost, 3)
    db.session.commit()
    return round_


def _visitors(area: Grid, visitor_ids: list[int] | None) -> list[tuple[int, str]]:
    stmt = (select(Volunteer.id, Grid.path).join(Grid, Grid.id == Volunteer.home_grid_id)
            .where(Volunteer.status == VolunteerStatus.ACTIVE, Grid.path.startswith(area.path, autoescape=True)))
    if visitor_ids:
        stmt = stmt.where(Volunteer.id.in_(visitor_ids))
    else:
        stmt = stmt.where(Volunteer.identity_flags.op("&")(VISITOR_BITS) != 0)
    rows = db.session.execute(stmt.order_by(Volunteer.id)).all()
    if visitor_ids and len(rows) != len(set(visitor_ids)):
        unknown = sorted(set(visitor_ids) - {row.id for row in rows})
        raise ValidationFailed.field("visitor_ids", _l("Not active people of this area: %(unknown)s.", unknown=unknown))
    return [(row.id, row.path) for row in rows]


def _previous_visitors(area_id: int, kind: RoundKind, *, before: int) -> dict[int, int]:
    """Target id → visitor of the area's last earlier round of the same kind (the cycle before this one)."""
    last = db.session.scalar(select(func.max(VisitRound.id)).where(VisitRound.grid_id == area_id,
                                                                   VisitRound.kind == kind, VisitRound.id < before))
    if last is None:
        return {}
    return dict(db.session.execute(select(Visit.target_id, Visit.visitor_id)
                                   .where(Visit.round_id == last, Visit.visitor_id.is_not(None))).all())


def _problem(targets, visitors, previous: dict[int, int]) -> tuple[VisitProblem, list[int]]:
    index = {vid: k for k, (vid, _) in enumerate(visitors)}
    xy = np.array([[row.x or 0.0, row.y or 0.0] for row in targets], dtype=float)
    group = np.array([_grid_key(row.path) for row in targets], dtype=np.int64)
    prev = np.array([index.get(previous.get(row.id, -1), -1) for row in targets], dtype=np.int64)
    linked = np.array([index.get(row.linked_volunteer_id, -1) for row in targets], dtype=np.int64)
    vgroup = np.array([_grid_key(path) for _, path in visitors], dtype=np.int64)
    vxy = np.zeros((len(visitors), 2))
    placed = np.zeros(len(visitors), dtype=bool)
    # Where a visitor stands: the mean of last cycle's targets, else of the linked ones, else of the grid's.
    keys, grid_of = np.unique(group, return_inverse=True)
    slot = np.searchsorted(keys, vgroup).clip(0, len(keys) - 1)
    in_grid = keys[slot] == vgroup
    for owner, size, known in ((prev, len(visitors), prev >= 0), (linked, len(visitors), linked >= 0),
                               (grid_of, len(keys), np.ones(len(targets), dtype=bool))):
        count = np.bincount(owner[known], minlength=size)
        sums = np.stack([np.bincount(owner[known], weights=xy[known, axis], minlength=size) for axis in (0, 1)], 1)
        if size == len(keys):
            count, sums = np.where(in_grid, count[slot], 0), sums[slot]
        fill = ~placed & (count > 0)
        vxy[fill] = sums[fill] / count[fill, None]
        placed |= fill
    vxy[~placed] = xy.mean(axis=0)
    return VisitProblem(xy, group, vxy, vgroup, prev, linked), [vid for vid, _ in visitors]


def get_visit(visit_id: int) -> Visit:
    visit = db.session.get(Visit, visit_id)
    if visit is None:
        raise NotFound.of("visit", visit_id)
    return visit


def list_my_visits(volunteer_id: int, *, now: datetime) -> list[Visit]:
    """A visitor's list for the rounds still running: pending first, by building."""
    pending_first = case((Visit.outcome == VisitOutcome.PENDING, 0), else_=1)
    return list(db.session.scalars(
        select(Visit).join(VisitRound, VisitRound.id == Visit.round_id).join(VisitTarget, VisitTarget.id == Visit.target_id)
        .where(Visit.visitor_id == volunteer_id, VisitRound.due_at >= now)
        .order_by(VisitRound.due_at, pending_first, VisitTarget.building, VisitTarget.label, Visit.id)))


def record_visit(visit_id: int, data: dict[str, Any], *, scope: Scope, now: datetime) -> Visit:
    """Record a visit: done, nobody home, or a problem found, which raises a whistle in the same transaction."""
    visit = get_visit(visit_id)
    if scope.role is Role.VOLUNTEER and visit.visitor_id != scope.volunteer_id:
        raise NotFound.of("visit", visit_id)
    outcome = VisitOutcome(data["outcome"])
    if outcome not in RECORDABLE:
        raise ValidationFailed.field("outcome", _l("One of: done, nobody_home, problem."))
    if visit.round.due_at < now:
        raise Conflict.wrong_state("round", "ended", "record")
    note = (data.get("note") or "").strip()[:500] or None
    whistle_id = visit.whistle_id
    if outcome is VisitOutcome.PROBLEM and data.get("whistle") and whistle_id is None:
        problem = data["whistle"]
        whistle = whistles._raise(
            {"grid_id": visit.target.grid_id, "title": problem["title"], "description": note or "",
             "address": visit.target.label, "kind": problem["kind"], "grade": problem.get("grade") or "routine"},
            scope=scope, now=now, photo=data.get("photo"), actor=scope.actor)
        whistle_id = whistle.id
    visit.outcome, visit.visited_at, visit.note, visit.whistle_id = outcome, now, note, whistle_id
    db.session.commit()
    return visit


def coverage(round_id: int, *, now: datetime) -> dict[str, Any]:
    """A round's coverage per grid and per visitor; a visitor is behind when their share of visits done
    trails the share of the round's time that has passed."""
    round_ = get_round(round_id)
    per_grid = db.session.execute(
        select(Grid.id, Grid.name, Visit.outcome, func.count())
        .join(VisitTarget, VisitTarget.id == Visit.target_id).join(Grid, Grid.id == VisitTarget.grid_id)
        .where(Visit.round_id == round_id).group_by(Grid.id, Grid.name, Visit.outcome)).all()
    grids: dict[int, dict[str, Any]] = {}
    for grid_id, name, outcome, count in per_grid:
        entry = grids.setdefault(grid_id, {"grid_id": grid_id, "grid_name": name, "targets": 0, "visited": 0,
                                           **{o.value: 0 for o in VisitOutcome}})
        entry[outcome.value] += count
        entry["targets"] += count
        entry["visited"] += 0 if outcome is VisitOutcome.PENDING else count
    span = (round_.due_at - round_.created_at).total_seconds() or 1.0
    elapsed = min(max((now - round_.created_at).total_seconds() / span, 0.0), 1.0)
    per_visitor = db.session.execute(
        select(Visit.visitor_id, Volunteer.name, func.count(),
               func.sum(case((Visit.outcome != VisitOutcome.PENDING, 1), else_=0)))
        .outerjoin(Volunteer, Volunteer.id == Visit.visitor_id)
        .where(Visit.round_id == round_id).group_by(Visit.visitor_id, Volunteer.name)).all()
    visitors = []
    for visitor_id, name, assigned, visited in per_visitor:
        visited = int(visited or 0)
        visitors.append({"visitor_id": visitor_id, "name": name, "assigned": assigned, "visited": visited,
                         "behind": visited < int(assigned * elapsed)})
    visitors.sort(key=lambda v: (not v["behind"], v["visited"] / max(v["assigned"], 1)))
    total = sum(g["targets"] for g in grids.values())
    visited = sum(g["visited"] for g in grids.values())
    return {"round_id": round_.id, "title": round_.title, "period": round_.period, "due_at": round_.due_at,
            "targets": total, "visited": visited, "coverage": round(visited / total, 4) if total else 0.0,
            "elapsed": round(elapsed, 4), "grids": sorted(grids.values(), key=lambda g: g["grid_id"]),
            "visitors": visitors}
