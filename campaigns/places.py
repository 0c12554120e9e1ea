"""Places and answers, in one home: open and pending places, taking and giving back a place, the answer deadline.

A position's **open places** are ``headcount − accepted − pending``: ``accepted`` is the counter
``Position.accepted_count`` (people who said yes; a team's own call-up is never one of them),
``pending`` the places held by unanswered call-ups (``CallUp.held_places``: a team offer holds
the places it offers, a person one, someone on standby none). Whether a call-up is open is
``CallUp.is_open``; both are hybrid properties, so one name works in Python and in SQL.

A place is taken only by ``_take_places`` (one conditional UPDATE, never beyond the headcount)
and given back only by ``_give_back_place``, which offers it at once to the first person on
standby: they said yes when the position was full and were promised the next free place.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select, update

from callups.links import _issue_link
from callups.models import NotificationKind
from callups.outbox import _queue_callup_message, callup_template, push_time
from campaigns.models import (CLOSED_CAMPAIGN_STATES, OPEN_CALLUP_STATES, TAKEN_CALLUP_STATES, CallUp,
                              CallUpStatus, Campaign, Position, Priority, Shift)
from campaigns.policy import effective_policy
from campaigns.states import _record_event
from extensions import db

S = CallUpStatus

__all__ = ["OPEN_CALLUP_STATES", "TAKEN_CALLUP_STATES", "CLOSED_CAMPAIGN_STATES", "join_shift", "pending_places",
           "pending_by_position", "open_places", "open_places_of", "answer_deadline", "answer_window",
           "_take_places", "_give_back_place", "_offer_to_standby"]


def join_shift(stmt: Select) -> Select:
    """``stmt`` over call-ups joined to their position and its shift (the one call-up → position → shift join)."""
    return stmt.join(Position, Position.id == CallUp.position_id).join(Shift, Shift.id == Position.shift_id)


def pending_places():
    """SQL: the places held by unanswered call-ups of the enclosing query's position (a correlated subquery)."""
    return (select(func.coalesce(func.sum(CallUp.held_places), 0)).where(CallUp.position_id == Position.id)
            .correlate(Position).scalar_subquery())


def open_places():
    """SQL: the enclosing query's position's open places, ``headcount − accepted − pending``."""
    return Position.headcount - Position.accepted_count - pending_places()


def pending_by_position(*, campaign_id: int | None = None, position_ids: list[int] | None = None) -> dict[int, int]:
    """Held places per position (positions without any are left out), for a campaign or some positions."""
    stmt = join_shift(select(CallUp.position_id, func.sum(CallUp.held_places))).group_by(CallUp.position_id)
    if campaign_id is not None:
        stmt = stmt.where(Shift.campaign_id == campaign_id)
    if position_ids is not None:
        stmt = stmt.where(CallUp.position_id.in_(position_ids))
    return {position_id: int(held or 0) for position_id, held in db.session.execute(stmt)}


def open_places_of(position: Position, pending: int | None = None) -> int:
    """Open places of ``position`` as committed now (``pending``: already counted by the caller)."""
    if pending is None:
        return int(db.session.scalar(select(open_places()).where(Position.id == position.id)))
    return position.headcount - position.accepted_count - pending


def answer_deadline(*, reaches: datetime, minutes: int, shift_start: datetime) -> datetime:
    """The one answer-deadline rule: ``minutes`` from when the message reaches the addressee, never after
    the shift starts (an answer after it is useless)."""
    return min(reaches + timedelta(minutes=int(minutes)), shift_start)


def answer_window(addressee_id: int | None, *, shift: Shift, campaign: Campaign, now: datetime,
                  minutes: int | None = None, policy: dict[str, Any] | None = None) -> tuple[datetime, datetime]:
    """(when the call-up reaches ``addressee_id``, its answer deadline) for a person or a team's leader.

    The window opens when the message goes out (after quiet hours and the daily cap, ``push_time``;
    at once in an emergency) and lasts the policy's ``response_minutes`` unless ``minutes`` is given.
    """
    reaches = push_time(addressee_id, now=now, kind=NotificationKind.CALLUP,
                        emergency=campaign.priority is Priority.EMERGENCY,
                        before=shift.start_at)
    if minutes is None:
        minutes = int((policy or effective_policy(campaign))["response_minutes"])
    return reaches, answer_deadline(reaches=reaches, minutes=minutes, shift_start=shift.start_at)


def _take_places(position_id: int, count: int) -> bool:
    """Raise the position's counter by ``count`` only if that stays within the headcount; no commit.

    One conditional UPDATE (the row lock serialises racing answers), so nobody over-fills.
    """
    return db.session.execute(
        update(Position).where(Position.id == position_id, Position.accepted_count + count <= Position.headcount)
        .values(accepted_count=Position.accepted_count + count)
        .execution_options(synchronize_session=False)).rowcount == 1


def _give_back_place(position_id: int, *, now: datetime, actor: str) -> bool:
    """Lower the position's counter by one and offer the freed place to the first on standby; no commit.

    Returns False (and changes nothing) when the counter is already 0.
    """
    lowered = db.session.execute(
        update(Position).where(Position.id == position_id, Position.accepted_count > 0)
        .values(accepted_count=Position.accepted_count - 1)
        .execution_options(synchronize_session=False)).rowcount == 1
    if lowered:
        _offer_to_standby(position_id, now=now, actor=actor)
    return lowered


def _offer_to_standby(position_id: int, *, now: datetime, actor: str) -> list[int]:
    """Offer the position's open places to the people on standby, first come first served; no commit.

    Each one's call-up leaves standby and gets a fresh answer window (as any call-up: from when the
    message reaches them, never past the start), a new link and a call-up message; from then on it
    holds the place, so the backfill calls no one new for it. Returns the call-up ids offered.
    """
    free = open_places_of(db.session.get(Position, position_id))
    if free <= 0:
        return []
    waiting = db.session.scalars(
        select(CallUp).where(CallUp.position_id == position_id, CallUp.status == S.SENT,
                             CallUp.standby_at.is_not(None), CallUp.expires_at > now)
        .order_by(CallUp.standby_at, CallUp.id).limit(free)).all()
    offered = []
    for callup in waiting:
        shift = callup.position.shift
        if shift.start_at <= now:
            break
        reaches, expires = answer_window(callup.volunteer_id, shift=shift, campaign=shift.campaign, now=now)
        moved = db.session.execute(
            update(CallUp).where(CallUp.id == callup.id, CallUp.status == S.SENT, CallUp.standby_at.is_not(None))
            .values(standby_at=None, sent_at=now, expires_at=expires, updated_at=now)
            .execution_options(synchronize_session=False)).rowcount
        if moved != 1:
            continue
        db.session.refresh(callup)
        _record_event(callup.id, S.SENT, S.SENT, now=now, actor=actor, note="standby: a place freed, offered")
        token = _issue_link(callup.id, expires_at=expires, now=now)
        _queue_callup_message(callup, NotificationKind.CALLUP, template=callup_template(callup), now=now,
                              serial="standby-" + now.strftime("%Y%m%d%H%M%S%f"), token=token, push_at=reaches)
        offered.append(callup.id)
    return offered


def _offer_standby_of_campaign(campaign_id: int, *, now: datetime, actor: str) -> list[int]:
    """``_offer_to_standby`` for every not-yet-started position of a campaign with open places and
    someone on standby (a place freed outside the answer path: an erasure, a correction); no commit."""
    positions = db.session.scalars(
        join_shift(select(CallUp.position_id)).where(
            Shift.campaign_id == campaign_id, Shift.start_at > now, CallUp.status == S.SENT,
            CallUp.standby_at.is_not(None), CallUp.expires_at > now, open_places() > 0)
        .distinct().order_by(CallUp.position_id)).all()
    offered: list[int] = []
    for position_id in positions:
        offered += _offer_to_standby(position_id, now=now, actor=actor)
    return offered
