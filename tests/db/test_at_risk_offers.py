"""Does a full but at-risk position get one extra offer at a time, within the cap, on the scheduler's clock?"""
from datetime import timedelta

import pytest
from sqlalchemy import select

from callups.dispatch import send_due_callups
from campaigns import services
from campaigns.backfill import backfill_open_positions, extra_cap
from campaigns.models import CallUp, CallUpStatus
from campaigns.responses import accept_callup, decline_callup
from core.errors import Conflict
from extensions import db
from tests.db.test_at_risk_prior import record
from tests.db.test_backfill_and_cancel import published
from tests.db.test_recruitment import NOW, TZ

S = CallUpStatus


def extras(campaign_id):
    db.session.expire_all()
    return list(db.session.scalars(select(CallUp).where(CallUp.extra.is_(True)).order_by(CallUp.id)))


def tick(at):
    return backfill_open_positions(now=at, timezone_name=TZ)


def test_extra_cap_rounds_up_thirty_percent():
    assert [extra_cap(h, 30) for h in (1, 3, 4, 10)] == [1, 1, 2, 3]
    assert extra_cap(5, 0) == 0


def test_at_risk_position_gets_one_extra_and_no_second_while_it_is_pending(tree):
    c, crowd = published(tree, people=4, headcount=1)
    send_due_callups(now=NOW)
    [first] = db.session.scalars(select(CallUp)).all()
    accept_callup(first.id, actor="v", now=NOW)
    assert services.staffing(c.id)["positions"][0]["at_risk"] is False  # a newcomer counts as the district's 0.85
    # Three no-shows on record: show-up chance 3.4 / 7 < 0.5, full on paper but likely empty.
    record(first.volunteer_id, no_shows=3)
    assert services.staffing(c.id)["positions"][0]["at_risk"] is True
    stats = tick(NOW + timedelta(minutes=1))
    assert stats.extras == 1
    [extra] = extras(c.id)
    assert (extra.status, extra.volunteer_id != first.volunteer_id) == (S.SCHEDULED, True)
    assert extra.events[0].note == "extra offer: position at risk"
    assert tick(NOW + timedelta(minutes=2)).extras == 0
    send_due_callups(now=NOW + timedelta(minutes=3))
    assert tick(NOW + timedelta(minutes=4)).extras == 0
    assert len(extras(c.id)) == 1


def test_extra_who_says_yes_waits_on_standby_and_the_cap_holds(tree):
    c, _ = published(tree, people=4, headcount=1)
    send_due_callups(now=NOW)
    [first] = db.session.scalars(select(CallUp)).all()
    accept_callup(first.id, actor="v", now=NOW)
    record(first.volunteer_id, no_shows=3)  # at risk on their record
    tick(NOW + timedelta(minutes=1))
    send_due_callups(now=NOW + timedelta(minutes=1))
    [extra] = extras(c.id)
    with pytest.raises(Conflict) as full:  # full: kept on standby with a 409
        accept_callup(extra.id, actor="x", now=NOW + timedelta(minutes=2))
    assert "standby" in full.value.errors
    assert extras(c.id)[0].standby_at is not None
    # Cap for headcount 1 is one live extra: still at risk, but no second offer.
    assert tick(NOW + timedelta(minutes=3)).extras == 0


def test_declined_extra_frees_the_cap_for_the_next_person(tree):
    c, _ = published(tree, people=4, headcount=1)
    send_due_callups(now=NOW)
    [first] = db.session.scalars(select(CallUp)).all()
    accept_callup(first.id, actor="v", now=NOW)
    record(first.volunteer_id, no_shows=3)  # at risk on their record
    tick(NOW + timedelta(minutes=1))
    send_due_callups(now=NOW + timedelta(minutes=1))
    [extra] = extras(c.id)
    decline_callup(extra.id, actor="x", now=NOW + timedelta(minutes=2))
    assert tick(NOW + timedelta(minutes=3)).extras == 1
    later = extras(c.id)
    assert len(later) == 2 and later[1].volunteer_id not in (first.volunteer_id, extra.volunteer_id)


def test_no_extra_when_policy_sets_zero_or_the_position_has_a_gap(tree):
    c, _ = published(tree, people=3, headcount=1, policy={"at_risk_extra_percent": 0})
    send_due_callups(now=NOW)
    [first] = db.session.scalars(select(CallUp)).all()
    accept_callup(first.id, actor="v", now=NOW)
    record(first.volunteer_id, no_shows=3)  # at risk on their record, but the policy allows no extras
    assert tick(NOW + timedelta(minutes=1)).extras == 0
    other, _ = published(tree, people=0, headcount=2)
    assert tick(NOW + timedelta(minutes=2)).extras == 0
    assert extras(c.id) == [] and extras(other.id) == []


def test_no_extra_once_the_shift_has_started(tree):
    c, _ = published(tree, people=3, headcount=1)
    send_due_callups(now=NOW)
    [first] = db.session.scalars(select(CallUp)).all()
    accept_callup(first.id, actor="v", now=NOW)
    record(first.volunteer_id, no_shows=3)
    start = services.get_campaign(c.id).shifts[0].start_at
    assert tick(start + timedelta(minutes=1)).extras == 0


def test_extras_go_one_at_a_time_up_to_the_cap(tree):
    """Headcount 4 (cap 2): a second extra only after the first answered, and never a third."""
    c, _ = published(tree, people=7, headcount=4)
    send_due_callups(now=NOW)
    for callup in db.session.scalars(select(CallUp)).all():
        accept_callup(callup.id, actor="v", now=NOW)
    at = NOW
    for expected_count in (1, 2):
        at += timedelta(minutes=1)
        assert tick(at).extras == 1
        assert tick(at + timedelta(seconds=15)).extras == 0  # the new one is still unanswered
        send_due_callups(now=at + timedelta(seconds=20))
        newest = extras(c.id)[-1]
        assert len(extras(c.id)) == expected_count
        with pytest.raises(Conflict):  # full: on standby
            accept_callup(newest.id, actor="x", now=at + timedelta(seconds=30))
    assert tick(at + timedelta(minutes=1)).extras == 0
    assert len(extras(c.id)) == 2 and all(e.standby_at is not None for e in extras(c.id))
