"""Use cases of the grid tree and the skills catalogue."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, or_, select

from core.db import referencing_tables
from core.errors import Conflict, NotFound, ValidationFailed
from core.i18n import _l
from core.scope import Scope
from extensions import db
from grids.models import Grid
from grids.paths import child_path, path_ids


def get_grid(grid_id: int) -> Grid:
    """The grid, or NotFound."""
    grid = db.session.get(Grid, grid_id)
    if grid is None:
        raise NotFound.of("grid", grid_id)
    return grid


def find_grid_by_code(code: str) -> Grid | None:
    return db.session.scalar(select(Grid).where(Grid.code == code))


def resolve_grid(grid_id: int, field: str, scope: Scope | None = None) -> Grid:
    """A grid referenced from a request body; unknown ids, and ids outside ``scope``, are a 422 on ``field``."""
    grid = db.session.get(Grid, grid_id)
    if grid is None or (scope is not None and not scope.covers(grid.path)):
        raise ValidationFailed.field(field, _l("Unknown grid %(grid_id)s.", grid_id=grid_id))
    return grid


def subtree_of(grid: Grid, column=Grid.path):
    """A clause selecting rows whose path lies in ``grid``'s subtree."""
    return column.startswith(grid.path, autoescape=True)


def _add_grid(*, code: str, name: str, level: int, parent: Grid | None,
              lat: float | None = None, lon: float | None = None) -> Grid:
    """Insert a node and its path inside the caller's transaction."""
    if parent is None and level != 0:
        raise ValidationFailed.field("parent_id", _l("Only a district (level 0) has no parent."))
    if parent is not None and parent.level != level - 1:
        raise ValidationFailed.field(
            "level", _l("Must be one below the parent's level %(level)s (that is %(child_level)s).",
                        level=parent.level, child_level=parent.level + 1))
    if find_grid_by_code(code) is not None:
        raise Conflict.duplicate("code", code)
    grid = Grid(code=code, name=name, level=level, parent_id=parent.id if parent else None,
                parent_level=parent.level if parent else None, lat=lat, lon=lon, path="")
    db.session.add(grid)
    db.session.flush()
    grid.path = child_path(parent.path if parent else None, grid.id)
    return grid


def create_grid(data: dict[str, Any], *, scope: Scope) -> Grid:
    """Add a node under its parent (parent level + 1); offices add only inside their subtree."""
    parent = resolve_grid(data["parent_id"], "parent_id", scope) if data.get("parent_id") else None
    if parent is None and not scope.is_admin:
        raise ValidationFailed.field("parent_id", _l("Give the parent grid inside your area."))
    grid = _add_grid(code=data["code"], name=data["name"], level=data["level"], parent=parent,
                     lat=data.get("lat"), lon=data.get("lon"))
    db.session.commit()
    return grid


def update_grid(grid_id: int, data: dict[str, Any]) -> Grid:
    """Rename a node or set its centroid; the tree shape does not change."""
    grid = get_grid(grid_id)
    for key in ("name", "lat", "lon"):
        if key in data:
            setattr(grid, key, data[key])
    db.session.commit()
    return grid


def delete_grid(grid_id: int) -> None:
    """Remove a node that no row refers to (children, people, campaigns, shifts…)."""
    grid = get_grid(grid_id)
    users = referencing_tables(db.session, "grids", grid.id, db.metadata)
    if users:
        raise Conflict(_l("grid %(code)s is still used by %(users)s", code=grid.code, users=', '.join(users)),
                       {"id": [_l("Still used by %(users)s.", users=', '.join(users))]})
    db.session.delete(grid)
    db.session.commit()


def list_grids(*, scope: Scope, parent_id: int | None = None, level: int | None = None, under: int | None = None,
               q: str | None = None) -> Select:
    """Grids in the caller's subtree matching the filters, ordered by path (a depth-first listing)."""
    stmt = select(Grid).where(scope.grid_clause(Grid.path)).order_by(Grid.path)
    if parent_id is not None:
        stmt = stmt.where(Grid.parent_id == parent_id)
    if level is not None:
        stmt = stmt.where(Grid.level == level)
    if under is not None:
        stmt = stmt.where(subtree_of(get_grid(under)))
    if q:
        pattern = f"%{q}%"
        stmt = stmt.where(or_(Grid.name.like(pattern), Grid.code.like(pattern)))
    return stmt


# Home grids a person may choose: a community (level 2) or any node below it.
HOME_GRID_MIN_LEVEL = 2
PATH_SEPARATOR = " › "


@dataclass(frozen=True)
class HomeGridGroup:
    """One community with its grids, for a grouped picker; every option names its full path."""

    label: str
    options: list[tuple[int, str]] = field(default_factory=list)


def home_grid_groups() -> list[HomeGridGroup]:
    """Communities and the grids below them, one group per community in tree order.

    Each option is labelled with its whole path from the street office down ("西兴街道 › 江南社区 › 第1网格"),
    so the many grids called "第1网格" stay apart; the district is named only where there are several.
    """
    rows = db.session.execute(select(Grid.id, Grid.name, Grid.level, Grid.path).order_by(Grid.path)).all()
    names = {row.id: row.name for row in rows}
    several_districts = sum(1 for row in rows if row.level == 0) > 1
    top = 0 if several_districts else 1
    groups: dict[int, HomeGridGroup] = {}
    for row in rows:
        if row.level < HOME_GRID_MIN_LEVEL:
            continue
        ids = path_ids(row.path)
        label = PATH_SEPARATOR.join(names[i] for i in ids[top:] if i in names)
        community_id = ids[HOME_GRID_MIN_LEVEL] if len(ids) > HOME_GRID_MIN_LEVEL else row.id
        group = groups.get(community_id)
        if group is None:
            group = groups[community_id] = HomeGridGroup(
                label=PATH_SEPARATOR.join(names[i] for i in ids[top:HOME_GRID_MIN_LEVEL + 1] if i in names))
        group.options.append((row.id, label))
    return list(groups.values())
