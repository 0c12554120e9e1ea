"""Schemas for answering call-ups, the SMS inbound hook, the outbox and the inbox."""
from __future__ import annotations

from marshmallow import fields, validate

from api.schemas.common import AwareDateTime, LocalDateTime, Schema, StrictBoolean, optional_text
from core.masking import MOBILE_RE
from notices.models import Channel, NotificationKind, NotificationStatus


class AcceptSchema(Schema):
    reason = fields.String(validate=validate.Length(max=500), load_default=None)
    eta_minutes = fields.Integer(strict=True, validate=validate.OneOf([0, 15, 30, 60]), load_default=None,
                                 metadata={"description": "Emergencies: minutes until you can be there"})


class DeclineSchema(Schema):
    reason = fields.String(validate=validate.Length(max=500), load_default=None)


class AttendanceSchema(Schema):
    attended = StrictBoolean(required=True, metadata={
        "description": "true: came (from two hours before the shift); false: no-show (from its start); "
                       "until a week after the shift; a mark may be corrected"})
    at = AwareDateTime(load_default=None, metadata={"description": "The real arrival time, when not now"})
    reason = optional_text(500, metadata={"description": "Why a mark is corrected (kept in the trail)"})


class SmsInboundSchema(Schema):
    # "from" is a Python keyword, hence data_key.
    sender = fields.String(required=True, data_key="from", validate=validate.Regexp(MOBILE_RE))
    text = fields.String(required=True, validate=validate.Length(min=1, max=160))


class NotificationQuerySchema(Schema):
    status = fields.Enum(NotificationStatus, by_value=True)
    channel = fields.Enum(Channel, by_value=True)
    kind = fields.Enum(NotificationKind, by_value=True,
                       metadata={"description": "e.g. coordinator: the office's notices of answers"})


class NotificationSchema(Schema):
    id = fields.Integer()
    callup_id = fields.Integer(allow_none=True)
    volunteer_id = fields.Integer(allow_none=True)
    channel = fields.Enum(Channel, by_value=True)
    kind = fields.Enum(NotificationKind, by_value=True)
    idempotency_key = fields.String()
    status = fields.Enum(NotificationStatus, by_value=True)
    due_at = LocalDateTime()
    attempts = fields.Integer()
    max_attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    sent_at = LocalDateTime(allow_none=True)
    subject = fields.Function(lambda n: (n.payload or {}).get("subject"))
    text = fields.Function(lambda n: (n.payload or {}).get("text") if n.kind is NotificationKind.COORDINATOR else None,
                           metadata={"description": "Coordinator notices only (others may carry a link)"})


class InboxMessageSchema(Schema):
    id = fields.Integer()
    callup_id = fields.Integer(allow_none=True)
    kind = fields.Enum(NotificationKind, by_value=True)
    subject = fields.Function(lambda n: (n.payload or {}).get("subject"))
    text = fields.Function(lambda n: (n.payload or {}).get("text"))
    sent_at = LocalDateTime(allow_none=True)
