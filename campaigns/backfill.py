"""Backfill of freed places (with emergency waves) and the upkeep of campaign staffing status."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, func, not_, select, update

from campaigns.models import OPEN_CALLUP_STATES, CallUp, Campaign, CampaignStatus, Position, Priority, Shift
from campaigns.policy import effective_policy, send_time
from campaigns.recruitment import plan_recruitment
from campaigns.services import _store_proposals
from core.clock import ensure_utc
from extensions import db

log = logging.getLogger(__name__)

# A partly staffed campaign may still have later shifts to fill.
BACKFILL_STATES = (CampaignStatus.PUBLISHED, CampaignStatus.PARTLY_STAFFED)


@dataclass
class BackfillStats:
    campaigns: int = 0
    callups: int = 0
    waiting: int = 0
    failed: int = 0


def _pending_of_position():
    return (select(func.count()).select_from(CallUp)
            .where(CallUp.position_id == Position.id, CallUp.status.in_(OPEN_CALLUP_STATES))
            .correlate(Position).scalar_subquery())


def campaigns_with_gaps(*, now: datetime) -> list[int]:
    """Campaigns open to backfill with a not-yet-started position short of people (accepted + pending)."""
    stmt = (select(Shift.campaign_id).join(Position, Position.shift_id == Shift.id)
            .join(Campaign, Campaign.id == Shift.campaign_id)
            .where(Campaign.status.in_(BACKFILL_STATES), Shift.start_at > now,
                   Position.headcount - Position.accepted_count - _pending_of_position() > 0)
            .distinct().order_by(Shift.campaign_id))
    return list(db.session.scalars(stmt).all())


def _last_wave(campaign_id: int) -> tuple[int, datetime | None]:
    """(highest wave, latest send time within it) of a campaign's call-ups; (0, None) when none."""
    row = db.session.execute(
        select(CallUp.wave, func.max(CallUp.send_at)).join(Position, Position.id == CallUp.position_id)
        .join(Shift, Shift.id == Position.shift_id).where(Shift.campaign_id == campaign_id)
        .group_by(CallUp.wave).order_by(CallUp.wave.desc()).limit(1)).first()
    if row is None:
        return 0, None
    return int(row[0] or 0), ensure_utc(row[1]) if row[1] is not None else None


def backfill_campaign(campaign_id: int, *, now: datetime, timezone_name: str, actor: str = "scheduler") -> int | None:
    """One campaign, one transaction: offer its gaps to the next best people as a new wave.

    Returns the number of call-ups created, or ``None`` when an emergency campaign must
    wait for ``wave_minutes`` after its last wave.
    """
    # Claim the row first: concurrent schedulers backfill one campaign one at a time,
    # and each re-counts the gaps after the other's commit.
    claimed = db.session.execute(
        update(Campaign).where(Campaign.id == campaign_id, Campaign.status.in_(BACKFILL_STATES))
        .values(updated_at=now).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        db.session.rollback()
        return 0
    campaign = db.session.get(Campaign, campaign_id)
    db.session.refresh(campaign)
    policy = effective_policy(campaign)
    wave, last_send = _last_wave(campaign_id)
    if campaign.priority is Priority.EMERGENCY and last_send is not None \
            and now < last_send + timedelta(minutes=int(policy["wave_minutes"])):
        db.session.rollback()
        return None
    plan = plan_recruitment(campaign, now=now, timezone_name=timezone_name, fill_all=False,
                            over_recruit_percent=int(policy.get("over_recruit_percent") or 0),
                            starting_after=now)
    created = _store_proposals(plan, wave=wave + 1, send_at=send_time(policy, now), actor=actor, now=now,
                               note=f"backfill wave {wave + 1}")
    if not created:
        db.session.rollback()
        return 0
    db.session.commit()
    return created


def backfill_open_positions(*, now: datetime, timezone_name: str, actor: str = "scheduler") -> BackfillStats:
    """Offer places freed by declines, expiries and withdrawals to people not yet asked, campaign by campaign."""
    stats = BackfillStats()
    ids = campaigns_with_gaps(now=now)
    db.session.rollback()
    for campaign_id in ids:
        try:
            created = backfill_campaign(campaign_id, now=now, timezone_name=timezone_name, actor=actor)
        except Exception:  # one broken campaign must not block the others
            db.session.rollback()
            log.exception("backfill of campaign %s failed", campaign_id)
            stats.failed += 1
            continue
        if created is None:
            stats.waiting += 1
        elif created:
            stats.campaigns += 1
            stats.callups += created
    return stats


def update_campaign_statuses(*, now: datetime) -> dict[str, int]:
    """Staffed when every position is full; back to published when a place frees before its shift;
    partly staffed when a shift has started short of people. Conditional UPDATEs, one transaction."""
    def short(*conditions):
        return exists(select(Position.id).join(Shift, Shift.id == Position.shift_id)
                      .where(Shift.campaign_id == Campaign.id, Position.accepted_count < Position.headcount,
                             *conditions))

    def move(source: CampaignStatus, target: CampaignStatus, condition) -> int:
        return db.session.execute(
            update(Campaign).where(Campaign.status == source, condition)
            .values(status=target, updated_at=now).execution_options(synchronize_session=False)).rowcount

    counts = {
        "reopened": move(CampaignStatus.STAFFED, CampaignStatus.PUBLISHED, short(Shift.start_at > now)),
        "staffed": move(CampaignStatus.PUBLISHED, CampaignStatus.STAFFED, not_(short())),
        "partly_staffed": move(CampaignStatus.PUBLISHED, CampaignStatus.PARTLY_STAFFED,
                               short(Shift.start_at <= now)),
    }
    db.session.commit()
    return counts


__all__ = ["backfill_open_positions", "backfill_campaign", "campaigns_with_gaps", "update_campaign_statuses",
           "BackfillStats"]
