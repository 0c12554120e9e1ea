"""Read side of the outbox for the office, the in-app inbox and the operations gauges."""
from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Select, func, select, update

from campaigns.models import CallUp, CallUpStatus, Shift
from campaigns.places import join_shift
from notices.models import Channel, Notification, NotificationKind, NotificationStatus
from campaigns.services import get_campaign
from core.errors import NotFound
from extensions import db
from volunteers.models import Volunteer


def list_campaign_notifications(campaign_id: int, *, status: NotificationStatus | None = None,
                                channel: Channel | None = None, kind: NotificationKind | None = None) -> Select:
    """A campaign's messages (e.g. the failed ones, or kind=coordinator for the office's notices), newest first."""
    get_campaign(campaign_id)
    stmt = (join_shift(select(Notification).join(CallUp, CallUp.id == Notification.callup_id))
            .where(Shift.campaign_id == campaign_id).order_by(Notification.id.desc()))
    if status is not None:
        stmt = stmt.where(Notification.status == status)
    if channel is not None:
        stmt = stmt.where(Notification.channel == channel)
    if kind is not None:
        stmt = stmt.where(Notification.kind == kind)
    return stmt


def list_inbox(volunteer_id: int) -> Select:
    """A person's delivered in-app messages, newest first."""
    if db.session.get(Volunteer, volunteer_id) is None:
        raise NotFound.of("volunteer", volunteer_id)
    return (select(Notification).where(Notification.volunteer_id == volunteer_id,
                                       Notification.channel == Channel.INAPP,
                                       Notification.status == NotificationStatus.SENT)
            .order_by(Notification.sent_at.desc(), Notification.id.desc()))


def send_failed_again(campaign_id: int, *, now: datetime) -> int:
    """Put a campaign's failed messages back in the outbox, due now with fresh attempts (after a gateway outage,
    say). One conditional UPDATE: a message already sent or sending again is left alone, so two clicks never
    send twice. Returns how many go out again."""
    failed = list_campaign_notifications(campaign_id, status=NotificationStatus.FAILED).order_by(None) \
        .with_only_columns(Notification.id).scalar_subquery()
    count = db.session.execute(
        update(Notification).where(Notification.id.in_(failed), Notification.status == NotificationStatus.FAILED)
        .values(status=NotificationStatus.PENDING, attempts=0, due_at=now, lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return count


class Backlog(NamedTuple):
    channel: Channel
    due: int                    # messages due and not yet sent (pending, or claimed and in flight)
    oldest_due_at: datetime     # the due time of the oldest of them


def callup_status_counts() -> dict[CallUpStatus, int]:
    """Call-ups by status, in one grouped count (the operations gauge)."""
    rows = db.session.execute(select(CallUp.status, func.count()).group_by(CallUp.status)).all()
    return {status: int(count) for status, count in rows}


def outbox_backlog(*, now: datetime) -> list[Backlog]:
    """Per channel: outbox messages due by ``now`` and not yet sent, and the oldest due time; one query on the
    (status, due_at) index. Messages held for later (quiet hours, the daily cap) are not due yet, so not counted."""
    rows = db.session.execute(
        select(Notification.channel, func.count(), func.min(Notification.due_at))
        .where(Notification.status.in_([NotificationStatus.PENDING, NotificationStatus.SENDING]),
               Notification.due_at <= now)
        .group_by(Notification.channel)).all()
    return [Backlog(channel, int(count), oldest) for channel, count, oldest in rows]
