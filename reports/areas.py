"""The area a report covers: a node of the grid tree within the caller's scope, its children and its grids."""
from __future__ import annotations

from sqlalchemy import and_, select
from sqlalchemy.orm import aliased

from campaigns.models import Campaign, CampaignStatus, Shift
from core.errors import NotFound, PermissionDenied
from core.i18n import _l
from core.scope import Scope
from extensions import db
from grids.models import Grid
from grids.paths import path_ids
from reports.period import Period


def resolve_area(scope: Scope, grid_id: int | None) -> Grid:
    """The node asked for, or the caller's own (the district for the admin); 404 outside the caller's subtree."""
    if not scope.sees_grid_tree:
        raise PermissionDenied(_l("Reports are for office staff and the district."))
    if grid_id is None:
        grid_id = scope.grid_id
    if grid_id is None:
        grid = db.session.scalar(select(Grid).where(Grid.level == 0).order_by(Grid.id).limit(1))
        if grid is None:
            raise NotFound(_l("the district has no grid tree yet"))
        return grid
    grid = db.session.get(Grid, grid_id)
    if grid is None or not scope.covers(grid.path):
        raise NotFound.of("grid", grid_id)
    return grid


def children(area: Grid) -> list[Grid]:
    """The nodes one level down (street offices of the district, communities of a street, …), by code."""
    return list(db.session.scalars(select(Grid).where(Grid.parent_id == area.id).order_by(Grid.code, Grid.id)))


def trail(area: Grid, scope: Scope) -> list[Grid]:
    """The area's ancestors the caller may open, district first, the area last (drill-up links)."""
    rows = db.session.scalars(select(Grid).where(Grid.id.in_(path_ids(area.path))).order_by(Grid.level)).all()
    return [grid for grid in rows if scope.covers(grid.path)]


def area_map(area: Grid):
    """Every grid of the area's subtree with the child node it lies under (NULL for the area node itself).

    Facts join this on their grid id: the join keeps them to the area and gives the drill-down group at
    once. The tree has about a thousand nodes, so this small mapping is cheap to build per query.
    """
    child = aliased(Grid)
    return (select(Grid.id.label("grid_id"), child.id.label("child_id"))
            .outerjoin(child, and_(child.parent_id == area.id, Grid.path.startswith(child.path)))
            .where(Grid.path.startswith(area.path, autoescape=True))
            .subquery("area_map"))


def shift_rows(area: Grid, period: Period, *, priority=None):
    """Shifts of published (not draft) campaigns that start in the period at a place in the area.

    A campaign's work belongs to where its shifts take place, so a street office's campaign counts in the
    communities its shifts are in; a shift's place always lies within its office's subtree.
    """
    mapping = area_map(area)
    stmt = (select(Shift.id.label("shift_id"), Shift.campaign_id, Shift.start_at, Shift.end_at,
                   mapping.c.child_id, Campaign.kind, Campaign.priority, Campaign.published_at)
            .join(Campaign, Campaign.id == Shift.campaign_id)
            .join(mapping, mapping.c.grid_id == Shift.grid_id)
            .where(Shift.start_at >= period.start_at, Shift.start_at < period.end_at,
                   Campaign.status != CampaignStatus.DRAFT))
    if priority is not None:
        stmt = stmt.where(Campaign.priority == priority)
    return stmt.subquery("report_shifts")
