"""Sending call-ups and dispatching the outbox, on a controllable clock."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from notices.channels import build_channels, close_channels
from callups.dispatch import claim_due, dispatch_outbox, send_due_callups
from notices.links import hash_token
from notices.models import Channel, NotificationKind, NotificationStatus, ResponseLink
from campaigns.models import CallUp, CallUpEvent, CallUpStatus, Priority
from extensions import db
from tests.scheduler.helpers import make_callups, make_position, outbox, queue_raw, run_concurrently


def _callup(callup_id: int) -> CallUp:
    db.session.expire_all()
    return db.session.get(CallUp, callup_id)


def test_send_due_callups_waits_for_send_at(now):
    position = make_position(now=now)
    [callup] = make_callups(position, 1, now=now, send_at=now + timedelta(minutes=5))
    assert send_due_callups(now=now + timedelta(minutes=4, seconds=59)) == 0
    assert _callup(callup.id).status is CallUpStatus.SCHEDULED
    assert outbox() == []
    assert send_due_callups(now=now + timedelta(minutes=5)) == 1
    sent = _callup(callup.id)
    assert sent.status is CallUpStatus.SENT
    assert sent.sent_at == now + timedelta(minutes=5)
    assert sent.expires_at == now + timedelta(minutes=5, hours=24)


def test_send_due_callups_writes_link_outbox_and_event_together(now):
    position = make_position(now=now)
    [callup] = make_callups(position, 1, now=now)
    send_due_callups(now=now)
    rows = outbox(callup_id=callup.id)
    assert [(r.channel, r.kind, r.idempotency_key) for r in rows] == [
        (Channel.INAPP, NotificationKind.CALLUP, f"{callup.id}:callup:inapp:1")]
    links = db.session.scalars(db.select(ResponseLink).where(ResponseLink.callup_id == callup.id)).all()
    assert len(links) == 1 and len(links[0].token_hash) == 64
    assert links[0].expires_at == _callup(callup.id).expires_at
    events = db.session.scalars(db.select(CallUpEvent).where(CallUpEvent.callup_id == callup.id)).all()
    assert [(e.from_state, e.to_state, e.actor) for e in events] == [("scheduled", "sent", "scheduler")]


def test_send_due_callups_caps_the_deadline_at_the_shift_start(now):
    position = make_position(now=now, starts_in=timedelta(hours=3))
    [callup] = make_callups(position, 1, now=now)
    send_due_callups(now=now)
    assert _callup(callup.id).expires_at == now + timedelta(hours=3)


def test_send_due_callups_uses_the_policy_response_window(now):
    position = make_position(now=now, priority=Priority.EMERGENCY, starts_in=timedelta(hours=1))
    [callup] = make_callups(position, 1, now=now)
    send_due_callups(now=now)
    assert _callup(callup.id).expires_at == now + timedelta(minutes=10)


def test_send_due_callups_expires_those_whose_shift_already_started(now):
    position = make_position(now=now, starts_in=timedelta(hours=1))
    [callup] = make_callups(position, 1, now=now, send_at=now)
    assert send_due_callups(now=now + timedelta(hours=2)) == 0
    assert _callup(callup.id).status is CallUpStatus.EXPIRED
    assert outbox() == []


def test_send_due_callups_commits_slice_by_slice_so_a_crash_loses_only_its_slice(now, monkeypatch):
    """A big wave is sent in slices, each committed: the first messages are in the outbox before the rest are
    drawn, and a crash half-way (here: drawing the fifth message fails) keeps the slices before it and leaves
    the rest scheduled for the next run, which sends them."""
    import callups.dispatch as dispatch

    position = make_position(now=now, headcount=5)
    ids = [callup.id for callup in make_callups(position, 5, now=now)]
    drawn = []

    def crashing(callup, *args, **kwargs):
        drawn.append(callup.id)
        if callup.id == ids[4]:
            raise RuntimeError("the process died here")
        return real(callup, *args, **kwargs)

    real = dispatch.message_rows
    monkeypatch.setattr(dispatch, "message_rows", crashing)
    with pytest.raises(RuntimeError):
        send_due_callups(now=now, slice_size=2)
    db.session.rollback()
    assert [_callup(i).status for i in ids] == [CallUpStatus.SENT] * 4 + [CallUpStatus.SCHEDULED]
    assert {row.callup_id for row in outbox()} == set(ids[:4])
    assert db.session.query(ResponseLink).filter(ResponseLink.callup_id == ids[4]).count() == 0
    monkeypatch.setattr(dispatch, "message_rows", real)
    assert send_due_callups(now=now, slice_size=2) == 1
    assert _callup(ids[4]).status is CallUpStatus.SENT and {row.callup_id for row in outbox()} == set(ids)


def test_send_due_callups_writes_a_slice_in_a_few_statements(app, now):
    """Fifty people's call-ups: the pick, one load with their people, their daily-cap counts, one UPDATE, the
    events, the links and the outbox rows, each in one go: never a statement per person."""
    from tests.db.test_places_accept_queries import counted_statements

    position = make_position(now=now, headcount=50)
    ids = [callup.id for callup in make_callups(position, 50, now=now)]
    db.session.expire_all()
    with counted_statements() as statements:
        assert send_due_callups(now=now) == 50
    kinds = "\n".join(sql[:60] for sql in statements)
    assert sum(sql.startswith("UPDATE call_ups") for sql in statements) == 1, kinds
    assert sum(sql.startswith("INSERT INTO notifications") for sql in statements) == 1, kinds
    assert sum("GROUP BY" in sql for sql in statements) == 1, kinds  # the daily caps, counted together
    assert len(statements) <= 12, kinds
    assert {_callup(i).status for i in ids} == {CallUpStatus.SENT}


def test_send_due_callups_run_three_times_concurrently_sends_each_once(app, now):
    position = make_position(now=now, headcount=5)
    callups = make_callups(position, 12, now=now)
    errors = run_concurrently(app, lambda: send_due_callups(now=now))
    assert errors == []
    assert len(outbox(kind=NotificationKind.CALLUP)) == 12
    events = db.session.scalars(db.select(CallUpEvent).where(CallUpEvent.to_state == "sent")).all()
    assert sorted(e.callup_id for e in events) == sorted(c.id for c in callups)
    assert db.session.scalar(db.select(db.func.count()).select_from(ResponseLink)) == 12


def test_dispatch_delivers_each_channel_once_with_its_format(app, now, channels_config, http_receiver, smtp_server):
    position = make_position(now=now, headcount=1)
    [callup] = make_callups(position, 1, now=now, email="li@example.cn", wecom_id="LiLei")
    send_due_callups(now=now)
    channels = build_channels(app.config)
    try:
        stats = dispatch_outbox(now=now, channels=channels)
    finally:
        close_channels(channels)
    assert (stats.claimed, stats.sent, stats.failed) == (5, 5, 0)
    assert {r.status for r in outbox()} == {NotificationStatus.SENT}
    by_path = {r["path"]: r for r in http_receiver.requests}
    assert set(by_path) == {"/hook", "/wecom", "/sms"}
    sms = by_path["/sms"]["body"]
    assert sms["to"] == callup_volunteer_mobile(callup) and sms["idempotency_key"] == f"{callup.id}:callup:sms:1"
    assert "https://gm.example.cn/r/" in sms["text"] and len(sms["text"]) <= 70
    wecom = by_path["/wecom"]["body"]
    assert wecom["msgtype"] == "markdown" and "<@LiLei>" in wecom["markdown"]["content"]
    assert callup_volunteer_mobile(callup) not in wecom["markdown"]["content"]
    hook = by_path["/hook"]
    assert hook["key"] == f"{callup.id}:callup:webhook:1" and hook["body"]["callup_id"] == callup.id
    [mail] = smtp_server.messages
    assert mail["To"] == "li@example.cn"
    assert mail["Message-ID"] == f"<{callup.id}.callup.email.1@localhost.localdomain>"
    # Once sent, the stored copy no longer holds a usable token.
    for row in outbox():
        assert "/r/…" in row.payload["text"] or "/r/" not in row.payload["text"]


def callup_volunteer_mobile(callup: CallUp) -> str:
    from volunteers.models import Volunteer

    return db.session.get(Volunteer, callup.volunteer_id).mobile


def test_dispatch_link_in_message_opens_the_callup(app, client, now, channels_config, http_receiver):
    position = make_position(now=now)
    [callup] = make_callups(position, 1, now=now)
    send_due_callups(now=now)
    channels = build_channels(app.config)
    dispatch_outbox(now=now, channels=channels)
    close_channels(channels)
    [sms] = [r["body"] for r in http_receiver.requests if r["path"] == "/sms"]
    token = sms["text"].rsplit("/r/", 1)[1].strip()
    link = db.session.get(ResponseLink, hash_token(token))
    assert link is not None and link.callup_id == callup.id
    assert len("/r/" + token) <= 40


def test_dispatch_leaves_messages_that_are_not_due(app, now, channels_config, http_receiver):
    queue_raw(3, due_at=now + timedelta(seconds=30))
    channels = build_channels(app.config)
    assert dispatch_outbox(now=now, channels=channels).claimed == 0
    assert dispatch_outbox(now=now + timedelta(seconds=30), channels=channels).sent == 3
    close_channels(channels)
    assert len(http_receiver.requests) == 3


def test_dispatch_retries_with_exponential_backoff_then_fails(app, api, monkeypatch, now, channels_config,
                                                              http_receiver):
    monkeypatch.setitem(app.config, "WEBHOOK_URL", None)
    position = make_position(now=now)
    [callup] = make_callups(position, 1, now=now, notify_channels="sms")
    send_due_callups(now=now)
    http_receiver.status = 503
    channels = build_channels(app.config)
    at = now
    waits = []
    for _ in range(5):
        dispatch_outbox(now=at, channels=channels)
        [sms] = outbox(channel=Channel.SMS)
        if sms.status is NotificationStatus.FAILED:
            break
        assert sms.status is NotificationStatus.PENDING and "HTTP 503" in sms.last_error
        waits.append(round((sms.due_at - at).total_seconds()))
        # One second early nothing happens; at the due time the next attempt goes.
        assert dispatch_outbox(now=sms.due_at - timedelta(seconds=1), channels=channels).claimed == 0
        at = sms.due_at
    close_channels(channels)
    [sms] = outbox(channel=Channel.SMS)
    assert waits == [30, 120, 600, 1800]
    assert sms.status is NotificationStatus.FAILED and sms.attempts == 5
    assert len([r for r in http_receiver.requests if r["path"] == "/sms"]) == 5
    # The in-app copy went through on the first pass regardless.
    assert outbox(channel=Channel.INAPP)[0].status is NotificationStatus.SENT
    failed = api.get(f"/campaigns/{position.shift.campaign_id}/notifications?status=failed").get_json()
    assert [(n["channel"], n["attempts"], n["status"]) for n in failed] == [("sms", 5, "failed")]


def test_dispatch_gives_up_at_once_on_a_permanent_error(app, now, channels_config, http_receiver):
    queue_raw(1, due_at=now)
    http_receiver.status = 400
    channels = build_channels(app.config)
    stats = dispatch_outbox(now=now, channels=channels)
    close_channels(channels)
    assert (stats.failed, outbox()[0].status, outbox()[0].attempts) == (1, NotificationStatus.FAILED, 1)


def test_dispatch_a_dead_channel_does_not_block_the_others(app, monkeypatch, now, channels_config, http_receiver):
    monkeypatch.setitem(app.config, "SMTP_URL", "smtp://127.0.0.1:9")  # nothing listens there
    position = make_position(now=now)
    make_callups(position, 3, now=now, email="x@example.cn")
    send_due_callups(now=now)
    channels = build_channels(app.config)
    stats = dispatch_outbox(now=now, channels=channels)
    close_channels(channels)
    assert stats.retried == 3
    assert {r.status for r in outbox(channel=Channel.EMAIL)} == {NotificationStatus.PENDING}
    others = [r for r in outbox() if r.channel is not Channel.EMAIL]
    assert len(others) == 9 and {r.status for r in others} == {NotificationStatus.SENT}


def test_claim_takes_back_rows_whose_lease_ran_out(app, now):
    queue_raw(4, due_at=now, channel=Channel.INAPP)
    first = claim_due(owner="crashed", now=now, lease_seconds=60, batch=10)
    assert len(first) == 4
    assert claim_due(owner="other", now=now + timedelta(seconds=59), lease_seconds=60, batch=10) == []
    again = claim_due(owner="other", now=now + timedelta(seconds=61), lease_seconds=60, batch=10)
    assert len(again) == 4 and {r.attempts for r in again} == {2}
    assert {r.lease_owner for r in outbox()} == {"other"}


def test_dispatch_does_not_mark_rows_another_dispatcher_owns(app, now):
    from notices.channels import DeliveryResult
    from callups.dispatch import _finish

    queue_raw(1, due_at=now, channel=Channel.INAPP)
    [row] = claim_due(owner="slow", now=now, lease_seconds=60, batch=10)
    claim_due(owner="fast", now=now + timedelta(seconds=61), lease_seconds=60, batch=10)
    assert _finish(row, DeliveryResult.sent(), owner="slow", at=now + timedelta(seconds=62)) == "lost"
    assert outbox()[0].status is NotificationStatus.SENDING and outbox()[0].lease_owner == "fast"


def _inbox_sends(result: str) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("gridmuster_outbox_sends_total", {"channel": "inapp", "result": result}) or 0.0


def test_dispatch_delivers_a_pass_of_inbox_rows_in_one_update(app, now):
    """In-app rows are delivered by being marked sent: one UPDATE for the pass, tokens cut from the stored text."""
    from notices.channels.inapp import InAppChannel
    from tests.db.test_places_accept_queries import counted_statements

    queue_raw(30, due_at=now, channel=Channel.INAPP)
    for row in outbox():
        row.payload = {**row.payload, "text": f"请回复 https://gm.example.cn/r/tok{row.id}abcdefghijklmnop"}
    db.session.commit()
    sent_before = _inbox_sends("sent")
    with counted_statements() as statements:
        stats = dispatch_outbox(now=now, channels={"inapp": InAppChannel()}, owner="one")
    assert (stats.claimed, stats.sent, stats.skipped) == (30, 30, 0)
    assert _inbox_sends("sent") - sent_before == 30
    assert sum(sql.startswith("UPDATE notifications") for sql in statements) == 2  # the claim and the delivery
    rows = outbox()
    assert {r.status for r in rows} == {NotificationStatus.SENT} and {r.lease_owner for r in rows} == {None}
    assert all(r.sent_at is not None and r.payload["text"] == "请回复 https://gm.example.cn/r/…" for r in rows)


def test_dispatch_leaves_inbox_rows_another_dispatcher_took_over(app, now):
    from callups.dispatch import _deliver_inbox

    queue_raw(3, due_at=now, channel=Channel.INAPP)
    rows = claim_due(owner="slow", now=now, lease_seconds=60, batch=10)
    claim_due(owner="fast", now=now + timedelta(seconds=61), lease_seconds=60, batch=10)
    lost_before = _inbox_sends("lost")
    assert _deliver_inbox(rows, owner="slow", at=now + timedelta(seconds=62)) == 0
    assert _inbox_sends("lost") - lost_before == 3
    assert {(r.status, r.lease_owner) for r in outbox()} == {(NotificationStatus.SENDING, "fast")}


def test_wecom_robot_gets_at_most_twenty_messages_a_minute(app, now, channels_config, http_receiver):
    queue_raw(45, due_at=now, channel=Channel.WECOM)
    channels = build_channels(app.config)
    sent_first_minute = sum(dispatch_outbox(now=now + timedelta(seconds=s), channels=channels).sent
                            for s in range(0, 60, 5))
    assert sent_first_minute == 20
    assert dispatch_outbox(now=now + timedelta(seconds=61), channels=channels).sent == 20
    assert dispatch_outbox(now=now + timedelta(seconds=122), channels=channels).sent == 5
    close_channels(channels)
    assert len([r for r in http_receiver.requests if r["path"] == "/wecom"]) == 45


@pytest.mark.parametrize("hour,expected", [(21, None), (22, "08:00+1"), (23, "08:00+1"), (3, "08:00"), (8, None)])
def test_quiet_hours_hold_routine_messages_until_eight(app, channels_config, hour, expected):
    local = datetime(2026, 12, 1, hour, 30, tzinfo=timezone(timedelta(hours=8)))
    now = local.astimezone(timezone.utc)
    position = make_position(now=now)
    make_callups(position, 1, now=now)
    send_due_callups(now=now)
    sms = outbox(channel=Channel.SMS)[0]
    inapp = outbox(channel=Channel.INAPP)[0]
    assert inapp.due_at == now
    if expected is None:
        assert sms.due_at == now
    else:
        day = 2 if expected.endswith("+1") else 1
        assert sms.due_at == datetime(2026, 12, day, 8, 0, tzinfo=timezone(timedelta(hours=8)))


def test_quiet_hours_do_not_hold_emergencies(app, channels_config):
    now = datetime(2026, 12, 1, 23, 0, tzinfo=timezone(timedelta(hours=8))).astimezone(timezone.utc)
    position = make_position(now=now, priority=Priority.EMERGENCY, starts_in=timedelta(hours=1))
    make_callups(position, 1, now=now)
    send_due_callups(now=now)
    assert {r.due_at for r in outbox()} == {now}


def test_quiet_hours_start_the_answer_window_when_the_message_arrives(app, channels_config):
    now = datetime(2026, 12, 1, 23, 0, tzinfo=timezone(timedelta(hours=8))).astimezone(timezone.utc)
    position = make_position(now=now, policy={"response_minutes": 120})
    [callup] = make_callups(position, 1, now=now)
    send_due_callups(now=now)
    eight = datetime(2026, 12, 2, 8, 0, tzinfo=timezone(timedelta(hours=8)))
    assert _callup(callup.id).expires_at == eight + timedelta(minutes=120)


def test_drain_outbox_clears_a_backlog_in_one_tick_and_stops_when_empty(app, channels_config, http_receiver, now,
                                                                         monkeypatch):
    from callups.dispatch import drain_outbox

    monkeypatch.setitem(app.config, "OUTBOX_BATCH_SIZE", 10)
    queue_raw(35, due_at=now - timedelta(seconds=1), prefix="drain")
    channels = build_channels(app.config)
    try:
        passes: list[datetime] = []
        stats = drain_outbox(channels=channels, budget_seconds=60, clock=lambda: passes.append(now) or now)
        # Four passes of at most ten rows, then one that finds nothing and ends the drain.
        assert (stats.claimed, stats.sent) == (35, 35)
        assert len(passes) == 5
        assert sorted(http_receiver.keys()) == sorted(f"drain:{i}" for i in range(35))
        queue_raw(25, due_at=now - timedelta(seconds=1), prefix="budget")
        # A spent budget still runs one pass, never more.
        assert drain_outbox(channels=channels, budget_seconds=0, clock=lambda: now).claimed == 10
    finally:
        close_channels(channels)
    assert len(outbox(status=NotificationStatus.PENDING)) == 15
