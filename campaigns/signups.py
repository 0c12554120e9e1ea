"""Sign-ups: a campaign may let volunteers take its open places themselves ("activities near me").

An office opens a campaign to sign-ups with its policy (``sign_ups``). A volunteer then sees the open
places of shifts in their own street that have not started, nearest first (their grid, their community,
their street), each with whether they may take it: the very gates the matcher applies
(``team_offers._member_refusals``). Taking one writes a call-up that is already sent and accepts it by the
one answer path (``responses.accept_callup``), so a place is never over-filled, the person is confirmed
like anyone who said yes, and a full position keeps them on standby.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from campaigns.models import Campaign, CallUp, CallUpEvent, CallUpStatus, Position, Shift
from campaigns.places import open_places_of, pending_by_position
from campaigns.responses import accept_callup
from campaigns.team_offers import OFFERABLE, MembersRefused, _member_refusals
from core.errors import Conflict, NotFound
from core.i18n import _l
from extensions import db
from grids.models import Grid
from volunteers.models import Volunteer

SIGNED_UP_NOTE = "signed up"
# How far ahead openings are listed, and how many at most (nearest first, then soonest).
HORIZON = timedelta(days=60)
MAX_OPENINGS = 50
# How near a shift is to the person's home grid: the deepest level their paths share.
NEAR_GRID, NEAR_COMMUNITY, NEAR_STREET = 3, 2, 1
STREET_LEVEL = 1


@dataclass(frozen=True)
class Opening:
    """One position the person could take: its places left, how near it is, and the gate they fail (or None)."""

    position: Position
    places_left: int
    nearness: int
    refusal: str | None


def _street_path(grid_path: str) -> str | None:
    """The path of the street a grid lies in ("/1/5/" of "/1/5/23/"), or None above street level."""
    ids = [part for part in grid_path.strip("/").split("/") if part]
    return "/" + "/".join(ids[:STREET_LEVEL + 1]) + "/" if len(ids) > STREET_LEVEL else None


def _shared_depth(home_path: str, shift_path: str) -> int:
    home, there = home_path.strip("/").split("/"), shift_path.strip("/").split("/")
    depth = 0
    while depth < min(len(home), len(there)) and home[depth] == there[depth]:
        depth += 1
    return depth - 1


def _person(volunteer_id: int) -> tuple[Volunteer, str]:
    row = db.session.execute(select(Volunteer, Grid.path).join(Grid, Grid.id == Volunteer.home_grid_id)
                             .where(Volunteer.id == volunteer_id)).first()
    if row is None:
        raise NotFound.of("volunteer", volunteer_id)
    return row[0], row[1]


def openings_near(volunteer_id: int, *, now: datetime) -> list[Opening]:
    """Open places of sign-up campaigns in the person's street, nearest first, then soonest; gates checked."""
    person, home_path = _person(volunteer_id)
    street = _street_path(home_path)
    if street is None:
        return []
    held = select(CallUp.position_id).where(CallUp.volunteer_id == person.id)
    rows = db.session.execute(
        select(Position, Grid.path).join(Shift, Shift.id == Position.shift_id)
        .join(Campaign, Campaign.id == Shift.campaign_id).join(Grid, Grid.id == Shift.grid_id)
        .where(Campaign.status.in_(OFFERABLE), Campaign.policy["sign_ups"].as_boolean().is_(True),
               Shift.start_at > now, Shift.start_at < now + HORIZON, Grid.path.startswith(street),
               Position.accepted_count < Position.headcount, Position.id.not_in(held))
        .order_by(Shift.start_at, Position.id).limit(MAX_OPENINGS * 4)).all()
    pending = pending_by_position(position_ids=[position.id for position, _ in rows]) if rows else {}
    openings = []
    for position, path in sorted(rows, key=lambda row: -_shared_depth(home_path, row[1])):
        left = open_places_of(position, pending.get(position.id, 0))
        if left < 1:
            continue
        refusals = _member_refusals(position, [person.id])
        openings.append(Opening(position, left, _shared_depth(home_path, path),
                                refusals[0].code if refusals else None))
        if len(openings) == MAX_OPENINGS:
            break
    return openings


def sign_up(volunteer_id: int, position_id: int, *, now: datetime, actor: str) -> CallUp:
    """Take an open place of a sign-up campaign in the person's street: a sent call-up, accepted at once.

    Refused (409) when the campaign does not take sign-ups or the shift has started, (422) with the gate when
    the person does not qualify; a full position keeps them on standby (409 ``standby``, as for any "yes").
    """
    person, home_path = _person(volunteer_id)
    position = db.session.get(Position, position_id)
    if position is None:
        raise NotFound.of("position", position_id)
    shift, campaign = position.shift, position.shift.campaign
    street = _street_path(home_path)
    shift_path = db.session.scalar(select(Grid.path).where(Grid.id == shift.grid_id))
    if campaign.status not in OFFERABLE or not (campaign.policy or {}).get("sign_ups") \
            or street is None or not shift_path.startswith(street):
        raise Conflict(_l("This activity does not take sign-ups from you."),
                       {"position_id": [_l("Not open to sign-ups.")]}, code="sign_ups_closed")
    if shift.start_at <= now:
        raise Conflict(_l("The shift has already started."), {"position_id": [_l("The shift has already started.")]},
                       code="shift_started")
    live = db.session.scalar(select(CallUp).where(CallUp.position_id == position.id, CallUp.volunteer_id == person.id,
                                                  CallUp.status != CallUpStatus.DECLINED))
    if live is None:
        refusals = _member_refusals(position, [person.id])
        if refusals:
            raise MembersRefused(refusals, field="volunteer_id")
        live = _sent_callup(position, person.id, now=now, actor=actor)
    if live.status is CallUpStatus.ACCEPTED:
        return live
    if live.status is not CallUpStatus.SENT:
        raise Conflict(_l("You already have a call-up for this place."), {"position_id": [_l("Already called.")]},
                       code="already_called", about={"status": live.status.value})
    return accept_callup(live.id, actor=actor, now=now)


def _sent_callup(position: Position, volunteer_id: int, *, now: datetime, actor: str) -> CallUp:
    """A call-up the person sent themselves: open until the shift starts; committed."""
    callup = CallUp(position_id=position.id, volunteer_id=volunteer_id, status=CallUpStatus.SENT, send_at=now,
                    sent_at=now, expires_at=position.shift.start_at, wave=0, created_at=now, updated_at=now,
                    seen_at=now, breakdown={"signed_up": True})
    callup.events.append(CallUpEvent(at=now, actor=actor[:100], from_state=None, to_state=CallUpStatus.SENT.value,
                                     note=SIGNED_UP_NOTE))
    db.session.add(callup)
    try:
        db.session.commit()
    except IntegrityError:  # a second tap, or the matcher called them meanwhile
        db.session.rollback()
        callup = db.session.scalar(select(CallUp).where(
            CallUp.position_id == position.id, CallUp.volunteer_id == volunteer_id,
            CallUp.status != CallUpStatus.DECLINED))
        if callup is None:
            raise
    return callup
