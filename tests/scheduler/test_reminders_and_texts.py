"""Reminders, message texts and the scheduler's job table."""
from __future__ import annotations

from datetime import timedelta

from callups.dispatch import send_due_callups, send_reminders
from notices.messages import render
from notices.models import Channel, NotificationKind
from campaigns.models import CallUp, CallUpStatus
from campaigns.responses import accept_callup
from extensions import db
from tests.scheduler.helpers import make_callups, make_position, outbox, run_concurrently, sent_callups
from volunteers.models import Identity


def _accepted(now, *, starts_in=timedelta(days=3), count=1, policy=None, at=None):
    position = make_position(now=now, starts_in=starts_in, headcount=max(count, 1), policy=policy)
    callups = sent_callups(position, count, now=now, window=timedelta(hours=1))
    for callup in callups:
        accept_callup(callup.id, actor="v", now=at or now)
    return position, callups


def _reminder_keys():
    return sorted(r.idempotency_key for r in outbox(kind=NotificationKind.REMINDER))


def test_reminders_go_at_each_offset_once(now):
    _, [callup] = _accepted(now, starts_in=timedelta(days=3))
    start = now + timedelta(days=3)
    assert send_reminders(now=start - timedelta(hours=24, seconds=1)) == 0
    assert send_reminders(now=start - timedelta(hours=24)) == 1
    assert send_reminders(now=start - timedelta(hours=23)) == 0
    assert send_reminders(now=start - timedelta(hours=2)) == 1
    assert send_reminders(now=start - timedelta(hours=1)) == 0
    assert send_reminders(now=start) == 0
    assert _reminder_keys() == [f"{callup.id}:reminder:inapp:24h", f"{callup.id}:reminder:inapp:2h"]


def test_reminders_skip_offsets_that_passed_before_the_person_accepted(now):
    _, [callup] = _accepted(now, starts_in=timedelta(hours=10))
    assert send_reminders(now=now + timedelta(hours=1)) == 0
    assert send_reminders(now=now + timedelta(hours=8)) == 1
    assert _reminder_keys() == [f"{callup.id}:reminder:inapp:2h"]


def test_reminders_follow_the_campaign_policy(now):
    _, [callup] = _accepted(now, policy={"reminder_hours": [48]})
    assert send_reminders(now=now + timedelta(days=1)) == 1
    assert _reminder_keys() == [f"{callup.id}:reminder:inapp:48h"]


def test_reminders_only_for_accepted_callups(now):
    position = make_position(now=now)
    sent_callups(position, 2, now=now)
    assert send_reminders(now=now + timedelta(days=2, hours=23)) == 0


def test_reminder_tick_three_times_concurrently_writes_one_row(app, now):
    _, callups = _accepted(now, count=5)
    at = now + timedelta(days=2, hours=1)
    db.session.rollback()
    errors = run_concurrently(app, lambda: send_reminders(now=at))
    assert errors == []
    assert len(_reminder_keys()) == 5


def test_sms_text_fits_seventy_characters_with_its_link(app, channels_config):
    context = {"name": "张伟", "title": "江南社区燃气安全入户检查暨垃圾分类宣传周末志愿服务活动（第三期）",
               "role": "入户检查员", "when": "12月5日 09:00", "short_when": "12/5 09:00",
               "place": "江南社区第一网格服务中心二楼会议室", "deadline": "12月4日 09:00", "contact": "王主任",
               "link": "https://gm.example.cn/r/AbCdEfGhIjKlMn"}
    for template in ("callup", "reminder", "confirmation", "declined", "filled", "cancellation"):
        text = render(template, "zh", context, channel="sms").text
        assert len(text) <= 70, (template, len(text), text)
    callup_sms = render("callup", "zh", context, channel="sms").text
    assert callup_sms.endswith(context["link"]) and "回1接受2拒绝" in callup_sms


def test_sms_sent_for_a_real_callup_fits_seventy_characters(app, now, channels_config):
    position = make_position(now=now, title="江南社区燃气安全入户检查暨垃圾分类宣传周末志愿服务活动")
    make_callups(position, 1, now=now)
    send_due_callups(now=now)
    [sms] = outbox(channel=Channel.SMS)
    assert len(sms.payload["text"]) <= 70 and "/r/" in sms.payload["text"]


def test_texts_are_chinese_by_default_and_english_by_language(now):
    position = make_position(now=now)
    [zh] = make_callups(position, 1, now=now)
    [en] = make_callups(position, 1, now=now, language="en")
    send_due_callups(now=now)
    assert "社区邀请您参加" in outbox(callup_id=zh.id)[0].payload["text"]
    assert "your community invites you" in outbox(callup_id=en.id)[0].payload["text"]


def test_no_party_membership_in_any_message(app, now, channels_config):
    position = make_position(now=now, headcount=1)
    [callup] = make_callups(position, 1, now=now, identity_flags=Identity.PARTY_MEMBER.bit,
                            party_branch="江南社区第一党支部", email="p@example.cn", wecom_id="P1")
    send_due_callups(now=now)
    accept_callup(callup.id, actor="v", now=now)
    send_reminders(now=now + timedelta(days=2, hours=1))
    rows = outbox()
    assert {r.kind for r in rows} == {NotificationKind.CALLUP, NotificationKind.CONFIRMATION,
                                      NotificationKind.REMINDER, NotificationKind.COORDINATOR}
    for row in rows:
        blob = row.payload["subject"] + row.payload["text"]
        for word in ("党员", "党支部", "江南社区第一党支部", "party", "Party"):
            assert word not in blob, (row.idempotency_key, word)


def test_create_app_starts_no_scheduler_thread(app):
    import threading as th

    from app import create_app
    from tests.conftest import TestConfig

    before = {t.name for t in th.enumerate()}
    create_app(TestConfig)
    after = {t.name for t in th.enumerate()}
    assert not [name for name in after - before if "APScheduler" in name or "scheduler" in name.lower()]
    assert not [name for name in after if "APScheduler" in name]


def test_scheduler_job_table_and_settings(app):
    from apscheduler.schedulers.background import BackgroundScheduler

    from callups.scheduler import build_scheduler

    scheduler = build_scheduler(app, BackgroundScheduler)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert {name: job.trigger.interval.total_seconds() for name, job in jobs.items()} == {
        "dispatch_outbox": 1, "send_due_callups": 1, "follow_up_silent": 10, "escalate_whistles": 10, "expire_unanswered": 10,
        "send_reminders": 10,
        "backfill_open_positions": 15, "materialise_recurring_campaigns": 60, "book_service_hours": 60,
        "purge_departed_volunteers": 3600}
    for job in jobs.values():
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, None)
    assert not scheduler.running


def test_jobs_run_a_whole_cycle_in_an_app_context(app, now):
    """The job bodies call the services with the wall clock (sends a call-up due in the past)."""
    from callups import jobs
    from core.clock import utcnow

    real_now = utcnow()
    position = make_position(now=real_now)
    [callup] = make_callups(position, 1, now=real_now, send_at=real_now - timedelta(seconds=1))
    db.session.rollback()
    for job in (jobs.send_due_callups, jobs.dispatch_outbox, jobs.expire_unanswered, jobs.send_reminders,
                jobs.backfill_open_positions, jobs.materialise_recurring_campaigns):
        job(app)
    db.session.expire_all()
    assert db.session.get(CallUp, callup.id).status is CallUpStatus.SENT
    assert outbox(callup_id=callup.id)[0].status.value == "sent"


def test_outbox_flush_command(app, runner, now):
    from core.clock import utcnow

    position = make_position(now=utcnow())
    make_callups(position, 2, now=utcnow())
    send_due_callups(now=utcnow())
    db.session.rollback()
    result = runner.invoke(args=["outbox", "flush"])
    assert result.exit_code == 0, result.output
    assert "sent 2" in result.output
