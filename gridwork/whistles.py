"""Whistles (网格吹哨、部门报到): raise, route, summon, answer, escalate, close off (销号) or reopen.

A whistle's grade sets three deadlines from the moment it is raised: acknowledge, report on site (报到)
and resolve. The units that handle its kind and cover its grid are summoned through the outbox; each
unit's summons records when it acknowledged, arrived and resolved. Escalation is timed: a whistle that
is still unanswered when ``next_escalation_at`` comes (no unit acknowledged it by then, or none reported
on site by the arrival deadline) goes to the staff of its street office (level 1), and one window later
to the district (level 2). A whistle with no responsible unit goes to the street office at once. Only
the originator's office (or anyone above it) closes it with a note, or reopens it.

    raised (open, level 0) --ack/arrive/resolve by units--> ... --close (销号)--> closed --reopen--> open
             \\--no answer by the deadline--> level 1 (street) --one window later--> level 2 (district)
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, false, select, update

from gridwork import calls as whistle_calls
from notices.links import hash_token
from campaigns.models import Priority
from campaigns.services import _draft_campaign
from core.kinds import CampaignKind
from core.errors import Conflict, NotFound, ValidationFailed
from core.i18n import _, _l
from core.scope import Role, Scope
from extensions import db
from grids.models import Grid
from grids.paths import path_ids
from gridwork.models import ProblemKind, Whistle, WhistleEvent, WhistleStatus, WhistleSummons
from gridwork.units import route_units


# Grade -> (acknowledge, report on site, resolve): 分级分类办理、及时销号.
DEADLINES: dict[Priority, tuple[timedelta, timedelta, timedelta]] = {
    Priority.ROUTINE: (timedelta(hours=2), timedelta(hours=24), timedelta(days=7)),
    Priority.URGENT: (timedelta(minutes=30), timedelta(hours=4), timedelta(hours=48)),
    Priority.EMERGENCY: (timedelta(minutes=10), timedelta(hours=1), timedelta(hours=24)),
}
MAX_LEVEL = 2
ANSWERS = ("ack", "arrive", "resolve")
# Photos: what a phone camera gives, at most 5 MB, checked by their first bytes, never by the name.
PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_SIGNATURES = {"image/jpeg": (b"\xff\xd8\xff",), "image/png": (b"\x89PNG\r\n\x1a\n",),
                    "image/webp": (b"RIFF",)}


def photo_type(data: bytes) -> str | None:
    """The image type of ``data`` by its signature, or None when it is not a JPEG, PNG or WebP picture."""
    for kind, signatures in PHOTO_SIGNATURES.items():
        if any(data.startswith(sig) for sig in signatures):
            if kind == "image/webp" and data[8:12] != b"WEBP":
                continue
            return kind
    return None


def _check_photo(photo: bytes | None) -> tuple[bytes | None, str | None]:
    if not photo:
        return None, None
    if len(photo) > PHOTO_MAX_BYTES:
        raise ValidationFailed.field("photo", _l("The photo is larger than %(megabytes)s MB.",
                                                 megabytes=PHOTO_MAX_BYTES // (1024 * 1024)))
    kind = photo_type(photo)
    if kind is None:
        raise ValidationFailed.field("photo", _l("Send a JPEG, PNG or WebP picture."))
    return photo, kind


def get_whistle(whistle_id: int) -> Whistle:
    whistle = db.session.get(Whistle, whistle_id)
    if whistle is None:
        raise NotFound.of("whistle", whistle_id)
    return whistle


def list_whistles(*, scope: Scope, status: WhistleStatus | None = None, grade: Priority | None = None,
                  kind: ProblemKind | None = None, grid_id: int | None = None) -> Select:
    """Whistles raised in the caller's subtree, newest first."""
    stmt = select(Whistle).join(Grid, Grid.id == Whistle.grid_id).where(scope.grid_clause(Grid.path))
    if status is not None:
        stmt = stmt.where(Whistle.status == status)
    if grade is not None:
        stmt = stmt.where(Whistle.grade == grade)
    if kind is not None:
        stmt = stmt.where(Whistle.kind == kind)
    if grid_id is not None:
        path = db.session.scalar(select(Grid.path).where(Grid.id == grid_id))
        stmt = stmt.where(Grid.path.startswith(path, autoescape=True) if path else false())
    return stmt.order_by(Whistle.id.desc())


def _event(whistle_id: int, action: str, actor: str, now: datetime, *, unit_id: int | None = None,
           note: str | None = None) -> None:
    db.session.add(WhistleEvent(whistle_id=whistle_id, unit_id=unit_id, action=action, actor=actor[:100], at=now,
                                note=note))


def raise_whistle(data: dict[str, Any], *, scope: Scope, now: datetime, photo: bytes | None = None) -> Whistle:
    """Raise a whistle in a grid of the caller's scope, summon the responsible units; one transaction."""
    whistle = _raise(data, scope=scope, now=now, photo=photo)
    db.session.commit()
    return whistle


def _raise(data: dict[str, Any], *, scope: Scope, now: datetime, photo: bytes | None = None,
           actor: str | None = None) -> Whistle:
    """The raise in the caller's transaction (a visit that found a problem raises one with its record)."""
    grid = db.session.get(Grid, data.get("grid_id") or 0)
    if grid is None or grid.level < 2 or not (scope.covers(grid.path) or actor):
        raise ValidationFailed.field("grid_id", _l("Choose a community or grid of yours."))
    photo, kind_of_photo = _check_photo(photo)
    grade = Priority(data.get("grade") or Priority.ROUTINE.value)
    ack, arrive, resolve = DEADLINES[grade]
    whistle = Whistle(grid_id=grid.id, title=data["title"], description=data.get("description") or "",
                      address=data["address"], kind=ProblemKind(data["kind"]), grade=grade,
                      status=WhistleStatus.OPEN, raised_by=(actor or scope.actor)[:100], raised_at=now,
                      ack_due_at=now + ack, arrive_due_at=now + arrive, resolve_due_at=now + resolve,
                      escalation_level=0, next_escalation_at=now + ack, reopened_count=0,
                      photo=photo, photo_type=kind_of_photo, photo_size=len(photo) if photo else None)
    db.session.add(whistle)
    db.session.flush()
    _event(whistle.id, "raised", whistle.raised_by, now)
    units = route_units(whistle.kind, grid.id)
    summons = []
    for unit in units:
        item = WhistleSummons(whistle_id=whistle.id, unit_id=unit.id, summoned_at=now)
        item.unit = unit
        summons.append(item)
    whistle_calls._issue_summons_tokens(whistle, summons, now=now, round_no=0)
    db.session.add_all(summons)
    for unit in units:
        _event(whistle.id, "summoned", "system", now, unit_id=unit.id)
    db.session.flush()
    db.session.refresh(whistle)
    if not units:
        # Nobody handles this kind here: the street office hears of it at once.
        _escalate(whistle, now=now, reason="no responsible unit")
    return whistle


def find_summons(token: str) -> WhistleSummons:
    """The summons an answer link belongs to; NotFound for an unknown token."""
    if not token or len(token) > 64:
        raise NotFound(_l("This link is not valid."))
    found = db.session.scalar(select(WhistleSummons).where(WhistleSummons.token_hash == hash_token(token)))
    if found is None:
        raise NotFound(_l("This link is not valid."))
    return found


def answer_by_token(token: str, action: str, *, now: datetime, note: str | None = None) -> WhistleSummons:
    """The duty contact answers from the link: acknowledge, arrived on site (报到) or resolved."""
    summons = find_summons(token)
    return _answer(summons, action, actor=f"unit:{summons.unit_id}", now=now, note=note)


def answer_for_unit(whistle_id: int, unit_id: int, action: str, *, scope: Scope, now: datetime,
                    note: str | None = None) -> WhistleSummons:
    """An office records a unit's answer given by phone or in person."""
    summons = db.session.scalar(select(WhistleSummons).where(WhistleSummons.whistle_id == whistle_id,
                                                             WhistleSummons.unit_id == unit_id))
    if summons is None:
        raise ValidationFailed.field("unit_id", _l("This unit was not summoned to this whistle."))
    return _answer(summons, action, actor=scope.actor, now=now, note=note)


def _answer(summons: WhistleSummons, action: str, *, actor: str, now: datetime, note: str | None) -> WhistleSummons:
    """Stamp the answer once (a conditional UPDATE, so two presses or two people never stamp it twice);
    arriving implies acknowledging, resolving implies both. Answering a closed whistle is a conflict."""
    if action not in ANSWERS:
        raise ValidationFailed.field("action", _l("One of: %(answers)s.", answers=', '.join(ANSWERS)))
    whistle = summons.whistle
    if whistle.status is WhistleStatus.CLOSED:
        raise Conflict.wrong_state("whistle", whistle.status.value, action)
    note = (note or "").strip()[:500] or None
    stamps = {"ack": ("acked_at",), "arrive": ("acked_at", "arrived_at"),
              "resolve": ("acked_at", "arrived_at", "resolved_at")}[action]
    table = WhistleSummons.__table__
    changed = False
    for column in stamps:
        done = db.session.execute(update(table).where(table.c.id == summons.id, table.c[column].is_(None))
                                  .values({column: now})).rowcount
        changed = changed or bool(done)
    if note:
        db.session.execute(update(table).where(table.c.id == summons.id).values(note=note))
    if changed or note:
        _event(whistle.id, action, actor, now, unit_id=summons.unit_id, note=note)
    if action in ("arrive", "resolve"):
        # Someone is on site: nothing left to escalate.
        db.session.execute(update(Whistle).where(Whistle.id == whistle.id).values(next_escalation_at=None)
                           .execution_options(synchronize_session=False))
    db.session.commit()
    db.session.refresh(summons)
    return summons


def _may_close(whistle: Whistle, scope: Scope) -> bool:
    """The originator closes it off: the account that raised it, or staff of its grid or above."""
    return scope.is_admin or scope.actor == whistle.raised_by or (
        scope.role is Role.OFFICE and scope.covers(whistle.grid.path))


def close_whistle(whistle_id: int, *, note: str, scope: Scope, now: datetime) -> Whistle:
    """Close the case off (销号) with a note; a closed whistle is answered and escalated no more."""
    whistle = get_whistle(whistle_id)
    note = (note or "").strip()
    if not note:
        raise ValidationFailed.field("note", _l("Say how the problem was solved."))
    if not _may_close(whistle, scope):
        raise NotFound.of("whistle", whistle_id)
    done = db.session.execute(update(Whistle).where(Whistle.id == whistle.id, Whistle.status == WhistleStatus.OPEN)
                              .values(status=WhistleStatus.CLOSED, closed_at=now, close_note=note[:500],
                                      next_escalation_at=None).execution_options(synchronize_session=False)).rowcount
    if done != 1:
        db.session.rollback()
        raise Conflict.wrong_state("whistle", get_whistle(whistle_id).status.value, "close")
    _event(whistle.id, "closed", scope.actor, now, note=note[:500])
    db.session.commit()
    db.session.refresh(whistle)
    return whistle


def reopen_whistle(whistle_id: int, *, note: str, scope: Scope, now: datetime) -> Whistle:
    """Reopen a closed whistle: its units must resolve it again, are summoned again, and the clock restarts."""
    whistle = get_whistle(whistle_id)
    note = (note or "").strip()
    if not note:
        raise ValidationFailed.field("note", _l("Say why the case is reopened."))
    if not _may_close(whistle, scope):
        raise NotFound.of("whistle", whistle_id)
    ack, arrive, resolve = DEADLINES[whistle.grade]
    done = db.session.execute(
        update(Whistle).where(Whistle.id == whistle.id, Whistle.status == WhistleStatus.CLOSED)
        .values(status=WhistleStatus.OPEN, closed_at=None, reopened_count=Whistle.reopened_count + 1,
                resolve_due_at=now + resolve, next_escalation_at=now + ack, escalation_level=0)
        .execution_options(synchronize_session=False)).rowcount
    if done != 1:
        db.session.rollback()
        raise Conflict.wrong_state("whistle", get_whistle(whistle_id).status.value, "reopen")
    db.session.execute(update(WhistleSummons).where(WhistleSummons.whistle_id == whistle.id)
                       .values(resolved_at=None).execution_options(synchronize_session=False))
    _event(whistle.id, "reopened", scope.actor, now, note=note[:500])
    db.session.refresh(whistle)
    whistle_calls._issue_summons_tokens(whistle, list(whistle.summons), now=now, round_no=whistle.reopened_count)
    db.session.commit()
    return whistle


def _unanswered(whistle: Whistle, now: datetime) -> bool:
    """Nobody on site, and either nobody acknowledged or the arrival deadline has passed."""
    if any(item.arrived_at for item in whistle.summons):
        return False
    return not any(item.acked_at for item in whistle.summons) or now >= whistle.arrive_due_at


def _escalate(whistle: Whistle, *, now: datetime, reason: str) -> None:
    """One level up: the street office above the grid, then the district; in the caller's transaction."""
    level = whistle.escalation_level + 1
    ids = path_ids(whistle.grid.path)
    office_grid_id = ids[min(MAX_LEVEL - level, len(ids) - 1)]  # path index 1 = street office, 0 = district
    ack, _, _ = DEADLINES[whistle.grade]
    done = db.session.execute(
        update(Whistle).where(Whistle.id == whistle.id, Whistle.escalation_level == level - 1)
        .values(escalation_level=level, next_escalation_at=now + ack if level < MAX_LEVEL else None)
        .execution_options(synchronize_session=False)).rowcount
    if done != 1:
        return  # another scheduler process escalated it first
    whistle_calls._queue_escalation(whistle, office_grid_id=office_grid_id, level=level, now=now)
    _event(whistle.id, f"escalated_{level}", "system", now, note=reason)


def escalate_whistles(*, now: datetime, limit: int = 200) -> int:
    """The scheduler's tick: escalate every open whistle whose escalation time has come and nobody answered."""
    due = db.session.scalars(
        select(Whistle).where(Whistle.status == WhistleStatus.OPEN, Whistle.next_escalation_at.is_not(None),
                              Whistle.next_escalation_at <= now)
        .order_by(Whistle.next_escalation_at).limit(limit)).all()
    escalated = 0
    for whistle in due:
        if _unanswered(whistle, now):
            _escalate(whistle, now=now, reason="unanswered")
            escalated += 1
        else:
            # Acknowledged in time: look again when the arrival deadline passes.
            later = whistle.arrive_due_at if whistle.arrive_due_at > now else None
            db.session.execute(update(Whistle).where(Whistle.id == whistle.id,
                                                     Whistle.next_escalation_at == whistle.next_escalation_at)
                               .values(next_escalation_at=later).execution_options(synchronize_session=False))
        db.session.commit()
    return escalated


def whistle_events(whistle_id: int) -> list[WhistleEvent]:
    return list(db.session.scalars(select(WhistleEvent).where(WhistleEvent.whistle_id == whistle_id)
                                   .order_by(WhistleEvent.id)))


# Problem kind -> campaign kind of the staffing campaign a whistle may turn into.
CAMPAIGN_KINDS = {ProblemKind.GAS_SAFETY: CampaignKind.GAS_SAFETY, ProblemKind.WATER_POWER: CampaignKind.EMERGENCY,
                  ProblemKind.FIRE_SAFETY: CampaignKind.EMERGENCY, ProblemKind.PUBLIC_ORDER: CampaignKind.PATROL}


def turn_into_campaign(whistle_id: int, data: dict[str, Any], *, scope: Scope, now: datetime):
    """When people are needed: a draft staffing campaign at the whistle's grid, linked to it; one transaction.
    The office reviews, matches and publishes it like any campaign."""
    whistle = get_whistle(whistle_id)
    if whistle.status is WhistleStatus.CLOSED or whistle.campaign_id is not None:
        raise Conflict.wrong_state("whistle", "closed" if whistle.status is WhistleStatus.CLOSED else "has a campaign",
                                   "staff")
    if data["end"] <= data["start"]:
        raise ValidationFailed.field("end", _l("The end must come after the start."))
    office_id = data.get("office_grid_id") or path_ids(whistle.grid.path)[min(2, len(path_ids(whistle.grid.path)) - 1)]
    campaign = _draft_campaign(
        {"title": _("Whistle: %(title)s", title=whistle.title)[:200],
         "kind": CAMPAIGN_KINDS.get(whistle.kind, CampaignKind.OTHER),
         "priority": whistle.grade, "office_grid_id": office_id, "description": whistle.description or None,
         "shifts": [{"start": data["start"], "end": data["end"], "grid_id": whistle.grid_id, "place": whistle.address,
                     "positions": [{"role": data["role"], "headcount": data["headcount"], "required_skills": [],
                                    "preferred_skills": [], "min_party_members": 0, "required_identities": []}]}]},
        scope=scope, now=now)
    done = db.session.execute(update(Whistle).where(Whistle.id == whistle.id, Whistle.campaign_id.is_(None))
                              .values(campaign_id=campaign.id).execution_options(synchronize_session=False)).rowcount
    if done != 1:
        db.session.rollback()
        raise Conflict.wrong_state("whistle", "has a campaign", "staff")
    _event(whistle.id, "campaign", scope.actor, now, note=f"campaign {campaign.id}")
    db.session.commit()
    return campaign
