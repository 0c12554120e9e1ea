"""Partner enterprises and their co-building teams."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Select, exists, false, select, true

from core.errors import Conflict, NotFound, ValidationFailed
from core.scope import Role, Scope
from extensions import db
from grids.models import Grid
from volunteers.models import Enterprise, Team, Volunteer, team_members


def get_enterprise(enterprise_id: int) -> Enterprise:
    enterprise = db.session.get(Enterprise, enterprise_id)
    if enterprise is None:
        raise NotFound.of("enterprise", enterprise_id)
    return enterprise


def list_enterprises(*, scope: Scope, q: str | None = None) -> Select:
    """Partner enterprises; an enterprise account sees only its own."""
    stmt = select(Enterprise).order_by(Enterprise.id)
    if scope.role is Role.ENTERPRISE:
        stmt = stmt.where(Enterprise.id == scope.enterprise_id)
    elif not scope.sees_grid_tree:
        stmt = stmt.where(false())
    if q:
        stmt = stmt.where(Enterprise.name.like(f"%{q}%"))
    return stmt


def register_enterprise(data: dict[str, Any]) -> Enterprise:
    """Register a partner enterprise (共建单位)."""
    if db.session.scalar(select(exists().where(Enterprise.name == data["name"]))):
        raise Conflict.duplicate("name", data["name"])
    if data.get("credit_code") and db.session.scalar(
            select(exists().where(Enterprise.credit_code == data["credit_code"]))):
        raise Conflict.duplicate("credit_code", data["credit_code"])
    enterprise = Enterprise(**data)
    db.session.add(enterprise)
    db.session.commit()
    return enterprise


def update_enterprise(enterprise_id: int, data: dict[str, Any]) -> Enterprise:
    enterprise = get_enterprise(enterprise_id)
    if "name" in data and db.session.scalar(select(exists().where(
            (Enterprise.name == data["name"]) & (Enterprise.id != enterprise.id)))):
        raise Conflict.duplicate("name", data["name"])
    for key, value in data.items():
        setattr(enterprise, key, value)
    db.session.commit()
    return enterprise


def get_team(team_id: int) -> Team:
    team = db.session.get(Team, team_id)
    if team is None:
        raise NotFound.of("team", team_id)
    return team


def list_teams(*, enterprise_id: int | None = None) -> Select:
    stmt = select(Team).order_by(Team.id)
    if enterprise_id is not None:
        get_enterprise(enterprise_id)
        stmt = stmt.where(Team.enterprise_id == enterprise_id)
    return stmt


def _load_all(model, ids: list[int], field: str) -> list:
    """Rows for ``ids`` in the given order; any unknown id is a 422 on ``field``."""
    unique = list(dict.fromkeys(ids))
    rows = {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(unique)))}
    missing = [str(i) for i in unique if i not in rows]
    if missing:
        raise ValidationFailed.field(field, f"Unknown id(s): {', '.join(missing)}.")
    return [rows[i] for i in unique]


def _nameable_people(scope: Scope, enterprise_id: int):
    """SQL: the people ``scope`` may put in a team. Offices name people of their subtree; an enterprise
    only regroups people already in its teams (new members are added by their office), so that
    guessing ids never reveals anyone else."""
    if scope.is_admin:
        return true()
    if scope.role is Role.ENTERPRISE:
        return Volunteer.id.in_(select(team_members.c.volunteer_id).join(Team, Team.id == team_members.c.team_id)
                                .where(Team.enterprise_id == enterprise_id))
    return Volunteer.home_grid_id.in_(select(Grid.id).where(scope.grid_clause(Grid.path)))


def _apply_team(team: Team, data: dict[str, Any], scope: Scope) -> None:
    if "name" in data:
        team.name = data["name"]
    if "member_ids" in data:
        unique = list(dict.fromkeys(data["member_ids"]))
        allowed = {row.id: row for row in db.session.scalars(
            select(Volunteer).where(Volunteer.id.in_(unique), _nameable_people(scope, team.enterprise_id)))}
        unknown = [str(i) for i in unique if i not in allowed]
        if unknown:
            raise ValidationFailed.field("member_ids", f"Unknown id(s): {', '.join(unknown)}.")
        team.members = [allowed[i] for i in unique]
    if "paired_grid_ids" in data:
        grids = _load_all(Grid, data["paired_grid_ids"], "paired_grid_ids")
        wrong = [g.code for g in grids if g.level not in (1, 2, 3)]
        if wrong:
            raise ValidationFailed.field(
                "paired_grid_ids", f"Pair with street offices, communities or grids, not {', '.join(wrong)}.")
        team.paired_grids = grids
    if "leader_id" in data:
        leader = data["leader_id"]
        if leader is not None and leader not in {member.id for member in team.members}:
            raise ValidationFailed.field("leader_id", "The leader must be a member of the team.")
        team.leader_id = leader


def create_team(enterprise_id: int, data: dict[str, Any], *, scope: Scope) -> Team:
    """Register a co-building team with its members and paired communities."""
    enterprise = get_enterprise(enterprise_id)
    if db.session.scalar(select(exists().where(
            (Team.enterprise_id == enterprise.id) & (Team.name == data["name"])))):
        raise Conflict.duplicate("name", data["name"])
    team = Team(enterprise_id=enterprise.id)
    _apply_team(team, data, scope)
    db.session.add(team)
    db.session.commit()
    return team


def update_team(team_id: int, data: dict[str, Any], *, scope: Scope) -> Team:
    team = get_team(team_id)
    if "name" in data and db.session.scalar(select(exists().where(
            (Team.enterprise_id == team.enterprise_id) & (Team.name == data["name"]) & (Team.id != team.id)))):
        raise Conflict.duplicate("name", data["name"])
    _apply_team(team, data, scope)
    db.session.commit()
    return team


def delete_team(team_id: int) -> None:
    db.session.delete(get_team(team_id))
    db.session.commit()
