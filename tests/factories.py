"""factory_boy factories, one per model; tests set only the fields they assert on."""
from __future__ import annotations

from datetime import timedelta

import factory
from factory.alchemy import SQLAlchemyModelFactory

from campaigns.models import Campaign, Position, Shift
from core.kinds import CampaignKind
from extensions import db
from grids.models import Grid
from grids.paths import child_path
from volunteers.models import Enterprise, Skill, Team, Volunteer


class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session = db.session
        sqlalchemy_session_persistence = "flush"


class GridFactory(Base):
    """A grid node; give ``parent`` for anything below the district."""

    class Meta:
        model = Grid
        exclude = ("parent",)

    parent = None
    code = factory.Sequence(lambda n: f"G{n:05d}")
    name = factory.Sequence(lambda n: f"网格{n}")
    level = factory.LazyAttribute(lambda o: o.parent.level + 1 if o.parent else 0)
    parent_id = factory.LazyAttribute(lambda o: o.parent.id if o.parent else None)
    parent_level = factory.LazyAttribute(lambda o: o.parent.level if o.parent else None)
    path = ""

    @factory.post_generation
    def set_path(obj, create, extracted, **kwargs):
        db.session.flush()
        parent = db.session.get(Grid, obj.parent_id) if obj.parent_id else None
        obj.path = child_path(parent.path if parent else None, obj.id)
        db.session.flush()


class SkillFactory(Base):
    class Meta:
        model = Skill

    code = factory.Sequence(lambda n: f"skill_{n}")
    name = factory.Sequence(lambda n: f"技能{n}")


class VolunteerFactory(Base):
    class Meta:
        model = Volunteer

    name = factory.Sequence(lambda n: f"志愿者{n}")
    mobile = factory.Sequence(lambda n: f"139{n:08d}")
    home_grid_id = factory.LazyFunction(lambda: GridFactory().id)


class EnterpriseFactory(Base):
    class Meta:
        model = Enterprise

    name = factory.Sequence(lambda n: f"共建企业{n}")


class TeamFactory(Base):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"队伍{n}")
    enterprise = factory.SubFactory(EnterpriseFactory)


class CampaignFactory(Base):
    class Meta:
        model = Campaign

    title = factory.Sequence(lambda n: f"活动{n}")
    kind = CampaignKind.GARBAGE_SORTING
    office_grid_id = factory.LazyFunction(lambda: GridFactory().id)


class ShiftFactory(Base):
    class Meta:
        model = Shift

    campaign = factory.SubFactory(CampaignFactory)
    start_at = factory.LazyFunction(lambda: __import__("core.clock").clock.utcnow() + timedelta(days=3))
    end_at = factory.LazyAttribute(lambda o: o.start_at + timedelta(hours=3))
    grid_id = factory.LazyAttribute(lambda o: o.campaign.office_grid_id)


class PositionFactory(Base):
    class Meta:
        model = Position

    shift = factory.SubFactory(ShiftFactory)
    role = "宣传员"
    headcount = 2
