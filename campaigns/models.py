"""Campaigns, their shifts and positions, call-ups and the call-up history."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any, Optional

from sqlalchemy import (JSON, CheckConstraint, Date, ForeignKey, Index, SmallInteger, String, UniqueConstraint, and_, case,
                        func, text)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import TimestampMixin, UTCDateTime, value_enum
from core.kinds import KIND_LABELS, CampaignKind  # noqa: F401  (re-exported)
from extensions import db


class Priority(enum.Enum):
    ROUTINE = "routine"
    URGENT = "urgent"
    EMERGENCY = "emergency"


class CampaignStatus(enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    STAFFED = "staffed"
    PARTLY_STAFFED = "partly_staffed"
    RUNNING = "running"
    DONE = "done"
    CANCELLED = "cancelled"


class CallUpStatus(enum.Enum):
    PROPOSED = "proposed"
    SCHEDULED = "scheduled"
    SENT = "sent"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


# The one set of state constants (campaigns/places.py builds the place arithmetic on them).
OPEN_CALLUP_STATES = (CallUpStatus.PROPOSED, CallUpStatus.SCHEDULED, CallUpStatus.SENT)
# On the roster: said yes (and perhaps came or not); these hold a place of the headcount.
TAKEN_CALLUP_STATES = (CallUpStatus.ACCEPTED, CallUpStatus.ATTENDED, CallUpStatus.NO_SHOW)
CLOSED_CAMPAIGN_STATES = (CampaignStatus.CANCELLED, CampaignStatus.DONE)
# Published and not yet over: what a grid's "open campaigns" counts.
OPEN_CAMPAIGN_STATES = (CampaignStatus.PUBLISHED, CampaignStatus.STAFFED, CampaignStatus.PARTLY_STAFFED,
                        CampaignStatus.RUNNING)


class Campaign(TimestampMixin, db.Model):
    """A staffing need posted by an office; each recurrence is its own campaign."""

    __tablename__ = "campaigns"
    __table_args__ = (
        Index("ix_campaigns_office_status", "office_grid_id", "status"),
        # One campaign per occurrence of a template, even when two schedulers materialise it at once.
        UniqueConstraint("template_id", "occurrence_at", name="uq_campaigns_template_occurrence"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[Optional[str]] = mapped_column(String(2000))
    kind: Mapped[CampaignKind] = mapped_column(value_enum(CampaignKind, "campaign_kind"))
    priority: Mapped[Priority] = mapped_column(value_enum(Priority, "campaign_priority"), default=Priority.ROUTINE)
    status: Mapped[CampaignStatus] = mapped_column(
        value_enum(CampaignStatus, "campaign_status"), default=CampaignStatus.DRAFT)
    office_grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id", ondelete="RESTRICT"))
    contact_name: Mapped[Optional[str]] = mapped_column(String(64))
    contact_phone: Mapped[Optional[str]] = mapped_column(String(20))
    policy: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    recurrence_cron: Mapped[Optional[str]] = mapped_column(String(100))
    template_id: Mapped[Optional[int]] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    # For an occurrence of a recurring template: the cron fire time (UTC) its first shift starts at.
    occurrence_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    published_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[Optional[str]] = mapped_column(String(500))
    created_by: Mapped[Optional[str]] = mapped_column(String(100))
    # The staff account told of every accept and decline (in-app and on the channels it chose).
    coordinator_user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # A backfill that found no one: skip the matcher until this time unless a call-up changes
    # (the mark is the count and latest change of the campaign's call-ups at that run).
    backfill_idle_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    backfill_idle_mark: Mapped[Optional[str]] = mapped_column(String(64))

    office = relationship("Grid", lazy="joined", viewonly=True)
    shifts: Mapped[list["Shift"]] = relationship(
        back_populates="campaign", cascade="all, delete-orphan", lazy="selectin",
        order_by="(Shift.start_at, Shift.id)")


class Shift(db.Model):
    """A time window at a place (a grid) within a campaign."""

    __tablename__ = "shifts"
    __table_args__ = (
        CheckConstraint("end_at > start_at", name="end_after_start"),
        Index("ix_shifts_start_at", "start_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id", ondelete="RESTRICT"))
    place: Mapped[Optional[str]] = mapped_column(String(200))
    # Last change of time or place after publishing: declines given before it no longer count.
    changed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    campaign: Mapped[Campaign] = relationship(back_populates="shifts")
    positions: Mapped[list["Position"]] = relationship(
        back_populates="shift", cascade="all, delete-orphan", lazy="selectin", order_by="Position.id")


class Position(db.Model):
    """A role to fill on a shift, with its headcount and requirements.

    ``accepted_count`` is the number of accepted call-ups; the CHECK keeps it
    within the headcount, so the database itself refuses an over-fill.
    """

    __tablename__ = "positions"
    __table_args__ = (
        CheckConstraint("headcount >= 1", name="headcount_positive"),
        CheckConstraint("min_party_members >= 0 AND min_party_members <= headcount", name="party_range"),
        CheckConstraint("accepted_count >= 0 AND accepted_count <= headcount", name="accepted_within_headcount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("shifts.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(100))
    headcount: Mapped[int] = mapped_column(SmallInteger)
    min_party_members: Mapped[int] = mapped_column(SmallInteger, default=0)
    required_identities: Mapped[int] = mapped_column(default=0)
    accepted_count: Mapped[int] = mapped_column(SmallInteger, default=0)
    # Why places stayed open at the last match (publish, backfill, override), kept until they fill.
    unfilled_reasons: Mapped[Optional[list[dict[str, Any]]]] = mapped_column(JSON)

    shift: Mapped[Shift] = relationship(back_populates="positions")
    skills: Mapped[list["PositionSkill"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="PositionSkill.skill_id")


class PositionSkill(db.Model):
    """A required (or merely preferred) skill of a position."""

    __tablename__ = "position_skills"
    __table_args__ = (CheckConstraint("min_level BETWEEN 1 AND 5", name="min_level_range"),)

    position_id: Mapped[int] = mapped_column(ForeignKey("positions.id", ondelete="CASCADE"), primary_key=True)
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id", ondelete="RESTRICT"), primary_key=True)
    min_level: Mapped[int] = mapped_column(SmallInteger, default=1)
    preferred: Mapped[bool] = mapped_column(default=False)

    skill = relationship("Skill", lazy="joined", viewonly=True)


class CallUp(TimestampMixin, db.Model):
    """One invitation of one person (or one team) to one position."""

    __tablename__ = "call_ups"
    __table_args__ = (
        # One live call-up per person and position; a decline may be followed by a new offer
        # once the shift's time or place changed (campaigns/changes.py).
        Index("uq_call_ups_live_position_volunteer", "position_id", "volunteer_id", unique=True,
              sqlite_where=text("status <> 'declined'"), postgresql_where=text("status <> 'declined'")),
        CheckConstraint("volunteer_id IS NOT NULL OR team_id IS NOT NULL", name="has_addressee"),
        CheckConstraint("places IS NULL OR places >= 1", name="places_positive"),
        Index("ix_call_ups_volunteer_status", "volunteer_id", "status"),
        Index("ix_call_ups_status_send_at", "status", "send_at"),
        # Reports: who answered or checked in when (range scans that never read the table), and the few call-ups
        # answered through a team, by position.
        Index("ix_call_ups_responded_volunteer", "responded_at", "volunteer_id",
              sqlite_where=text("volunteer_id IS NOT NULL AND responded_at IS NOT NULL"),
              postgresql_where=text("volunteer_id IS NOT NULL AND responded_at IS NOT NULL")),
        Index("ix_call_ups_attended_volunteer", "attended_at", "volunteer_id",
              sqlite_where=text("volunteer_id IS NOT NULL AND attended_at IS NOT NULL"),
              postgresql_where=text("volunteer_id IS NOT NULL AND attended_at IS NOT NULL")),
        Index("ix_call_ups_team_position", "position_id", "team_id", sqlite_where=text("team_id IS NOT NULL"),
              postgresql_where=text("team_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    position_id: Mapped[int] = mapped_column(ForeignKey("positions.id", ondelete="CASCADE"), index=True)
    volunteer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("volunteers.id", ondelete="RESTRICT"))
    team_id: Mapped[Optional[int]] = mapped_column(ForeignKey("teams.id", ondelete="RESTRICT"))
    status: Mapped[CallUpStatus] = mapped_column(value_enum(CallUpStatus, "callup_status"),
                                                 default=CallUpStatus.PROPOSED)
    score: Mapped[Optional[float]]
    breakdown: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    wave: Mapped[int] = mapped_column(SmallInteger, default=1)
    radius_level: Mapped[Optional[int]] = mapped_column(SmallInteger)
    channel: Mapped[Optional[str]] = mapped_column(String(20))
    send_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    sent_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    seen_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # When a silent person was contacted again (callups/followup.py); once per call-up.
    followed_up_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    expires_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    responded_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # Check-in (the real arrival time) and check-out (the real leaving time); campaigns/attendance.py.
    attended_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    checked_out_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    answered_by: Mapped[Optional[str]] = mapped_column(String(100))
    reason: Mapped[Optional[str]] = mapped_column(String(500))
    # Said yes when the position was already full: first in line if a place frees.
    standby_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    # Emergencies: minutes until the person can be there (0/15/30/60).
    eta_minutes: Mapped[Optional[int]] = mapped_column(SmallInteger)
    # A team call-up (team_id set, no volunteer): how many places the team is offered.
    places: Mapped[Optional[int]] = mapped_column(SmallInteger)
    # An over-recruit of one for a position that is full but at risk (campaigns/backfill.py).
    extra: Mapped[bool] = mapped_column(default=False, server_default=text("false"))

    position: Mapped[Position] = relationship(lazy="joined", viewonly=True)
    events: Mapped[list["CallUpEvent"]] = relationship(
        cascade="all, delete-orphan", order_by="CallUpEvent.id", lazy="selectin")

    @hybrid_property
    def is_open(self) -> bool:
        """Not answered yet: proposed, scheduled or sent (a 'yes' on standby included)."""
        return self.status in OPEN_CALLUP_STATES

    @is_open.inplace.expression
    @classmethod
    def _is_open_expression(cls):
        return cls.status.in_(OPEN_CALLUP_STATES)

    @hybrid_property
    def held_places(self) -> int:
        """Places an unanswered call-up holds: a team offer its places, a person one. Someone on
        standby holds none: they wait for a place, and a freed one is offered to them (places.py)."""
        return (self.places or 1) if self.status in OPEN_CALLUP_STATES and self.standby_at is None else 0

    @held_places.inplace.expression
    @classmethod
    def _held_places_expression(cls):
        return case((and_(cls.status.in_(OPEN_CALLUP_STATES), cls.standby_at.is_(None)),
                     func.coalesce(cls.places, 1)), else_=0)

    @hybrid_property
    def is_person(self) -> bool:
        """Addressed to one person (a team's own call-up is not: its members get their own)."""
        return self.volunteer_id is not None

    @is_person.inplace.expression
    @classmethod
    def _is_person_expression(cls):
        return cls.volunteer_id.is_not(None)


class CallUpEvent(db.Model):
    """One state change of a call-up: who, when, from and to."""

    __tablename__ = "call_up_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    callup_id: Mapped[int] = mapped_column(ForeignKey("call_ups.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(100))
    from_state: Mapped[Optional[str]] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    note: Mapped[Optional[str]] = mapped_column(String(500))


class RecruitmentOverride(db.Model):
    """An emergency permission, opened by a street office or the district, for a campaign to
    recruit across ``grid_id``'s whole subtree (its sibling communities) until ``expires_at``."""

    __tablename__ = "recruitment_overrides"
    __table_args__ = (Index("ix_recruitment_overrides_campaign", "campaign_id", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id", ondelete="RESTRICT"))
    reason: Mapped[str] = mapped_column(String(500))
    opened_by: Mapped[str] = mapped_column(String(100))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)

    grid = relationship("Grid", lazy="joined", viewonly=True)


class GridAlert(db.Model):
    """An emergency's alert (预警) to the office staff and grid members of every level in its area."""

    __tablename__ = "grid_alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    message: Mapped[str] = mapped_column(String(300))
    created_by: Mapped[Optional[str]] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GridAlertRecipient(db.Model):
    """One person an alert went to (a staff account or a volunteer) and whether they acknowledged it."""

    __tablename__ = "grid_alert_recipients"
    __table_args__ = (CheckConstraint("(user_id IS NULL) <> (volunteer_id IS NULL)", name="one_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("grid_alerts.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    volunteer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"))
    grid_id: Mapped[Optional[int]] = mapped_column(ForeignKey("grids.id", ondelete="SET NULL"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    acked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    note: Mapped[Optional[str]] = mapped_column(String(200))


class AttendanceChange(db.Model):
    """One correction of an attendance record: who changed what, when, from and to, and why."""

    __tablename__ = "attendance_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    callup_id: Mapped[int] = mapped_column(ForeignKey("call_ups.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(100))
    # status, checked_in_at or checked_out_at
    field: Mapped[str] = mapped_column(String(20))
    before: Mapped[Optional[str]] = mapped_column(String(40))
    after: Mapped[Optional[str]] = mapped_column(String(40))
    reason: Mapped[Optional[str]] = mapped_column(String(500))


class HoursSource(enum.Enum):
    RECORDED = "recorded"  # booked from check-in and check-out when the shift ended
    MANUAL = "manual"      # added by hand by an office, with an approver and a reason


class HoursEntry(db.Model):
    """One row of the append-only hours ledger (campaigns/hours.py): never updated, never deleted.

    A correction is a new row with ``corrects_id`` set, the difference in ``minutes`` (may be negative),
    an approver and a reason; an entry's hours are its own minutes plus those of its corrections.
    """

    __tablename__ = "hours_entries"
    __table_args__ = (
        # One booking from check-in per call-up, even when two schedulers book the same shift at once.
        Index("uq_hours_entries_recorded_callup", "callup_id", unique=True,
              sqlite_where=text("source = 'recorded' AND corrects_id IS NULL"),
              postgresql_where=text("source = 'recorded' AND corrects_id IS NULL")),
        CheckConstraint("corrects_id IS NOT NULL OR minutes >= 0", name="booking_not_negative"),
        CheckConstraint("corrects_id IS NULL OR (approved_by IS NOT NULL AND reason IS NOT NULL)",
                        name="correction_approved"),
        Index("ix_hours_entries_volunteer_served", "volunteer_id", "served_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="RESTRICT"))
    callup_id: Mapped[int] = mapped_column(ForeignKey("call_ups.id", ondelete="RESTRICT"), index=True)
    source: Mapped[HoursSource] = mapped_column(value_enum(HoursSource, "hours_source"))
    minutes: Mapped[int]
    # The local day the shift started: months and years are counted by it.
    served_on: Mapped[date] = mapped_column(Date)
    corrects_id: Mapped[Optional[int]] = mapped_column(ForeignKey("hours_entries.id", ondelete="RESTRICT"))
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    booked_by: Mapped[str] = mapped_column(String(100))
    approved_by: Mapped[Optional[str]] = mapped_column(String(100))
    reason: Mapped[Optional[str]] = mapped_column(String(500))


class ServiceCertificate(db.Model):
    """A certificate of service as issued: its public verification code and the totals on the day."""

    __tablename__ = "service_certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The last ledger row it counts: the certificate can be drawn again exactly as issued.
    through_entry_id: Mapped[int]
    recorded_minutes: Mapped[int]
    manual_minutes: Mapped[int]
    shifts: Mapped[int]
