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

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import contains_eager, joinedload, lazyload
from sqlalchemy.orm.attributes import set_committed_value

from campaigns.messaging import callup_template, message_rows
from campaigns.models import (CLOSED_CAMPAIGN_STATES, OPEN_CALLUP_STATES, TAKEN_CALLUP_STATES, CallUp,
                              CallUpStatus, Campaign, Position, Priority, Shift)
from campaigns.policy import effective_policy
from campaigns.states import _record_event
from extensions import db
from notices.links import _issue_link
from notices.models import NotificationKind
from notices.outbox import insert_rows, push_times
from volunteers.models import Volunteer

S = CallUpStatus

__all__ = ["OPEN_CALLUP_STATES", "TAKEN_CALLUP_STATES", "CLOSED_CAMPAIGN_STATES", "join_shift", "pending_places",
           "pending_by_position", "open_places", "open_places_of", "answer_deadline", "answer_window",
           "with_addressee", "_take_places", "_give_back_place", "_offer_to_standby"]


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
    """Open places of ``position`` as committed now (``pending``: already counted by the caller; then a row with
    the position's ``headcount`` and ``accepted_count`` will do)."""
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
    return answer_windows([(addressee_id, shift, campaign, policy)], now=now, minutes=minutes)[0]


def answer_windows(calls: Sequence[tuple[int | None, Shift, Campaign, dict[str, Any] | None]], *, now: datetime,
                   minutes: int | None = None) -> list[tuple[datetime, datetime]]:
    """``answer_window`` of call-ups to different people, each given as (addressee, shift, campaign, policy or
    None): their daily caps are counted together (``push_times``)."""
    reaches = push_times([(addressee_id, campaign.priority is Priority.EMERGENCY, shift.start_at)
                          for addressee_id, shift, campaign, _policy in calls], now=now, kind=NotificationKind.CALLUP)
    windows = []
    for at, (_addressee_id, shift, campaign, policy) in zip(reaches, calls):
        length = minutes if minutes is not None else int((policy or effective_policy(campaign))["response_minutes"])
        windows.append((at, answer_deadline(reaches=at, minutes=length, shift_start=shift.start_at)))
    return windows


def with_addressee(stmt: Select) -> Select:
    """``stmt`` over call-ups made to load, in its one query, each call-up's position, shift and campaign and
    the person it addresses with their channel consents (all a message about it needs); select
    ``(CallUp, Volunteer)`` and read it with ``.unique()``."""
    return (join_shift(stmt).join(Campaign, Campaign.id == Shift.campaign_id)
            .outerjoin(Volunteer, Volunteer.id == CallUp.volunteer_id)
            .options(lazyload(CallUp.events),
                     contains_eager(CallUp.position).lazyload(Position.skills),
                     contains_eager(CallUp.position).contains_eager(Position.shift).lazyload(Shift.positions),
                     contains_eager(CallUp.position).contains_eager(Position.shift).contains_eager(Shift.campaign)
                     .lazyload(Campaign.shifts),
                     lazyload(Volunteer.skills), lazyload(Volunteer.availability), lazyload(Volunteer.blackouts),
                     joinedload(Volunteer.channel_consents)))


def _take_places(position_id: int, count: int) -> tuple[int, int] | None:
    """Raise the position's counter by ``count`` only if that stays within the headcount; no commit.

    One conditional UPDATE (the row lock serialises racing answers), so nobody over-fills. Returns the
    position's (accepted, headcount) after it, or None when the places were not there.
    """
    row = db.session.execute(
        update(Position).where(Position.id == position_id, Position.accepted_count + count <= Position.headcount)
        .values(accepted_count=Position.accepted_count + count)
        .returning(Position.accepted_count, Position.headcount)
        .execution_options(synchronize_session=False)).first()
    return (row[0], row[1]) if row is not None else None


def _give_back_place(position_id: int, *, now: datetime, actor: str,
                     outbox: list[dict[str, Any]] | None = None) -> tuple[int, int] | None:
    """Lower the position's counter by one and offer the freed place to the first on standby; no commit.

    Returns the position's (accepted, headcount) after it, or None (and changes nothing) when the counter
    is already 0. The offer's outbox rows go to ``outbox`` when given (the caller writes them with its own),
    else they are written here.
    """
    row = db.session.execute(
        update(Position).where(Position.id == position_id, Position.accepted_count > 0)
        .values(accepted_count=Position.accepted_count - 1)
        .returning(Position.accepted_count, Position.headcount)
        .execution_options(synchronize_session=False)).first()
    if row is None:
        return None
    _offer_to_standby(position_id, now=now, actor=actor, outbox=outbox)
    return row[0], row[1]


def _offer_to_standby(position_id: int, *, now: datetime, actor: str,
                      outbox: list[dict[str, Any]] | None = None) -> list[int]:
    """Offer the position's open places to the people on standby, first come first served; no commit.

    Each one's call-up leaves standby and gets a fresh answer window (as any call-up: from when the
    message reaches them, never past the start), a new link and a call-up message; from then on it
    holds the place, so the backfill calls no one new for it. One query finds them (ranked by when they
    said yes, as many as there are open places), one UPDATE per distinct deadline moves them, and their
    messages are written in one INSERT (into ``outbox`` when given). Returns the call-up ids offered.
    """
    ranked = (select(CallUp.id, func.row_number().over(order_by=(CallUp.standby_at, CallUp.id)).label("rank"))
              .where(CallUp.position_id == position_id, CallUp.status == S.SENT, CallUp.standby_at.is_not(None),
                     CallUp.expires_at > now).subquery())
    waiting = db.session.execute(
        with_addressee(select(CallUp, Volunteer)).join(ranked, ranked.c.id == CallUp.id)
        .where(Shift.start_at > now, ranked.c.rank <= open_places()).order_by(ranked.c.rank)).unique().all()
    if not waiting:
        return []
    found = answer_windows([(callup.volunteer_id, callup.position.shift, callup.position.shift.campaign, None)
                            for callup, _ in waiting], now=now)
    windows = {callup.id: window for (callup, _), window in zip(waiting, found)}
    by_deadline: dict[datetime, list[int]] = {}
    for callup_id, (_, expires) in windows.items():
        by_deadline.setdefault(expires, []).append(callup_id)
    moved: set[int] = set()
    for expires, ids in by_deadline.items():
        moved.update(db.session.scalars(
            update(CallUp).where(CallUp.id.in_(ids), CallUp.status == S.SENT, CallUp.standby_at.is_not(None))
            .values(standby_at=None, sent_at=now, expires_at=expires, updated_at=now).returning(CallUp.id)
            .execution_options(synchronize_session=False)).all())
    rows: list[dict[str, Any]] = []
    offered = []
    for callup, _volunteer in waiting:
        if callup.id not in moved:
            continue
        reaches, expires = windows[callup.id]
        for name, value in {"standby_at": None, "sent_at": now, "expires_at": expires, "updated_at": now}.items():
            set_committed_value(callup, name, value)
        _record_event(callup.id, S.SENT, S.SENT, now=now, actor=actor, note="standby: a place freed, offered")
        token = _issue_link(callup.id, expires_at=expires, now=now)
        rows += message_rows(callup, NotificationKind.CALLUP, template=callup_template(callup), now=now,
                             serial="standby-" + now.strftime("%Y%m%d%H%M%S%f"), token=token, push_at=reaches)
        offered.append(callup.id)
    if outbox is None:
        insert_rows(rows)
    else:
        outbox += rows
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
