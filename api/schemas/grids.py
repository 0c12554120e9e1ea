"""Schemas of grids and skills."""
from marshmallow import fields, validate

from api.schemas.common import Schema, StrictBoolean, code_validator, optional_text, positive_id, required_text


class GridSchema(Schema):
    id = fields.Integer(dump_only=True)
    code = fields.String()
    name = fields.String()
    level = fields.Integer()
    parent_id = fields.Integer(allow_none=True)
    path = fields.String()
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class GridCreateSchema(Schema):
    code = required_text(32, extra=[code_validator])
    name = required_text(100)
    level = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=4))
    parent_id = positive_id(load_default=None, allow_none=True)
    lat = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=-90, max=90))
    lon = fields.Float(load_default=None, allow_none=True, validate=validate.Range(min=-180, max=180))


class GridUpdateSchema(Schema):
    name = required_text(100, required=False)
    lat = fields.Float(allow_none=True, validate=validate.Range(min=-90, max=90))
    lon = fields.Float(allow_none=True, validate=validate.Range(min=-180, max=180))


class GridQuerySchema(Schema):
    parent_id = positive_id(strict=False)
    level = fields.Integer(validate=validate.Range(min=0, max=4))
    under = positive_id(strict=False, metadata={"description": "Only nodes in this node's subtree (itself included)."})
    q = optional_text(100, metadata={"description": "Part of the name or code."})


class SkillSchema(Schema):
    id = fields.Integer(dump_only=True)
    code = fields.String()
    name = fields.String()
    name_en = fields.String(allow_none=True)
    certified = fields.Boolean()


class SkillCreateSchema(Schema):
    code = required_text(40, extra=[code_validator])
    name = required_text(100)
    name_en = optional_text(100)
    certified = StrictBoolean(load_default=False, metadata={"description": "Needs a certificate."})


class SkillUpdateSchema(Schema):
    name = required_text(100, required=False)
    name_en = optional_text(100)
    certified = StrictBoolean()
