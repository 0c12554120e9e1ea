"""Recurring campaigns: occurrences in the window, copies of shifts and positions, idempotence, races."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from campaigns import recurrence, services
from campaigns.models import CallUp, CallUpStatus, Campaign, CampaignStatus, Position, Priority, Shift
from core.errors import ValidationFailed
from core.kinds import CampaignKind
from extensions import db
from tests.db.test_recruitment import NOW, SAT_9, TZ, person
from tests.scheduler.helpers import run_concurrently
from core.scope import Scope

UTC = timezone.utc
LAST_SAT_9 = SAT_9 - timedelta(days=7)  # 2026-11-28 09:00 Shanghai, before NOW
WEEKLY = "0 9 * * sat"


def template(tree, *, start=LAST_SAT_9, cron=WEEKLY, policy=None, title="垃圾分类宣传", published=True):
    """A template with two shifts (09:00-12:00 and 10:00-12:00 local) and a cron; published (drafts never recur)
    unless told, as a stored row: its own first date is past, so publish_campaign would refuse it."""
    data = {"title": title, "kind": CampaignKind.GARBAGE_SORTING, "priority": Priority.ROUTINE,
            "office_grid_id": tree.community_a.id, "policy": policy or {}, "recurrence_cron": cron,
            "contact_name": "王主任", "contact_phone": "13800000000",
            "shifts": [
                {"start": start, "end": start + timedelta(hours=3), "grid_id": tree.grid_a1.id, "place": "一号门",
                 "positions": [{"role": "检查员", "headcount": 2, "min_party_members": 1,
                                "required_skills": [{"code": "gas_check", "min_level": 3}],
                                "preferred_skills": [{"code": "publicity", "min_level": 1}],
                                "required_identities": []}]},
                {"start": start + timedelta(hours=1), "end": start + timedelta(hours=3), "grid_id": tree.grid_a2.id,
                 "positions": [{"role": "宣传员", "headcount": 1, "min_party_members": 0,
                                "required_skills": [], "preferred_skills": [], "required_identities": []}]}]}
    campaign = services.draft_campaign(data, scope=Scope.system("test"), now=NOW)
    if published:
        db.session.execute(db.update(Campaign).where(Campaign.id == campaign.id)
                           .values(status=CampaignStatus.PUBLISHED, published_at=NOW))
        db.session.commit()
    return campaign


def materialise(now=NOW, **kwargs):
    return recurrence.materialise_recurring_campaigns(now=now, timezone_name=TZ, **kwargs)


def occurrences(template_id):
    db.session.expire_all()
    return list(db.session.scalars(select(Campaign).where(Campaign.template_id == template_id)
                                   .order_by(Campaign.occurrence_at)))


def test_occurrence_times_are_local_and_the_window_is_open_below_closed_above():
    times = recurrence.occurrence_times(WEEKLY, timezone_name=TZ, after=SAT_9, until=SAT_9 + timedelta(days=14))
    assert times == [SAT_9 + timedelta(days=7), SAT_9 + timedelta(days=14)]
    assert recurrence.occurrence_times(WEEKLY, timezone_name=TZ, after=NOW, until=SAT_9) == [SAT_9]
    assert recurrence.occurrence_times(WEEKLY, timezone_name=TZ, after=NOW, until=SAT_9 - timedelta(seconds=1)) == []


def test_weekly_template_creates_the_occurrences_within_the_window(tree):
    t = template(tree)
    created = materialise(days_ahead=14)
    # 09:00 in Shanghai is 01:00 UTC: Saturdays 5 and 12 December, not the 19th.
    assert [c.occurrence_at for c in created] == [SAT_9, SAT_9 + timedelta(days=7)]
    first, second = occurrences(t.id)
    assert (first.title, second.title) == ("垃圾分类宣传 12月5日", "垃圾分类宣传 12月12日")
    for occurrence in (first, second):
        assert (occurrence.template_id, occurrence.recurrence_cron, occurrence.kind, occurrence.priority,
                occurrence.office_grid_id, occurrence.contact_name, occurrence.contact_phone) == (
            t.id, None, CampaignKind.GARBAGE_SORTING, Priority.ROUTINE, tree.community_a.id, "王主任", "13800000000")
        assert occurrence.status is CampaignStatus.PUBLISHED and occurrence.created_by == "scheduler"
    # Shifts keep their durations and offsets; the first starts at the occurrence.
    assert [(s.start_at, s.end_at, s.grid_id, s.place) for s in first.shifts] == [
        (SAT_9, SAT_9 + timedelta(hours=3), tree.grid_a1.id, "一号门"),
        (SAT_9 + timedelta(hours=1), SAT_9 + timedelta(hours=3), tree.grid_a2.id, None)]
    inspector, publicist = first.shifts[0].positions + first.shifts[1].positions
    assert (inspector.role, inspector.headcount, inspector.min_party_members, inspector.accepted_count) == (
        "检查员", 2, 1, 0)
    assert sorted((s.skill.code, s.min_level, s.preferred) for s in inspector.skills) == [
        ("gas_check", 3, False), ("publicity", 1, True)]
    assert (publicist.role, publicist.headcount, publicist.skills) == ("宣传员", 1, [])
    # The template's own rows are untouched and not shared.
    db.session.expire_all()
    template_row = db.session.get(Campaign, t.id)
    assert template_row.status is CampaignStatus.PUBLISHED and template_row.shifts[0].start_at == LAST_SAT_9
    assert db.session.scalar(select(func.count()).select_from(Shift)) == 6
    assert db.session.scalar(select(func.count()).select_from(Position)) == 6


def test_running_again_creates_nothing_new_and_a_later_run_only_the_next(tree):
    t = template(tree)
    assert len(materialise()) == 1
    assert materialise() == [] and materialise(now=NOW + timedelta(hours=1)) == []
    later = materialise(now=NOW + timedelta(days=7))
    assert [c.occurrence_at for c in later] == [SAT_9 + timedelta(days=7)]
    assert [c.occurrence_at for c in occurrences(t.id)] == [SAT_9, SAT_9 + timedelta(days=7)]


def test_policy_materialise_days_ahead_overrides_the_default(tree):
    near = template(tree, policy={"materialise_days_ahead": 1})
    far = template(tree, policy={"materialise_days_ahead": 12}, title="远期")
    materialise()  # Tuesday: Saturday is 4 days away
    assert occurrences(near.id) == []
    assert [c.occurrence_at for c in occurrences(far.id)] == [SAT_9, SAT_9 + timedelta(days=7)]
    materialise(now=SAT_9 - timedelta(hours=20))
    assert [c.occurrence_at for c in occurrences(near.id)] == [SAT_9]


def test_policy_materialise_days_ahead_is_validated():
    from api.schemas.campaigns import PolicySchema

    assert PolicySchema().load({"materialise_days_ahead": 60}) == {"materialise_days_ahead": 60}
    for bad in (0, 61, "7"):
        assert "materialise_days_ahead" in PolicySchema().validate({"materialise_days_ahead": bad})


def test_occurrences_are_published_with_callups_for_qualified_people(tree):
    people = [person(tree.grid_a1, f"1390000{i:04d}", identities=("party_member",)) for i in range(3)]
    t = template(tree, policy={"send_at": datetime(2027, 1, 1, tzinfo=UTC)})
    [occurrence] = materialise()
    callups = db.session.scalars(select(CallUp).order_by(CallUp.id)).all()
    positions = {p.id for s in occurrence.shifts for p in s.positions}
    assert callups and {cu.position_id for cu in callups} <= positions
    assert {cu.volunteer_id for cu in callups} <= {p.id for p in people}
    # A template's absolute send time is not copied: the occurrence's call-ups go out now.
    assert {(cu.status, cu.send_at) for cu in callups} == {(CallUpStatus.SCHEDULED, NOW)}
    assert "send_at" not in occurrence.policy and occurrences(t.id)[0].published_at == NOW


def test_published_template_is_its_own_first_date_and_keeps_recurring_when_staffed(tree):
    t = template(tree, start=SAT_9, published=False)
    services.publish_campaign(t.id, actor="test", now=NOW, timezone_name=TZ)
    materialise(days_ahead=14)
    assert [c.occurrence_at for c in occurrences(t.id)] == [SAT_9 + timedelta(days=7)]
    db.session.execute(db.update(Campaign).where(Campaign.id == t.id).values(status=CampaignStatus.STAFFED))
    db.session.commit()
    materialise(now=NOW + timedelta(days=7), days_ahead=14)
    assert [c.occurrence_at for c in occurrences(t.id)] == [SAT_9 + timedelta(days=d) for d in (7, 14)]


def test_cancelled_template_stops_producing_occurrences(tree):
    t = template(tree)
    assert len(materialise()) == 1
    services.cancel_campaign(t.id, reason="活动结束", actor="office", now=NOW)
    assert materialise(now=NOW + timedelta(days=7)) == []
    assert len(occurrences(t.id)) == 1


def test_bad_cron_cannot_be_stored(tree):
    with pytest.raises(ValidationFailed) as error:
        template(tree, cron="every saturday")
    assert "recurrence_cron" in error.value.errors
    t = template(tree, published=False)
    with pytest.raises(ValidationFailed):
        services.update_campaign(t.id, {"recurrence_cron": "0 25 * * *"}, scope=Scope.system("test"), now=NOW)


def test_database_refuses_a_second_campaign_for_one_occurrence(tree):
    t = template(tree)
    [occurrence] = materialise()
    db.session.add(Campaign(title="dup", kind=t.kind, priority=t.priority, office_grid_id=t.office_grid_id,
                            policy={}, template_id=t.id, occurrence_at=occurrence.occurrence_at,
                            created_at=NOW, updated_at=NOW))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_a_racing_duplicate_is_rolled_back_and_skipped(tree, monkeypatch):
    t = template(tree)
    materialise()
    # As if another scheduler committed between our check and our insert.
    monkeypatch.setattr(recurrence, "_existing_occurrence", lambda *_: None)
    assert recurrence._materialise_one(t.id, SAT_9, now=NOW, timezone_name=TZ, actor="scheduler") is None
    assert len(occurrences(t.id)) == 1
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 2  # the session is usable again


def test_two_schedulers_at_once_create_each_occurrence_once(app, tree):
    t = template(tree)
    person(tree.grid_a1, "13900000001")
    db.session.commit()  # end this session's transaction: on SQLite it holds the write lock
    errors = run_concurrently(app, lambda: materialise(days_ahead=14), times=3)
    assert errors == []
    assert [c.occurrence_at for c in occurrences(t.id)] == [SAT_9, SAT_9 + timedelta(days=7)]
