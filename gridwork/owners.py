"""Whose each grid-practice object is, for the access layer (accounts/access.py): a unit, whistle, visit target,
round or visit resolves to the grid path of its office (and, for a visit, the visitor it is assigned to)."""
from __future__ import annotations

from sqlalchemy import select

from accounts.access import Owner, register_owners
from extensions import db
from grids.models import Grid
from gridwork.models import ResponderUnit, Visit, VisitRound, VisitTarget, Whistle


def _unit_owner(unit_id: int) -> Owner | None:
    # Units serve every community below their street office: every office reads them, their keeper changes them.
    path = db.session.scalar(select(Grid.path).join(ResponderUnit, ResponderUnit.office_grid_id == Grid.id)
                             .where(ResponderUnit.id == unit_id))
    return None if path is None else Owner(path=path, any_office_reads=True)


def _whistle_owner(whistle_id: int) -> Owner | None:
    path = db.session.scalar(select(Grid.path).join(Whistle, Whistle.grid_id == Grid.id).where(Whistle.id == whistle_id))
    return None if path is None else Owner(path=path)


def _target_owner(target_id: int) -> Owner | None:
    path = db.session.scalar(select(Grid.path).join(VisitTarget, VisitTarget.grid_id == Grid.id)
                             .where(VisitTarget.id == target_id))
    return None if path is None else Owner(path=path)


def _round_owner(round_id: int) -> Owner | None:
    path = db.session.scalar(select(Grid.path).join(VisitRound, VisitRound.grid_id == Grid.id)
                             .where(VisitRound.id == round_id))
    return None if path is None else Owner(path=path)


def _visit_owner(visit_id: int) -> Owner | None:
    # The office of the target's grid, and the visitor it is assigned to.
    row = db.session.execute(select(Grid.path, Visit.visitor_id).join(VisitTarget, VisitTarget.grid_id == Grid.id)
                             .join(Visit, Visit.target_id == VisitTarget.id).where(Visit.id == visit_id)).first()
    return None if row is None else Owner(path=row.path, volunteer_id=row.visitor_id)


def register() -> None:
    """Called once by the app factory."""
    register_owners({"unit_id": _unit_owner, "whistle_id": _whistle_owner, "target_id": _target_owner,
                     "round_id": _round_owner, "visit_id": _visit_owner})
