"""A whistle's messages through the outbox: the summons of each unit's duty contact, and the escalation
to the street office and then the district. Written in the caller's transaction, at once (an unsolved
problem in a grid is never held by quiet hours or the daily cap), with idempotency keys."""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select

from accounts.models import User
from accounts.staff import staff_channels
from core.scope import Role
from extensions import db
from gridwork.models import Whistle, WhistleSummons
from notices.links import TOKEN_BYTES, hash_token
from notices.messages import render
from notices.models import Channel, NotificationKind, NotificationStatus
from notices.outbox import _format_when, channels_for, configured_channels, insert_rows
from volunteers.models import Volunteer, VolunteerStatus

WHISTLE_PATH = "/w/"


def whistle_url(token: str) -> str:
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}{WHISTLE_PATH}{token}"


def _context(whistle: Whistle, lang: str) -> dict[str, str]:
    zone = current_app.config["TIMEZONE"]
    when, short_when = _format_when(whistle.raised_at, zone, lang)
    deadline, _ = _format_when(whistle.arrive_due_at, zone, lang)
    return {"title": whistle.title, "note": whistle.address, "place": whistle.grid.name, "when": when,
            "short_when": short_when, "deadline": deadline}


def _row(whistle: Whistle, *, channel: Channel, address: str | None, template: str, lang: str, key: str,
         volunteer_id: int | None, context: dict[str, str], now: datetime) -> dict[str, Any]:
    text = render(template, lang, context, channel=channel.value)
    return {"callup_id": None, "volunteer_id": volunteer_id, "channel": channel, "kind": NotificationKind.WHISTLE,
            "idempotency_key": key[:120], "status": NotificationStatus.PENDING, "due_at": now, "attempts": 0,
            "max_attempts": current_app.config["OUTBOX_MAX_ATTEMPTS"], "created_at": now,
            "payload": {"recipient": address, "subject": text.subject, "text": text.text, "language": lang,
                        "whistle_id": whistle.id}}


def _issue_summons_tokens(whistle: Whistle, summons: list[WhistleSummons], *, now: datetime, round_no: int) -> int:
    """Give each summons a fresh answer link and queue it to the unit's duty contact; the number of people texted."""
    available = configured_channels(current_app.config)
    rows: list[dict[str, Any]] = []
    texted = 0
    tokens = []
    for item in summons:  # every link first: a query below may flush the rows
        token = secrets.token_urlsafe(TOKEN_BYTES)
        item.token_hash = hash_token(token)
        tokens.append(token)
    for item, token in zip(summons, tokens):
        duty = db.session.get(Volunteer, item.unit.duty_volunteer_id) if item.unit.duty_volunteer_id else None
        if duty is None or duty.status is not VolunteerStatus.ACTIVE:
            continue
        lang = duty.language or "zh"
        context = _context(whistle, lang) | {"name": item.unit.name, "link": whistle_url(token)}
        for channel, address in channels_for(duty, available):
            rows.append(_row(whistle, channel=channel, address=address, template="whistle", lang=lang,
                             key=f"whistle:{whistle.id}:r{round_no}:u{item.unit_id}:{channel.value}",
                             volunteer_id=duty.id, context=context, now=now))
        texted += 1
    db.session.flush()
    insert_rows(rows)
    return texted


def _queue_escalation(whistle: Whistle, *, office_grid_id: int, level: int, now: datetime) -> int:
    """Tell the staff accounts of ``office_grid_id`` (the street office, then the district) that nobody answered."""
    available = configured_channels(current_app.config)
    users = db.session.scalars(select(User).where(User.active.is_(True), User.role == Role.OFFICE,
                                                  User.grid_id == office_grid_id).order_by(User.id)).all()
    rows: list[dict[str, Any]] = []
    context = _context(whistle, "zh")
    for user in users:
        for channel, address in staff_channels(user, available):
            rows.append(_row(whistle, channel=channel, address=address, template="whistle_escalation", lang="zh",
                             key=f"whistle:{whistle.id}:esc{level}:u{user.id}:{channel.value}",
                             volunteer_id=None, context=context, now=now))
    insert_rows(rows)
    return len(users)
