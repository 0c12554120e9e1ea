"""Use cases of people: register, update, remove, list; and the skills catalogue."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, exists, func, not_, or_, select
from sqlalchemy.orm import aliased

from core.kinds import CampaignKind
from core.db import referencing_tables
from core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from core.i18n import _l
from core.masking import mask_mobile
from core.scope import Role, Scope
from extensions import db
from grids.models import Grid
from grids.services import get_grid, subtree_of
from volunteers.availability import parse_hhmm, windows_to_mask
from volunteers.readiness import callable_clause
from volunteers.models import (AvailabilityWindow, BlackoutDate, ChannelConsent, Identity, Skill, Volunteer,
                               VolunteerSkill, VolunteerStatus)

# --- skills catalogue -------------------------------------------------------------------------


def get_skill(skill_id: int) -> Skill:
    skill = db.session.get(Skill, skill_id)
    if skill is None:
        raise NotFound.of("skill", skill_id)
    return skill


def list_skills() -> Select:
    return select(Skill).order_by(Skill.code)


def skills_by_code(codes=None) -> dict[str, Skill]:
    """Catalogue entries keyed by code (all of them when ``codes`` is None)."""
    stmt = select(Skill)
    if codes is not None:
        stmt = stmt.where(Skill.code.in_(list(codes)))
    return {skill.code: skill for skill in db.session.scalars(stmt)}


def create_skill(data: dict[str, Any]) -> Skill:
    """Add a skill to the catalogue."""
    if db.session.scalar(select(exists().where(Skill.code == data["code"]))):
        raise Conflict.duplicate("code", data["code"])
    skill = Skill(**data)
    db.session.add(skill)
    db.session.commit()
    return skill


def update_skill(skill_id: int, data: dict[str, Any]) -> Skill:
    skill = get_skill(skill_id)
    for key, value in data.items():
        setattr(skill, key, value)
    db.session.commit()
    return skill


# --- volunteers -------------------------------------------------------------------------------


def get_volunteer(volunteer_id: int) -> Volunteer:
    volunteer = db.session.get(Volunteer, volunteer_id)
    if volunteer is None:
        raise NotFound.of("volunteer", volunteer_id)
    return volunteer


def _mobile_conflict() -> Conflict:
    """The one answer to a mobile number held by someone else, inside the caller's scope or not.

    It names no one (no id, name or grid) and does not echo the number, so a clash tells an office
    no more than that the number is taken.
    """
    return Conflict(_l("this mobile number is already registered"), {"mobile": [_l("Already registered.")]})


def _mobile_taken(mobile: str, except_id: int | None = None) -> bool:
    clause = Volunteer.mobile == mobile
    if except_id is not None:
        clause = clause & (Volunteer.id != except_id)
    return bool(db.session.scalar(select(exists().where(clause))))


def _apply_volunteer(volunteer: Volunteer, data: dict[str, Any], skill_map: dict[str, Skill],
                     grid_exists, *, now: datetime | None = None) -> None:
    """Copy validated input onto ``volunteer``; raise ValidationFailed naming the field.

    Takes part in the caller's transaction; ``grid_exists(id)`` lets a bulk
    import check grids from a preloaded set.
    """
    errors: dict[str, list[str]] = {}
    if "home_grid_id" in data and not grid_exists(data["home_grid_id"]):
        errors["home_grid_id"] = [f"Unknown grid {data['home_grid_id']}."]
    if "skills" in data:
        seen: set[str] = set()
        for item in data["skills"]:
            if item["code"] not in skill_map:
                errors.setdefault("skills", []).append(f"Unknown skill {item['code']}.")
            elif item["code"] in seen:
                errors.setdefault("skills", []).append(f"Skill {item['code']} is listed twice.")
            seen.add(item["code"])
    identities = data.get("identities", [i.value for i in volunteer.identities])
    branch = data.get("party_branch", volunteer.party_branch)
    if branch and Identity.PARTY_MEMBER.value not in identities:
        errors["party_branch"] = ["Only a party member has a party branch."]
    if errors:
        raise ValidationFailed(errors)

    for key in ("name", "mobile", "home_grid_id", "party_branch", "max_callups_per_month", "status",
                "language", "emergency_calls", "consent_at", "note"):
        if key in data:
            setattr(volunteer, key, data[key])
    if "identities" in data:
        volunteer.identity_flags = Identity.to_mask(data["identities"])
    if "interests" in data:
        volunteer.interests = sum(CampaignKind(kind).bit for kind in set(data["interests"]))
    if "skills" in data:
        # An item that does not name a certificate number keeps the one on record for that skill.
        numbers = {row.skill_id: row.certificate_no for row in volunteer.skills}
        volunteer.skills = [VolunteerSkill(skill=skill_map[item["code"]], level=item["level"],
                                           certificate_expires_on=item.get("certificate_expires_on"),
                                           certificate_no=item["certificate_no"] if "certificate_no" in item
                                           else numbers.get(skill_map[item["code"]].id))
                            for item in data["skills"]]
    if "availability" in data:
        windows = [(w["weekday"], parse_hhmm(w["start"]), parse_hhmm(w["end"], allow_24=True))
                   for w in data["availability"]]
        volunteer.availability = [AvailabilityWindow(weekday=d, start_minute=s, end_minute=e)
                                  for d, s, e in windows]
        volunteer.availability_mask = windows_to_mask(windows)
    if "blackout_dates" in data:
        volunteer.blackouts = [BlackoutDate(day=day) for day in sorted(set(data["blackout_dates"]))]
    if "consented_channels" in data:
        _set_channel_consents(volunteer, set(data["consented_channels"]), now or volunteer.updated_at)


def _set_channel_consents(volunteer: Volunteer, channels: set[str], now: datetime) -> None:
    """The given channels consented from ``now`` (kept if already), the others withdrawn at ``now``."""
    held = {consent.channel: consent for consent in volunteer.channel_consents}
    for channel, consent in held.items():
        if channel not in channels and consent.withdrawn_at is None:
            consent.withdrawn_at = now
        elif channel in channels and consent.withdrawn_at is not None:
            consent.granted_at, consent.withdrawn_at = now, None
    volunteer.channel_consents += [ChannelConsent(channel=channel, granted_at=now)
                                   for channel in sorted(channels - set(held))]


# What a person may change on their own record; the rest (identities, status, notes) is the office's.
# Skills are theirs too, except the certified ones (see ``_own_skill_list``).
SELF_EDITABLE = frozenset({"name", "language", "interests", "availability", "blackout_dates",
                           "max_callups_per_month", "consented_channels", "emergency_calls", "skills"})


def _own_skill_list(volunteer: Volunteer, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The skill list a person sends for themselves, with the certified skills kept as the office recorded them.

    A skill that needs a certificate (gas checks, first aid, driving…) is entered by the office that saw the
    certificate, with its expiry: a person may declare any other skill at any level, and may send their
    certified ones back unchanged, but neither add nor alter one. Certified skills left out of the list stay.
    """
    catalogue = skills_by_code(item["code"] for item in items)
    held = {row.skill.code: row for row in volunteer.skills if row.skill.certified}
    refused = sorted({item["code"] for item in items
                      if item["code"] in catalogue and catalogue[item["code"]].certified
                      and (item["code"] not in held or held[item["code"]].level != item["level"]
                           or held[item["code"]].certificate_expires_on != item.get("certificate_expires_on"))})
    if refused:
        raise PermissionDenied(_l("Only your community office can record certified skills."),
                               {"skills": [_l("%(code)s needs a certificate: ask your community office.", code=code)
                                           for code in refused]})
    sent = {item["code"] for item in items}
    return list(items) + [{"code": code, "level": row.level, "certificate_expires_on": row.certificate_expires_on}
                          for code, row in held.items() if code not in sent]


def grid_check(scope: Scope):
    """``grid_exists(id)`` for ``_apply_volunteer``: the grid exists and the caller may place people there."""
    def grid_exists(grid_id: int) -> bool:
        grid = db.session.get(Grid, grid_id)
        return grid is not None and (scope.role is Role.VOLUNTEER or scope.covers(grid.path))
    return grid_exists


def register_volunteer(data: dict[str, Any], *, scope: Scope, now: datetime) -> Volunteer:
    """Register a person in the caller's subtree; a mobile number already registered is a conflict."""
    volunteer = _register_volunteer(data, scope=scope, now=now)
    db.session.commit()
    return volunteer


def _register_volunteer(data: dict[str, Any], *, scope: Scope, now: datetime) -> Volunteer:
    """``register_volunteer`` inside the caller's transaction (self-registration adds the account too)."""
    if _mobile_taken(data["mobile"]):
        raise _mobile_conflict()
    volunteer = Volunteer(created_by=scope.actor, created_at=now, updated_at=now)
    _apply_volunteer(volunteer, data, skills_by_code(i["code"] for i in data.get("skills", [])),
                     grid_check(scope), now=now)
    db.session.add(volunteer)
    db.session.flush()
    return volunteer


def update_volunteer(volunteer_id: int, data: dict[str, Any], *, scope: Scope, now: datetime) -> Volunteer:
    """Change a person's record; lists given replace the stored ones. People change only their own basics."""
    volunteer = get_volunteer(volunteer_id)
    if scope.role is Role.VOLUNTEER:
        locked = sorted(set(data) - SELF_EDITABLE)
        if locked:
            raise PermissionDenied(_l("Only your community office can change these fields."),
                                   {field: ["Ask your community office to change this."] for field in locked})
        if "skills" in data:
            data = {**data, "skills": _own_skill_list(volunteer, data["skills"])}
    if "mobile" in data and _mobile_taken(data["mobile"], except_id=volunteer.id):
        raise _mobile_conflict()
    _apply_volunteer(volunteer, data, skills_by_code(i["code"] for i in data.get("skills", [])),
                     grid_check(scope), now=now)
    volunteer.updated_at = now
    db.session.commit()
    return volunteer


def delete_volunteer(volunteer_id: int) -> None:
    """Remove a person who was never called up; otherwise they must be marked as left."""
    volunteer = get_volunteer(volunteer_id)
    if referencing_tables(db.session, "volunteers", volunteer.id, db.metadata):
        raise Conflict(_l("the volunteer has call-up history; set status to 'left' instead"),
                       {"status": [_l("Has call-up history: set it to 'left'.")]})
    db.session.delete(volunteer)
    db.session.commit()


# How a list may be ordered: the registration order (the API's default), by name, or by home grid in tree order.
VOLUNTEER_SORTS = ("id", "name", "grid")


def count_volunteers_by_home_grid(*, scope: Scope) -> dict[int, tuple[int, int]]:
    """Home grid id → (people, people routine call-ups can reach), for the grids in the caller's subtree."""
    rows = db.session.execute(
        select(Volunteer.home_grid_id, func.count(),
               func.sum(case((callable_clause(), 1), else_=0)))
        .join(Grid, Grid.id == Volunteer.home_grid_id).where(scope.grid_clause(Grid.path))
        .group_by(Volunteer.home_grid_id)).all()
    return {grid_id: (total, int(reachable or 0)) for grid_id, total, reachable in rows}


def _volunteer_order(sort: str) -> tuple:
    if sort == "name":
        return Volunteer.name, Volunteer.id
    if sort == "grid":
        home = aliased(Grid)  # its own name: the grid filter may join Grid too
        return (select(home.path).where(home.id == Volunteer.home_grid_id).scalar_subquery(), Volunteer.name,
                Volunteer.id)
    return (Volunteer.id,)


def list_volunteers(*, scope: Scope, grid_id: int | None = None, skill: str | None = None, min_level: int | None = None,
                    identity: str | None = None, status: VolunteerStatus | None = None,
                    q: str | None = None, emergency_calls: str | None = None, callable: bool | None = None,
                    sort: str = "id") -> Select:
    """People in the caller's subtree matching the filters, oldest registration first unless ``sort`` says otherwise.

    ``callable`` keeps those routine call-ups can reach (``readiness.callable_clause``) or, when False, the others.
    """
    stmt = select(Volunteer).order_by(*_volunteer_order(sort))
    if not scope.is_admin:
        stmt = stmt.where(Volunteer.home_grid_id.in_(select(Grid.id).where(scope.grid_clause(Grid.path))))
    if grid_id is not None:
        stmt = stmt.join(Grid, Grid.id == Volunteer.home_grid_id).where(subtree_of(get_grid(grid_id)))
    if skill is not None:
        has_skill = (select(VolunteerSkill.volunteer_id).join(Skill)
                     .where(Skill.code == skill, VolunteerSkill.level >= (min_level or 1)))
        stmt = stmt.where(Volunteer.id.in_(has_skill))
    if identity is not None:
        stmt = stmt.where(Volunteer.identity_flags.op("&")(Identity(identity).bit) != 0)
    if emergency_calls is not None:
        stmt = stmt.where(Volunteer.emergency_calls == emergency_calls)
    if callable is not None:
        stmt = stmt.where(callable_clause() if callable else not_(callable_clause()))
    if status is not None:
        stmt = stmt.where(Volunteer.status == status)
    if q:
        pattern = f"%{q.strip()}%"
        stmt = stmt.where(or_(Volunteer.name.like(pattern), Volunteer.mobile.like(pattern)))
    return stmt


def name_cards(volunteer_ids: set[int]) -> dict[int, dict[str, str]]:
    """Name, home grid and masked mobile of each person, in one query (for lists staff read, e.g. a dry run)."""
    if not volunteer_ids:
        return {}
    rows = db.session.execute(select(Volunteer.id, Volunteer.name, Volunteer.mobile, Grid.name)
                              .join(Grid, Grid.id == Volunteer.home_grid_id)
                              .where(Volunteer.id.in_(volunteer_ids))).all()
    return {row[0]: {"name": row[1], "mobile": mask_mobile(row[2]), "grid": row[3]} for row in rows}
