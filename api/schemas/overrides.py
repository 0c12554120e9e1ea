"""Recruitment overrides: who let a campaign recruit beyond its office, why, and until when."""
from marshmallow import fields, validate

from api.schemas.common import Schema, positive_id


class OverrideCreateSchema(Schema):
    grid_id = positive_id(required=True, metadata={
        "description": "The wider grid to recruit across: the campaign office's street, or the district"})
    reason = fields.String(required=True, validate=validate.Length(min=4, max=500))
    hours = fields.Integer(load_default=6, strict=True, validate=validate.Range(min=1, max=72),
                           metadata={"description": "How long it lasts; it ends by itself"})


class OverrideSchema(Schema):
    id = fields.Integer()
    campaign_id = fields.Integer()
    grid_id = fields.Integer()
    grid_name = fields.Function(lambda override: override.grid.name)
    reason = fields.String()
    opened_by = fields.String()
    opened_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime()
    closed_at = fields.AwareDateTime(allow_none=True)
    rematched = fields.Function(lambda override: getattr(override, "rematched", None), allow_none=True, metadata={
        "description": "When just opened: the call-ups the re-match across the wider area created at once"})
