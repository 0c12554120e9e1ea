"""Figures for the front page, counted in a few grouped queries."""
from __future__ import annotations

from sqlalchemy import func, select

from campaigns.models import Campaign
from extensions import db
from grids.models import LEVEL_NAMES, Grid
from volunteers.models import Enterprise, Identity, Team, Volunteer, VolunteerStatus


def district_overview() -> dict:
    levels = dict(db.session.execute(select(Grid.level, func.count()).group_by(Grid.level)).all())
    district = db.session.scalar(select(Grid).where(Grid.level == 0).order_by(Grid.id).limit(1))
    people = db.session.execute(select(
        func.count(),
        func.coalesce(func.sum((Volunteer.identity_flags.op("&")(Identity.PARTY_MEMBER.bit) != 0)
                               .cast(db.Integer)), 0),
    ).where(Volunteer.status == VolunteerStatus.ACTIVE)).one()
    campaigns = dict(db.session.execute(select(Campaign.status, func.count()).group_by(Campaign.status)).all())
    return {
        "district": district,
        "levels": [(LEVEL_NAMES[level], levels.get(level, 0)) for level in range(5)],
        "volunteers": people[0],
        "party_members": int(people[1]),
        "enterprises": db.session.scalar(select(func.count()).select_from(Enterprise)),
        "teams": db.session.scalar(select(func.count()).select_from(Team)),
        "campaigns": {status.value: count for status, count in campaigns.items()},
        "campaign_total": sum(campaigns.values()),
    }
