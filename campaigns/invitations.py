"""Named invitations: a clerk invites one person they know to a position, outside the matcher's pick.

The person must pass the very gates the matcher applies (the ones a team leader's named members pass:
``team_offers._member_refusals``), a place must be open, and they must not hold a live call-up for the
position already. The call-up is scheduled now; the dispatcher sends it through the person's channels
with an answer deadline, like any other, so the answer path, reminders and backfill treat it the same.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from campaigns.models import CallUp, CallUpEvent, CallUpStatus, Position
from campaigns.places import open_places_of
from campaigns.team_offers import OFFERABLE, MembersRefused, _member_refusals
from core.errors import Conflict, NotFound, ValidationFailed, word
from core.i18n import _l
from core.scope import Scope
from extensions import db
from grids.models import Grid
from volunteers.models import Volunteer

INVITED_NOTE = "invited by name"


def _position_of(campaign_id: int, position_id: int, *, now: datetime) -> Position:
    position = db.session.get(Position, position_id)
    if position is None or position.shift.campaign_id != campaign_id:
        raise NotFound.of("position", position_id)
    if position.shift.campaign.status not in OFFERABLE:
        raise Conflict.wrong_state("campaign", position.shift.campaign.status.value, "invite people to")
    if position.shift.start_at <= now:
        raise Conflict(_l("the shift has already started"), {"position_id": [_l("The shift has already started.")]})
    return position


def find_person(mobile: str, *, scope: Scope) -> Volunteer:
    """The person with this mobile in the caller's subtree; outside it they do not exist for the caller."""
    person = db.session.scalar(select(Volunteer).join(Grid, Grid.id == Volunteer.home_grid_id)
                               .where(Volunteer.mobile == mobile.strip(), scope.grid_clause(Grid.path)))
    if person is None:
        raise ValidationFailed.field("mobile", _l("Nobody with this mobile in your area."))
    return person


def invite_person(campaign_id: int, position_id: int, volunteer_id: int, *, scope: Scope, now: datetime) -> CallUp:
    """A scheduled call-up for this person, sent by the dispatcher at once; refused with the gate that fails."""
    position = _position_of(campaign_id, position_id, now=now)
    person = db.session.get(Volunteer, volunteer_id)
    if person is None or not scope.covers(db.session.get(Grid, person.home_grid_id).path):
        raise NotFound.of("volunteer", volunteer_id)
    held = db.session.scalar(select(CallUp.status).where(
        CallUp.position_id == position.id, CallUp.volunteer_id == person.id, CallUp.status != CallUpStatus.DECLINED))
    if held is not None:
        raise Conflict(_l("this person is already called for this position"),
                       {"volunteer_id": [_l("Already called (%(held)s).", held=word(held.value))]})
    if open_places_of(position) < 1:
        raise ValidationFailed.field("position_id", _l("No place is open."))
    refusals = _member_refusals(position, [person.id])
    if refusals:
        raise MembersRefused(refusals, field="volunteer_id")
    callup = CallUp(position_id=position.id, volunteer_id=person.id, status=CallUpStatus.SCHEDULED, send_at=now,
                    wave=0, created_at=now, updated_at=now, breakdown={"invited_by": scope.actor[:100]})
    callup.events.append(CallUpEvent(at=now, actor=scope.actor[:100], from_state=None,
                                     to_state=CallUpStatus.SCHEDULED.value, note=INVITED_NOTE))
    db.session.add(callup)
    try:
        db.session.commit()
    except IntegrityError:  # a second click, or the matcher, called them meanwhile
        db.session.rollback()
        raise Conflict(_l("this person is already called for this position"),
                       {"volunteer_id": [_l("Already called.")]}) from None
    return callup
