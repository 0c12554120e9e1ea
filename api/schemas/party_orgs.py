"""Schemas for 双报到: workplace party organisations, a member's choice and the quarterly report."""
from __future__ import annotations

from marshmallow import fields

from api.schemas.common import Schema, TrimmedString, positive_id
from marshmallow import validate


class PartyOrgSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class PartyOrgChoiceSchema(Schema):
    name = TrimmedString(required=True, allow_none=True, validate=validate.Length(max=100), metadata={
        "description": "The workplace party organisation's name (added when new); null or empty clears it"})


class VolunteerPartyOrgSchema(Schema):
    volunteer_id = fields.Integer(attribute="id")
    party_org_id = fields.Integer(allow_none=True)


class PartyReportQuerySchema(Schema):
    org_id = positive_id(strict=False, required=True)
    quarter = fields.String(load_default=None, validate=validate.Length(max=8),
                            metadata={"description": "2026Q4; default: the current quarter"})


class PartyMemberRowSchema(Schema):
    volunteer_id = fields.Integer()
    name = fields.String()
    grid = fields.String()
    registered_on = fields.Date()
    called = fields.Integer()
    accepted = fields.Integer()
    attended = fields.Integer()
    hours = fields.Float()


class PartyReportSchema(Schema):
    org = fields.Nested(PartyOrgSchema)
    quarter = fields.Function(lambda r: r.quarter.label)
    totals = fields.Dict()
    members = fields.List(fields.Nested(PartyMemberRowSchema))
