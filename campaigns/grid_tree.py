"""The grid tree of a caller's subtree, each node with its people and open campaigns counted over its whole subtree."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import aliased

from campaigns.models import OPEN_CAMPAIGN_STATES, Campaign, Shift
from core.scope import Scope
from extensions import db
from grids.models import Grid
from grids.paths import path_ids
from grids.services import list_grids
from volunteers.services import count_volunteers_by_home_grid


@dataclass
class GridNode:
    """One grid with the people whose home lies in its subtree and the open campaigns with a shift there."""

    grid: Grid
    volunteers: int = 0
    callable: int = 0
    open_campaigns: int = 0
    children: list[GridNode] = field(default_factory=list)


def _open_campaign_places(scope: Scope) -> list[tuple[int, str]]:
    """(campaign id, shift grid path) of the open campaigns of offices in the caller's subtree, shifts there too."""
    office, place = aliased(Grid), aliased(Grid)
    return db.session.execute(
        select(Campaign.id, place.path).distinct()
        .join(office, office.id == Campaign.office_grid_id).join(Shift, Shift.campaign_id == Campaign.id)
        .join(place, place.id == Shift.grid_id)
        .where(Campaign.status.in_(OPEN_CAMPAIGN_STATES), scope.grid_clause(office.path),
               scope.grid_clause(place.path))).all()


def grid_tree(scope: Scope) -> list[GridNode]:
    """The caller's subtree as root nodes (the office's own grid; the district for the admin), counts rolled up.

    Three queries whatever the tree's size: the grids, people per home grid, open campaigns' shift places.
    A campaign with shifts in two grids of one community counts once for the community.
    """
    grids = db.session.scalars(list_grids(scope=scope)).all()
    nodes = {grid.id: GridNode(grid) for grid in grids}
    for grid_id, (people, reachable) in count_volunteers_by_home_grid(scope=scope).items():
        for ancestor in path_ids(nodes[grid_id].grid.path) if grid_id in nodes else ():
            if ancestor in nodes:
                nodes[ancestor].volunteers += people
                nodes[ancestor].callable += reachable
    campaigns: dict[int, set[int]] = defaultdict(set)
    for campaign_id, path in _open_campaign_places(scope):
        for ancestor in path_ids(path):
            campaigns[ancestor].add(campaign_id)
    roots = []
    for grid in grids:  # ordered by path: a parent comes before its children
        node = nodes[grid.id]
        node.open_campaigns = len(campaigns.get(grid.id, ()))
        parent = nodes.get(grid.parent_id) if grid.parent_id else None
        (parent.children if parent else roots).append(node)
    return roots
