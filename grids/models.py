"""The grid tree: district › street office › community › grid › micro-grid."""
from __future__ import annotations

from typing import Optional

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import TimestampMixin
from core.i18n import _l
from extensions import db

# Each level: (its English word, as logs and the command line write it; its name in the language being spoken).
LEVEL_NAMES = {
    0: ("district", _l("district")),
    1: ("street office", _l("street office")),
    2: ("community", _l("community")),
    3: ("grid", _l("grid")),
    4: ("micro-grid", _l("micro-grid")),
}
MAX_LEVEL = 4


class Grid(TimestampMixin, db.Model):
    """One node of the tree, with a materialised path of ids ("/1/5/23/")."""

    __tablename__ = "grids"
    __table_args__ = (
        CheckConstraint("level BETWEEN 0 AND 4", name="level_range"),
        # A parent is exactly one level up; the composite key lets the database say so.
        CheckConstraint(
            "(parent_id IS NULL AND parent_level IS NULL AND level = 0)"
            " OR (parent_id IS NOT NULL AND parent_level = level - 1)",
            name="parent_level",
        ),
        UniqueConstraint("id", "level", name="uq_grids_id_level"),
        ForeignKeyConstraint(
            ["parent_id", "parent_level"], ["grids.id", "grids.level"],
            name="fk_grids_parent", ondelete="RESTRICT",
        ),
        Index("ix_grids_path", "path"),
        Index("ix_grids_parent_id", "parent_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[int] = mapped_column()
    parent_id: Mapped[Optional[int]] = mapped_column()
    parent_level: Mapped[Optional[int]] = mapped_column()
    path: Mapped[str] = mapped_column(String(200), default="")
    lat: Mapped[Optional[float]]
    lon: Mapped[Optional[float]]

    parent: Mapped[Optional["Grid"]] = relationship(
        primaryjoin="Grid.parent_id == remote(Grid.id)", foreign_keys="Grid.parent_id", viewonly=True)

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids from the district down to this node."""
        return [int(part) for part in self.path.strip("/").split("/") if part]

    def __repr__(self) -> str:
        return f"<Grid {self.code} L{self.level}>"
