"""Cancelling campaigns, backfilling freed places (with emergency waves), and campaign status upkeep."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from callups import jobs
from callups.dispatch import send_due_callups, send_reminders
from notices.models import NotificationKind, NotificationStatus
from callups.scheduler import JOBS
from campaigns import services
from campaigns.backfill import backfill_open_positions, campaigns_with_gaps, update_campaign_statuses
from campaigns.models import CallUp, CallUpEvent, CallUpStatus, Campaign, CampaignStatus
from campaigns.responses import accept_callup, decline_callup, expire_unanswered
from core.errors import Conflict, NotFound, ValidationFailed
from extensions import db
from tests.db.test_recruitment import NOW, SAT_9, TZ, campaign, person
from tests.scheduler.helpers import outbox

S = CallUpStatus


def callups_of(campaign_id):
    db.session.expire_all()
    return list(db.session.scalars(select(CallUp).order_by(CallUp.id)))


def status_of(campaign_id):
    db.session.expire_all()
    return db.session.get(Campaign, campaign_id).status


def published(tree, *, people=3, headcount=1, priority="routine", policy=None):
    crowd = [person(tree.grid_a1, f"1390000{i:04d}") for i in range(people)]
    c = campaign(tree, headcount=headcount, priority=priority, policy=policy)
    services.publish_campaign(c.id, actor="test", now=NOW, timezone_name=TZ)
    return c, crowd


def backfill(at):
    return backfill_open_positions(now=at, timezone_name=TZ)


# --- cancel -------------------------------------------------------------------------------------------


def test_cancel_withdraws_open_callups_and_notifies_the_accepted(tree):
    c, _ = published(tree, people=4, headcount=3)
    send_due_callups(now=NOW)
    first, second, third = callups_of(c.id)
    accept_callup(first.id, actor="v", now=NOW)
    cancelled = services.cancel_campaign(c.id, reason="暴雨预警，活动取消", actor="token:1:office", now=NOW)
    assert (cancelled.status, cancelled.cancelled_at, cancelled.cancel_reason) == (
        CampaignStatus.CANCELLED, NOW, "暴雨预警，活动取消")
    assert [cu.status for cu in callups_of(c.id)] == [S.ACCEPTED, S.WITHDRAWN, S.WITHDRAWN]
    events = db.session.scalars(select(CallUpEvent).where(CallUpEvent.to_state == "withdrawn")).all()
    assert sorted((e.callup_id, e.from_state, e.actor) for e in events) == [
        (second.id, "sent", "token:1:office"), (third.id, "sent", "token:1:office")]
    notices = outbox(kind=NotificationKind.CANCELLATION)
    assert [n.callup_id for n in notices] == [first.id] and "取消" in notices[0].payload["text"]
    # Invitations still waiting in the outbox for the withdrawn call-ups never go out.
    waiting = [n for n in outbox(kind=NotificationKind.CALLUP) if n.callup_id in (second.id, third.id)]
    assert waiting and {n.status for n in waiting} == {NotificationStatus.FAILED}
    # Nor do reminders for the cancelled shift, nor a backfill.
    assert send_reminders(now=SAT_9 - timedelta(hours=2)) == 0
    assert backfill(NOW + timedelta(minutes=1)).callups == 0


def test_cancel_withdraws_scheduled_callups_before_they_are_sent(tree):
    c, _ = published(tree, people=2, headcount=2)
    services.cancel_campaign(c.id, reason="场地冲突", actor="office", now=NOW)
    assert {cu.status for cu in callups_of(c.id)} == {S.WITHDRAWN}
    assert send_due_callups(now=NOW + timedelta(seconds=1)) == 0
    assert outbox() == []


def test_cancel_refuses_cancelled_done_unknown_and_blank(tree):
    c, _ = published(tree)
    with pytest.raises(ValidationFailed) as blank:
        services.cancel_campaign(c.id, reason="   ", actor="office", now=NOW)
    assert "reason" in blank.value.errors
    services.cancel_campaign(c.id, reason="取消", actor="office", now=NOW)
    with pytest.raises(Conflict):
        services.cancel_campaign(c.id, reason="again", actor="office", now=NOW)
    assert db.session.get(Campaign, c.id).cancel_reason == "取消"
    done = campaign(tree, title="已完成")
    db.session.execute(db.update(Campaign).where(Campaign.id == done.id).values(status=CampaignStatus.DONE))
    db.session.commit()
    with pytest.raises(Conflict):
        services.cancel_campaign(done.id, reason="x", actor="office", now=NOW)
    with pytest.raises(NotFound):
        services.cancel_campaign(4242, reason="x", actor="office", now=NOW)


# --- backfill -----------------------------------------------------------------------------------------


def test_backfill_offers_a_declined_place_to_the_next_person_once(tree):
    c, crowd = published(tree, people=3, headcount=1)
    send_due_callups(now=NOW)
    [first] = callups_of(c.id)
    decline_callup(first.id, actor="v", now=NOW)
    later = NOW + timedelta(minutes=1)
    stats = backfill(later)
    assert (stats.campaigns, stats.callups) == (1, 1)
    _, second = callups_of(c.id)
    assert (second.status, second.send_at, second.wave) == (S.SCHEDULED, later, 2)
    assert second.volunteer_id != first.volunteer_id
    [event] = second.events
    assert (event.to_state, event.actor, event.note) == ("scheduled", "scheduler", "backfill wave 2")
    # Same instant again: the gap is covered by the pending call-up.
    assert backfill(later).callups == 0 and len(callups_of(c.id)) == 2


def test_backfill_after_expiry_never_asks_the_decliner_again(tree):
    c, crowd = published(tree, people=3, headcount=1)
    send_due_callups(now=NOW)
    decline_callup(callups_of(c.id)[0].id, actor="v", now=NOW)
    backfill(NOW + timedelta(minutes=1))
    send_due_callups(now=NOW + timedelta(minutes=1))
    expire_unanswered(now=NOW + timedelta(days=2))
    backfill(NOW + timedelta(days=2, minutes=1))
    rows = callups_of(c.id)
    assert [cu.status for cu in rows] == [S.DECLINED, S.EXPIRED, S.SCHEDULED]
    assert [cu.wave for cu in rows] == [1, 2, 3]
    assert len({cu.volunteer_id for cu in rows}) == 3
    # Everyone has been asked: the gap stays open and nothing new is created.
    send_due_callups(now=NOW + timedelta(days=2, minutes=2))
    decline_callup(rows[2].id, actor="v", now=NOW + timedelta(days=2, minutes=3))
    assert backfill(NOW + timedelta(days=2, minutes=4)).callups == 0
    assert len(callups_of(c.id)) == 3


def test_backfill_leaves_started_shifts_drafts_and_filled_positions_alone(tree):
    c, _ = published(tree, people=3, headcount=1)
    send_due_callups(now=NOW)
    [first] = callups_of(c.id)
    accept_callup(first.id, actor="v", now=NOW)
    assert campaigns_with_gaps(now=NOW) == []
    campaign(tree, title="草稿")  # a draft has gaps but is not published
    assert campaigns_with_gaps(now=NOW) == []
    decline_callup(first.id, actor="v", now=NOW + timedelta(minutes=1))
    assert campaigns_with_gaps(now=NOW + timedelta(minutes=1)) == [c.id]
    assert campaigns_with_gaps(now=SAT_9) == []
    assert backfill(SAT_9).callups == 0


# --- emergencies: over-recruitment and waves ----------------------------------------------------------


def test_emergency_publish_over_recruits_by_policy_percent(tree):
    c, _ = published(tree, people=6, headcount=2, priority="emergency")
    assert len(callups_of(c.id)) == 3  # ceil(2 × 1.3)


def test_routine_publish_asks_exactly_the_headcount(tree):
    c, _ = published(tree, people=6, headcount=2)
    assert len(callups_of(c.id)) == 2


def test_over_recruit_percent_from_the_policy_and_the_headcount_still_holds(tree):
    c, _ = published(tree, people=6, headcount=2, priority="emergency", policy={"over_recruit_percent": 100})
    send_due_callups(now=NOW)
    rows = callups_of(c.id)
    assert len(rows) == 4
    accept_callup(rows[0].id, actor="v", now=NOW)
    accept_callup(rows[1].id, actor="v", now=NOW)
    with pytest.raises(Conflict):
        accept_callup(rows[2].id, actor="v", now=NOW)
    assert db.session.get(CallUp, rows[2].id).standby_at == NOW


def test_emergency_backfill_waits_for_wave_minutes_then_stops_when_filled(tree):
    c, _ = published(tree, people=8, headcount=2, priority="emergency")
    send_due_callups(now=NOW)
    a, b, extra = callups_of(c.id)
    decline_callup(a.id, actor="v", now=NOW + timedelta(minutes=1))
    decline_callup(b.id, actor="v", now=NOW + timedelta(minutes=1))
    # Gap 1 (2 − 0 accepted − 1 pending), but the last wave went out under 5 minutes ago.
    early = backfill(NOW + timedelta(minutes=4, seconds=59))
    assert (early.callups, early.waiting) == (0, 1)
    wave2 = backfill(NOW + timedelta(minutes=5))
    assert wave2.callups == 2  # ceil(1 × 1.3)
    assert [cu.wave for cu in callups_of(c.id)][3:] == [2, 2]
    send_due_callups(now=NOW + timedelta(minutes=5))
    rows = callups_of(c.id)
    accept_callup(extra.id, actor="v", now=NOW + timedelta(minutes=6))
    accept_callup(rows[3].id, actor="v", now=NOW + timedelta(minutes=6))
    # Filled: later ticks add nothing, whatever the wave clock says.
    assert backfill(NOW + timedelta(minutes=30)).callups == 0
    assert len(callups_of(c.id)) == 5


def test_emergency_wave_minutes_from_policy(tree):
    c, _ = published(tree, people=6, headcount=1, priority="emergency", policy={"wave_minutes": 2})
    send_due_callups(now=NOW)
    for cu in callups_of(c.id):
        decline_callup(cu.id, actor="v", now=NOW)
    assert backfill(NOW + timedelta(minutes=1)).callups == 0
    assert backfill(NOW + timedelta(minutes=2)).callups == 2


# --- campaign status upkeep ---------------------------------------------------------------------------


def test_status_upkeep_staffed_reopened_and_partly_staffed(tree):
    c, _ = published(tree, people=3, headcount=1)
    send_due_callups(now=NOW)
    [first] = callups_of(c.id)
    assert update_campaign_statuses(now=NOW) == {"reopened": 0, "staffed": 0, "partly_staffed": 0}
    accept_callup(first.id, actor="v", now=NOW)
    assert update_campaign_statuses(now=NOW)["staffed"] == 1
    assert status_of(c.id) is CampaignStatus.STAFFED
    assert update_campaign_statuses(now=NOW)["staffed"] == 0
    decline_callup(first.id, actor="v", now=NOW + timedelta(hours=1))  # acceptance withdrawn
    assert update_campaign_statuses(now=NOW + timedelta(hours=1))["reopened"] == 1
    assert status_of(c.id) is CampaignStatus.PUBLISHED
    assert update_campaign_statuses(now=SAT_9)["partly_staffed"] == 1
    assert status_of(c.id) is CampaignStatus.PARTLY_STAFFED


def test_status_upkeep_leaves_drafts_and_cancelled_alone(tree):
    draft = campaign(tree, title="草稿")
    c, _ = published(tree)
    services.cancel_campaign(c.id, reason="取消", actor="office", now=NOW)
    update_campaign_statuses(now=SAT_9)
    assert (status_of(draft.id), status_of(c.id)) == (CampaignStatus.DRAFT, CampaignStatus.CANCELLED)


# --- the scheduler job --------------------------------------------------------------------------------


def test_backfill_job_is_in_the_table_and_runs(app):
    assert {job.id: job.seconds for job in JOBS}["backfill_open_positions"] == 15
    jobs.backfill_open_positions(app)  # an empty database: nothing to do, no error


def test_backfill_racing_schedulers_offer_a_freed_place_once(app, tree):
    import threading

    c, _ = published(tree, people=4, headcount=1)
    send_due_callups(now=NOW)
    decline_callup(callups_of(c.id)[0].id, actor="v", now=NOW)
    db.session.commit()  # end the test's own transaction: on SQLite it holds the write slot
    later, start, results = NOW + timedelta(minutes=1), threading.Barrier(2), []

    def run():
        with app.app_context():
            start.wait()
            stats = backfill_open_positions(now=later, timezone_name=TZ)
            results.append((stats.callups, stats.failed))
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    # Neither lost a race on the unique key: the campaign row lock made the second one re-count.
    assert sorted(results) == [(0, 0), (1, 0)]
    assert [cu.wave for cu in callups_of(c.id)] == [1, 2]


def test_fruitless_backfill_waits_until_a_callup_changes_or_the_wait_ends(tree):
    c, crowd = published(tree, people=1, headcount=2)  # one person for two places: a gap nobody can fill
    first_run = NOW + timedelta(minutes=1)
    stats = backfill(first_run)
    assert (stats.callups, stats.idle) == (0, 0)
    assert backfill(first_run + timedelta(seconds=15)).idle == 1  # nothing changed: the matcher is not asked
    # A new person registers: picked up once the wait (5 minutes for routine work) is over.
    person(tree.grid_a1, "13900009999")
    assert backfill(first_run + timedelta(minutes=4)).idle == 1
    later = backfill(first_run + timedelta(minutes=5, seconds=1))
    assert (later.idle, later.callups) == (0, 1)
    # An answer moves the mark: the next tick asks the matcher again at once.
    send_due_callups(now=first_run + timedelta(minutes=6))
    decline_callup(callups_of(c.id)[-1].id, actor="v", now=first_run + timedelta(minutes=6))
    assert backfill(first_run + timedelta(minutes=6, seconds=15)).idle == 0
