"""Backfill of freed places (with emergency waves), extra offers for at-risk positions, and campaign status upkeep."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, exists, func, not_, select, update

from campaigns.models import (CallUp, CallUpEvent, CallUpStatus, Campaign, CampaignStatus,
                              Position, Priority, RecruitmentOverride, Shift)
from campaigns.overrides import open_override
from campaigns.places import _offer_standby_of_campaign, join_shift, open_places
from campaigns.policy import effective_policy, send_time
from campaigns.recruitment import OpenPosition, plan_recruitment, remember_unfilled
from campaigns.services import _show_up_history, _store_proposals, expected_attendance_sum, falls_short
from core.clock import ensure_utc
from core.scope import Scope
from extensions import db

log = logging.getLogger(__name__)

# A partly staffed campaign may still have later shifts to fill.
BACKFILL_STATES = (CampaignStatus.PUBLISHED, CampaignStatus.PARTLY_STAFFED)
# A full position sits in a staffed campaign as often as not.
AT_RISK_STATES = BACKFILL_STATES + (CampaignStatus.STAFFED,)
# Policy key: extra offers per at-risk position, as a percentage of its headcount (rounded up).
EXTRA_PERCENT_KEY = "at_risk_extra_percent"
DEFAULT_EXTRA_PERCENT = 30


@dataclass
class BackfillStats:
    campaigns: int = 0
    callups: int = 0
    waiting: int = 0
    failed: int = 0
    extras: int = 0
    idle: int = 0  # campaigns skipped: their last backfill found no one and nothing has changed since


def campaigns_with_gaps(*, now: datetime) -> list[int]:
    """Campaigns open to backfill with a not-yet-started position short of people (accepted + pending)."""
    stmt = (select(Shift.campaign_id).join(Position, Position.shift_id == Shift.id)
            .join(Campaign, Campaign.id == Shift.campaign_id)
            .where(Campaign.status.in_(BACKFILL_STATES), Shift.start_at > now,
                   open_places() > 0)
            .distinct().order_by(Shift.campaign_id))
    return list(db.session.scalars(stmt).all())


def _last_wave(campaign_id: int) -> tuple[int, datetime | None]:
    """(highest wave, latest send time within it) of a campaign's call-ups; (0, None) when none."""
    row = db.session.execute(
        join_shift(select(CallUp.wave, func.max(CallUp.send_at))).where(Shift.campaign_id == campaign_id)
        .group_by(CallUp.wave).order_by(CallUp.wave.desc()).limit(1)).first()
    if row is None:
        return 0, None
    return int(row[0] or 0), ensure_utc(row[1]) if row[1] is not None else None


def backfill_campaign(campaign_id: int, *, now: datetime, timezone_name: str, actor: str = "scheduler",
                      at_once: bool = False) -> int | None:
    """One campaign, one transaction: offer its gaps to the next best people as a new wave.

    Returns the number of call-ups created, or ``None`` when an emergency campaign must
    wait for ``wave_minutes`` after its last wave (``at_once``: it does not, after a widened search).
    """
    # Claim the row first: concurrent schedulers backfill one campaign one at a time,
    # and each re-counts the gaps after the other's commit.
    claimed = db.session.execute(
        update(Campaign).where(Campaign.id == campaign_id, Campaign.status.in_(BACKFILL_STATES))
        .values(updated_at=now).execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        db.session.rollback()
        return 0
    # A freed place goes first to whoever is on standby (they were promised it), before anyone new.
    offered = _offer_standby_of_campaign(campaign_id, now=now, actor=actor)
    if offered:
        db.session.commit()
        return len(offered)
    campaign = db.session.get(Campaign, campaign_id)
    db.session.refresh(campaign)
    policy = effective_policy(campaign)
    wave, last_send = _last_wave(campaign_id)
    if not at_once and campaign.priority is Priority.EMERGENCY and last_send is not None \
            and now < last_send + timedelta(minutes=int(policy["wave_minutes"])):
        db.session.rollback()
        return None
    plan = plan_recruitment(campaign, now=now, timezone_name=timezone_name, fill_all=False,
                            over_recruit_percent=int(policy.get("over_recruit_percent") or 0),
                            starting_after=now)
    created = _store_proposals(plan, wave=wave + 1, send_at=send_time(policy, now), actor=actor, now=now,
                               note=f"backfill wave {wave + 1}")
    remember_unfilled(plan, now=now)
    if not created:
        _mark_fruitless(campaign, now=now)
        db.session.commit()
        return 0
    campaign.backfill_idle_until = campaign.backfill_idle_mark = None
    db.session.commit()
    return created


# After a backfill that found no one, wait this long before asking the matcher again, unless one of
# the campaign's call-ups changes meanwhile (a decline, an expiry, an answer). New registrations are
# picked up when the wait ends.
IDLE_AFTER_FRUITLESS = {Priority.EMERGENCY: timedelta(minutes=1), Priority.URGENT: timedelta(minutes=2)}
IDLE_DEFAULT = timedelta(minutes=5)


def _callup_mark(campaign_id: int) -> str:
    """The count and latest change of a campaign's call-ups: any answer, expiry or new offer moves it."""
    count, latest = db.session.execute(
        join_shift(select(func.count(CallUp.id), func.max(CallUp.updated_at)))
        .where(Shift.campaign_id == campaign_id)).one()
    return f"{count}:{latest}"


def _is_idle(campaign_id: int, *, now: datetime) -> bool:
    row = db.session.execute(select(Campaign.backfill_idle_until, Campaign.backfill_idle_mark)
                             .where(Campaign.id == campaign_id)).one()
    return row.backfill_idle_until is not None and now < row.backfill_idle_until \
        and row.backfill_idle_mark == _callup_mark(campaign_id)


def _mark_fruitless(campaign: Campaign, *, now: datetime) -> None:
    """Remember, in the caller's transaction, that this backfill found no one."""
    campaign.backfill_idle_until = now + IDLE_AFTER_FRUITLESS.get(campaign.priority, IDLE_DEFAULT)
    campaign.backfill_idle_mark = _callup_mark(campaign.id)


def backfill_open_positions(*, now: datetime, timezone_name: str, actor: str = "scheduler") -> BackfillStats:
    """Offer places freed by declines, expiries and withdrawals to people not yet asked, campaign by campaign."""
    stats = BackfillStats()
    ids = campaigns_with_gaps(now=now)
    idle = {campaign_id for campaign_id in ids if _is_idle(campaign_id, now=now)}
    stats.idle = len(idle)
    ids = [campaign_id for campaign_id in ids if campaign_id not in idle]
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
    ids = campaigns_with_full_positions(now=now)
    db.session.rollback()
    for campaign_id in ids:
        try:
            created = offer_extras(campaign_id, now=now, timezone_name=timezone_name, actor=actor)
        except Exception:  # one broken campaign must not block the others
            db.session.rollback()
            log.exception("extra offers of campaign %s failed", campaign_id)
            stats.failed += 1
            continue
        stats.extras += created
    return stats


def extra_cap(headcount: int, percent: int) -> int:
    """At most ceil(headcount × percent / 100) extra offers out at once for one position."""
    return -(-headcount * max(int(percent), 0) // 100)


def campaigns_with_full_positions(*, now: datetime) -> list[int]:
    """Campaigns that may hold an at-risk position: full by count, shift not yet started."""
    stmt = (select(Shift.campaign_id).join(Position, Position.shift_id == Shift.id)
            .join(Campaign, Campaign.id == Shift.campaign_id)
            .where(Campaign.status.in_(AT_RISK_STATES), Shift.start_at > now,
                   Position.accepted_count >= Position.headcount)
            .distinct().order_by(Shift.campaign_id))
    return list(db.session.scalars(stmt).all())


def at_risk_positions(campaign: Campaign, *, now: datetime) -> list[OpenPosition]:
    """Positions that should get one more extra offer now.

    A position qualifies when it is full by count, its shift has not started, the expected
    attendance of its accepted people (``expected_attendance_sum``, as ``staffing`` reports it)
    is below the headcount, no open offer to it is still unanswered, and fewer open offers than
    the cap (policy ``at_risk_extra_percent``, default 30 % of the headcount, rounded up) are live.
    Someone who said yes while the position is full waits on standby and counts as live.
    """
    percent = int(effective_policy(campaign).get(EXTRA_PERCENT_KEY, DEFAULT_EXTRA_PERCENT))
    history = _show_up_history(campaign.id)
    expected = dict(db.session.execute(
        join_shift(select(CallUp.position_id, expected_attendance_sum(history)))
        .outerjoin(history, history.c.volunteer_id == CallUp.volunteer_id)
        .where(Shift.campaign_id == campaign.id).group_by(CallUp.position_id)).all())
    # On a full position every open call-up is an over-recruit (an extra offer, or the emergency
    # over-recruit of an earlier wave), so all of them count against the cap.
    live_extra = CallUp.is_open
    extras = {row.position_id: row for row in db.session.execute(
        join_shift(select(CallUp.position_id, func.count().label("live"),
                          func.sum(case((CallUp.standby_at.is_(None), 1), else_=0)).label("unanswered")))
        .where(Shift.campaign_id == campaign.id, live_extra).group_by(CallUp.position_id))}
    items = []
    for shift in campaign.shifts:
        if shift.start_at <= now:
            continue
        for position in shift.positions:
            if position.accepted_count < position.headcount:
                continue  # a gap is the ordinary backfill's work
            if not falls_short(float(expected.get(position.id) or 0.0), position.headcount):
                continue
            live, unanswered = (extras[position.id].live, int(extras[position.id].unanswered or 0)) \
                if position.id in extras else (0, 0)
            if unanswered or live >= extra_cap(position.headcount, percent):
                continue
            items.append(OpenPosition(position=position, shift=shift, slots=1))
    return items


def offer_extras(campaign_id: int, *, now: datetime, timezone_name: str, actor: str = "scheduler") -> int:
    """One campaign, one transaction: one extra offer (an over-recruit of one) per at-risk position."""
    # Lock the campaign row (SQLite: the transaction's write lock) without touching it: this runs
    # for every staffed campaign on every tick, and its updated_at should mean a real change.
    # Concurrent schedulers wait here and then see each other's pending extras.
    locked = db.session.scalar(select(Campaign.id).where(Campaign.id == campaign_id,
                                                         Campaign.status.in_(AT_RISK_STATES)).with_for_update())
    if locked is None:
        db.session.rollback()
        return 0
    campaign = db.session.get(Campaign, campaign_id, populate_existing=True)
    items = at_risk_positions(campaign, now=now)
    if not items:
        db.session.rollback()
        return 0
    plan = plan_recruitment(campaign, now=now, timezone_name=timezone_name, fill_all=False, items=items)
    wave, _ = _last_wave(campaign_id)
    send_at = send_time(effective_policy(campaign), now)
    created = 0
    for position in plan.positions:
        for proposal in position.proposals[:1]:
            callup = CallUp(position_id=proposal.position_id, volunteer_id=proposal.volunteer_id,
                            status=CallUpStatus.SCHEDULED, score=proposal.score, wave=wave + 1, extra=True,
                            radius_level=proposal.radius_level, send_at=send_at, created_at=now, updated_at=now,
                            breakdown={**proposal.breakdown, "cost": round(proposal.cost, 4),
                                       "party_slot": proposal.party_slot})
            callup.events.append(CallUpEvent(at=now, actor=actor, from_state=None,
                                             to_state=CallUpStatus.SCHEDULED.value,
                                             note="extra offer: position at risk"))
            db.session.add(callup)
            created += 1
    if not created:
        db.session.rollback()
        return 0
    db.session.commit()
    return created


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
           "BackfillStats", "offer_extras", "at_risk_positions", "campaigns_with_full_positions", "extra_cap"]


def widen_search(campaign: Campaign, *, grid_id: int, reason: str, hours: int, scope: Scope, now: datetime,
                 timezone_name: str) -> RecruitmentOverride:
    """Open an emergency override and re-match the campaign's open places at once across the wider area.

    The override carries ``rematched``: the call-ups the new match created (0 when nobody more was found).
    """
    override = open_override(campaign, grid_id=grid_id, reason=reason, hours=hours, scope=scope, now=now)
    created = 0
    if campaign.status in BACKFILL_STATES:
        created = backfill_campaign(campaign.id, now=now, timezone_name=timezone_name, actor=scope.actor,
                                    at_once=True) or 0
    override.rematched = created
    return override
