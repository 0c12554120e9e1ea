"""People: volunteers, their skills, identities and availability; enterprises and teams."""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Optional

from sqlalchemy import (CheckConstraint, Date, ForeignKey, Index, LargeBinary, SmallInteger,
                        String, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import TimestampMixin, UTCDateTime, value_enum
from core.i18n import _l
from core.kinds import Identity  # noqa: F401  (its home is core: config.py reads identities too)
from extensions import db


# The words of the roster file's identity column (Chinese, as offices type them), read by the import and written
# by the export; pages name identities in the reader's language.
IDENTITY_LABELS = {
    Identity.PARTY_MEMBER: "党员",  # i18n: as written
    Identity.RESIDENT_VOLUNTEER: "居民志愿者",  # i18n: as written
    Identity.SUNK_DOWN_CADRE: "机关下沉干部",  # i18n: as written
    Identity.LAW_ENFORCEMENT: "执法人员",  # i18n: as written
    Identity.POLICE: "片警",  # i18n: as written
    Identity.DOCTOR: "片医",  # i18n: as written
    Identity.BUILDING_LEADER: "楼栋长",  # i18n: as written
    Identity.PROPERTY_STAFF: "物业人员",  # i18n: as written
    Identity.ENTERPRISE_MEMBER: "共建单位成员",  # i18n: as written
    Identity.GRID_WORKER: "网格员",  # i18n: as written
}
# Identities as pages and reports name them, in the reader's language.
IDENTITY_NAMES = {
    Identity.PARTY_MEMBER: _l("Party member"), Identity.RESIDENT_VOLUNTEER: _l("Resident volunteer"),
    Identity.SUNK_DOWN_CADRE: _l("Cadre sent down to the community"), Identity.LAW_ENFORCEMENT: _l("Law enforcement"),
    Identity.POLICE: _l("Community police officer"), Identity.DOCTOR: _l("Community doctor"),
    Identity.BUILDING_LEADER: _l("Building leader"), Identity.PROPERTY_STAFF: _l("Property staff"),
    Identity.ENTERPRISE_MEMBER: _l("Partner enterprise member"), Identity.GRID_WORKER: _l("Grid worker"),
}


class EmergencyCalls(enum.Enum):
    """Whether a person may be called in an emergency outside the weekly hours they gave."""

    ANY_HOUR = "any_hour"                # "call me in emergencies, any hour" (the default)
    AVAILABLE_HOURS = "available_hours"  # "only in my available hours"


EMERGENCY_CALLS_NAMES = {EmergencyCalls.ANY_HOUR: _l("Call me in emergencies, any hour"),
                         EmergencyCalls.AVAILABLE_HOURS: _l("Only in my available hours")}


# Channels that reach the person through an outside carrier and so need their own consent (PIPL Art. 14);
# the in-app inbox and the office's own webhook integration (addressed by id only) do not.
CONSENT_CHANNELS = ("sms", "email", "wecom")


class VolunteerStatus(enum.Enum):
    ACTIVE = "active"
    PAUSED = "paused"
    LEFT = "left"


class Skill(TimestampMixin, db.Model):
    """One entry of the district's skills catalogue."""

    __tablename__ = "skills"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[Optional[str]] = mapped_column(String(100))
    certified: Mapped[bool] = mapped_column(default=False)


class PartyOrganisation(db.Model):
    """A workplace party organisation (机关、企事业单位党组织) whose members report to their community (双报到)."""

    __tablename__ = "party_organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Volunteer(TimestampMixin, db.Model):
    """A registered person who can be called up."""

    __tablename__ = "volunteers"
    __table_args__ = (
        CheckConstraint("length(mobile) = 11", name="mobile_length"),
        CheckConstraint("identity_flags >= 0", name="identity_flags_nonneg"),
        CheckConstraint("max_callups_per_month BETWEEN 0 AND 100", name="cap_range"),
        CheckConstraint("(party_branch IS NULL) OR (identity_flags % 2 = 1)", name="branch_needs_party"),
        CheckConstraint("emergency_calls IN ('any_hour', 'available_hours')", name="emergency_calls_known"),
        Index("ix_volunteers_home_grid_id", "home_grid_id"),
        Index("ix_volunteers_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    mobile: Mapped[str] = mapped_column(String(11), unique=True)
    home_grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id", ondelete="RESTRICT"))
    identity_flags: Mapped[int] = mapped_column(default=0)
    party_branch: Mapped[Optional[str]] = mapped_column(String(100))
    # 双报到: the party organisation of the person's workplace, which hears of their community service.
    party_org_id: Mapped[Optional[int]] = mapped_column(ForeignKey("party_organisations.id", ondelete="SET NULL"))
    status: Mapped[VolunteerStatus] = mapped_column(
        value_enum(VolunteerStatus, "volunteer_status"), default=VolunteerStatus.ACTIVE)
    max_callups_per_month: Mapped[int] = mapped_column(SmallInteger, default=4)
    # Packed weekly availability (336 half-hour slots, Monday 00:00 first), derived
    # from the windows below so the matcher can read a million people in one query.
    availability_mask: Mapped[bytes] = mapped_column(LargeBinary(42), default=bytes(42))
    interests: Mapped[int] = mapped_column(default=0)
    language: Mapped[str] = mapped_column(String(5), default="zh")
    emergency_calls: Mapped[str] = mapped_column(String(16), default=EmergencyCalls.ANY_HOUR.value,
                                                 server_default=EmergencyCalls.ANY_HOUR.value)
    email: Mapped[Optional[str]] = mapped_column(String(254))
    wecom_id: Mapped[Optional[str]] = mapped_column(String(64))
    # Comma-separated channels the person wants besides the in-app inbox (sms,email,wecom); NULL = all they have.
    notify_channels: Mapped[Optional[str]] = mapped_column(String(60))
    consent_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    note: Mapped[Optional[str]] = mapped_column(String(500))
    created_by: Mapped[Optional[str]] = mapped_column(String(100))

    home_grid = relationship("Grid", lazy="joined", viewonly=True)
    skills: Mapped[list["VolunteerSkill"]] = relationship(
        back_populates="volunteer", cascade="all, delete-orphan", lazy="selectin",
        order_by="VolunteerSkill.skill_id")
    availability: Mapped[list["AvailabilityWindow"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin",
        order_by="(AvailabilityWindow.weekday, AvailabilityWindow.start_minute)")
    blackouts: Mapped[list["BlackoutDate"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="BlackoutDate.day")
    channel_consents: Mapped[list["ChannelConsent"]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ChannelConsent.channel")

    @property
    def identities(self) -> list[Identity]:
        return Identity.from_mask(self.identity_flags)

    @property
    def is_party_member(self) -> bool:
        return bool(self.identity_flags & Identity.PARTY_MEMBER.bit)

    @property
    def consented_channels(self) -> list[str]:
        """Channels the person has agreed to be messaged on, and not withdrawn."""
        return [consent.channel for consent in self.channel_consents if consent.withdrawn_at is None]


def skill_valid_through(certified: bool, certificate_no: str | None, expires_on: date | None) -> date:
    """The last day a held skill counts: its certificate's expiry; ``date.max`` when it needs no
    certificate or the certificate never expires; ``date.min`` when the catalogue marks the skill
    certified and no certificate (neither number nor expiry) is on record. The one certificate rule,
    read by the matcher (campaigns/recruitment.py) and by any check of a single person."""
    if certified and certificate_no is None and expires_on is None:
        return date.min
    return date.max if expires_on is None else expires_on


class VolunteerSkill(db.Model):
    """A person's level (1-5) in one skill, with the certificate behind it (number, expiry), if any."""

    __tablename__ = "volunteer_skills"
    __table_args__ = (
        CheckConstraint("level BETWEEN 1 AND 5", name="level_range"),
        Index("ix_volunteer_skills_skill_level", "skill_id", "level"),
    )

    volunteer_id: Mapped[int] = mapped_column(
        ForeignKey("volunteers.id", ondelete="CASCADE"), primary_key=True)
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id", ondelete="RESTRICT"), primary_key=True)
    level: Mapped[int] = mapped_column(SmallInteger)
    certificate_expires_on: Mapped[Optional[date]] = mapped_column(Date)
    certificate_no: Mapped[Optional[str]] = mapped_column(String(64))

    volunteer: Mapped[Volunteer] = relationship(back_populates="skills")
    skill: Mapped[Skill] = relationship(lazy="joined")

    def valid_on(self, day: date) -> bool:
        """Whether the skill counts on ``day`` (see ``skill_valid_through``)."""
        return skill_valid_through(self.skill.certified, self.certificate_no, self.certificate_expires_on) >= day


class ChannelConsent(db.Model):
    """A person's consent to be messaged on one channel: granted, and possibly withdrawn (kept, not deleted)."""

    __tablename__ = "channel_consents"
    __table_args__ = (
        CheckConstraint("channel IN ('sms', 'email', 'wecom')", name="channel_known"),
        CheckConstraint("withdrawn_at IS NULL OR withdrawn_at >= granted_at", name="withdrawn_after_granted"),
    )

    volunteer_id: Mapped[int] = mapped_column(
        ForeignKey("volunteers.id", ondelete="CASCADE"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)


class AvailabilityWindow(db.Model):
    """A weekly window in the office's local time (Monday = 0)."""

    __tablename__ = "availability_windows"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("start_minute >= 0 AND end_minute <= 1440 AND end_minute > start_minute",
                        name="window_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(SmallInteger)
    start_minute: Mapped[int] = mapped_column(SmallInteger)
    end_minute: Mapped[int] = mapped_column(SmallInteger)


class DutyRota(db.Model):
    """A person on duty (值班) for one week, Monday to Sunday: called first in emergencies."""

    __tablename__ = "duty_rota"
    __table_args__ = (UniqueConstraint("volunteer_id", "week_start", name="uq_duty_rota_volunteer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"))
    week_start: Mapped[date] = mapped_column(Date, index=True)
    created_by: Mapped[Optional[str]] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class BlackoutDate(db.Model):
    """A day the person cannot serve at all."""

    __tablename__ = "blackout_dates"

    volunteer_id: Mapped[int] = mapped_column(
        ForeignKey("volunteers.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)


class EnterpriseStatus(str, enum.Enum):
    """An enterprise that registered itself waits for its street office or the district to approve it."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Enterprise(TimestampMixin, db.Model):
    """A partner organisation (共建单位)."""

    __tablename__ = "enterprises"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="enterprise_status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    credit_code: Mapped[Optional[str]] = mapped_column(String(18), unique=True)
    contact_name: Mapped[Optional[str]] = mapped_column(String(64))
    contact_mobile: Mapped[Optional[str]] = mapped_column(String(11))
    address: Mapped[Optional[str]] = mapped_column(String(200))
    # Registered by the district admin: approved at once. Registered on the sign-up page: pending until
    # the office of ``requested_grid_id`` (a street office or community it asks to pair with) or the
    # district reviews it.
    status: Mapped[str] = mapped_column(String(16), default=EnterpriseStatus.APPROVED.value,
                                        server_default=EnterpriseStatus.APPROVED.value)
    requested_grid_id: Mapped[Optional[int]] = mapped_column(ForeignKey("grids.id", ondelete="RESTRICT"))
    reviewed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    reviewed_by: Mapped[Optional[str]] = mapped_column(String(100))
    review_note: Mapped[Optional[str]] = mapped_column(String(500))

    requested_grid = relationship("Grid", lazy="joined")
    teams: Mapped[list["Team"]] = relationship(back_populates="enterprise", order_by="Team.id")


team_members = db.Table(
    "team_members",
    db.Column("team_id", ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    db.Column("volunteer_id", ForeignKey("volunteers.id", ondelete="CASCADE"), primary_key=True),
)

team_pairings = db.Table(
    "team_pairings",
    db.Column("team_id", ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    db.Column("grid_id", ForeignKey("grids.id", ondelete="RESTRICT"), primary_key=True),
)


class Team(TimestampMixin, db.Model):
    """A co-building team (共建队伍) of an enterprise, paired with communities."""

    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("enterprise_id", "name", name="uq_teams_enterprise_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    leader_id: Mapped[Optional[int]] = mapped_column(ForeignKey("volunteers.id", ondelete="SET NULL"))

    enterprise: Mapped[Enterprise] = relationship(back_populates="teams")
    members: Mapped[list[Volunteer]] = relationship(secondary=team_members, lazy="selectin",
                                                    order_by="Volunteer.id")
    paired_grids = relationship("Grid", secondary=team_pairings, lazy="selectin", order_by="Grid.id")

    @property
    def member_ids(self) -> list[int]:
        return [member.id for member in self.members]

    @property
    def paired_grid_ids(self) -> list[int]:
        return [grid.id for grid in self.paired_grids]


class PairingAgreement(db.Model):
    """A partner enterprise's signed co-building agreement (共建协议) with a street office or community.

    Recorded by the office that signed it (or the district); never edited: a renewal is a new row.
    """

    __tablename__ = "pairing_agreements"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "grid_id", "signed_on", name="uq_pairing_agreements_signed"),
        CheckConstraint("valid_until >= signed_on", name="valid_after_signing"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id", ondelete="RESTRICT"))
    signed_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    note: Mapped[Optional[str]] = mapped_column(String(500))
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    grid = relationship("Grid", lazy="joined")
