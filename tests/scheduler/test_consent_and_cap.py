"""Per-channel consent and the daily message cap, on a controllable clock."""
from __future__ import annotations

import logging
import sys
from datetime import datetime, timedelta, timezone

import pytest

from accounts.models import Role
from accounts.services import create_token
from callups.dispatch import send_due_callups, send_reminders
from notices.models import Channel, NotificationKind, NotificationStatus
from notices.outbox import push_time
from campaigns.models import CallUp, CallUpStatus, Priority
from campaigns.responses import accept_callup
from config import Config, ConfigError
from extensions import db
from tests.conftest import ApiClient, volunteer_body
from tests.factories import VolunteerFactory
from tests.scheduler.helpers import make_position, outbox
from volunteers.models import ChannelConsent, Volunteer

CST = timezone(timedelta(hours=8))


@pytest.fixture(autouse=True)
def _cap_of_five(app, monkeypatch):
    """The default cap, whatever the environment running the tests says."""
    monkeypatch.setitem(app.config, "DAILY_MESSAGE_CAP", 5)


def _person(*, consent=("sms", "email", "wecom"), now: datetime, **fields) -> Volunteer:
    person = VolunteerFactory(email="li@example.cn", wecom_id="LiLei", **fields)
    person.channel_consents = [ChannelConsent(channel=channel, granted_at=now) for channel in consent]
    db.session.commit()
    return person


def _callups_for(person: Volunteer, count: int, *, now: datetime, priority: Priority = Priority.ROUTINE,
                 starts_in: timedelta | None = None) -> list[int]:
    """``count`` scheduled call-ups of ``person``, each to a position of its own campaign."""
    ids = []
    for _ in range(count):
        default = timedelta(hours=2) if priority is Priority.EMERGENCY else timedelta(days=3)
        position = make_position(now=now, priority=priority, starts_in=starts_in or default)
        callup = CallUp(position_id=position.id, volunteer_id=person.id, status=CallUpStatus.SCHEDULED, send_at=now)
        db.session.add(callup)
        db.session.commit()
        ids.append(callup.id)
    return ids


def _channels(callup_id: int) -> set[Channel]:
    return {row.channel for row in outbox(callup_id=callup_id)}


def _due(callup_id: int, channel: Channel) -> datetime:
    [row] = outbox(callup_id=callup_id, channel=channel)
    return row.due_at


# --- consent ----------------------------------------------------------------------------------


def test_consent_channel_without_consent_gets_no_row_and_is_logged(app, now, channels_config, caplog):
    person = _person(consent=("sms", "wecom"), now=now)
    [callup_id] = _callups_for(person, 1, now=now)
    with caplog.at_level(logging.INFO, logger="notices.outbox"):
        send_due_callups(now=now)
    # The in-app inbox and the office's webhook need no consent; e-mail has none.
    assert _channels(callup_id) == {Channel.INAPP, Channel.SMS, Channel.WECOM, Channel.WEBHOOK}
    assert f"no consent: volunteer {person.id} channel email skipped" in caplog.text
    assert "li@example.cn" not in caplog.text and person.mobile not in caplog.text


def test_consent_none_given_leaves_only_the_inbox_and_the_webhook(app, now, channels_config):
    person = _person(consent=(), now=now)
    [callup_id] = _callups_for(person, 1, now=now)
    send_due_callups(now=now)
    assert _channels(callup_id) == {Channel.INAPP, Channel.WEBHOOK}


def test_consent_withdrawn_stops_the_channel(app, now, channels_config):
    person = _person(consent=("sms", "email"), now=now)
    person.channel_consents[0].withdrawn_at = now  # e-mail (ordered by channel) withdrawn
    db.session.commit()
    [callup_id] = _callups_for(person, 1, now=now)
    send_due_callups(now=now)
    assert _channels(callup_id) == {Channel.INAPP, Channel.SMS, Channel.WEBHOOK}


def test_consent_and_preference_are_both_needed(app, now, channels_config):
    person = _person(consent=("sms", "email"), now=now, notify_channels="email,wecom")
    [callup_id] = _callups_for(person, 1, now=now)
    send_due_callups(now=now)
    # sms: consented but not preferred; wecom: preferred but not consented; email: both.
    assert _channels(callup_id) == {Channel.INAPP, Channel.EMAIL, Channel.WEBHOOK}


def test_consent_is_set_by_the_office_and_withdrawn_by_the_person(app, client, api, tree, now):
    created = api.post("/volunteers", json=volunteer_body(tree.grid_a1.id, consented_channels=["sms", "email"]))
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["consented_channels"] == ["email", "sms"]
    assert [c["withdrawn_at"] for c in body["channel_consents"]] == [None, None]
    _, plain = create_token(name="self", role=Role.VOLUNTEER, volunteer_id=body["id"], now=now)
    person = ApiClient(client, plain)
    changed = person.patch(f"/volunteers/{body['id']}", json={"consented_channels": ["sms", "wecom"]})
    assert changed.status_code == 200, changed.get_json()
    consents = {c["channel"]: c for c in changed.get_json()["channel_consents"]}
    assert changed.get_json()["consented_channels"] == ["sms", "wecom"]
    assert consents["email"]["withdrawn_at"] is not None and consents["wecom"]["withdrawn_at"] is None
    rows = db.session.scalars(db.select(ChannelConsent).where(ChannelConsent.volunteer_id == body["id"])).all()
    assert {(r.channel, r.withdrawn_at is None) for r in rows} == {("sms", True), ("email", False), ("wecom", True)}
    # The withdrawal is kept, not deleted; giving it again restarts the grant.
    again = person.patch(f"/volunteers/{body['id']}", json={"consented_channels": ["email"]}).get_json()
    assert again["consented_channels"] == ["email"]


def test_consent_unknown_channel_is_refused_naming_the_field(api, tree):
    response = api.post("/volunteers", json=volunteer_body(tree.grid_a1.id, consented_channels=["fax"]))
    assert response.status_code == 422
    assert "consented_channels" in response.get_json()["errors"]["json"]


def test_consent_a_person_still_cannot_patch_office_fields(app, client, api, tree, now):
    body = api.post("/volunteers", json=volunteer_body(tree.grid_a1.id)).get_json()
    _, plain = create_token(name="self", role=Role.VOLUNTEER, volunteer_id=body["id"], now=now)
    response = ApiClient(client, plain).patch(f"/volunteers/{body['id']}",
                                              json={"consented_channels": ["sms"], "status": "left"})
    assert response.status_code == 403
    assert db.session.scalar(db.select(db.func.count()).select_from(ChannelConsent)) == 0


# --- daily cap --------------------------------------------------------------------------------


def test_cap_defers_the_sixth_message_of_the_day_to_the_next_morning(app, now, channels_config):
    person = _person(now=now)
    ids = _callups_for(person, 6, now=now)
    assert send_due_callups(now=now) == 6
    for callup_id in ids[:5]:
        assert {row.due_at for row in outbox(callup_id=callup_id)} == {now}
    sixth = ids[5]
    morning = datetime(2026, 12, 2, 8, 0, tzinfo=CST)
    # Every outside channel of the sixth waits; the inbox does not.
    assert {row.due_at for row in outbox(callup_id=sixth) if row.channel is not Channel.INAPP} == {morning}
    assert _due(sixth, Channel.INAPP) == now
    # Its answer window opens when it reaches the person.
    db.session.expire_all()
    assert db.session.get(CallUp, sixth).expires_at == morning + timedelta(hours=24)


def test_cap_counts_messages_not_rows(app, now, channels_config):
    """Does one message on four outside channels count once?"""
    person = _person(now=now)
    ids = _callups_for(person, 5, now=now)
    send_due_callups(now=now)
    assert len([row for row in outbox() if row.channel is not Channel.INAPP]) == 20
    assert {row.due_at for callup_id in ids for row in outbox(callup_id=callup_id)} == {now}


def test_cap_fills_later_days_in_turn(app, now, channels_config):
    person = _person(now=now)
    ids = _callups_for(person, 11, now=now)
    send_due_callups(now=now)
    days = [_due(callup_id, Channel.SMS) for callup_id in ids]
    assert days == [now] * 5 + [datetime(2026, 12, 2, 8, 0, tzinfo=CST)] * 5 + [datetime(2026, 12, 3, 8, 0, tzinfo=CST)]


def test_cap_is_per_person(app, now, channels_config):
    first, second = _person(now=now), _person(now=now)
    _callups_for(first, 5, now=now)
    [other] = _callups_for(second, 1, now=now)
    send_due_callups(now=now)
    assert _due(other, Channel.SMS) == now


def test_cap_of_many_people_in_one_slice_is_counted_per_day_not_per_person(app, now, channels_config):
    from tests.db.test_places_accept_queries import counted_statements

    full_today, full_two_days, free = _person(now=now), _person(now=now), _person(now=now)
    _callups_for(full_today, 5, now=now)
    _callups_for(full_two_days, 10, now=now)
    send_due_callups(now=now)
    [first] = _callups_for(full_today, 1, now=now)
    [second] = _callups_for(full_two_days, 1, now=now)
    [third] = _callups_for(free, 1, now=now)
    db.session.expire_all()
    with counted_statements() as statements:
        assert send_due_callups(now=now) == 3
    # Three days looked at (today, tomorrow, the day after), one grouped count each, for all three people.
    assert sum("GROUP BY" in sql for sql in statements) == 3, "\n".join(sql[:80] for sql in statements)
    assert _due(first, Channel.SMS) == datetime(2026, 12, 2, 8, 0, tzinfo=CST)
    assert _due(second, Channel.SMS) == datetime(2026, 12, 3, 8, 0, tzinfo=CST)
    assert _due(third, Channel.SMS) == now


def test_cap_does_not_count_failed_messages(app, now, channels_config):
    person = _person(now=now)
    ids = _callups_for(person, 6, now=now)
    send_due_callups(now=now, limit=5)
    for row in outbox(callup_id=ids[0]):
        row.status = NotificationStatus.FAILED
    db.session.commit()
    send_due_callups(now=now)
    assert _due(ids[5], Channel.SMS) == now


def test_cap_and_quiet_hours_count_the_day_the_message_goes(app, channels_config):
    """At 23:00 the morning's messages count against the morning, not the evening."""
    late = datetime(2026, 12, 1, 23, 0, tzinfo=CST).astimezone(timezone.utc)
    person = _person(now=late)
    ids = _callups_for(person, 6, now=late)
    send_due_callups(now=late)
    days = [_due(callup_id, Channel.SMS) for callup_id in ids]
    assert days == [datetime(2026, 12, 2, 8, 0, tzinfo=CST)] * 5 + [datetime(2026, 12, 3, 8, 0, tzinfo=CST)]


def test_cap_never_holds_a_message_past_the_shift_start(app, now, channels_config):
    """A call-up for tonight would be useless tomorrow morning: it goes today, over the cap."""
    person = _person(now=now)
    _callups_for(person, 5, now=now)
    [tonight] = _callups_for(person, 1, now=now, starts_in=timedelta(hours=12))
    send_due_callups(now=now)
    assert _due(tonight, Channel.SMS) == now
    db.session.expire_all()
    assert db.session.get(CallUp, tonight).expires_at == now + timedelta(hours=12)


def test_cap_never_holds_a_reminder_past_the_shift_start(app, now, channels_config):
    person = _person(now=now)
    [soon] = _callups_for(person, 1, now=now, starts_in=timedelta(hours=3))
    send_due_callups(now=now)
    accept_callup(soon, actor="v", now=now)
    _callups_for(person, 5, now=now)
    send_due_callups(now=now)
    assert send_reminders(now=now + timedelta(hours=1)) == 1
    [reminder] = outbox(callup_id=soon, kind=NotificationKind.REMINDER, channel=Channel.SMS)
    assert reminder.due_at == now + timedelta(hours=1)


def test_cap_holds_a_reminder_that_can_wait(app, now, channels_config):
    person = _person(now=now)
    _callups_for(person, 5, now=now)
    send_due_callups(now=now)
    morning = datetime(2026, 12, 2, 8, 0, tzinfo=CST)
    assert push_time(person.id, now=now, kind=NotificationKind.REMINDER, emergency=False, config=app.config,
                     before=now + timedelta(days=2)) == morning
    # A shift starting before that morning: the reminder goes now, over the cap.
    assert push_time(person.id, now=now, kind=NotificationKind.REMINDER, emergency=False, config=app.config,
                     before=morning) == now


def test_cap_does_not_hold_emergencies(app, now, channels_config):
    person = _person(now=now)
    _callups_for(person, 5, now=now)
    send_due_callups(now=now)
    [urgent] = _callups_for(person, 1, now=now, priority=Priority.EMERGENCY)
    send_due_callups(now=now)
    assert {row.due_at for row in outbox(callup_id=urgent)} == {now}


def test_cap_does_not_hold_a_confirmation(app, now, channels_config):
    person = _person(now=now)
    ids = _callups_for(person, 5, now=now)
    send_due_callups(now=now)
    accept_callup(ids[0], actor="v", now=now + timedelta(minutes=1))
    confirmations = outbox(callup_id=ids[0], kind=NotificationKind.CONFIRMATION)
    assert confirmations and {row.due_at for row in confirmations} == {now + timedelta(minutes=1)}


def test_cap_zero_switches_it_off(app, monkeypatch, now, channels_config):
    monkeypatch.setitem(app.config, "DAILY_MESSAGE_CAP", 0)
    person = _person(now=now)
    ids = _callups_for(person, 7, now=now)
    send_due_callups(now=now)
    assert {_due(callup_id, Channel.SMS) for callup_id in ids} == {now}


def _fresh_config(monkeypatch, value: str | None):
    """config.Config as a process started with GRIDMUSTER_DAILY_MESSAGE_CAP=value would read it."""
    import importlib.util

    if value is None:
        monkeypatch.delenv("GRIDMUSTER_DAILY_MESSAGE_CAP", raising=False)
    else:
        monkeypatch.setenv("GRIDMUSTER_DAILY_MESSAGE_CAP", value)
    spec = importlib.util.spec_from_file_location("config_fresh", sys.modules[Config.__module__].__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Config


def test_cap_setting_is_read_from_the_environment(monkeypatch):
    assert _fresh_config(monkeypatch, None).DAILY_MESSAGE_CAP == 5
    assert _fresh_config(monkeypatch, "8").DAILY_MESSAGE_CAP == 8
    assert _fresh_config(monkeypatch, "0").DAILY_MESSAGE_CAP == 0
    for bad in ("-1", "five"):
        with pytest.raises(RuntimeError, match="GRIDMUSTER_DAILY_MESSAGE_CAP") as refused:
            _fresh_config(monkeypatch, bad)
        # The fresh module has its own ConfigError class.
        assert type(refused.value).__name__ == ConfigError.__name__
