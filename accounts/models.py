"""Accounts, API tokens, consent records and the audit log."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import UTCDateTime, value_enum
from core.clock import utcnow
from core.scope import Role
from extensions import db

__all__ = ["ApiToken", "AuditEvent", "Consent", "LoginThrottle", "MobileCode", "Role", "User"]


class ApiToken(db.Model):
    """A bearer token for an integration or a person, with its role and scope."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[Role] = mapped_column(value_enum(Role, "token_role"))
    grid_id: Mapped[Optional[int]] = mapped_column(ForeignKey("grids.id", ondelete="CASCADE"))
    volunteer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"))
    enterprise_id: Mapped[Optional[int]] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"))
    party_org_id: Mapped[Optional[int]] = mapped_column(ForeignKey("party_organisations.id", ondelete="CASCADE"))
    # The account a sign-in token (POST /auth/token) was issued to; None for integration tokens.
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    last_used_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)


class User(db.Model):
    """A person who signs in to the web pages (or exchanges a password for a bearer token)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Volunteers sign in with their mobile number; staff and enterprises with a chosen name.
    login: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(value_enum(Role, "user_role"))
    grid_id: Mapped[Optional[int]] = mapped_column(ForeignKey("grids.id", ondelete="RESTRICT"))
    volunteer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"),
                                                        unique=True)
    enterprise_id: Mapped[Optional[int]] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"))
    # A workplace party organisation's contact (双报到): the organisation whose report the account reads.
    party_org_id: Mapped[Optional[int]] = mapped_column(ForeignKey("party_organisations.id", ondelete="CASCADE"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on logout-everywhere, password change and deactivation: older sessions stop working.
    session_version: Mapped[int] = mapped_column(default=1)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    last_login_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Office staff and admins only: where a campaign's coordinator notices go besides the in-app row.
    # A volunteer's contact details live on their volunteer record, not here.
    email: Mapped[Optional[str]] = mapped_column(String(254))
    mobile: Mapped[Optional[str]] = mapped_column(String(11))
    wecom_id: Mapped[Optional[str]] = mapped_column(String(64))
    # Comma-separated channels (sms,email,wecom) chosen for coordinator notices; empty = in-app only.
    notify_channels: Mapped[str] = mapped_column(String(60), default="", server_default="")

    @property
    def notify_channel_list(self) -> list[str]:
        """The chosen channels, in the stored order."""
        return [part for part in (self.notify_channels or "").split(",") if part]


class Consent(db.Model):
    """A person's consent to one stated purpose, with its text version; withdrawal is a time, not a delete."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_volunteer_purpose", "volunteer_id", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(32))
    version: Mapped[str] = mapped_column(String(16))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)


class AuditEvent(db.Model):
    """Append-only: who looked at or changed what, when, from where, and how it ended. Never a PII value."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_at", "at"), Index("ix_audit_events_object", "object_type", "object_id"),
                      Index("ix_audit_events_request_id", "request_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[Optional[str]] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[Optional[str]] = mapped_column(String(32))
    object_id: Mapped[Optional[str]] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    ip: Mapped[Optional[str]] = mapped_column(String(45))
    detail: Mapped[Optional[str]] = mapped_column(String(500))
    # The X-Request-Id of the request that wrote the row (or the scheduler job run's id): the row's log lines.
    request_id: Mapped[Optional[str]] = mapped_column(String(64))


class LoginThrottle(db.Model):
    """Failed sign-ins of one login from one address, and until when that address must wait (never a lock).

    Keyed by sha256 of the login typed (known or not) and the address, so the table holds no login or number
    and an unknown login is throttled exactly like a known one.
    """

    __tablename__ = "login_throttles"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    blocked_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class MobileCode(db.Model):
    """A one-time code sent by SMS to prove a mobile number is the person's own (self-registration)."""

    __tablename__ = "mobile_codes"
    __table_args__ = (Index("ix_mobile_codes_mobile_created", "mobile_hash", "created_at"),
                      Index("ix_mobile_codes_ip_created", "ip_hash", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    # sha256 of the number and of the requesting address: enough to find and count, nothing to read.
    mobile_hash: Mapped[str] = mapped_column(String(64))
    ip_hash: Mapped[Optional[str]] = mapped_column(String(64))
    # argon2id of the six digits: a leaked row costs hours to brute-force, far beyond its ten minutes.
    code_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
