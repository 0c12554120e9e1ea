"""Messages about call-ups: reads the facts off the models and hands them to the outbox as plain values."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from campaigns.models import CallUp, Position, Priority
from extensions import db
from grids.models import Grid
from notices.models import NotificationKind
from notices.outbox import (CallUpNotice, callup_message_rows, coordinator_rows, insert_rows, message_context)
from notices.outbox import callup_template as _template
from volunteers.models import Volunteer


def notice_of(callup: CallUp) -> CallUpNotice:
    """The plain facts a message about ``callup`` may say (the shift's place, else its grid's name)."""
    position = callup.position
    shift = position.shift
    campaign = shift.campaign
    place = shift.place
    if not place:
        grid = db.session.get(Grid, shift.grid_id)
        place = grid.name if grid else ""
    return CallUpNotice(callup_id=callup.id, volunteer_id=callup.volunteer_id, title=campaign.title,
                        role=position.role, start_at=shift.start_at, place=place, expires_at=callup.expires_at,
                        contact_name=campaign.contact_name or "", contact_phone=campaign.contact_phone or "",
                        emergency=campaign.priority is Priority.EMERGENCY, campaign_id=campaign.id,
                        office_grid_id=campaign.office_grid_id, position_id=position.id,
                        coordinator_user_id=campaign.coordinator_user_id)


def callup_context(callup: CallUp, volunteer: Volunteer, *, token: str | None = None,
                   note: str | None = None) -> dict[str, str]:
    """What a message or answer page about ``callup`` may say: what, where, when, deadline, contact, link."""
    return message_context(notice_of(callup), volunteer, token=token, note=note)


def callup_template(callup: CallUp, *, follow_up: bool = False) -> str:
    """The message template of a call-up: emergencies say so (【应急】) and ask for an arrival time."""
    return _template(callup.position.shift.campaign.priority is Priority.EMERGENCY, follow_up=follow_up)


def message_rows(callup: CallUp, kind: NotificationKind, **options: Any) -> list[dict[str, Any]]:
    """Outbox rows for a message about ``callup`` (``notices.outbox.callup_message_rows``), not yet written."""
    return callup_message_rows(notice_of(callup), kind, **options)


def _queue_callup_message(callup: CallUp, kind: NotificationKind, **options: Any) -> int:
    """Write a message about ``callup`` to the outbox in the caller's transaction; returns how many rows."""
    rows = message_rows(callup, kind, **options)
    insert_rows(rows)
    return len(rows)


def notice_rows(callup: CallUp, *, answer: str, now: datetime, counts: tuple[int, int] | None = None
                ) -> list[dict[str, Any]]:
    """Rows telling the office and coordinator about an answer, not yet written. ``counts`` is the
    position's (accepted, headcount) after the answer when the caller has it; else it is read."""
    if counts is None:
        # The counter may have been changed by a bulk UPDATE: read it from the database, not the identity map.
        counts = db.session.execute(select(Position.accepted_count, Position.headcount)
                                    .where(Position.id == callup.position_id)).one()
    volunteer = db.session.get(Volunteer, callup.volunteer_id) if callup.volunteer_id else None
    return coordinator_rows(notice_of(callup), answer=answer, now=now, accepted=counts[0], headcount=counts[1],
                            volunteer_name=volunteer.name if volunteer is not None else None)


def _queue_coordinator_notice(callup: CallUp, *, answer: str, now: datetime,
                              counts: tuple[int, int] | None = None) -> int:
    """Write the office's and coordinator's notice about an answer in the caller's transaction."""
    rows = notice_rows(callup, answer=answer, now=now, counts=counts)
    insert_rows(rows)
    return len(rows)
