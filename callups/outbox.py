"""Writing outbox rows inside the caller's transaction: who gets what, on which channel, when."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from callups.links import link_url
from callups.messages import render
from callups.models import Channel, Notification, NotificationKind, NotificationStatus
from campaigns.models import CallUp, Position, Priority
from core.masking import mask_name
from extensions import db
from grids.models import Grid
from volunteers.models import Volunteer

log = logging.getLogger(__name__)

QUIET_START = time(22, 0)
QUIET_END = time(8, 0)
# Answers to something the person just did, and the in-app inbox (no push), are never held back.
QUIET_EXEMPT_KINDS = {NotificationKind.CONFIRMATION}
QUIET_EXEMPT_CHANNELS = {Channel.INAPP}
# News about a shift the person already agreed to (cancelled, moved) still waits out quiet hours, but
# never loses a day to the daily cap.
CAP_EXEMPT_KINDS = QUIET_EXEMPT_KINDS | {NotificationKind.CANCELLATION, NotificationKind.CHANGE}
# How many mornings the daily cap may push a message forward before it goes regardless.
CAP_MAX_DAYS = 14


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


def _local_day(at: datetime, zone: str) -> tuple[datetime, datetime]:
    """The local calendar day holding ``at``, as [start, end) in ``at``'s zone."""
    local = at.astimezone(ZoneInfo(zone))
    start = datetime.combine(local.date(), time(0), tzinfo=local.tzinfo)
    end = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=local.tzinfo)
    return start.astimezone(at.tzinfo), end.astimezone(at.tzinfo)


def messages_on_day(volunteer_id: int, day: datetime, zone: str) -> int:
    """Messages (not rows: one message on three channels counts once) that reach the person outside the app
    on the local day of ``day``: sent that day, or waiting to go that day. Failed ones never reached them."""
    start, end = _local_day(day, zone)
    when = func.coalesce(Notification.sent_at, Notification.due_at)
    messages = (select(Notification.callup_id, Notification.kind, Notification.created_at)
                .where(Notification.volunteer_id == volunteer_id, Notification.channel != Channel.INAPP,
                       Notification.status != NotificationStatus.FAILED, when >= start, when < end)
                .distinct().subquery())
    return int(db.session.scalar(select(func.count()).select_from(messages)) or 0)


def push_time(volunteer_id: int | None, *, now: datetime, kind: NotificationKind, emergency: bool,
              config: Mapping[str, Any], before: datetime | None = None) -> datetime:
    """When a message written at ``now`` goes out to the person on the channels outside the app.

    The one place for both holding rules; emergencies are exempt from both:
    1. quiet hours: between 22:00 and 08:00 local time it waits until 08:00 (confirmations excepted);
    2. the daily cap: when the person already has ``DAILY_MESSAGE_CAP`` messages on that local day it
       waits until 08:00 of the next day that has room (confirmations, cancellations and changes excepted).
       It never waits until ``before`` (the shift's start), when it would be useless: then it goes over the cap.
    The cap is counted in the writing transaction, so two writers racing may each add one over it.
    """
    zone = config["TIMEZONE"]
    if emergency or kind in QUIET_EXEMPT_KINDS:
        return now
    due = after_quiet_hours(now, zone)
    cap = int(config.get("DAILY_MESSAGE_CAP") or 0)
    if not cap or volunteer_id is None or kind in CAP_EXEMPT_KINDS:
        return due
    held = due
    for _ in range(CAP_MAX_DAYS):
        if messages_on_day(volunteer_id, held, zone) < cap:
            break
        next_day = held.astimezone(ZoneInfo(zone)).date() + timedelta(days=1)
        held = datetime.combine(next_day, QUIET_END, tzinfo=ZoneInfo(zone)).astimezone(now.tzinfo)
    return due if before is not None and held >= before else held


def configured_channels(config: Any) -> set[Channel]:
    """Channels with a destination configured; the in-app inbox always works."""
    found = {Channel.INAPP}
    for channel, key in ((Channel.EMAIL, "SMTP_URL"), (Channel.WEBHOOK, "WEBHOOK_URL"),
                         (Channel.WECOM, "WECOM_WEBHOOK_URL"), (Channel.SMS, "SMS_GATEWAY_URL")):
        if config.get(key):
            found.add(channel)
    return found


def channels_for(volunteer: Volunteer, available: set[Channel]) -> list[tuple[Channel, str | None]]:
    """(channel, recipient) pairs for a person: in-app always, the rest by address, preference and consent.

    A channel the person prefers (or has no preference about) but has not consented to is left out and
    logged (``callups.outbox`` at INFO, ids only): no outbox row is written for it.
    """
    wanted = None
    if volunteer.notify_channels is not None:
        wanted = {part.strip() for part in volunteer.notify_channels.split(",") if part.strip()}
    consented = set(volunteer.consented_channels)
    addresses = {Channel.SMS: volunteer.mobile, Channel.EMAIL: volunteer.email, Channel.WECOM: volunteer.wecom_id}
    pairs: list[tuple[Channel, str | None]] = [(Channel.INAPP, str(volunteer.id))]
    for channel in (Channel.SMS, Channel.EMAIL, Channel.WECOM):
        if channel in available and addresses[channel] and (wanted is None or channel.value in wanted):
            if channel.value in consented:
                pairs.append((channel, addresses[channel]))
            else:
                log.info("no consent: volunteer %s channel %s skipped", volunteer.id, channel.value)
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
                          serial: str, token: str | None = None, note: str | None = None,
                          to: int | None = None, push_at: datetime | None = None) -> int:
    """Outbox rows (one per channel) for a message to the person called up; part of the caller's transaction.

    ``to`` addresses another person about the call-up: the leader of a team call-up. ``push_at`` is
    ``push_time`` when the caller already asked it (the call-up's answer window starts then).

    The idempotency key ``callup:kind:channel:serial`` is unique, so writing the
    same message twice (two ticks racing) keeps one row.
    """
    recipient_id = to or callup.volunteer_id
    volunteer = db.session.get(Volunteer, recipient_id) if recipient_id else None
    if volunteer is None:
        return 0
    config = current_app.config
    emergency = callup.position.shift.campaign.priority is Priority.EMERGENCY
    context = callup_context(callup, volunteer, token=token, note=note)
    pairs = channels_for(volunteer, configured_channels(config))
    pushed = None
    if any(channel not in QUIET_EXEMPT_CHANNELS for channel, _ in pairs):
        pushed = push_at or push_time(volunteer.id, now=now, kind=kind, emergency=emergency, config=config,
                                      before=callup.position.shift.start_at)
    rows = []
    for channel, recipient in pairs:
        # The inbox is read in the app, where the person answers by call-up id; keeping the
        # plain token out of it means the database never holds a usable link once sent.
        values = context | {"link": "（请在应用内回复）" if token else ""} if channel is Channel.INAPP else context
        text = render(template, volunteer.language, values, channel=channel.value)
        due = now if channel in QUIET_EXEMPT_CHANNELS else pushed
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
