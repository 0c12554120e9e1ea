"""A campaign's call-up policy: stored as given, read with defaults by priority."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from campaigns.models import Campaign, Priority
from core.clock import ensure_utc

DEFAULTS: dict[str, Any] = {
    "response_minutes": 1440,
    "reminder_hours": [24, 2],
    "wave_minutes": 5,
    "over_recruit_percent": 0,
    # Recurring templates: how far ahead occurrences become campaigns of their own.
    "materialise_days_ahead": 7,
    # Silence is followed up on another channel after this many minutes (None: never).
    "follow_up_minutes": None,
    # Volunteers of the shift's street may take open places themselves (campaigns/signups.py).
    "sign_ups": False,
}
EMERGENCY_DEFAULTS: dict[str, Any] = {"response_minutes": 10, "over_recruit_percent": 30, "follow_up_minutes": 5}
URGENT_DEFAULTS: dict[str, Any] = {"follow_up_minutes": 30}


def effective_policy(campaign: Campaign) -> dict[str, Any]:
    """The policy with every default filled in (the office's own level as radius)."""
    policy = dict(DEFAULTS)
    if campaign.priority is Priority.EMERGENCY:
        policy.update(EMERGENCY_DEFAULTS)
    elif campaign.priority is Priority.URGENT:
        policy.update(URGENT_DEFAULTS)
    policy["max_radius_level"] = campaign.office.level if campaign.office else 0
    policy["send_at"] = None
    policy.update({key: value for key, value in (campaign.policy or {}).items() if value is not None})
    return policy


def send_time(policy: dict[str, Any], now: datetime) -> datetime:
    """When new call-ups go out: the policy's ``send_at`` if still ahead, else now."""
    if not policy.get("send_at"):
        return now
    return max(ensure_utc(datetime.fromisoformat(policy["send_at"])), now)
