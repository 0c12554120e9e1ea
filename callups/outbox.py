"""Writing outbox rows inside the caller's transaction: who gets what, on which channel, when."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from callups.links import link_url
from callups.messages import render
from callups.models import Channel, Notification, NotificationKind, NotificationStatus
from campaigns.models import CallUp, Position, Priority
from core.masking import mask_name
from extensions import db
from grids.models import Grid
from volunteers.models import Volunteer

QUIET_START = time(22, 0)
QUIET_END = time(8, 0)
# Answers to something the person just did, and the in-app inbox (no push), are never held back.
QUIET_EXEMPT_KINDS = {NotificationKind.CONFIRMATION}
QUIET_EXEMPT_CHANNELS = {Channel.INAPP}


def after_quiet_hours(due: datetime, zone: str) -> datetime:
    """``due`` moved to 08:00 local time when it falls between 22:00 and 08:00."""
    local = due.astimezone(ZoneInfo(zone))
    if local.time() >= QUIET_START:
        moved = datetime.combine(local.date() + timedelta(days=1), QUIET_END, tzinfo=local.tzinfo)
    elif local.time() < QUIET_END:
        moved = datetime.combine(local.date(), QUIET_END, tzinfo=local.tzinfo)
    else:
        return due
    return moved.astimezone(due.tzinfo)


def configured_channels(config: Any) -> set[Channel]:
    """Channels with a destination configured; the in-app inbox always works."""
    found = {Channel.INAPP}
    for channel, key in ((Channel.EMAIL, "SMTP_URL"), (Channel.WEBHOOK, "WEBHOOK_URL"),
                         (Channel.WECOM, "WECOM_WEBHOOK_URL"), (Channel.SMS, "SMS_GATEWAY_URL")):
        if config.get(key):
            found.add(channel)
    return found


def channels_for(volunteer: Volunteer, available: set[Channel]) -> list[tuple[Channel, str | None]]:
    """(channel, recipient) pairs for a person: in-app always, the rest by address and preference."""
    wanted = None
    if volunteer.notify_channels is not None:
        wanted = {part.strip() for part in volunteer.notify_channels.split(",") if part.strip()}
    addresses = {Channel.SMS: volunteer.mobile, Channel.EMAIL: volunteer.email, Channel.WECOM: volunteer.wecom_id}
    pairs: list[tuple[Channel, str | None]] = [(Channel.INAPP, str(volunteer.id))]
    for channel in (Channel.SMS, Channel.EMAIL, Channel.WECOM):
        if channel in available and addresses[channel] and (wanted is None or channel.value in wanted):
            pairs.append((channel, addresses[channel]))
    if Channel.WEBHOOK in available:
        # The integration gets every message, addressed by id only (no phone numbers leave by webhook).
        pairs.append((Channel.WEBHOOK, str(volunteer.id)))
    return pairs


def _format_when(start: datetime, zone: str, lang: str) -> tuple[str, str]:
    local = start.astimezone(ZoneInfo(zone))
    if lang == "en":
        return local.strftime("%a %d %b %H:%M"), local.strftime("%d/%m %H:%M")
    return f"{local.month}月{local.day}日 {local:%H:%M}", f"{local.month}/{local.day} {local:%H:%M}"


def callup_context(callup: CallUp, volunteer: Volunteer, *, token: str | None = None,
                   note: str | None = None) -> dict[str, str]:
    """What a message about ``callup`` may say: what, where, when, deadline, contact, link."""
    config = current_app.config
    zone = config["TIMEZONE"]
    lang = "en" if (volunteer.language or "").startswith("en") else "zh"
    shift = callup.position.shift
    campaign = shift.campaign
    grid = db.session.get(Grid, shift.grid_id)
    when, short_when = _format_when(shift.start_at, zone, lang)
    deadline = _format_when(callup.expires_at, zone, lang)[0] if callup.expires_at else ""
    return {"name": volunteer.name, "title": campaign.title, "role": callup.position.role, "when": when,
            "short_when": short_when, "place": shift.place or (grid.name if grid else ""),
            "deadline": deadline, "contact": campaign.contact_name or "",
            "link": link_url(config["PUBLIC_URL"], token) if token else "", "note": note or ""}


def _queue_callup_message(callup: CallUp, kind: NotificationKind, *, template: str, now: datetime,
                          serial: str, token: str | None = None, note: str | None = None) -> int:
    """Outbox rows (one per channel) for a message to the person called up; part of the caller's transaction.

    The idempotency key ``callup:kind:channel:serial`` is unique, so writing the
    same message twice (two ticks racing) keeps one row.
    """
    volunteer = db.session.get(Volunteer, callup.volunteer_id) if callup.volunteer_id else None
    if volunteer is None:
        return 0
    config = current_app.config
    emergency = callup.position.shift.campaign.priority is Priority.EMERGENCY
    context = callup_context(callup, volunteer, token=token, note=note)
    rows = []
    for channel, recipient in channels_for(volunteer, configured_channels(config)):
        # The inbox is read in the app, where the person answers by call-up id; keeping the
        # plain token out of it means the database never holds a usable link once sent.
        values = context | {"link": "（请在应用内回复）" if token else ""} if channel is Channel.INAPP else context
        text = render(template, volunteer.language, values, channel=channel.value)
        due = now
        if not (emergency or kind in QUIET_EXEMPT_KINDS or channel in QUIET_EXEMPT_CHANNELS):
            due = after_quiet_hours(now, config["TIMEZONE"])
        rows.append({"callup_id": callup.id, "volunteer_id": volunteer.id, "channel": channel, "kind": kind,
                     "idempotency_key": f"{callup.id}:{kind.value}:{channel.value}:{serial}",
                     "status": NotificationStatus.PENDING, "due_at": due, "attempts": 0,
                     "max_attempts": config["OUTBOX_MAX_ATTEMPTS"], "created_at": now,
                     "payload": {"recipient": recipient, "subject": text.subject, "text": text.text,
                                 "language": volunteer.language or "zh"}})
    _insert_ignoring_duplicates(rows)
    return len(rows)


def _insert_ignoring_duplicates(rows: list[dict[str, Any]]) -> None:
    """INSERT … ON CONFLICT (idempotency_key) DO NOTHING, on either dialect."""
    if not rows:
        return
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(insert(Notification).on_conflict_do_nothing(index_elements=["idempotency_key"]), rows)


def planned_send_time(now: datetime, *, emergency: bool, zone: str) -> datetime:
    """When a call-up sent at ``now`` actually reaches people (after quiet hours unless emergency)."""
    return now if emergency else after_quiet_hours(now, zone)


COORDINATOR_VERBS = {"accepted": "接受了", "declined": "拒绝了", "withdrawn": "撤回了接受"}


def _queue_coordinator_notice(callup: CallUp, *, answer: str, now: datetime) -> int:
    """One in-app row for the campaign's office about an answer; part of the caller's transaction.

    ``answer`` is ``accepted``, ``declined`` or ``withdrawn`` (an acceptance given back). The row
    has no volunteer: it is addressed to the office (``office:{grid_id}``) and says only the
    masked name, the campaign, the role and the position's count after the answer; never a phone
    number or party membership. The key ``callup:coordinator:inapp:answer`` keeps one row per
    (call-up, answer), a withdrawal counting as a decline.
    """
    position = callup.position
    campaign = position.shift.campaign
    # The counter was changed by a bulk UPDATE, so read it from the database, not the identity map.
    accepted, headcount = db.session.execute(
        select(Position.accepted_count, Position.headcount).where(Position.id == position.id)).one()
    volunteer = db.session.get(Volunteer, callup.volunteer_id) if callup.volunteer_id else None
    who = mask_name(volunteer.name) if volunteer is not None and volunteer.name else "某志愿者"
    note = f"{who} {COORDINATOR_VERBS[answer]} {campaign.title} · {position.role} ({accepted}/{headcount})"
    subject = render("coordinator", "zh", {"title": campaign.title}, channel=Channel.INAPP.value).subject
    serial = "declined" if answer == "withdrawn" else answer
    _insert_ignoring_duplicates([{
        "callup_id": callup.id, "volunteer_id": None, "channel": Channel.INAPP, "kind": NotificationKind.COORDINATOR,
        "idempotency_key": f"{callup.id}:{NotificationKind.COORDINATOR.value}:{Channel.INAPP.value}:{serial}",
        "status": NotificationStatus.PENDING, "due_at": now, "attempts": 0,
        "max_attempts": current_app.config["OUTBOX_MAX_ATTEMPTS"], "created_at": now,
        "payload": {"recipient": f"office:{campaign.office_grid_id}", "campaign_id": campaign.id,
                    "office_grid_id": campaign.office_grid_id, "position_id": position.id, "answer": answer,
                    "accepted": accepted, "headcount": headcount, "subject": subject, "text": note,
                    "language": "zh"}}])
    return 1
