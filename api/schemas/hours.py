"""Schemas for check-in and check-out, the attendance trail, the hours ledger, totals, certificates and 双报到."""
from __future__ import annotations

from marshmallow import fields, validate

from api.schemas.common import AwareDateTime, LocalDateTime, Schema, positive_id, required_text
from campaigns.models import HoursSource

HOURS = validate.Range(min=0.25, max=24, error="Between 0.25 and 24 hours.")


class CheckInSchema(Schema):
    at = AwareDateTime(load_default=None, metadata={
        "description": "Offices only: the real arrival (or leaving) time, when not now. A volunteer checks in now."})


class AttendanceCorrectionSchema(Schema):
    checked_in_at = AwareDateTime(load_default=None)
    checked_out_at = AwareDateTime(load_default=None)
    reason = required_text(500, required=False, metadata={
        "description": "Why the times change (kept in the trail); required"})


class AttendanceChangeSchema(Schema):
    id = fields.Integer()
    callup_id = fields.Integer()
    at = LocalDateTime()
    actor = fields.String()
    field = fields.String(metadata={"description": "status, checked_in_at or checked_out_at"})
    before = fields.String(allow_none=True)
    after = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)


class BatchSchema(Schema):
    batch = fields.String(metadata={"description": "Give it to the undo call to take the marks back"})
    callup_ids = fields.List(fields.Integer())


class UndoSchema(Schema):
    batch = required_text(16)


class UndoneSchema(Schema):
    callup_ids = fields.List(fields.Integer())


class CheckInCodeSchema(Schema):
    url = fields.String(metadata={"description": "What the QR code holds: /check-in/<signed token>"})
    expires_at = LocalDateTime()


class HoursEntrySchema(Schema):
    id = fields.Integer()
    volunteer_id = fields.Integer()
    callup_id = fields.Integer()
    source = fields.Enum(HoursSource, by_value=True, metadata={
        "description": "recorded: from check-in/out at the shift's end; manual: added by hand"})
    hours = fields.Function(lambda e: round(e.minutes / 60, 2), metadata={
        "description": "A correction's difference may be negative"})
    minutes = fields.Integer()
    served_on = fields.Date()
    corrects_id = fields.Integer(allow_none=True, metadata={"description": "The booking a correction changes"})
    booked_at = LocalDateTime()
    booked_by = fields.String()
    approved_by = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)


class ManualHoursSchema(Schema):
    callup_id = positive_id(required=True)
    hours = fields.Float(required=True, validate=HOURS, allow_nan=False)
    reason = required_text(500)


class HoursCorrectionSchema(Schema):
    entry_id = positive_id(required=True, metadata={"description": "The booking (not a correction) to change"})
    hours = fields.Float(required=True, validate=validate.Range(min=0, max=24), allow_nan=False,
                         metadata={"description": "The entry's hours as they should be"})
    reason = required_text(500)


class TotalsSchema(Schema):
    hours = fields.Float()
    recorded_hours = fields.Float()
    manual_hours = fields.Float()
    shifts = fields.Integer()


class PeriodTotalsSchema(TotalsSchema):
    period = fields.String(metadata={"description": "2026 or 2026-12"})


class HoursSummarySchema(Schema):
    total = fields.Nested(TotalsSchema)
    years = fields.Function(lambda s: [dict(_totals(t), period=str(y)) for y, t in s.years.items()])
    months = fields.Function(lambda s: [dict(_totals(t), period=m) for m, t in s.months.items()])


def _totals(totals) -> dict:
    return {"hours": totals.hours, "recorded_hours": totals.recorded_hours, "manual_hours": totals.manual_hours,
            "shifts": totals.shifts}


class CertificateSchema(Schema):
    code = fields.String(metadata={"description": "Anyone can check it at /verify/<code>"})
    issued_at = LocalDateTime()
    hours = fields.Function(lambda c: round((c.recorded_minutes + c.manual_minutes) / 60, 2))
    recorded_hours = fields.Function(lambda c: round(c.recorded_minutes / 60, 2))
    manual_hours = fields.Function(lambda c: round(c.manual_minutes / 60, 2))
    shifts = fields.Integer()
