"""Emergency recruitment overrides: a street office or the district lets a campaign recruit beyond its own office.

Without an override a campaign recruits only inside its office's subtree, whatever its policy asks
("小事不出网格"). An override names a wider grid (the street, or the district), a reason and an end;
it is logged with who opened it, and it ends by itself.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, select

from campaigns.models import CLOSED_CAMPAIGN_STATES, Campaign, RecruitmentOverride
from core.errors import Conflict, PermissionDenied, ValidationFailed
from core.i18n import _l
from core.scope import Scope
from extensions import db
from grids.models import Grid
from grids.paths import is_within

MAX_OVERRIDE_HOURS = 72


def open_override(campaign: Campaign, *, grid_id: int, reason: str, hours: int, scope: Scope,
                  now: datetime) -> RecruitmentOverride:
    """Let ``campaign`` recruit across ``grid_id``'s subtree for ``hours``; street offices and the district only."""
    if not scope.may_open_override:
        raise PermissionDenied(_l("Only a street office or the district may open an override."),
                               {"grid_id": [_l("Ask your street office or the district.")]})
    if campaign.status in CLOSED_CAMPAIGN_STATES:
        raise Conflict.wrong_state("campaign", campaign.status.value, "widen")
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if len(reason) < 4:
        errors["reason"] = ["Say why, in at least 4 characters."]
    if not 1 <= hours <= MAX_OVERRIDE_HOURS:
        errors["hours"] = [f"Between 1 and {MAX_OVERRIDE_HOURS} hours."]
    grid = db.session.get(Grid, grid_id)
    # A street office widens its own campaigns to the district, which lies above its own scope.
    own_campaign = scope.grid_path is not None and campaign.office.path == scope.grid_path
    if grid is None or not (scope.covers(grid.path) or own_campaign):
        errors["grid_id"] = [f"Unknown grid {grid_id}."]
    elif not (grid.level < campaign.office.level and is_within(campaign.office.path, grid.path)):
        errors["grid_id"] = ["Must be a grid above the campaign's office (its street or the district)."]
    if errors:
        raise ValidationFailed(errors)
    override = RecruitmentOverride(campaign_id=campaign.id, grid_id=grid.id, reason=reason, opened_by=scope.actor,
                                   opened_at=now, expires_at=now + timedelta(hours=hours))
    db.session.add(override)
    db.session.commit()
    return override


def list_overrides(campaign_id: int) -> Select:
    """A campaign's overrides, newest first (active and ended)."""
    return (select(RecruitmentOverride).where(RecruitmentOverride.campaign_id == campaign_id)
            .order_by(RecruitmentOverride.id.desc()))


def widest_level(campaign: Campaign, now: datetime) -> int:
    """The widest grid level ``campaign`` may recruit at now: its office's, or an active override's."""
    level = db.session.scalar(
        select(Grid.level).join(RecruitmentOverride, RecruitmentOverride.grid_id == Grid.id)
        .where(RecruitmentOverride.campaign_id == campaign.id, RecruitmentOverride.expires_at > now,
               RecruitmentOverride.closed_at.is_(None))
        .order_by(Grid.level).limit(1))
    return campaign.office.level if level is None else min(level, campaign.office.level)
