"""Responder units (部门, 下沉站所): who handles which kinds of problem in which grids, and who answers for them.

A unit is kept by a street office or the district (``office_grid_id``); like a co-building team it has
members (volunteers) and one of them is on duty: the duty contact is the person a whistle calls. A unit
covers the subtrees of its grids, and routing picks the active units that handle a whistle's kind and
cover its grid.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, exists, false, or_, select

from core.errors import Conflict, NotFound, ValidationFailed
from core.i18n import _l
from core.scope import Scope
from extensions import db
from grids.models import Grid
from grids.paths import path_ids
from gridwork.models import ProblemKind, ResponderUnit, UnitType, responder_unit_grids
from volunteers.models import Volunteer
from volunteers.teams import _load_all

# Units are kept by street offices (1) or the district (0); they cover street offices, communities or grids.
KEEPER_LEVELS = (0, 1)
COVER_LEVELS = (0, 1, 2, 3, 4)


def get_unit(unit_id: int) -> ResponderUnit:
    unit = db.session.get(ResponderUnit, unit_id)
    if unit is None:
        raise NotFound.of("unit", unit_id)
    return unit


def list_units(*, scope: Scope, kind: str | None = None, grid_id: int | None = None,
               active: bool | None = None) -> Select:
    """Units an office may see: those kept in its subtree or above it (a community sees its street's units)."""
    stmt = select(ResponderUnit).join(Grid, Grid.id == ResponderUnit.office_grid_id).order_by(ResponderUnit.id)
    if not scope.is_admin:
        if not scope.sees_grid_tree or scope.grid_path is None:
            return stmt.where(false())
        above = path_ids(scope.grid_path)
        stmt = stmt.where(or_(scope.grid_clause(Grid.path), Grid.id.in_(above)))
    if kind:
        stmt = stmt.where(ResponderUnit.kinds.contains(kind, autoescape=True))
    if grid_id is not None:
        stmt = stmt.where(ResponderUnit.id.in_(_covering(grid_id)))
    if active is not None:
        stmt = stmt.where(ResponderUnit.active.is_(active))
    return stmt


def _covering(grid_id: int):
    """SQL: ids of units covering ``grid_id`` (one of their grids is the grid or one of its ancestors)."""
    path = db.session.scalar(select(Grid.path).where(Grid.id == grid_id)) or ""
    return select(responder_unit_grids.c.unit_id).where(responder_unit_grids.c.grid_id.in_(path_ids(path) or [0]))


def route_units(kind: ProblemKind, grid_id: int) -> list[ResponderUnit]:
    """The active units that handle ``kind`` and cover ``grid_id``: the units a whistle summons."""
    rows = db.session.scalars(select(ResponderUnit).where(
        ResponderUnit.active.is_(True), ResponderUnit.id.in_(_covering(grid_id))).order_by(ResponderUnit.id))
    return [unit for unit in rows if kind.value in unit.kind_list]


def find_by_mobile(mobile: str) -> Volunteer:
    """A unit's member by their mobile: department staff may live anywhere in the district."""
    person = db.session.scalar(select(Volunteer).where(Volunteer.mobile == mobile.strip()))
    if person is None:
        raise ValidationFailed.field("member_ids", _l("Nobody is registered with this mobile."))
    return person


def register_unit(data: dict[str, Any], *, scope: Scope, now: datetime) -> ResponderUnit:
    """Register a responder unit kept by the caller's street office (or the district)."""
    if db.session.scalar(select(exists().where(ResponderUnit.name == data["name"]))):
        raise Conflict.duplicate("name", data["name"])
    unit = ResponderUnit(name=data["name"], created_at=now, active=True)
    _apply(unit, {"unit_type": UnitType.SECTION, **data}, scope=scope, creating=True)
    db.session.add(unit)
    db.session.commit()
    return unit


def update_unit(unit_id: int, data: dict[str, Any], *, scope: Scope) -> ResponderUnit:
    """Change a unit's kinds, grids, members, duty contact or whether it is active."""
    unit = get_unit(unit_id)
    if "name" in data and db.session.scalar(select(exists().where(
            (ResponderUnit.name == data["name"]) & (ResponderUnit.id != unit.id)))):
        raise Conflict.duplicate("name", data["name"])
    _apply(unit, data, scope=scope, creating=False)
    db.session.commit()
    return unit


def _apply(unit: ResponderUnit, data: dict[str, Any], *, scope: Scope, creating: bool) -> None:
    if "name" in data:
        unit.name = data["name"]
    if "unit_type" in data:
        unit.unit_type = UnitType(data["unit_type"])
    if creating or "office_grid_id" in data:
        office = db.session.get(Grid, data.get("office_grid_id") or 0)
        if office is None or office.level not in KEEPER_LEVELS or not scope.covers(office.path):
            raise ValidationFailed.field("office_grid_id", _l("Choose your street office or the district."))
        unit.office_grid_id = office.id
    if creating or "kinds" in data:
        kinds = list(dict.fromkeys(data.get("kinds") or []))
        if not kinds:
            raise ValidationFailed.field("kinds", _l("Name at least one kind of problem the unit handles."))
        unit.kinds = ",".join(ProblemKind(kind).value for kind in kinds)
    if creating or "grid_ids" in data:
        grids = _load_all(Grid, data.get("grid_ids") or [], "grid_ids")
        if not grids:
            raise ValidationFailed.field("grid_ids", _l("Name at least one grid the unit covers."))
        office_path = db.session.scalar(select(Grid.path).where(Grid.id == unit.office_grid_id))
        outside = [grid.code for grid in grids if not grid.path.startswith(office_path)]
        if outside:
            raise ValidationFailed.field("grid_ids", _l("Outside the unit's office: %(outside)s.",
                                                        outside=', '.join(outside)))
        unit.grids = grids
    if "member_ids" in data:
        unique = list(dict.fromkeys(data["member_ids"]))
        people = {row.id: row for row in db.session.scalars(select(Volunteer).where(Volunteer.id.in_(unique)))}
        unknown = [str(i) for i in unique if i not in people]
        if unknown:
            raise ValidationFailed.field("member_ids", _l("Unknown id(s): %(unknown)s.", unknown=', '.join(unknown)))
        unit.members = [people[i] for i in unique]
    members = [member.id for member in unit.members]
    duty = data.get("duty_volunteer_id")
    if duty is not None and duty not in members:
        raise ValidationFailed.field("duty_volunteer_id", _l("The duty contact must be a member of the unit."))
    if duty is None and unit.duty_volunteer_id in members:
        duty = unit.duty_volunteer_id  # kept while still a member
    unit.duty_volunteer_id = duty if duty is not None else (members[0] if members else None)
    if "active" in data:
        unit.active = bool(data["active"])
