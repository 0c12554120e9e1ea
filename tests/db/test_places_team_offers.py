"""A team offer counts places, not call-ups: the team's own call-up is no person, and a place it leaves is refilled."""
from __future__ import annotations

from sqlalchemy import select

from campaigns import places, services
from campaigns.backfill import backfill_open_positions
from campaigns.models import CallUp, CallUpStatus, Position
from campaigns.team_offers import answer_team_callup
from extensions import db
from tests.db.test_recruitment import NOW, TZ, person
from tests.db.test_team_offers import offer, setup

S = CallUpStatus


def _position_entry(campaign_id: int, position_id: int) -> dict:
    return next(p for p in services.staffing(campaign_id)["positions"] if p["position_id"] == position_id)


def test_places_team_naming_two_of_three_shows_two_accepted_one_open_and_refills_the_third(tree):
    position_id, team_id, leader, members = setup(tree, headcount=3)
    campaign_id = db.session.get(Position, position_id).shift.campaign_id
    team_callup = offer(position_id, team_id, places=3)
    answer_team_callup(team_callup.id, member_ids=members[:2], now=NOW, actor=f"volunteer:{leader}")
    entry = _position_entry(campaign_id, position_id)
    assert (entry["accepted"], entry["open"], entry["pending"]) == (2, 1, 0)
    newcomer = person(tree.grid_a1, "13811112222")
    db.session.commit()
    stats = backfill_open_positions(now=NOW, timezone_name=TZ)
    assert stats.callups == 1
    called = db.session.scalars(select(CallUp.volunteer_id).where(
        CallUp.position_id == position_id, CallUp.status == S.SCHEDULED)).all()
    assert called == [newcomer.id]


def test_places_pending_team_offer_holds_its_places_not_one(tree):
    position_id, team_id, _, _ = setup(tree, headcount=3)
    campaign_id = db.session.get(Position, position_id).shift.campaign_id
    offer(position_id, team_id, places=2)
    entry = _position_entry(campaign_id, position_id)
    # Nobody has come yet (3 short), and the offer holds 2 of the places: one is left to ask for.
    assert (entry["accepted"], entry["pending"], entry["open"]) == (0, 2, 3)
    position = db.session.get(Position, position_id)
    assert places.open_places_of(position) == 1
