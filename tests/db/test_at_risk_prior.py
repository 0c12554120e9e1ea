"""Does the at-risk flag judge newcomers by the district's real show-up rate, so it fires on known no-shows only?"""
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import select

from callups.dispatch import send_due_callups
from campaigns import services
from campaigns.models import CallUp, CallUpStatus
from campaigns.reliability import FALLBACK, MIN_PEOPLE, fit_show_up_prior, show_up_prior
from campaigns.responses import accept_callup
from extensions import db
from tests.db.test_backfill_and_cancel import published
from tests.db.test_recruitment import NOW
from tests.factories import PositionFactory

S = CallUpStatus


def record(volunteer_id, *, attended=0, no_shows=0):
    """Past call-ups of one person, marked attended or no-show, each on its own position months ago."""
    long_ago = NOW - timedelta(days=120)
    for status in [S.ATTENDED] * attended + [S.NO_SHOW] * no_shows:
        position = PositionFactory(headcount=1, shift__start_at=long_ago)
        db.session.add(CallUp(position_id=position.id, volunteer_id=volunteer_id, status=status,
                              created_at=long_ago, updated_at=long_ago))
    db.session.commit()


def full_position(tree, headcount):
    c, crowd = published(tree, people=headcount, headcount=headcount)
    send_due_callups(now=NOW)
    for callup in db.session.scalars(select(CallUp).order_by(CallUp.id)).all():
        accept_callup(callup.id, actor="v", now=NOW)
    return c, crowd


def at_risk(c):
    [position] = services.staffing(c.id)["positions"]
    assert position["accepted"] == position["headcount"]
    return position["at_risk"], position["expected_attendance"]


def sums(attended, marks):
    rate = attended / marks
    return len(marks), float(marks.sum()), float(attended.sum()), float(rate.sum()), float((rate ** 2).sum()), \
        float((1.0 / marks).sum())


def test_at_risk_prior_fit_recovers_the_districts_rate_and_spread():
    rng = np.random.default_rng(7)
    chance = rng.beta(17.0, 3.0, 4000)  # mean 0.85, alpha + beta = 20
    marks = rng.integers(2, 12, 4000).astype(float)
    attended = rng.binomial(marks.astype(int), chance).astype(float)
    prior = fit_show_up_prior(*sums(attended, marks))
    assert prior.fitted and prior.mean == pytest.approx(0.85, abs=0.01)
    assert 14.0 < prior.alpha + prior.beta < 28.0


def test_at_risk_prior_falls_back_to_a_constant_when_history_is_thin(tree):
    assert show_up_prior() == FALLBACK and FALLBACK.mean == pytest.approx(0.85)
    thin = fit_show_up_prior(*sums(np.array([1.0, 2.0]), np.array([2.0, 2.0])))
    assert thin == FALLBACK


def test_at_risk_prior_follows_a_district_that_often_stays_away(tree):
    c, crowd = published(tree, people=MIN_PEOPLE, headcount=1)
    for k, volunteer in enumerate(crowd):  # half the marks are no-shows
        record(volunteer.id, attended=2 + k % 3, no_shows=2 + (k + 1) % 3)
    prior = show_up_prior()
    assert prior.fitted and prior.mean == pytest.approx(0.5, abs=0.05)


def test_at_risk_full_position_of_new_and_reliable_people_is_not_flagged(tree):
    c, crowd = full_position(tree, 3)
    record(crowd[0].id, attended=5)
    flagged, expected = at_risk(c)
    # Two newcomers at the district's 0.85 and one reliable person: 2.63 of 3, not half a person short.
    assert flagged is False and expected == pytest.approx(2 * 0.85 + 8.4 / 9, abs=0.01)


def test_at_risk_single_newcomer_is_not_flagged(tree):
    c, _ = full_position(tree, 1)
    assert at_risk(c) == (False, 0.85)


def test_at_risk_full_position_of_known_no_shows_is_flagged(tree):
    c, crowd = full_position(tree, 3)
    for volunteer in crowd:
        record(volunteer.id, no_shows=2)
    flagged, expected = at_risk(c)
    assert flagged is True and expected == pytest.approx(3 * 3.4 / 6, abs=0.01)
