"""Silence is followed up: a person who neither opened nor answered a call-up gets it again, on another channel."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update

from notices.links import _issue_link
from notices.models import Channel, Notification, NotificationKind
from campaigns.messaging import _queue_callup_message, callup_template
from notices.outbox import configured_channels, follow_up_channels
from campaigns.models import CallUp, CallUpStatus, Campaign, Shift
from campaigns.places import join_shift
from campaigns.policy import effective_policy
from campaigns.states import _record_event
from extensions import db
from volunteers.models import Volunteer

# No policy asks for less: the query looks at call-ups sent at least this long ago.
SHORTEST_WAIT = timedelta(minutes=1)


def follow_up_silent(*, now: datetime, limit: int = 500, actor: str = "scheduler") -> int:
    """Send open call-ups again to people who have not opened or answered them within the campaign's
    ``follow_up_minutes`` (emergency 5, urgent 30 by default; routine never), once per call-up, on the
    consented channels not used yet (notices/outbox.py ``follow_up_channels``). A fresh link answers the
    same call-up. ``followed_up_at`` is claimed with a conditional UPDATE, so two ticks send it once."""
    rows = db.session.execute(
        join_shift(select(CallUp.id, CallUp.sent_at, Campaign.id.label("campaign_id")))
        .join(Campaign, Campaign.id == Shift.campaign_id)
        .where(CallUp.status == CallUpStatus.SENT, CallUp.volunteer_id.is_not(None), CallUp.seen_at.is_(None),
               CallUp.followed_up_at.is_(None), CallUp.expires_at > now, CallUp.sent_at <= now - SHORTEST_WAIT)
        .order_by(CallUp.sent_at).limit(limit)).all()
    policies: dict[int, dict[str, Any]] = {}
    available = configured_channels(current_app.config)
    sent = 0
    for row in rows:
        callup = db.session.get(CallUp, row.id)
        policy = policies.setdefault(row.campaign_id, effective_policy(callup.position.shift.campaign))
        minutes = policy.get("follow_up_minutes")
        if not minutes or row.sent_at > now - timedelta(minutes=int(minutes)):
            continue
        claimed = db.session.execute(
            update(CallUp).where(CallUp.id == row.id, CallUp.followed_up_at.is_(None),
                                 CallUp.status == CallUpStatus.SENT, CallUp.seen_at.is_(None))
            .values(followed_up_at=now).execution_options(synchronize_session=False)).rowcount
        if claimed != 1:
            continue
        used = set(db.session.scalars(select(Notification.channel).where(
            Notification.callup_id == row.id, Notification.kind == NotificationKind.CALLUP)).all())
        pairs = follow_up_channels(db.session.get(Volunteer, callup.volunteer_id), available, used)
        token = _issue_link(row.id, expires_at=callup.expires_at, now=now)
        _queue_callup_message(callup, NotificationKind.FOLLOW_UP, template=callup_template(callup, follow_up=True),
                              now=now, serial="1", token=token, pairs=pairs)
        channels = ", ".join(channel.value for channel, _ in pairs if channel is not Channel.INAPP) or "inapp"
        _record_event(row.id, CallUpStatus.SENT, CallUpStatus.SENT, now=now, actor=actor,
                      note=f"no answer yet: sent again by {channels}")
        sent += 1
    db.session.commit()
    return sent
