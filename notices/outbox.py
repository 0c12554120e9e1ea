"""Writing outbox rows inside the caller's transaction: who gets what, on which channel, when."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import current_app
from flask_babel import get_locale
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from notices.links import link_url
from notices.messages import SMS_LIMIT, language_of, render
from notices.models import Channel, Notification, NotificationKind, NotificationStatus
from core.i18n import _, _l, in_language
from core.masking import mask_name
from extensions import db
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


def messages_on_day(volunteer_ids: Collection[int], day: datetime, zone: str) -> dict[int, int]:
    """Per person, messages (not rows: one message on three channels counts once) that reach them outside the
    app on the local day of ``day``: sent that day, or waiting to go that day. Failed ones never reached them.
    One grouped query however many people; people with none are left out."""
    if not volunteer_ids:
        return {}
    start, end = _local_day(day, zone)
    when = func.coalesce(Notification.sent_at, Notification.due_at)
    messages = (select(Notification.volunteer_id, Notification.callup_id, Notification.kind, Notification.created_at)
                .where(Notification.volunteer_id.in_(sorted(volunteer_ids)), Notification.channel != Channel.INAPP,
                       Notification.status != NotificationStatus.FAILED, when >= start, when < end)
                .distinct().subquery())
    return dict(db.session.execute(select(messages.c.volunteer_id, func.count())
                                   .group_by(messages.c.volunteer_id)).tuples().all())


def deployment_zone() -> ZoneInfo:
    """The office time zone of this deployment (``TIMEZONE``), for services below the app layer."""
    return ZoneInfo(current_app.config["TIMEZONE"])


def push_time(volunteer_id: int | None, *, now: datetime, kind: NotificationKind, emergency: bool,
              config: Mapping[str, Any] | None = None, before: datetime | None = None) -> datetime:
    """When a message written at ``now`` goes out to the person on the channels outside the app.

    The one place for both holding rules; emergencies are exempt from both:
    1. quiet hours: between 22:00 and 08:00 local time it waits until 08:00 (confirmations excepted),
       unless the shift it is about (``before``) starts before then: then it goes at once;
    2. the daily cap: when the person already has ``DAILY_MESSAGE_CAP`` messages on that local day it
       waits until 08:00 of the next day that has room (confirmations, cancellations and changes excepted).
       It never waits until ``before`` (the shift's start), when it would be useless: then it goes over the cap.
    The cap is counted in the writing transaction, so two writers racing may each add one over it.
    """
    return push_times([(volunteer_id, emergency, before)], now=now, kind=kind, config=config)[0]


def push_times(messages: Sequence[tuple[int | None, bool, datetime | None]], *, now: datetime,
               kind: NotificationKind, config: Mapping[str, Any] | None = None) -> list[datetime]:
    """``push_time`` of many messages written at ``now``, each given as (person, emergency, before), for
    different people: the daily cap is counted in one grouped query per day looked at, not one per person."""
    config = current_app.config if config is None else config
    zone = config["TIMEZONE"]
    cap = int(config.get("DAILY_MESSAGE_CAP") or 0)
    due = after_quiet_hours(now, zone)
    times: list[datetime | None] = []
    capped: set[int] = set()
    for volunteer_id, emergency, before in messages:
        if emergency or kind in QUIET_EXEMPT_KINDS or (before is not None and due >= before):
            # Held until after the shift has begun it would be useless (an urgent 05:30 call-up at 02:00):
            # what must reach the person before the start goes now, quiet hours or not.
            times.append(now)
        elif not cap or volunteer_id is None or kind in CAP_EXEMPT_KINDS:
            times.append(due)
        else:
            times.append(None)
            capped.add(volunteer_id)
    held = _held_by_cap(capped, due, zone, cap, now.tzinfo)
    return [time_ if time_ is not None else
            (due if before is not None and held[volunteer_id] >= before else held[volunteer_id])
            for time_, (volunteer_id, _emergency, before) in zip(times, messages)]


def _held_by_cap(volunteer_ids: set[int], due: datetime, zone: str, cap: int, tz) -> dict[int, datetime]:
    """Per person, ``due`` or 08:00 of the first later day with room under the daily cap (at most CAP_MAX_DAYS
    mornings on, then regardless)."""
    held: dict[int, datetime] = {}
    day, waiting = due, set(volunteer_ids)
    for _day in range(CAP_MAX_DAYS):
        if not waiting:
            break
        counts = messages_on_day(waiting, day, zone)
        for volunteer_id in [person for person in waiting if counts.get(person, 0) < cap]:
            held[volunteer_id] = day
            waiting.discard(volunteer_id)
        next_day = day.astimezone(ZoneInfo(zone)).date() + timedelta(days=1)
        day = datetime.combine(next_day, QUIET_END, tzinfo=ZoneInfo(zone)).astimezone(tz)
    return held | dict.fromkeys(waiting, day)


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
    logged (``notices.outbox`` at INFO, ids only): no outbox row is written for it.
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


def follow_up_channels(volunteer: Volunteer, available: set[Channel],
                       used: set[Channel]) -> list[tuple[Channel, str | None]]:
    """Where a silent person is contacted again: every consented, configured channel with an address not
    yet used for the call-up (the person's order of preference aside, their consent not); when all were
    used, the same ones again. The in-app row is always written again, the webhook never."""
    consented = set(volunteer.consented_channels)
    addresses = {Channel.SMS: volunteer.mobile, Channel.EMAIL: volunteer.email, Channel.WECOM: volunteer.wecom_id}
    reachable = [(channel, addresses[channel]) for channel in (Channel.SMS, Channel.EMAIL, Channel.WECOM)
                 if channel in available and addresses[channel] and channel.value in consented]
    fresh = [pair for pair in reachable if pair[0] not in used]
    return [(Channel.INAPP, str(volunteer.id))] + (fresh or reachable)


def _format_when(start: datetime, zone: str, lang: str) -> tuple[str, str]:
    """A message's time in ``lang``, in the office's zone: long (for sentences) and short (for an SMS).
    Each language writes dates its own way, so the CLDR patterns are catalogue entries."""
    local = start.astimezone(ZoneInfo(zone))
    with in_language(lang):
        # TRANSLATORS: a CLDR date pattern (letters are fields: EEE weekday, MMM month, dd day); 12月7日 09:00 in Chinese.
        long_pattern = _("EEE dd MMM HH:mm")
        # TRANSLATORS: a CLDR date pattern for an SMS, day before month; 12/7 09:00 in Chinese.
        short_pattern = _("dd/MM HH:mm")
        return (format_datetime(local, long_pattern, locale=get_locale()),
                format_datetime(local, short_pattern, locale=get_locale()))


@dataclass(frozen=True)
class CallUpNotice:
    """What a message about one call-up may say, as plain values; ``campaigns.messaging`` builds it."""

    callup_id: int
    volunteer_id: int | None
    title: str
    role: str
    start_at: datetime
    place: str
    expires_at: datetime | None
    contact_name: str
    contact_phone: str
    emergency: bool
    campaign_id: int
    office_grid_id: int
    position_id: int
    coordinator_user_id: int | None = None


def message_context(notice: CallUpNotice, volunteer: Volunteer, *, token: str | None = None,
                    note: str | None = None) -> dict[str, str]:
    """What a message or answer page about a call-up may say: what, where, when, deadline, contact, link."""
    config = current_app.config
    zone = config["TIMEZONE"]
    lang = language_of(volunteer.language)
    when, short_when = _format_when(notice.start_at, zone, lang)
    deadline = _format_when(notice.expires_at, zone, lang)[0] if notice.expires_at else ""
    return {"name": volunteer.name, "title": notice.title, "role": notice.role, "when": when,
            "short_when": short_when, "place": notice.place, "deadline": deadline, "contact": notice.contact_name,
            # For the answer pages only: render() keeps to CONTEXT_KEYS, so no message carries it.
            "contact_phone": notice.contact_phone,
            "link": link_url(config["PUBLIC_URL"], token) if token else "", "note": note or ""}


def callup_message_rows(notice: CallUpNotice, kind: NotificationKind, *, template: str, now: datetime,
                        serial: str, token: str | None = None, note: str | None = None,
                        to: int | None = None, push_at: datetime | None = None,
                        pairs: list[tuple[Channel, str | None]] | None = None) -> list[dict[str, Any]]:
    """Outbox rows (one per channel) for a message to the person called up, not yet written.

    ``to`` addresses another person about the call-up: the leader of a team call-up. ``push_at`` is
    ``push_time`` when the caller already asked it (the call-up's answer window starts then). ``pairs``
    overrides the channels (a follow-up goes to channels not used yet).

    The idempotency key ``callup:kind:channel:serial`` is unique, so writing the
    same message twice (two ticks racing) keeps one row.
    """
    recipient_id = to or notice.volunteer_id
    volunteer = db.session.get(Volunteer, recipient_id) if recipient_id else None
    if volunteer is None:
        return []
    config = current_app.config
    context = message_context(notice, volunteer, token=token, note=note)
    if pairs is None:
        pairs = channels_for(volunteer, configured_channels(config))
    pushed = None
    if any(channel not in QUIET_EXEMPT_CHANNELS for channel, _ in pairs):
        pushed = push_at or push_time(volunteer.id, now=now, kind=kind, emergency=notice.emergency, config=config,
                                      before=notice.start_at)
    rows = []
    for channel, recipient in pairs:
        # The inbox is read in the app, where the person answers by call-up id; keeping the
        # plain token out of it means the database never holds a usable link once sent.
        # The in-app copy links to the person's own page, where they answer signed in.
        values = context | {"link": inapp_link(config, notice.callup_id) if token else ""} \
            if channel is Channel.INAPP else context
        text = render(template, volunteer.language, values, channel=channel.value)
        due = now if channel in QUIET_EXEMPT_CHANNELS else pushed
        rows.append({"callup_id": notice.callup_id, "volunteer_id": volunteer.id, "channel": channel, "kind": kind,
                     "idempotency_key": f"{notice.callup_id}:{kind.value}:{channel.value}:{serial}",
                     "status": NotificationStatus.PENDING, "due_at": due, "attempts": 0,
                     "max_attempts": config["OUTBOX_MAX_ATTEMPTS"], "created_at": now,
                     "payload": {"recipient": recipient, "subject": text.subject, "text": text.text,
                                 "language": volunteer.language or "zh"}})
    return rows


def _queue_callup_message(notice: CallUpNotice, kind: NotificationKind, **options: Any) -> int:
    """Write ``callup_message_rows`` in the caller's transaction; returns how many rows."""
    rows = callup_message_rows(notice, kind, **options)
    insert_rows(rows)
    return len(rows)


def inapp_link(config: Mapping[str, Any], callup_id: int) -> str:
    """The person's own call-up on their page (signed in), for in-app messages: no token in the database."""
    return f"{config['PUBLIC_URL'].rstrip('/')}/me#callup-{callup_id}"


def callup_template(emergency: bool, *, follow_up: bool = False) -> str:
    """The message template of a call-up: emergencies say so (【应急】) and ask for an arrival time."""
    if follow_up:
        return "emergency_follow_up" if emergency else "follow_up"
    return "emergency_callup" if emergency else "callup"


def insert_rows(rows: list[dict[str, Any]]) -> None:
    """INSERT … ON CONFLICT (idempotency_key) DO NOTHING of outbox rows, on either dialect: one statement."""
    if not rows:
        return
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # render_nulls: rows with and without a person (a coordinator notice has none) go in one statement.
    db.session.execute(insert(Notification).on_conflict_do_nothing(index_elements=["idempotency_key"])
                       .execution_options(render_nulls=True), rows)


# What the office is told about an answer: who, the answer, about what (the campaign and role, or in a short
# SMS the role alone) and the position's count.
COORDINATOR_NOTES = {"accepted": _l("%(who)s accepted %(what)s (%(count)s)"),
                     "declined": _l("%(who)s declined %(what)s (%(count)s)"),
                     "withdrawn": _l("%(who)s withdrew their acceptance of %(what)s (%(count)s)")}
# Staff accounts have no language of their own yet: the office is told in the default language.
OFFICE_LANGUAGE = "zh"


def coordinator_rows(notice: CallUpNotice, *, answer: str, now: datetime, accepted: int,
                     headcount: int, volunteer_name: str | None) -> list[dict[str, Any]]:
    """Rows for the campaign's office and coordinator about an answer, not yet written.

    ``answer`` is ``accepted``, ``declined`` or ``withdrawn`` (an acceptance given back); ``accepted``
    and ``headcount`` are the position's count after the answer. Always one in-app row addressed to the
    office (``office:{grid_id}``); then one row per channel the campaign's coordinator chose
    (``notify_channels``) that is configured and has their address: e-mail, SMS to their mobile, WeCom
    mentioning their WeCom id. No row has a volunteer. They say only the masked name, the campaign, the
    role and the count; never a phone number or party membership. The key
    ``callup:coordinator:channel:answer`` keeps one row per (call-up, channel, answer), a withdrawal
    counting as a decline.

    The in-app row is due at once. The others answer something that just happened but are not
    emergencies: for routine and urgent campaigns they wait out quiet hours (22:00-08:00), for
    emergencies they go at once; the volunteers' daily cap does not apply to staff.
    """
    config = current_app.config
    count = f"{accepted}/{headcount}"

    def say_note(what: str) -> str:
        with in_language(OFFICE_LANGUAGE):
            who = mask_name(volunteer_name) if volunteer_name else _("A volunteer")
            return COORDINATOR_NOTES[answer] % {"who": who, "what": what, "count": count}

    note = say_note(f"{notice.title} · {notice.role}")
    subject = render("coordinator", OFFICE_LANGUAGE, {"title": notice.title}, channel=Channel.INAPP.value).subject
    serial = "declined" if answer == "withdrawn" else answer
    facts = {"campaign_id": notice.campaign_id, "office_grid_id": notice.office_grid_id,
             "position_id": notice.position_id, "answer": answer, "accepted": accepted, "headcount": headcount,
             "language": OFFICE_LANGUAGE}

    def row(channel: Channel, recipient: str, text: str, due: datetime) -> dict[str, Any]:
        return {"callup_id": notice.callup_id, "volunteer_id": None, "channel": channel,
                "kind": NotificationKind.COORDINATOR,
                "idempotency_key": f"{notice.callup_id}:{NotificationKind.COORDINATOR.value}:{channel.value}:{serial}",
                "status": NotificationStatus.PENDING, "due_at": due, "attempts": 0,
                "max_attempts": config["OUTBOX_MAX_ATTEMPTS"], "created_at": now,
                "payload": {"recipient": recipient, **facts, "subject": subject, "text": text}}

    rows = [row(Channel.INAPP, f"office:{notice.office_grid_id}", note, now)]
    pairs = coordinator_channels(notice.coordinator_user_id, configured_channels(config))
    if pairs:
        due = push_time(None, now=now, kind=NotificationKind.COORDINATOR, emergency=notice.emergency, config=config)

        def short_note(limit: int | None) -> str:
            # The template names the campaign already; the note says who, what and the count. In an SMS a
            # long role is cut first (the title next, by fit_sms) so the count always fits.
            role = notice.role
            room = None if limit is None else limit - len(say_note(""))
            if room is not None and len(role) > room:
                role = role[:max(room - 1, 0)] + "…"
            return say_note(role)

        for channel, recipient in pairs:
            # Keep a dozen characters of an SMS for the campaign's title.
            values = {"title": notice.title,
                      "note": short_note(SMS_LIMIT[OFFICE_LANGUAGE] - 12 if channel is Channel.SMS else None)}
            rows.append(row(channel, recipient,
                            render("coordinator", OFFICE_LANGUAGE, values, channel=channel.value).text, due))
    return rows


# The app registers here how a staff account's chosen channels and addresses are read (accounts.staff):
# accounts sits above this package, so it is handed down rather than imported.
STAFF_CHANNELS_KEY = "gridmuster.staff_channels"


def coordinator_channels(user_id: int | None, available: set[Channel]) -> list[tuple[Channel, str]]:
    """(channel, address) pairs for a coordinator's notices besides the in-app row: the channels the
    account chose, that are configured and that it has an address for. Only active staff accounts."""
    if user_id is None:
        return []
    resolve = current_app.extensions.get(STAFF_CHANNELS_KEY)
    pairs = resolve(user_id) if resolve is not None else []
    return [(Channel(name), address) for name, address in pairs if Channel(name) in available and address]
