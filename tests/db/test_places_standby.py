"""A freed place goes to the first person on standby, offered with a deadline, before anyone new is called."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from notices.models import NotificationKind
from campaigns.backfill import backfill_open_positions, campaigns_with_gaps
from campaigns.models import CallUp, CallUpStatus, CampaignStatus, Position
from campaigns.responses import accept_callup, decline_callup
from core.errors import Conflict
from extensions import db
from tests.scheduler.helpers import make_position, outbox, sent_callups

S = CallUpStatus


def _callup(callup_id: int) -> CallUp:
    db.session.expire_all()
    return db.session.get(CallUp, callup_id)


def _full_with_standby(now, *, headcount=1, waiting=1):
    """A position of ``headcount`` filled by the first people, the next ``waiting`` on standby."""
    position = make_position(now=now, headcount=headcount, status=CampaignStatus.PUBLISHED)
    callups = sent_callups(position, headcount + waiting, now=now)
    for callup in callups[:headcount]:
        accept_callup(callup.id, actor="v", now=now)
    for callup in callups[headcount:]:
        with pytest.raises(Conflict):
            accept_callup(callup.id, actor="v", now=now + timedelta(minutes=1))
    return position, callups


def test_places_withdrawal_offers_the_freed_place_to_the_first_on_standby(now):
    position, (first, second, third) = _full_with_standby(now, waiting=2)
    later = now + timedelta(minutes=5)
    decline_callup(first.id, actor="v", now=later)
    offered, still_waiting = _callup(second.id), _callup(third.id)
    # The first on standby is offered the place as a call-up: open, with a fresh deadline, told so.
    assert (offered.status, offered.standby_at) == (S.SENT, None)
    assert offered.expires_at > later
    assert [n.callup_id for n in outbox(kind=NotificationKind.CALLUP)] == [second.id]
    # The next one keeps waiting.
    assert (still_waiting.status, still_waiting.standby_at) == (S.SENT, now + timedelta(minutes=1))
    # The offered place is held: the backfill calls no one new.
    assert position.shift.campaign_id not in campaigns_with_gaps(now=later)
    assert accept_callup(second.id, actor="v", now=later).status is S.ACCEPTED


def test_places_backfill_offers_a_freed_place_to_standby_before_calling_anyone_new(now):
    position, (first, second) = _full_with_standby(now)
    # A place freed outside the answer path (an erasure, a correction): the counter drops by itself.
    db.session.execute(Position.__table__.update().where(Position.id == position.id).values(accepted_count=0))
    db.session.commit()
    later = now + timedelta(minutes=5)
    # The person on standby is not pending: the place counts as open ...
    assert position.shift.campaign_id in campaigns_with_gaps(now=later)
    backfill_open_positions(now=later, timezone_name="Asia/Shanghai")
    # ... and it goes to them, not to someone new.
    offered = _callup(second.id)
    assert (offered.status, offered.standby_at) == (S.SENT, None) and offered.expires_at > later
    assert [n.callup_id for n in outbox(kind=NotificationKind.CALLUP)] == [second.id]
    callups = select(CallUp.id).where(CallUp.position_id == position.id).order_by(CallUp.id)
    assert db.session.scalars(callups).all() == [first.id, second.id]


def test_places_erasing_an_accepted_person_offers_their_place_to_the_first_on_standby(now):
    from accounts.privacy import erase_volunteer

    position, (first, second) = _full_with_standby(now)
    later = now + timedelta(minutes=5)
    erase_volunteer(first.volunteer_id, now=later, actor="test")
    offered = _callup(second.id)
    assert _callup(first.id).status is S.WITHDRAWN
    assert (offered.status, offered.standby_at) == (S.SENT, None) and offered.expires_at > later
    assert db.session.get(Position, position.id).accepted_count == 0
    assert accept_callup(second.id, actor="v", now=later).status is S.ACCEPTED
