"""Grid alerts (预警): an urgent or emergency campaign warns the office staff and grid members of its whole area.

Matched or not, everyone who can knock on doors hears of it at once: the staff accounts of the campaign
office, of the offices below it and of those above it (street, district), and the grid workers (网格员)
and building leaders (楼栋长) living in its subtree. Each gets a one-time acknowledgement link
(``/a/<token>``, stored as its sha256 like answer links); the staffing board counts who acknowledged.
"""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, or_, select, update

from accounts.models import User
from accounts.staff import staff_channels
from notices.links import TOKEN_BYTES, hash_token
from notices.messages import language_of, render
from notices.models import Channel, NotificationKind, NotificationStatus
from notices.outbox import _format_when, insert_rows, channels_for, configured_channels
from core.masking import mask_name
from campaigns.models import Campaign, CampaignStatus, GridAlert, GridAlertRecipient, Priority
from campaigns.services import get_campaign
from core.errors import Conflict, NotFound, ValidationFailed
from core.i18n import _l
from core.scope import Role
from extensions import db
from grids.models import Grid
from volunteers.models import Identity, Volunteer, VolunteerStatus

ALERT_PATH = "/a/"
# Who among the volunteers is a grid member: they warn the households of their grid.
GRID_MEMBER_BITS = Identity.GRID_WORKER.bit | Identity.BUILDING_LEADER.bit
ALERT_PRIORITIES = (Priority.URGENT, Priority.EMERGENCY)
ALERT_STATES = (CampaignStatus.PUBLISHED, CampaignStatus.PARTLY_STAFFED, CampaignStatus.STAFFED,
                CampaignStatus.RUNNING)
MESSAGE_MAX = 200


def alert_url(token: str) -> str:
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}{ALERT_PATH}{token}"


def _ancestor_paths(path: str) -> list[str]:
    """'/1/5/12/' -> ['/1/', '/1/5/', '/1/5/12/']."""
    parts = [part for part in path.strip("/").split("/") if part]
    return ["/" + "/".join(parts[:k]) + "/" for k in range(1, len(parts) + 1)]


def _staff(area: str) -> list[tuple[User, Grid]]:
    """Active office accounts of the area's offices, of those below and of those above it."""
    return list(db.session.execute(
        select(User, Grid).join(Grid, Grid.id == User.grid_id)
        .where(User.active.is_(True), User.role == Role.OFFICE,
               or_(Grid.path.startswith(area, autoescape=True), Grid.path.in_(_ancestor_paths(area))))
        .order_by(User.id)).all())


def _grid_members(area: str) -> list[Volunteer]:
    return list(db.session.scalars(
        select(Volunteer).join(Grid, Grid.id == Volunteer.home_grid_id)
        .where(Volunteer.status == VolunteerStatus.ACTIVE, Volunteer.identity_flags.op("&")(GRID_MEMBER_BITS) != 0,
               Grid.path.startswith(area, autoescape=True))
        .order_by(Volunteer.id)))


def broadcast_alert(campaign_id: int, *, message: str, actor: str, now: datetime) -> GridAlert:
    """Send an alert about an urgent or emergency campaign to its area's staff and grid members, at once
    (quiet hours and daily caps never hold it), each with an acknowledgement link; one transaction."""
    message = (message or "").strip()
    if not message or len(message) > MESSAGE_MAX:
        raise ValidationFailed.field("message", _l("Say what is happening, in 1-%(message_max)s characters.",
                                                   message_max=MESSAGE_MAX))
    campaign = get_campaign(campaign_id)
    if campaign.priority not in ALERT_PRIORITIES:
        raise Conflict(_l("only urgent and emergency campaigns alert the grid"),
                       {"priority": [_l("Alerts are for urgent and emergency campaigns.")]})
    if campaign.status not in ALERT_STATES:
        raise Conflict.wrong_state("campaign", campaign.status.value, "alert")
    config = current_app.config
    available = configured_channels(config)
    alert = GridAlert(campaign_id=campaign.id, message=message, created_by=actor[:100], created_at=now)
    db.session.add(alert)
    db.session.flush()
    contexts: dict[str, dict[str, str]] = {}
    rows: list[dict[str, Any]] = []

    def add(recipient: GridAlertRecipient, pairs: list[tuple[Channel, str | None]], language: str) -> None:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        recipient.token_hash = hash_token(token)
        db.session.add(recipient)
        who = f"u{recipient.user_id}" if recipient.user_id else f"v{recipient.volunteer_id}"
        language = language_of(language)
        if language not in contexts:
            contexts[language] = _alert_context(campaign, message, language)
        context = contexts[language]
        for channel, address in pairs:
            text = render("alert", language, context | {"link": alert_url(token)}, channel=channel.value)
            rows.append({"callup_id": None, "volunteer_id": recipient.volunteer_id, "channel": channel,
                         "kind": NotificationKind.ALERT,
                         "idempotency_key": f"alert:{alert.id}:{who}:{channel.value}",
                         "status": NotificationStatus.PENDING, "due_at": now, "attempts": 0,
                         "max_attempts": config["OUTBOX_MAX_ATTEMPTS"], "created_at": now,
                         "payload": {"recipient": address, "subject": text.subject, "text": text.text,
                                     "language": language, "alert_id": alert.id}})

    for user, grid in _staff(campaign.office.path):
        add(GridAlertRecipient(alert_id=alert.id, user_id=user.id, grid_id=grid.id), staff_channels(user, available),
            "zh")
    for volunteer in _grid_members(campaign.office.path):
        add(GridAlertRecipient(alert_id=alert.id, volunteer_id=volunteer.id, grid_id=volunteer.home_grid_id),
            channels_for(volunteer, available), volunteer.language or "zh")
    db.session.flush()
    insert_rows(rows)
    db.session.commit()
    return alert


def _alert_context(campaign: Campaign, message: str, lang: str) -> dict[str, str]:
    """What an alert says, its time in the recipient's language ``lang``."""
    zone = current_app.config["TIMEZONE"]
    shift = min(campaign.shifts, key=lambda s: s.start_at) if campaign.shifts else None
    place = ""
    when = short_when = ""
    if shift is not None:
        grid = db.session.get(Grid, shift.grid_id)
        place = shift.place or (grid.name if grid else "")
        when, short_when = _format_when(shift.start_at, zone, lang)
    return {"title": campaign.title, "note": message, "place": place, "when": when, "short_when": short_when,
            "contact": campaign.contact_name or ""}


def find_recipient(token: str) -> GridAlertRecipient:
    """The recipient an acknowledgement link belongs to; NotFound for an unknown token."""
    recipient = db.session.scalar(select(GridAlertRecipient).where(GridAlertRecipient.token_hash == hash_token(token)))
    if recipient is None:
        raise NotFound(_l("unknown alert link"))
    return recipient


def acknowledge_alert(token: str, *, now: datetime, note: str | None = None) -> GridAlertRecipient:
    """Record that the person received the alert (once; repeating it is harmless)."""
    recipient = find_recipient(token)
    note = (note or "").strip()[:200] or None
    db.session.execute(update(GridAlertRecipient)
                       .where(GridAlertRecipient.id == recipient.id, GridAlertRecipient.acked_at.is_(None))
                       .values(acked_at=now, note=note).execution_options(synchronize_session=False))
    db.session.commit()
    db.session.refresh(recipient)
    return recipient


def list_alerts(campaign_id: int) -> list[dict[str, Any]]:
    """A campaign's alerts, newest first, with recipients, acknowledgements and who acknowledged (names masked)."""
    get_campaign(campaign_id)
    alerts = db.session.scalars(select(GridAlert).where(GridAlert.campaign_id == campaign_id)
                                .order_by(GridAlert.id.desc())).all()
    out = []
    for alert in alerts:
        rows = db.session.execute(
            select(GridAlertRecipient.user_id, GridAlertRecipient.volunteer_id, GridAlertRecipient.acked_at,
                   GridAlertRecipient.note, Grid.name.label("grid_name"),
                   func.coalesce(User.display_name, Volunteer.name).label("name"))
            .outerjoin(Grid, Grid.id == GridAlertRecipient.grid_id)
            .outerjoin(User, User.id == GridAlertRecipient.user_id)
            .outerjoin(Volunteer, Volunteer.id == GridAlertRecipient.volunteer_id)
            .where(GridAlertRecipient.alert_id == alert.id).order_by(GridAlertRecipient.id)).all()
        out.append({"id": alert.id, "campaign_id": campaign_id, "message": alert.message,
                    "created_by": alert.created_by, "created_at": alert.created_at,
                    "recipients": len(rows), "acknowledged": sum(1 for r in rows if r.acked_at is not None),
                    "people": [{"kind": "staff" if r.user_id else "grid_member", "name": mask_name(r.name),
                                "grid": r.grid_name, "acked_at": r.acked_at, "note": r.note} for r in rows]})
    return out


__all__ = ["broadcast_alert", "staff_channels", "acknowledge_alert", "find_recipient", "list_alerts", "alert_url", "ALERT_PATH"]
