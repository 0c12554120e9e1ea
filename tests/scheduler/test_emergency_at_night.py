"""Emergencies at any hour, with the scheduler as its own process and the clock where the night is.

Each test picks a fixed-offset zone (Etc/GMT±N) in which it is now 02:xx or 03:xx, runs the matcher and a
real ``flask scheduler run`` in that zone, and counts what a real SMS gateway (a local HTTP receiver) and a
real SMTP server receive. Nothing waits for the night: the zone moves the clock.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from notices.models import Channel
from campaigns import services
from campaigns.models import CallUp, CallUpStatus, Priority
from core.clock import utcnow
from extensions import db
from tests.factories import CampaignFactory, PositionFactory, ShiftFactory, VolunteerFactory
from tests.scheduler.test_dispatch_processes import _spawn, _stop, _wait_for
from volunteers.availability import windows_to_mask
from volunteers.models import AvailabilityWindow, ChannelConsent, Volunteer

# Weekday daytime help only: Monday to Friday, 09:00-17:00.
DAYTIME = [(day, 9 * 60, 17 * 60) for day in range(5)]


def night_zone(hour: int) -> str:
    """A zone in which the local time is now ``hour``:xx (Etc/GMT-3 is UTC+3)."""
    offset = (hour - utcnow().hour) % 24
    if offset > 14:
        offset -= 24
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def _people(tree, count: int, *, emergency_calls: str = "any_hour", consent=("sms",), **extra) -> list[Volunteer]:
    people = []
    extra.setdefault("availability_mask", windows_to_mask(DAYTIME))
    for _ in range(count):
        person = VolunteerFactory(home_grid_id=tree.grid_a1.id, emergency_calls=emergency_calls, **extra)
        person.availability = [AvailabilityWindow(weekday=d, start_minute=s, end_minute=e) for d, s, e in DAYTIME]
        person.channel_consents = [ChannelConsent(channel=channel, granted_at=utcnow()) for channel in consent]
        people.append(person)
    db.session.commit()
    return people


def _campaign(tree, *, priority: Priority, headcount: int, starts_at: datetime, title: str = "爆管抢修"):
    campaign = CampaignFactory(title=title, priority=priority, office_grid_id=tree.community_a.id,
                               contact_name="王主任", contact_phone="0571-88881234")
    shift = ShiftFactory(campaign=campaign, start_at=starts_at, end_at=starts_at + timedelta(hours=2),
                         grid_id=tree.grid_a1.id, place="江南小区3幢")
    PositionFactory(shift=shift, headcount=headcount, role="抢修协助")
    db.session.commit()
    return campaign


def _scheduler(app, zone: str, http_receiver, smtp_server):
    return _spawn(app, None, smtp_server.url, "scheduler", "run", TIMEZONE=zone,
                  GRIDMUSTER_SMS_GATEWAY_URL=http_receiver.url + "/sms")


def _sms(http_receiver) -> list[dict]:
    with http_receiver.lock:
        return [r["body"] for r in http_receiver.requests if r["path"] == "/sms"]


@pytest.mark.slow
def test_emergency_at_3am_texts_more_than_the_headcount_of_daytime_people_within_seconds(
        app, tree, monkeypatch, http_receiver, smtp_server):
    zone = night_zone(3)
    monkeypatch.setitem(app.config, "TIMEZONE", zone)
    daytime = _people(tree, 20)
    only_hours = _people(tree, 3, emergency_calls="available_hours")
    now = utcnow()
    assert now.astimezone(ZoneInfo(zone)).hour == 3
    campaign = _campaign(tree, priority=Priority.EMERGENCY, headcount=10, starts_at=now + timedelta(minutes=20))
    plan = services.match_campaign(campaign.id, now=now, timezone_name=zone)
    assert plan.positions[0].places_left_open == 0  # availability ranks, it no longer excludes

    published_at = time.monotonic()
    services.publish_campaign(campaign.id, actor="test", now=utcnow(), timezone_name=zone)
    called = set(db.session.scalars(select(CallUp.volunteer_id)))
    db.session.rollback()  # hold no SQLite lock while the scheduler works
    scheduler = _scheduler(app, zone, http_receiver, smtp_server)
    try:
        arrived = _wait_for(lambda: len(_sms(http_receiver)) >= len(called), timeout=60)
        last_sms = time.monotonic()
    finally:
        outputs = _stop([scheduler])
    assert arrived, outputs
    texts = _sms(http_receiver)
    print(f"\n10-place emergency at 03:00: {len(texts)} SMS, last {last_sms - published_at:.1f} s after publish")
    assert len(called) == 13 and len(texts) == 13 > 10  # the headcount plus 30 % over-recruitment
    assert called <= {person.id for person in daytime}
    assert not called & {person.id for person in only_hours}  # "only in my available hours" is kept
    assert {body["to"] for body in texts} == {db.session.get(Volunteer, vid).mobile for vid in called}
    for body in texts:
        assert body["text"].startswith("【应急】爆管抢修 江南小区3幢")
        assert "回1马上到/1 15/1 30/2不能" in body["text"] and "/r/" in body["text"]
    db.session.expire_all()
    deadlines = db.session.scalars(select(CallUp.expires_at)).all()
    assert all(deadline <= now + timedelta(minutes=20) for deadline in deadlines)  # never after the start


@pytest.mark.slow
def test_urgent_callup_at_2am_for_a_6am_shift_goes_at_once_and_routine_waits(
        app, tree, monkeypatch, http_receiver, smtp_server):
    zone = night_zone(2)
    monkeypatch.setitem(app.config, "TIMEZONE", zone)
    local = utcnow().astimezone(ZoneInfo(zone))
    six = local.replace(hour=6, minute=0, second=0, microsecond=0)
    _people(tree, 2, availability_mask=bytes([0xFF] * 42))
    urgent = _campaign(tree, priority=Priority.URGENT, headcount=1, starts_at=six.astimezone(ZoneInfo("UTC")),
                       title="清淤")
    routine = _campaign(tree, priority=Priority.ROUTINE, headcount=1, title="宣传",
                        starts_at=(six + timedelta(days=1, hours=4)).astimezone(ZoneInfo("UTC")))
    for campaign in (urgent, routine):
        services.publish_campaign(campaign.id, actor="test", now=utcnow(), timezone_name=zone)
    db.session.rollback()
    scheduler = _scheduler(app, zone, http_receiver, smtp_server)
    try:
        arrived = _wait_for(lambda: len(_sms(http_receiver)) >= 1, timeout=30)
        time.sleep(2.5)  # two more ticks: the routine one must still be waiting for 08:00
    finally:
        outputs = _stop([scheduler])
    assert arrived, outputs
    texts = _sms(http_receiver)
    assert len(texts) == 1 and texts[0]["text"].startswith("召集:") and " 06:00 " in texts[0]["text"]
    db.session.expire_all()
    urgent_callup = db.session.scalars(select(CallUp).join(CallUp.position)
                                       .where(CallUp.position_id == urgent.shifts[0].positions[0].id)).one()
    assert texts[0]["idempotency_key"].startswith(f"{urgent_callup.id}:callup:sms:")
    routine_callup = db.session.scalars(select(CallUp).join(CallUp.position)
                                        .where(CallUp.status == CallUpStatus.SENT)).all()
    assert len(routine_callup) == 2  # both sent; the routine one's SMS is due at 08:00
    from tests.scheduler.helpers import outbox
    held = [row for row in outbox(channel=Channel.SMS) if row.sent_at is None]
    assert len(held) == 1 and held[0].due_at.astimezone(ZoneInfo(zone)).hour == 8


@pytest.mark.slow
def test_silent_person_is_contacted_again_on_a_second_channel(app, tree, monkeypatch, http_receiver, smtp_server):
    zone = night_zone(3)
    monkeypatch.setitem(app.config, "TIMEZONE", zone)
    # Prefers SMS, but agreed to e-mail too: the follow-up goes where the first message did not.
    [person] = _people(tree, 1, consent=("sms", "email"), notify_channels="sms", email="li@example.cn")
    now = utcnow()
    campaign = _campaign(tree, priority=Priority.EMERGENCY, headcount=1, starts_at=now + timedelta(minutes=30))
    services.publish_campaign(campaign.id, actor="test", now=now, timezone_name=zone)
    db.session.rollback()
    scheduler = _scheduler(app, zone, http_receiver, smtp_server)
    try:
        assert _wait_for(lambda: len(_sms(http_receiver)) == 1, timeout=30)
        assert list(smtp_server.messages) == []
        # Six minutes of silence, by moving the call-up's clock rather than waiting.
        callup = db.session.scalars(select(CallUp)).one()
        db.session.execute(update(CallUp).values(sent_at=callup.sent_at - timedelta(minutes=6)))
        db.session.commit()
        arrived = _wait_for(lambda: len(smtp_server.messages) == 1, timeout=30)
        time.sleep(1)
    finally:
        outputs = _stop([scheduler])
    assert arrived, outputs
    mail = smtp_server.messages[0]
    from email.header import decode_header, make_header
    assert mail["To"] == "li@example.cn"
    assert str(make_header(decode_header(mail["Subject"]))).startswith("【应急】再次提醒：爆管抢修")
    assert len(_sms(http_receiver)) == 1  # not texted twice: a second channel
    db.session.expire_all()
    callup = db.session.scalars(select(CallUp)).one()
    assert callup.followed_up_at is not None and callup.volunteer_id == person.id
    board = services.staffing(campaign.id)["positions"][0]
    assert (board["reached"], board["opened"], board["answered"], board["silent"], board["followed_up"]) == \
        (1, 0, 0, 1, 1)
