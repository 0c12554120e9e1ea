"""Changing a shift of a published campaign: new time, place or note, and telling everyone affected."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from notices.links import _issue_link
from notices.models import NotificationKind, ResponseLink
from campaigns.messaging import _queue_callup_message
from campaigns.models import CallUp, CallUpStatus, Campaign, CampaignStatus, Position, Shift
from campaigns.states import _record_event
from core.errors import Conflict, NotFound, ValidationFailed
from core.i18n import _l
from core.scope import Scope
from extensions import db
from grids.models import Grid
from grids.paths import is_within
from grids.services import resolve_grid
from volunteers.models import Team

S = CallUpStatus
# Published and still recruiting or staffed; a draft is edited as a whole, a closed campaign not at all.
CHANGEABLE = (CampaignStatus.PUBLISHED, CampaignStatus.STAFFED, CampaignStatus.PARTLY_STAFFED)


def get_shift(shift_id: int) -> Shift:
    shift = db.session.get(Shift, shift_id)
    if shift is None:
        raise NotFound.of("shift", shift_id)
    return shift


def _new_values(shift: Shift, data: dict[str, Any], *, scope: Scope, now: datetime) -> dict[str, Any]:
    """The shift's changed columns, checked; start alone moves the shift and keeps its length."""
    start = data.get("start", shift.start_at)
    end = data.get("end", shift.end_at if "start" not in data else start + (shift.end_at - shift.start_at))
    errors: dict[str, list[str]] = {}
    if start <= now:
        errors["start"] = ["Must be in the future."]
    if end <= start:
        errors["end"] = ["Must be after start."]
    values: dict[str, Any] = {}
    if "grid_id" in data and data["grid_id"] != shift.grid_id:
        place = resolve_grid(data["grid_id"], "grid_id", scope)
        office = db.session.get(Grid, shift.campaign.office_grid_id)
        if not is_within(place.path, office.path):
            errors["grid_id"] = [f"Grid {place.code} is outside the office {office.code}."]
        values["grid_id"] = place.id
    if errors:
        raise ValidationFailed(errors)
    if start != shift.start_at:
        values["start_at"] = start
    if end != shift.end_at:
        values["end_at"] = end
    if "place" in data and (data["place"] or None) != shift.place:
        values["place"] = data["place"] or None
    return values


def _describe(values: dict[str, Any], note: str | None) -> str:
    parts = [name for name, keys in (("time", ("start_at", "end_at")), ("place", ("grid_id", "place")))
             if any(key in values for key in keys)]
    text = "shift changed: " + (", ".join(parts) or "note only")
    return f"{text} — {note}" if note else text


def change_shift(shift_id: int, data: dict[str, Any], *, scope: Scope, now: datetime) -> Shift:
    """Change the time, place or note of a published campaign's shift and tell everyone affected.

    One transaction: the shift is updated only while it has not started and its campaign is
    published (a conditional UPDATE, row count checked). Every accepted person and every
    person with an open invitation (sent, not yet answered; a team call-up's leader) gets a
    "changed" message, the open ones with a fresh answer link, and each call-up records an
    event. A new time or place stamps ``changed_at``: people who declined before it may be
    asked again (campaigns/recruitment.py), since the changed need is a new question. Call-ups
    not yet sent need no message: their invitation will carry the new details.
    """
    shift = get_shift(shift_id)
    campaign = shift.campaign
    if campaign.status not in CHANGEABLE:
        raise Conflict.wrong_state("campaign", campaign.status.value, "change a shift of")
    if shift.start_at <= now:
        raise Conflict(_l("the shift has already started"), {"start": [_l("The shift has already started.")]})
    note = (data.get("note") or "").strip() or None
    values = _new_values(shift, data, scope=scope, now=now)
    if not values and not note:
        raise ValidationFailed.field("note", _l("Nothing changes: give a new time or place, or a note."))
    if values:
        values["changed_at"] = now
        open_campaign = select(Campaign.id).where(Campaign.id == Shift.campaign_id,
                                                  Campaign.status.in_(CHANGEABLE)).exists()
        moved = db.session.execute(
            update(Shift).where(Shift.id == shift.id, Shift.start_at > now, open_campaign)
            .values(**values).execution_options(synchronize_session=False)).rowcount
        if moved != 1:
            db.session.rollback()
            raise Conflict(_l("the shift started or its campaign closed meanwhile; nothing was changed"))
        db.session.refresh(shift)
    _tell_affected(shift, note=note, summary=_describe(values, note), actor=scope.actor, now=now)
    db.session.commit()
    return shift


def _tell_affected(shift: Shift, *, note: str | None, summary: str, actor: str, now: datetime) -> int:
    """Events and "changed" messages for the shift's accepted and open call-ups; no commit."""
    positions = select(Position.id).where(Position.shift_id == shift.id).scalar_subquery()
    # An open answer window never outlasts the (possibly earlier) start.
    of_shift = select(CallUp.id).where(CallUp.position_id.in_(positions))
    for table, where in ((CallUp, CallUp.id.in_(of_shift)), (ResponseLink, ResponseLink.callup_id.in_(of_shift))):
        db.session.execute(update(table).where(where, table.expires_at > shift.start_at)
                           .values(expires_at=shift.start_at).execution_options(synchronize_session=False))
    callups = db.session.scalars(
        select(CallUp).where(CallUp.position_id.in_(positions), CallUp.status.in_((S.ACCEPTED, S.SENT)))
        .order_by(CallUp.id)).all()
    serial = "changed-" + now.strftime("%Y%m%d%H%M%S%f")
    told = 0
    for callup in callups:
        db.session.refresh(callup)
        _record_event(callup.id, callup.status, callup.status, now=now, actor=actor, note=summary)
        token = None
        if callup.status is S.SENT and callup.expires_at is not None and callup.expires_at > now:
            token = _issue_link(callup.id, expires_at=callup.expires_at, now=now)
        leader = None
        if callup.volunteer_id is None and callup.team_id is not None:
            leader = db.session.scalar(select(Team.leader_id).where(Team.id == callup.team_id))
        told += bool(_queue_callup_message(callup, NotificationKind.CHANGE, template="changed", now=now,
                                           serial=serial, token=token, note=note, to=leader))
    return told


__all__ = ["change_shift", "get_shift", "CHANGEABLE"]
