"""API tokens: stored as a SHA-256 hash, shown once at creation."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import UTCDateTime, value_enum
from core.clock import utcnow
from extensions import db


class Role(enum.Enum):
    ADMIN = "admin"
    OFFICE = "office"
    VOLUNTEER = "volunteer"
    ENTERPRISE = "enterprise"


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
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    revoked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    last_used_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
