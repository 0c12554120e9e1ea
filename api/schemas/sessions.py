"""Schemas of the password-for-token exchange."""
from marshmallow import fields, validate

from api.schemas.common import Schema


class TokenRequestSchema(Schema):
    login = fields.String(required=True, validate=validate.Length(min=1, max=64),
                          metadata={"description": "The sign-in name; a volunteer's is their mobile number."})
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=128))


class TokenSchema(Schema):
    token = fields.String(metadata={"description": "Send as Authorization: Bearer <token>. Shown once."})
    token_type = fields.Constant("Bearer")
    expires_at = fields.AwareDateTime()
    role = fields.Function(lambda data: data["role"].value)
    volunteer_id = fields.Integer(allow_none=True)
    enterprise_id = fields.Integer(allow_none=True)
    party_org_id = fields.Integer(allow_none=True)
    grid_id = fields.Integer(allow_none=True)
