"""Members a team leader names pass the matcher's gates; the error names the member and the gate."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from campaigns.models import CallUp, Position
from campaigns.team_offers import answer_team_callup
from core.errors import ValidationFailed
from extensions import db
from tests.db.test_backfill_and_cancel import published
from tests.db.test_recruitment import NOW, person
from tests.db.test_team_offers import offer
from tests.factories import TeamFactory
from volunteers.models import Volunteer

CERTIFIED = (("gas_check", 3, date(2027, 6, 30)),)


def _team_with(tree, **member):
    """A headcount-3 position offered whole to a team whose one member is registered with ``member``."""
    from campaigns import services

    c, _ = published(tree, people=0, headcount=3)
    position = services.get_campaign(c.id).shifts[0].positions[0]
    leader = person(tree.grid_b1, "13800000000", skills=CERTIFIED)
    member.setdefault("skills", CERTIFIED)
    named = person(tree.grid_b1, "13800000001", **member)
    team = TeamFactory(leader_id=leader.id, members=[named])
    db.session.commit()
    return position.id, team.id, named.id


def _refusal(tree, **member) -> tuple[int, list[str]]:
    position_id, team_id, named = _team_with(tree, **member)
    callup = offer(position_id, team_id, places=1)
    with pytest.raises(ValidationFailed) as refused:
        answer_team_callup(callup.id, member_ids=[named], now=NOW, actor="leader")
    # Nothing was taken.
    db.session.expire_all()
    assert db.session.get(Position, position_id).accepted_count == 0
    assert db.session.scalars(select(CallUp).where(CallUp.volunteer_id == named)).all() == []
    return named, refused.value.errors["member_ids"]


@pytest.mark.parametrize("member, gate", [
    ({"skills": [("gas_check", 2, date(2027, 6, 30))]}, "lacks skill gas_check at level 3"),
    ({"skills": [("first_aid", 3, None)]}, "lacks skill gas_check at level 3"),
    ({"skills": [("gas_check", 3, date(2026, 12, 1))]}, "certificate for gas_check expired"),
    ({"skills": [("gas_check", 3, None)]}, "no certificate for gas_check"),
    ({"availability": [{"weekday": 6, "start": "08:00", "end": "13:00"}]}, "not available at that time of the week"),
    ({"blackout_dates": [date(2026, 12, 5)]}, "blackout day"),
    ({"max_callups_per_month": 0}, "monthly call-up cap reached"),
    ({"status": "paused"}, "not active"),
])
def test_places_team_member_failing_a_matcher_gate_is_refused_by_name_and_gate(tree, member, gate):
    named, errors = _refusal(tree, **member)
    name = db.session.get(Volunteer, named).name
    assert errors == [f"{name} (#{named}): {gate}."]


def test_places_team_member_busy_within_the_rest_is_refused(tree):
    from campaigns import services
    from tests.db.test_recruitment import SAT_9, campaign

    position_id, team_id, named = _team_with(tree)
    # Another shift the member accepted, ending 6 hours before this one starts (inside the 12 h rest).
    other = campaign(tree, start=SAT_9.replace(hour=0) - __import__("datetime").timedelta(hours=9), title="前一晚")
    services.publish_campaign(other.id, actor="test", now=NOW, timezone_name="Asia/Shanghai")
    other_position = services.get_campaign(other.id).shifts[0].positions[0]
    db.session.add(CallUp(position_id=other_position.id, volunteer_id=named, status=__import__(
        "campaigns.models").models.CallUpStatus.ACCEPTED))
    db.session.commit()
    callup = offer(position_id, team_id, places=1)
    with pytest.raises(ValidationFailed) as refused:
        answer_team_callup(callup.id, member_ids=[named], now=NOW, actor="leader")
    name = db.session.get(Volunteer, named).name
    assert refused.value.errors["member_ids"] == [f"{name} (#{named}): busy at that time (12 h rest)."]


def test_places_team_members_who_pass_every_gate_are_accepted(tree):
    position_id, team_id, named = _team_with(tree)
    callup = offer(position_id, team_id, places=1)
    answer = answer_team_callup(callup.id, member_ids=[named], now=NOW, actor="leader")
    assert [c.volunteer_id for c in answer.callups] == [named]
