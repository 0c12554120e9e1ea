"""Responder units, whistles and their summons; visit targets, rounds and visits."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

from sqlalchemy import (CheckConstraint, Float, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from campaigns.models import Priority
from core.db import UTCDateTime, value_enum
from extensions import db


class UnitType(enum.Enum):
    SECTION = "section"      # a street-office section (科室)
    STATION = "station"      # a sunk-down station (下沉站所: police, market supervision, …)
    UTILITY = "utility"      # water, power, gas
    PARTNER = "partner"      # a partner unit (共建单位)


class ProblemKind(enum.Enum):
    SANITATION = "sanitation"        # 环境卫生
    GAS_SAFETY = "gas_safety"        # 燃气安全
    FIRE_SAFETY = "fire_safety"      # 消防安全
    WATER_POWER = "water_power"      # 水电气暖
    PUBLIC_ORDER = "public_order"    # 治安秩序
    BUILDING = "building"            # 房屋设施
    TRAFFIC = "traffic"              # 道路交通
    DISPUTE = "dispute"              # 矛盾纠纷
    OTHER = "other"                  # 其他


class WhistleStatus(enum.Enum):
    OPEN = "open"
    CLOSED = "closed"   # 销号 by the originator


class VisitTargetKind(enum.Enum):
    HOUSEHOLD = "household"
    COURTYARD = "courtyard"   # 楼院
    SHOP = "shop"             # 沿街商铺


class VisitPriority(enum.Enum):
    LIVING_ALONE = "living_alone"   # 独居
    HARDSHIP = "hardship"           # 困难
    ELDERLY = "elderly"             # 高龄
    DISABLED = "disabled"           # 残障


class RoundKind(enum.Enum):
    MONTHLY = "monthly"   # 循环走访: one cycle a month
    DRIVE = "drive"       # a one-off drive (gas safety)


class VisitOutcome(enum.Enum):
    PENDING = "pending"
    DONE = "done"
    NOBODY_HOME = "nobody_home"
    PROBLEM = "problem"


responder_unit_members = db.Table(
    "responder_unit_members",
    db.Column("unit_id", ForeignKey("responder_units.id", ondelete="CASCADE"), primary_key=True),
    db.Column("volunteer_id", ForeignKey("volunteers.id", ondelete="CASCADE"), primary_key=True),
)

responder_unit_grids = db.Table(
    "responder_unit_grids",
    db.Column("unit_id", ForeignKey("responder_units.id", ondelete="CASCADE"), primary_key=True),
    db.Column("grid_id", ForeignKey("grids.id", ondelete="RESTRICT"), primary_key=True),
)


class ResponderUnit(db.Model):
    """A department or station summoned by whistles: the problem kinds it handles, the grids (subtrees) it covers."""

    __tablename__ = "responder_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    unit_type: Mapped[UnitType] = mapped_column(value_enum(UnitType, "unit_type"))
    # The office that keeps the unit's record (a street office or the district).
    office_grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id", ondelete="RESTRICT"), index=True)
    # The member who answers a whistle (值班联系人); members are volunteers, as in co-building teams.
    duty_volunteer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("volunteers.id", ondelete="SET NULL"))
    # Comma-separated ProblemKind values.
    kinds: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    office = relationship("Grid", foreign_keys=[office_grid_id], lazy="joined")
    members = relationship("Volunteer", secondary=responder_unit_members, lazy="selectin", order_by="Volunteer.id")
    grids = relationship("Grid", secondary=responder_unit_grids, lazy="selectin", order_by="Grid.id")

    @property
    def kind_list(self) -> list[str]:
        return [part for part in self.kinds.split(",") if part]

    @property
    def member_ids(self) -> list[int]:
        return [member.id for member in self.members]

    @property
    def grid_ids(self) -> list[int]:
        return [grid.id for grid in self.grids]


class Whistle(db.Model):
    """A grid's problem report (吹哨), routed to responsible units and closed off (销号) by its originator."""

    __tablename__ = "whistles"
    __table_args__ = (
        CheckConstraint("escalation_level BETWEEN 0 AND 2", name="escalation_range"),
        CheckConstraint("photo_size IS NULL OR photo_size <= 5242880", name="photo_size_range"),
        Index("ix_whistles_status_next_escalation_at", "status", "next_escalation_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(1000))
    address: Mapped[str] = mapped_column(String(200))
    kind: Mapped[ProblemKind] = mapped_column(value_enum(ProblemKind, "problem_kind"))
    grade: Mapped[Priority] = mapped_column(value_enum(Priority, "whistle_grade"))
    status: Mapped[WhistleStatus] = mapped_column(value_enum(WhistleStatus, "whistle_status"),
                                                  default=WhistleStatus.OPEN)
    raised_by: Mapped[str] = mapped_column(String(100))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ack_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    arrive_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolve_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # 0: the units only; 1: the street office was told; 2: the district was told.
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    next_escalation_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    closed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    close_note: Mapped[Optional[str]] = mapped_column(String(500))
    reopened_count: Mapped[int] = mapped_column(Integer, default=0)
    campaign_id: Mapped[Optional[int]] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    photo: Mapped[Optional[bytes]] = mapped_column(LargeBinary, deferred=True)
    photo_type: Mapped[Optional[str]] = mapped_column(String(20))
    photo_size: Mapped[Optional[int]] = mapped_column(Integer)

    grid = relationship("Grid", lazy="joined")
    summons: Mapped[list["WhistleSummons"]] = relationship(back_populates="whistle", lazy="selectin",
                                                           order_by="WhistleSummons.id")


class WhistleSummons(db.Model):
    """One unit called to one whistle (部门报到): acknowledged, arrived (报到) and resolved, each timed."""

    __tablename__ = "whistle_summons"
    __table_args__ = (UniqueConstraint("whistle_id", "unit_id", name="uq_whistle_summons_whistle_unit"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    whistle_id: Mapped[int] = mapped_column(ForeignKey("whistles.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("responder_units.id", ondelete="CASCADE"), index=True)
    # The duty contact's answer link (/w/<token>), stored as its sha256 like every link.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    summoned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    acked_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    arrived_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    resolved_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    note: Mapped[Optional[str]] = mapped_column(String(500))

    whistle: Mapped[Whistle] = relationship(back_populates="summons")
    unit = relationship(ResponderUnit, lazy="joined")


class WhistleEvent(db.Model):
    """Every change of a whistle, with its time and actor."""

    __tablename__ = "whistle_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    whistle_id: Mapped[int] = mapped_column(ForeignKey("whistles.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[Optional[int]] = mapped_column(ForeignKey("responder_units.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[Optional[str]] = mapped_column(String(500))


class VisitTarget(db.Model):
    """A household, building courtyard or shop of a grid, visited every cycle."""

    __tablename__ = "visit_targets"
    __table_args__ = (UniqueConstraint("grid_id", "label", name="uq_visit_targets_grid_label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[VisitTargetKind] = mapped_column(value_enum(VisitTargetKind, "visit_target_kind"))
    # "3幢2单元301", "5号楼院", "文一路12号 便利店".
    label: Mapped[str] = mapped_column(String(100))
    building: Mapped[Optional[str]] = mapped_column(String(40))
    unit_no: Mapped[Optional[str]] = mapped_column(String(20))
    # Metres east and north of the grid's reference point: how far a visitor walks.
    x: Mapped[float] = mapped_column(Float, default=0.0)
    y: Mapped[float] = mapped_column(Float, default=0.0)
    # A personal datum: shown only to office staff and the assigned visitor, and audited.
    priority: Mapped[Optional[VisitPriority]] = mapped_column(value_enum(VisitPriority, "visit_priority"))
    # 四级包联: the party member linked to this household (联户党员).
    linked_volunteer_id: Mapped[Optional[int]] = mapped_column(ForeignKey("volunteers.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(default=True)

    grid = relationship("Grid", lazy="joined")


class VisitRound(db.Model):
    """A monthly cycle or a one-off drive over the targets of an area (a grid, a community, a street)."""

    __tablename__ = "visit_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[RoundKind] = mapped_column(value_enum(RoundKind, "round_kind"))
    title: Mapped[str] = mapped_column(String(100))
    period: Mapped[str] = mapped_column(String(20))   # "2026-12" for a monthly cycle
    target_kinds: Mapped[str] = mapped_column(String(60))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    assigned_cost: Mapped[Optional[float]] = mapped_column(Float)

    grid = relationship("Grid", lazy="joined")


class Visit(db.Model):
    """One target of a round, its visitor, and what the visit found."""

    __tablename__ = "visits"
    __table_args__ = (UniqueConstraint("round_id", "target_id", name="uq_visits_round_target"),
                      Index("ix_visits_visitor_round", "visitor_id", "round_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("visit_rounds.id", ondelete="CASCADE"), index=True)
    target_id: Mapped[int] = mapped_column(ForeignKey("visit_targets.id", ondelete="CASCADE"), index=True)
    visitor_id: Mapped[Optional[int]] = mapped_column(ForeignKey("volunteers.id", ondelete="SET NULL"))
    outcome: Mapped[VisitOutcome] = mapped_column(value_enum(VisitOutcome, "visit_outcome"),
                                                  default=VisitOutcome.PENDING)
    visited_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime)
    note: Mapped[Optional[str]] = mapped_column(String(500))
    whistle_id: Mapped[Optional[int]] = mapped_column(ForeignKey("whistles.id", ondelete="SET NULL"))

    target: Mapped[VisitTarget] = relationship(lazy="joined")
    round: Mapped[VisitRound] = relationship(lazy="joined")
