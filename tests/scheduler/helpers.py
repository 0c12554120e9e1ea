"""Building call-ups for the scheduler, response and link tests."""
from __future__ import annotations

from datetime import datetime, timedelta

from notices.models import Channel, Notification, NotificationKind, NotificationStatus
from campaigns.models import CallUp, CallUpStatus, Priority
from extensions import db
from tests.factories import CampaignFactory, PositionFactory, ShiftFactory, VolunteerFactory
from volunteers.models import CONSENT_CHANNELS, ChannelConsent


def make_position(*, now: datetime, headcount: int = 2, starts_in: timedelta = timedelta(days=3),
                  priority: Priority = Priority.ROUTINE, policy: dict | None = None, **campaign):
    """A campaign with one shift and one position starting ``starts_in`` after ``now``."""
    campaign = CampaignFactory(priority=priority, policy=policy or {}, contact_name="王主任", **campaign)
    shift = ShiftFactory(campaign=campaign, start_at=now + starts_in, end_at=now + starts_in + timedelta(hours=3),
                         place="江南社区服务中心")
    position = PositionFactory(shift=shift, headcount=headcount, role="宣传员")
    db.session.commit()
    return position


def make_callups(position, count: int, *, now: datetime, status: CallUpStatus = CallUpStatus.SCHEDULED,
                 send_at: datetime | None = None, expires_at: datetime | None = None,
                 consent: tuple[str, ...] = CONSENT_CHANNELS, **volunteer) -> list[CallUp]:
    """``count`` call-ups of new volunteers to ``position``; they consented to ``consent`` (default: every channel)."""
    callups = []
    for _ in range(count):
        person = VolunteerFactory(**volunteer)
        person.channel_consents = [ChannelConsent(channel=channel, granted_at=now) for channel in consent]
        callups.append(CallUp(position_id=position.id, volunteer_id=person.id, status=status,
                              send_at=send_at or now, expires_at=expires_at,
                              sent_at=now if status is CallUpStatus.SENT else None))
    db.session.add_all(callups)
    db.session.commit()
    return callups


def sent_callups(position, count: int, *, now: datetime, window: timedelta = timedelta(hours=1)) -> list[CallUp]:
    """``count`` call-ups already sent and open until ``now + window``."""
    return make_callups(position, count, now=now, status=CallUpStatus.SENT, expires_at=now + window)


def queue_raw(count: int, *, due_at: datetime, channel: Channel = Channel.WEBHOOK, prefix: str = "t") -> None:
    """Outbox rows without call-ups (fault and throughput tests)."""
    db.session.execute(db.insert(Notification), [
        {"channel": channel, "kind": NotificationKind.COORDINATOR, "idempotency_key": f"{prefix}:{i}",
         "status": NotificationStatus.PENDING, "due_at": due_at, "attempts": 0, "max_attempts": 5,
         "created_at": due_at, "payload": {"recipient": "13900000000", "subject": f"s{i}", "text": f"消息 {i}"}}
        for i in range(count)])
    db.session.commit()


def outbox(**filters) -> list[Notification]:
    """Outbox rows, optionally filtered by column values."""
    db.session.expire_all()
    query = db.select(Notification).order_by(Notification.id)
    for key, value in filters.items():
        query = query.where(getattr(Notification, key) == value)
    return list(db.session.scalars(query))


def run_concurrently(app, job, times: int = 3) -> list[Exception]:
    """Run ``job()`` in ``times`` threads at once, each in its own app context; return their errors."""
    import threading

    errors: list[Exception] = []

    def tick():
        with app.app_context():
            try:
                job()
            except Exception as error:  # noqa: BLE001 - the test asserts there are none
                errors.append(error)

    threads = [threading.Thread(target=tick) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
