"""Answers to call-ups: accept, decline, expire and 'seen'; one code path for API, links, SMS and jobs."""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm.attributes import set_committed_value

from notices.models import NotificationKind
from campaigns.messaging import message_rows, notice_rows
from campaigns.models import Campaign, CampaignStatus, CallUp, CallUpStatus, Position, Shift
from campaigns.places import _give_back_place, _take_places, with_addressee
from campaigns.services import get_callup, is_emergency
from campaigns.states import _record_events, _transition, _transition_many
from core.errors import Conflict, NotFound, ValidationFailed, word
from core.i18n import _l
from extensions import db
from notices.outbox import insert_rows
from volunteers.models import Volunteer

S = CallUpStatus


def _reload(callup_id: int) -> CallUp:
    """The call-up as committed now (after a rollback or a lost race)."""
    db.session.rollback()
    return get_callup(callup_id)


def load_callup(callup_id: int) -> tuple[CallUp, Volunteer | None]:
    """The call-up with its position, shift, campaign and addressee (with their channel consents) in one
    query; NotFound. Keep the person while using the call-up: the identity map holds rows weakly."""
    row = db.session.execute(_by_id_with_addressee(), {"callup_id": callup_id}).unique().first()
    if row is None:
        raise NotFound.of("call-up", callup_id)
    return row[0], row[1]


@cache
def _by_id_with_addressee():
    # Built once: composing the eager-load options costs more than running the query.
    return with_addressee(select(CallUp, Volunteer)).where(CallUp.id == bindparam("callup_id"))


Loaded = tuple[CallUp, "Volunteer | None"]


def _load(callup_id: int, now: datetime, loaded: Loaded | None = None) -> Loaded:
    """``load_callup`` (or what the caller already read with it in this transaction), refused if answers are
    closed."""
    callup, volunteer = loaded if loaded is not None and loaded[0].id == callup_id else load_callup(callup_id)
    _refuse_closed(callup, now)
    return callup, volunteer


def _not_open(callup: CallUp, action: str) -> Conflict:
    return Conflict(_l("cannot %(action)s a call-up that is %(status)s; it is no longer open",
                       action=word(action), status=word(callup.status.value)),
                    {"status": [_l("Is %(state)s.", state=word(callup.status.value))]}, code="not_open",
                    about={"status": callup.status.value})


def _refuse_closed(callup: CallUp, now: datetime) -> None:
    """The entry guard of every answer: none counts once the campaign is cancelled or the shift has ended (409)."""
    shift = callup.position.shift
    if shift.campaign.status is CampaignStatus.CANCELLED:
        raise Conflict(_l("the campaign was cancelled; answers are closed"), {"campaign": [_l("Is cancelled.")]},
                       code="campaign_cancelled")
    if shift.end_at <= now:
        raise Conflict(_l("the shift has ended; answers are closed"), {"shift": [_l("Has ended.")]}, code="shift_ended")


def _still_answerable(now: datetime):
    """``_refuse_closed`` in SQL, for the conditional UPDATEs: a cancellation racing the answer wins."""
    live = (select(Position.id).join(Shift, Shift.id == Position.shift_id).join(Campaign, Campaign.id == Shift.campaign_id)
            .where(Campaign.status != CampaignStatus.CANCELLED, Shift.end_at > now))
    return CallUp.position_id.in_(live)


def _answer(callup: CallUp, source: CallUpStatus, target: CallUpStatus, *, actor: str, now: datetime,
            values: dict[str, Any], guard, action: str, note: str | None = None) -> CallUp | None:
    """Move the call-up ``source`` → ``target`` with its event; no commit.

    Returns None when it moved (the object then shows the new values). When it did not (answered,
    expired or withdrawn meanwhile) everything is rolled back, the taken place included: the
    committed call-up is returned if it already is ``target``, else 409.
    """
    if _transition(callup.id, source, target, now=now, actor=actor, guard=guard, values=values, note=note):
        for name, value in (values | {"status": target, "updated_at": now}).items():
            set_committed_value(callup, name, value)
        return None
    current = _reload(callup.id)
    _refuse_closed(current, now)
    if current.status is target:
        return current
    raise _not_open(current, action)


def _notify(callup: CallUp, *, template: str, serial: str, answer: str | None, now: datetime,
            counts: tuple[int, int] | None = None, outbox: list[dict[str, Any]] | None = None) -> None:
    """The answer's message to the person and, for ``answer``, the notice to the office (``counts``: the
    position's accepted and headcount after it), written with ``outbox``'s rows in one INSERT; no commit."""
    rows = list(outbox or [])
    rows += message_rows(callup, NotificationKind.CONFIRMATION, template=template, now=now, serial=serial)
    if answer is not None:
        rows += notice_rows(callup, answer=answer, now=now,
                            counts=counts or (callup.position.accepted_count, callup.position.headcount))
    insert_rows(rows)


def accept_callup(callup_id: int, *, actor: str, now: datetime, eta_minutes: int | None = None,
                  reason: str | None = None, loaded: Loaded | None = None) -> CallUp:
    """Accept a sent call-up within its deadline: take a place or stand by, record, notify.

    One transaction: the counter rises only within the headcount (``places._take_places``) and the
    call-up moves only ``WHERE status='sent' AND expires_at > now``; both row counts are checked. A
    full position keeps the person on standby (first offered the next freed place) and answers 409.
    ``loaded``: the call-up and person as ``load_callup`` read them in this transaction (not read again).
    """
    callup, _volunteer = _load(callup_id, now, loaded)
    if callup.status is S.ACCEPTED:
        return callup
    if not callup.is_person:
        raise Conflict(_l("a team call-up is answered with how many and who (team-answer)"),
                       {"member_ids": [_l("Name the team members who come.")]})
    position = callup.position
    # Full when the call-up was read a moment ago: standby at once, without queuing for the position's row lock
    # behind the answers taking its last places (in a stampede that is nearly every tap). A place that looked
    # free is still only taken by the conditional UPDATE, so nobody over-fills either way.
    counts = _take_places(callup.position_id, 1) if position.accepted_count < position.headcount else None
    if counts is None:
        return _standby(callup, actor=actor, now=now)
    settled = _answer(callup, S.SENT, S.ACCEPTED, actor=actor, now=now, action="accept",
                      guard=(CallUp.expires_at > now) & _still_answerable(now),
                      values={"responded_at": now, "answered_by": actor[:100], "eta_minutes": eta_minutes,
                              "reason": reason, "standby_at": None})
    if settled is not None:
        return settled
    _notify(callup, template="confirmation", serial="accepted", answer="accepted", now=now, counts=counts)
    db.session.commit()
    return callup


def _standby(callup: CallUp, *, actor: str, now: datetime) -> CallUp:
    """Record a 'yes' that found the position full; commit it and raise 409."""
    # The message is drawn before the first write: on SQLite that write takes the one writer slot until the commit.
    rows = message_rows(callup, NotificationKind.FILLED, template="filled", now=now, serial="standby")
    marked = db.session.execute(
        update(CallUp).where(CallUp.id == callup.id, CallUp.status == S.SENT, CallUp.expires_at > now,
                             CallUp.standby_at.is_(None))
        .values(standby_at=now, responded_at=now, answered_by=actor[:100], updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if marked != 1:
        current = _reload(callup.id)
        if current.status is S.ACCEPTED:
            return current
        if current.status is S.SENT and current.standby_at is not None:
            raise _full()
        raise _not_open(current, "accept")
    _record_events([(callup.id, S.SENT, S.SENT)], now=now, actor=actor, note="standby: position full")
    for name, value in {"standby_at": now, "responded_at": now, "answered_by": actor[:100], "updated_at": now}.items():
        set_committed_value(callup, name, value)
    insert_rows(rows)
    db.session.commit()
    raise _full()


def _full() -> Conflict:
    return Conflict(_l("the position is already full; you are on standby"),
                    {"position_id": [_l("Position is full.")], "standby": [_l("Kept on standby.")]}, code="standby")


def decline_callup(callup_id: int, *, actor: str, now: datetime, reason: str | None = None,
                   loaded: Loaded | None = None) -> CallUp:
    """Decline a sent call-up, or withdraw an acceptance before the shift starts (the freed place goes
    first to whoever is on standby). ``loaded`` as for ``accept_callup``."""
    callup, _volunteer = _load(callup_id, now, loaded)
    if callup.status is S.DECLINED:
        return callup
    values = {"responded_at": now, "answered_by": actor[:100], "reason": reason}
    answerable = _still_answerable(now)
    answer = "declined"
    source, guard, note = S.SENT, (CallUp.expires_at > now) & answerable, None
    # A team's acceptance is withdrawn member by member (their own call-ups hold the places).
    if callup.status is S.ACCEPTED and callup.is_person:
        starts = select(Shift.start_at).join(Position, Position.shift_id == Shift.id).where(
            Position.id == CallUp.position_id).scalar_subquery()
        source, guard, note, answer = S.ACCEPTED, (starts > now) & answerable, "acceptance withdrawn", "withdrawn"
    else:
        values["standby_at"] = None
    # The events and links added on the way are written together at the commit, one INSERT per table.
    with db.session.no_autoflush:
        settled = _answer(callup, source, S.DECLINED, actor=actor, now=now, values=values, guard=guard,
                          action="decline", note=note)
        if settled is not None:
            return settled
        # Only the one row that left 'accepted' gives its place back, so the counter drops once; a person
        # on standby is offered it, their message written with this answer's.
        outbox: list[dict[str, Any]] = []
        counts = None
        if source is S.ACCEPTED:
            counts = _give_back_place(callup.position_id, now=now, actor=actor, outbox=outbox)
            if counts is None:
                db.session.rollback()
                raise Conflict(_l("the position counter is inconsistent; nothing was changed"))
        _notify(callup, template="declined", serial="declined", answer=answer, now=now, counts=counts,
                outbox=outbox)
    db.session.commit()
    return callup


def expire_unanswered(*, now: datetime, actor: str = "scheduler") -> list[int]:
    """Expire sent call-ups past their deadline; returns the positions that still need people (backfill hook)."""
    moved = _transition_many(S.SENT, S.EXPIRED, CallUp.expires_at <= now, now=now, actor=actor,
                             note="no answer before the deadline")
    db.session.commit()
    return sorted({position_id for _, position_id in moved})


def record_seen(callup_id: int, *, now: datetime) -> CallUp:
    """Note the first time the person opened their link (seen-not-answered versus never seen)."""
    db.session.execute(update(CallUp).where(CallUp.id == callup_id, CallUp.seen_at.is_(None))
                       .values(seen_at=now).execution_options(synchronize_session=False))
    db.session.commit()
    return get_callup(callup_id)


# "1" alone, or in an emergency "1", a space and the minutes to arrive; "115" is ambiguous and refused.
_SMS_ANSWER = re.compile(r"1(?:\s+(?P<eta>0|15|30|60))?|(?P<decline>2)")
SMS_HELP = _l("Reply 1 to accept or 2 to decline; in an emergency 1 0, 1 15, 1 30 or 1 60 (minutes to arrive).")


def answer_by_sms(mobile: str, text: str, *, now: datetime) -> CallUp:
    """Answer the sender's one open call-up: '1' accepts, '2' declines; '1 15': an emergency's yes, there in 15 min."""
    # Chinese phones often send full-width digits and spaces ("１　１５"): NFKC makes them plain.
    match = _SMS_ANSWER.fullmatch(unicodedata.normalize("NFKC", text or "").strip())
    if match is None:
        raise ValidationFailed.field("text", SMS_HELP)
    eta_minutes = int(match["eta"]) if match["eta"] is not None else None
    volunteer = db.session.scalar(select(Volunteer).where(Volunteer.mobile == mobile))
    if volunteer is None:
        raise NotFound(_l("No volunteer has this mobile number."))
    open_ids = db.session.scalars(
        select(CallUp.id).where(CallUp.volunteer_id == volunteer.id, CallUp.status == S.SENT,
                                CallUp.expires_at > now).limit(2)).all()
    if not open_ids:
        raise NotFound(_l("The sender has no open call-up."))
    if len(open_ids) > 1:
        raise Conflict(_l("the sender has several open call-ups; answer each by its link"),
                       {"text": [_l("Several open call-ups: use the links.")]})
    actor = f"sms:{volunteer.id}"
    if match["decline"]:
        return decline_callup(open_ids[0], actor=actor, now=now)
    if eta_minutes is not None and not is_emergency(get_callup(open_ids[0])):
        raise ValidationFailed.field("text", _l("Arrival times are for emergencies only: reply 1 or 2."))
    return accept_callup(open_ids[0], actor=actor, now=now, eta_minutes=eta_minutes)
