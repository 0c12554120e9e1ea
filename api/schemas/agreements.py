"""Schemas of partner enterprises' pairing agreements."""
from marshmallow import fields

from api.schemas.common import Schema, optional_text, positive_id


class AgreementCreateSchema(Schema):
    enterprise_id = positive_id(required=True)
    grid_id = positive_id(required=True, metadata={"description": "The street office or community that signed"})
    signed_on = fields.Date(required=True)
    valid_until = fields.Date(required=True)
    note = optional_text(500)


class AgreementSchema(Schema):
    id = fields.Function(lambda s: s.agreement.id)
    enterprise_id = fields.Function(lambda s: s.agreement.enterprise_id)
    grid_id = fields.Function(lambda s: s.agreement.grid_id)
    grid_name = fields.Function(lambda s: s.agreement.grid.name)
    signed_on = fields.Function(lambda s: s.agreement.signed_on.isoformat())
    valid_until = fields.Function(lambda s: s.agreement.valid_until.isoformat())
    note = fields.Function(lambda s: s.agreement.note)
    recorded_by = fields.Function(lambda s: s.agreement.recorded_by)
    state = fields.String(metadata={"description": "valid, ending (within 30 days), ended, or superseded by a renewal"})
    days_left = fields.Integer()
