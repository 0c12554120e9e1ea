"""One answer-deadline rule for a person and a team: the window opens when the message reaches them,
and never runs past the shift's start."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from callups.dispatch import send_due_callups
from campaigns import places
from campaigns.models import CallUp, CallUpStatus
from extensions import db
from tests.db.test_team_offers import offer, setup
from tests.scheduler.helpers import make_callups

# 23:00 in Shanghai: inside quiet hours, so a routine message waits until 08:00.
LATE = datetime(2026, 12, 1, 15, 0, tzinfo=timezone.utc)
MORNING = datetime(2026, 12, 2, 0, 0, tzinfo=timezone.utc)


def test_places_answer_deadline_is_the_window_from_arrival_capped_by_the_start():
    start = MORNING + timedelta(hours=5)
    assert places.answer_deadline(reaches=MORNING, minutes=60, shift_start=start) == MORNING + timedelta(hours=1)
    assert places.answer_deadline(reaches=MORNING, minutes=600, shift_start=start) == start


def test_places_team_and_person_offered_at_the_same_moment_get_the_same_deadline(tree):
    position_id, team_id, _, _ = setup(tree, headcount=3)
    team_callup = offer(position_id, team_id, places=1, at=LATE)
    from campaigns.models import Position

    [single] = make_callups(db.session.get(Position, position_id), 1, now=LATE, send_at=LATE)
    assert send_due_callups(now=LATE) == 1
    db.session.expire_all()
    person = db.session.get(CallUp, single.id)
    team = db.session.get(CallUp, team_callup.id)
    assert person.status is CallUpStatus.SENT
    # Both windows open at 08:00, when the messages go out, and last the policy's 1440 minutes.
    assert person.expires_at == team.expires_at == MORNING + timedelta(minutes=1440)
