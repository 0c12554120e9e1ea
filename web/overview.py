"""Figures for the front page, counted in a few grouped queries."""
from __future__ import annotations

from flask_login import current_user
from sqlalchemy import func, select

from accounts.services import scope_for
from campaigns.models import Campaign
from core.i18n import _l
from core.masking import sees_party_membership
from extensions import db
from grids.models import Grid
from volunteers.models import Enterprise, Identity, Team, Volunteer, VolunteerStatus

# The front page's row heading for each level of the grid tree (how many there are of it).
LEVEL_COUNTS = (_l("Districts"), _l("Street offices"), _l("Communities"), _l("Grids"), _l("Micro-grids"))


def _sees_party_count() -> bool:
    # Party membership is personal data (SR-3): the district's count goes to the same signed-in staff who see
    # a person's membership, never to an anonymous visitor of the front page.
    if not current_user.is_authenticated:
        return False
    return sees_party_membership(scope_for(current_user.user, actor=f"user:{current_user.user.id}"), None)


def district_overview() -> dict:
    """The front page's figures; ``party_members`` is None unless the visitor may see it."""
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
        "levels": [(name, levels.get(level, 0)) for level, name in enumerate(LEVEL_COUNTS)],
        "volunteers": people[0],
        "party_members": int(people[1]) if _sees_party_count() else None,
        "enterprises": db.session.scalar(select(func.count()).select_from(Enterprise)),
        "teams": db.session.scalar(select(func.count()).select_from(Team)),
        "campaigns": {status.value: count for status, count in campaigns.items()},
        "campaign_total": sum(campaigns.values()),
    }
