"""The audit log: who viewed or exported personal data, who changed what, who was refused."""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Select, select

from accounts.models import AuditEvent
from core.logs import current_request_id
from extensions import db

log = logging.getLogger(__name__)


def record_event(*, actor: str, role: str | None, action: str, now: datetime, outcome: str,
                 object_type: str | None = None, object_id: object = None, ip: str | None = None,
                 detail: str | None = None) -> None:
    """Append one event in its own commit, stamped with the current request id (core/logs.py).
    Never pass a personal value (a mobile, a name) in ``detail``."""
    db.session.add(AuditEvent(at=now, actor=actor[:100], role=role, action=action[:64], outcome=outcome[:16],
                              object_type=object_type, object_id=None if object_id is None else str(object_id)[:64],
                              ip=(ip or None) and ip[:45], detail=detail and detail[:500],
                              request_id=current_request_id()))
    try:
        db.session.commit()
    except Exception:  # an audit write must not turn a served answer into an error; it is logged instead
        db.session.rollback()
        log.exception("could not write the audit event %s by %s", action, actor)


def list_audit_events(*, actor: str | None = None, action: str | None = None, object_type: str | None = None,
                      object_id: str | None = None, since: datetime | None = None,
                      until: datetime | None = None, request_id: str | None = None) -> Select:
    """Events matching the filters, newest first."""
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc())
    if request_id:
        stmt = stmt.where(AuditEvent.request_id == request_id)
    if actor:
        stmt = stmt.where(AuditEvent.actor == actor)  # exact: "token:1" must not match "token:12"
    if action:
        stmt = stmt.where(AuditEvent.action.like(f"{action}%"))
    if object_type:
        stmt = stmt.where(AuditEvent.object_type == object_type)
    if object_id:
        stmt = stmt.where(AuditEvent.object_id == object_id)
    if since:
        stmt = stmt.where(AuditEvent.at >= since)
    if until:
        stmt = stmt.where(AuditEvent.at < until)
    return stmt
