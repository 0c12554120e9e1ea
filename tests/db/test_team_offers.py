"""Team call-ups: the leader is asked, names who comes, and the headcount is never exceeded."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from notices.models import NotificationKind
from campaigns import services
from campaigns.models import CallUp, CallUpStatus, Position
from campaigns.responses import accept_callup, decline_callup, expire_unanswered
from campaigns.team_offers import answer_team_callup, offer_to_team
from core.errors import Conflict, ValidationFailed
from core.scope import Scope
from extensions import db
from tests.db.test_backfill_and_cancel import published
from tests.db.test_recruitment import NOW, person
from tests.factories import TeamFactory
from tests.scheduler.helpers import outbox

S = CallUpStatus
OFFICE = Scope.system("office")


def setup(tree, *, headcount=3, members=3):
    c, _ = published(tree, people=0, headcount=headcount)
    position = services.get_campaign(c.id).shifts[0].positions[0]
    people = [person(tree.grid_b1, f"1380000{i:04d}") for i in range(members + 1)]
    team = TeamFactory(leader_id=people[0].id, members=people[1:])
    db.session.commit()
    return position.id, team.id, people[0].id, [p.id for p in people[1:]]


def offer(position_id, team_id, places=2, at=NOW):
    return offer_to_team(position_id, team_id, scope=OFFICE, now=at, places=places)


def test_offer_sends_the_leader_a_link_and_holds_the_places(tree):
    position_id, team_id, leader, _ = setup(tree)
    callup = offer(position_id, team_id)
    assert (callup.status, callup.team_id, callup.volunteer_id, callup.places) == (S.SENT, team_id, None, 2)
    assert callup.expires_at == NOW + timedelta(minutes=1440)
    [message] = outbox(kind=NotificationKind.CALLUP)
    assert (message.volunteer_id, message.callup_id) == (leader, callup.id)
    assert "需 2 人" in message.payload["text"]
    # Two of three places are held: a second offer of two is too many.
    with pytest.raises(ValidationFailed) as too_many:
        offer(position_id, TeamFactory(leader_id=leader).id, places=2)
    assert too_many.value.errors == {"places": ["Only 1 places are open."]}
    with pytest.raises(Conflict):
        offer(position_id, team_id, places=1)


def test_leader_names_members_who_get_accepted_callups_atomically(tree):
    position_id, team_id, leader, members = setup(tree)
    callup = offer(position_id, team_id)
    answer = answer_team_callup(callup.id, member_ids=members[:2], now=NOW, actor=f"volunteer:{leader}")
    assert answer.team_callup.status is S.ACCEPTED and answer.team_callup.reason == "2 of 2 places"
    assert sorted((c.volunteer_id, c.team_id, c.status) for c in answer.callups) == [
        (members[0], team_id, S.ACCEPTED), (members[1], team_id, S.ACCEPTED)]
    db.session.expire_all()
    assert db.session.get(Position, position_id).accepted_count == 2
    confirmations = outbox(kind=NotificationKind.CONFIRMATION)
    assert {n.volunteer_id for n in confirmations} == set(members[:2])
    with pytest.raises(Conflict):
        answer_team_callup(callup.id, member_ids=members[2:], now=NOW, actor="again")


def test_answer_refuses_strangers_too_many_and_a_full_position_without_changes(tree):
    position_id, team_id, leader, members = setup(tree, headcount=3)
    callup = offer(position_id, team_id, places=2)
    with pytest.raises(ValidationFailed) as stranger:
        answer_team_callup(callup.id, member_ids=[leader, members[0]], now=NOW, actor="l")
    assert "member_ids" in stranger.value.errors
    with pytest.raises(ValidationFailed):
        answer_team_callup(callup.id, member_ids=members, now=NOW, actor="l")
    # Meanwhile the office fills two places by hand: only one is left for the team's two.
    db.session.execute(Position.__table__.update().where(Position.id == position_id).values(accepted_count=2))
    db.session.commit()
    with pytest.raises(Conflict) as full:
        answer_team_callup(callup.id, member_ids=members[:2], now=NOW, actor="l")
    assert full.value.errors == {"member_ids": ["Only 1 places are left."]}
    db.session.expire_all()
    assert db.session.get(CallUp, callup.id).status is S.SENT
    assert db.session.get(Position, position_id).accepted_count == 2
    assert db.session.scalars(select(CallUp).where(CallUp.volunteer_id.in_(members))).all() == []


def test_empty_answer_declines_and_a_team_callup_cannot_be_accepted_as_one(tree):
    position_id, team_id, leader, members = setup(tree)
    callup = offer(position_id, team_id)
    with pytest.raises(Conflict):
        accept_callup(callup.id, actor="l", now=NOW)
    answer = answer_team_callup(callup.id, member_ids=[], now=NOW, actor="l")
    assert answer.team_callup.status is S.DECLINED and answer.callups == []
    db.session.expire_all()
    assert db.session.get(Position, position_id).accepted_count == 0


def test_unanswered_team_offer_expires_and_the_leader_may_decline(tree):
    position_id, team_id, leader, members = setup(tree)
    callup = offer(position_id, team_id)
    assert expire_unanswered(now=NOW + timedelta(days=1, minutes=1)) == [position_id]
    with pytest.raises(Conflict):
        answer_team_callup(callup.id, member_ids=members[:1], now=NOW + timedelta(days=1, minutes=2), actor="l")
    second = offer(position_id, team_id, at=NOW + timedelta(days=1, minutes=3))
    declined = decline_callup(second.id, actor="l", now=NOW + timedelta(days=1, minutes=4))
    assert declined.status is S.DECLINED


@pytest.mark.slow
def test_team_answer_racing_individual_accepts_never_overfills(app, tree):
    """Headcount 3: a team naming 2 races 3 individual accepts; the counter and the rows agree, within 3."""
    from tests.db.test_callup_responses import _race
    from tests.scheduler.helpers import sent_callups

    position_id, team_id, leader, members = setup(tree, headcount=3)
    team_callup_id = offer(position_id, team_id, places=2).id  # plain ids: threads must not touch our session
    singles = [c.id for c in sent_callups(db.session.get(Position, position_id), 3, now=NOW)]
    calls = [lambda: answer_team_callup(team_callup_id, member_ids=members[:2], now=NOW, actor="leader")]
    calls += [lambda cid=cid: accept_callup(cid, actor="race", now=NOW) for cid in singles]
    _, errors = _race(app, calls, threads=4)
    assert errors == []
    db.session.expire_all()
    position = db.session.get(Position, position_id)
    accepted = db.session.scalars(select(CallUp).where(CallUp.position_id == position_id,
                                                       CallUp.volunteer_id.is_not(None),
                                                       CallUp.status == S.ACCEPTED)).all()
    assert position.accepted_count == len(accepted) <= 3
    team_status = db.session.get(CallUp, team_callup_id).status
    named = [c for c in accepted if c.team_id == team_id]
    assert (team_status is S.ACCEPTED) == (len(named) == 2) and len(named) in (0, 2)
