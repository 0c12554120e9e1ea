"""Partner enterprises and their co-building teams.

An enterprise registered by the district admin is approved at once; one that registers itself on the
sign-up page (``apply_for_partnership``) waits until the office of the street office or community it
asks to pair with, or the district, approves it (``review_enterprise``). Until then it may not form
teams, and its teams are offered nothing.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, exists, false, select, true

from core.errors import Conflict, NotFound, ValidationFailed, word
from core.i18n import _l
from core.scope import Role, Scope
from extensions import db
from grids.models import Grid
from volunteers.models import Enterprise, EnterpriseStatus, Identity, Team, Volunteer, team_members
from volunteers.services import _register_volunteer

# Who may ask to pair: a street office (level 1) or a community (level 2).
PAIRING_LEVELS = (1, 2)


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
    """Register a partner enterprise (共建单位): the district admin's act, approved at once."""
    enterprise = _add_enterprise(data, status=EnterpriseStatus.APPROVED)
    db.session.commit()
    return enterprise


def _add_enterprise(data: dict[str, Any], *, status: EnterpriseStatus) -> Enterprise:
    if db.session.scalar(select(exists().where(Enterprise.name == data["name"]))):
        raise Conflict.duplicate("name", data["name"])
    if data.get("credit_code") and db.session.scalar(
            select(exists().where(Enterprise.credit_code == data["credit_code"]))):
        raise Conflict.duplicate("credit_code", data["credit_code"])
    enterprise = Enterprise(**data, status=status.value)
    db.session.add(enterprise)
    db.session.flush()
    return enterprise


def apply_for_partnership(data: dict[str, Any]) -> Enterprise:
    """An enterprise registers itself, asking to pair with ``requested_grid_id``; pending, in the caller's
    transaction (the sign-up adds its account in the same one)."""
    grid = db.session.get(Grid, data.get("requested_grid_id") or 0)
    if grid is None or grid.level not in PAIRING_LEVELS:
        raise ValidationFailed.field("requested_grid_id",
                                     _l("Choose the street office or community to pair with."))
    return _add_enterprise(data, status=EnterpriseStatus.PENDING)


def enterprises_to_review(*, scope: Scope) -> Select:
    """Enterprises an office may review or has reviewed: those asking to pair within its subtree (all for
    the district), pending first, then the newest."""
    stmt = select(Enterprise).where(Enterprise.requested_grid_id.is_not(None))
    if not scope.is_admin:
        if scope.role is not Role.OFFICE or scope.grid_path is None:
            return stmt.where(false())
        stmt = stmt.where(Enterprise.requested_grid_id.in_(select(Grid.id).where(scope.grid_clause(Grid.path))))
    pending_first = case((Enterprise.status == EnterpriseStatus.PENDING.value, 0), else_=1)
    return stmt.order_by(pending_first, Enterprise.id.desc())


def review_enterprise(enterprise_id: int, *, approve: bool, note: str | None, scope: Scope,
                      now: datetime) -> Enterprise:
    """Approve or reject a pending enterprise; its street office, community office or the district decides."""
    enterprise = get_enterprise(enterprise_id)
    grid = enterprise.requested_grid
    if grid is None or not scope.covers(grid.path):
        raise NotFound.of("enterprise", enterprise_id)
    if enterprise.status != EnterpriseStatus.PENDING.value:
        raise Conflict.wrong_state("enterprise", enterprise.status, "review")
    if not approve and not (note or "").strip():
        raise ValidationFailed.field("note", _l("Say why the registration is rejected."))
    done = db.session.execute(
        Enterprise.__table__.update()
        .where(Enterprise.id == enterprise.id, Enterprise.status == EnterpriseStatus.PENDING.value)
        .values(status=(EnterpriseStatus.APPROVED if approve else EnterpriseStatus.REJECTED).value,
                reviewed_at=now, reviewed_by=scope.actor[:100], review_note=(note or "").strip()[:500] or None)
    ).rowcount
    if done != 1:  # someone else reviewed it first
        db.session.rollback()
        raise Conflict.wrong_state("enterprise", get_enterprise(enterprise_id).status, "review")
    db.session.commit()
    db.session.refresh(enterprise)
    return enterprise


def require_approved(enterprise_id: int) -> None:
    """Only approved enterprises form teams and are offered places."""
    status = db.session.scalar(select(Enterprise.status).where(Enterprise.id == enterprise_id))
    if status is None:
        raise NotFound.of("enterprise", enterprise_id)
    if status != EnterpriseStatus.APPROVED.value:
        raise Conflict(_l("the enterprise is %(status)s, not approved", status=word(status)),
                       {"enterprise": [_l("The enterprise is not approved yet.")]})


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


def list_offerable_teams() -> Select:
    """Teams that can be offered places: their enterprise approved, a leader named to answer."""
    return (select(Team).join(Enterprise, Enterprise.id == Team.enterprise_id)
            .where(Enterprise.status == EnterpriseStatus.APPROVED.value, Team.leader_id.is_not(None))
            .order_by(Enterprise.name, Team.name))


def _load_all(model, ids: list[int], field: str) -> list:
    """Rows for ``ids`` in the given order; any unknown id is a 422 on ``field``."""
    unique = list(dict.fromkeys(ids))
    rows = {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(unique)))}
    missing = [str(i) for i in unique if i not in rows]
    if missing:
        raise ValidationFailed.field(field, _l("Unknown id(s): %(missing)s.", missing=', '.join(missing)))
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
            raise ValidationFailed.field("member_ids", _l("Unknown id(s): %(unknown)s.", unknown=', '.join(unknown)))
        team.members = [allowed[i] for i in unique]
    if "paired_grid_ids" in data:
        grids = _load_all(Grid, data["paired_grid_ids"], "paired_grid_ids")
        wrong = [g.code for g in grids if g.level not in (1, 2, 3)]
        if wrong:
            raise ValidationFailed.field(
                "paired_grid_ids", _l("Pair with street offices, communities or grids, not %(wrong)s.",
                                      wrong=', '.join(wrong)))
        team.paired_grids = grids
    if "leader_id" in data:
        leader = data["leader_id"]
        if leader is not None and leader not in {member.id for member in team.members}:
            raise ValidationFailed.field("leader_id", _l("The leader must be a member of the team."))
        team.leader_id = leader


def create_team(enterprise_id: int, data: dict[str, Any], *, scope: Scope) -> Team:
    """Register a co-building team with its members and paired communities."""
    enterprise = get_enterprise(enterprise_id)
    require_approved(enterprise.id)
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


def add_employee(team_id: int, data: dict[str, Any], *, scope: Scope, now: datetime) -> Volunteer:
    """An enterprise adds an employee to one of its teams: a new volunteer of their home grid (a community
    or grid), marked as an enterprise member. A number already registered is a conflict naming no one:
    that person joins through their community office. The employee is messaged on no channel until they
    consent themselves; the in-app inbox reaches them once they sign up."""
    team = get_team(team_id)
    require_approved(team.enterprise_id)
    grid = db.session.get(Grid, data.get("home_grid_id") or 0)
    if grid is None or grid.level < 2:
        raise ValidationFailed.field("home_grid_id", _l("Choose the employee's home community or grid."))
    fields = {"name": data["name"], "mobile": data["mobile"], "home_grid_id": grid.id,
              "identities": [Identity.ENTERPRISE_MEMBER.value]}
    volunteer = _register_volunteer(fields, scope=Scope.system(scope.actor), now=now)
    team.members.append(volunteer)
    db.session.commit()
    return volunteer


def remove_member(team_id: int, volunteer_id: int, *, scope: Scope) -> Team:
    """Take a person off a team (their volunteer record stays); a leader who leaves leaves no leader."""
    team = get_team(team_id)
    if volunteer_id not in team.member_ids:
        raise ValidationFailed.field("member_id", _l("Not a member of the team: %(volunteer_id)s.",
                                                     volunteer_id=volunteer_id))
    data: dict[str, Any] = {"member_ids": [m for m in team.member_ids if m != volunteer_id]}
    if team.leader_id == volunteer_id:
        data["leader_id"] = None
    return update_team(team.id, data, scope=scope)
