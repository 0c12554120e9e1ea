"""History feeds the matcher: acceptance and show-up from the call-up history, recent hours from the ledger.
A frequent no-show ranks below an equally qualified reliable person; the least-served person comes first
when all else is equal."""
from __future__ import annotations

from datetime import timedelta

from campaigns import attendance, hours
from campaigns.models import CallUp, CallUpStatus
from campaigns.reliability import person_history
from extensions import db
from tests.db.test_recruitment import NOW, TZ, campaign, match, person
from tests.factories import CampaignFactory, PositionFactory, ShiftFactory

S = CallUpStatus


def _past_shift(tree, *, days_ago: int, hours_long: int = 3):
    start = NOW - timedelta(days=days_ago)
    past = CampaignFactory(title="往期活动", office_grid_id=tree.community_a.id)
    shift = ShiftFactory(campaign=past, grid_id=tree.grid_a1.id, start_at=start, end_at=start + timedelta(hours=hours_long))
    return PositionFactory(shift=shift, headcount=10, role="宣传员", accepted_count=0)


def _history(volunteer, tree, marks, *, days_ago=120):
    """Past call-ups of ``volunteer``, one per mark (attended / no_show / declined), long enough ago that they
    weigh nothing on the monthly counts or recent hours."""
    for index, mark in enumerate(marks):
        position = _past_shift(tree, days_ago=days_ago + index)
        db.session.add(CallUp(position_id=position.id, volunteer_id=volunteer.id, status=mark,
                              created_at=position.shift.start_at - timedelta(days=2),
                              attended_at=position.shift.start_at if mark is S.ATTENDED else None))
    db.session.commit()


def test_a_frequent_no_show_ranks_below_an_equally_qualified_reliable_person(tree):
    # The no-show has the lower id, so a tie would go to them: only their record puts them second.
    absent = person(tree.grid_a1, "13900000001")
    reliable = person(tree.grid_a1, "13900000002")
    _history(absent, tree, [S.NO_SHOW, S.NO_SHOW, S.NO_SHOW, S.ATTENDED])
    _history(reliable, tree, [S.ATTENDED] * 4)
    plan = match(campaign(tree, headcount=1))
    [chosen] = plan.positions[0].proposals
    assert chosen.volunteer_id == reliable.id
    assert plan.positions[0].standby[0][0] == absent.id
    history = person_history(now=NOW, timezone_name=TZ)
    assert (history[absent.id]["no_shows"], history[reliable.id]["attended"]) == (3.0, 4.0)


def test_the_least_served_person_comes_first_by_the_ledger_hours(tree):
    """Both served one three-hour shift 40 days ago; one left after half an hour. By the shift's length they
    would tie (and the lower id would win); by the ledger the one who served less is asked first."""
    stayed = person(tree.grid_a1, "13900000001")
    left_early = person(tree.grid_a1, "13900000002")
    position = _past_shift(tree, days_ago=40)
    start = position.shift.start_at
    ids = []
    for volunteer in (stayed, left_early):
        callup = CallUp(position_id=position.id, volunteer_id=volunteer.id, status=S.ACCEPTED,
                        created_at=start - timedelta(days=45))
        db.session.add(callup)
        db.session.commit()
        ids.append(callup.id)
    for callup_id in ids:
        attendance.record_attendance(callup_id, attended=True, actor="office", now=start, at=start)
    attendance.check_out(ids[1], actor="office", now=start + timedelta(minutes=30))
    hours.book_ended_shifts(now=start + timedelta(hours=3), timezone_name=TZ)

    history = person_history(now=NOW, timezone_name=TZ)
    assert (history[stayed.id]["hours_90d"], history[left_early.id]["hours_90d"]) == (3.0, 0.5)
    assert history[stayed.id]["hours_30d"] == 0.0
    plan = match(campaign(tree, headcount=1))
    assert [p.volunteer_id for p in plan.positions[0].proposals] == [left_early.id]
    assert plan.positions[0].standby[0][0] == stayed.id
    assert plan.positions[0].proposals[0].cost < plan.positions[0].standby[0][1]
