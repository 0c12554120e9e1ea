"""The notification outbox and the response-link tokens."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import UTCDateTime, value_enum
from extensions import db


class Channel(enum.Enum):
    INAPP = "inapp"
    EMAIL = "email"
    WEBHOOK = "webhook"
    WECOM = "wecom"
    SMS = "sms"


class NotificationKind(enum.Enum):
    CALLUP = "callup"
    REMINDER = "reminder"
    CONFIRMATION = "confirmation"
    FILLED = "filled"
    CANCELLATION = "cancellation"
    COORDINATOR = "coordinator"
    CHANGE = "change"
    FOLLOW_UP = "follow_up"  # a call-up sent again to someone silent, on another channel
    ALERT = "alert"          # an emergency's alert to the grid (GridAlert)
    WHISTLE = "whistle"      # a whistle's summons of a responder unit, or its escalation (gridwork)


class NotificationStatus(enum.Enum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Notification(db.Model):
    """One message through one channel, written in the transaction of the change that causes it."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint("attempts >= 0 AND max_attempts >= 1", name="attempts_range"),
        # The dispatcher's claim: due rows by status and due time.
        Index("ix_notifications_status_due_at", "status", "due_at"),
        Index("ix_notifications_volunteer_channel", "volunteer_id", "channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    callup_id: Mapped[Optional[int]] = mapped_column(ForeignKey("call_ups.id", ondelete="CASCADE"), index=True)
    volunteer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("volunteers.id", ondelete="SET NULL"))
    channel: Mapped[Channel] = mapped_column(value_enum(Channel, "notification_channel"))
    kind: Mapped[NotificationKind] = mapped_column(value_enum(NotificationKind, "notification_kind"))
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    status: Mapped[NotificationStatus] = mapped_column(
        value_enum(NotificationStatus, "notification_status"), default=NotificationStatus.PENDING)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    max_attempts: Mapped[int] = mapped_column(SmallInteger, default=5)
    lease_owner: Mapped[Optional[str]] = mapped_column(String(64))
    lease_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    last_error: Mapped[Optional[str]] = mapped_column(String(500))
    sent_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # {recipient, subject, text}; the response link in it is redacted once sent.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ResponseLink(db.Model):
    """A one-tap answer link: only the sha256 of its token is stored."""

    __tablename__ = "response_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    callup_id: Mapped[int] = mapped_column(ForeignKey("call_ups.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
