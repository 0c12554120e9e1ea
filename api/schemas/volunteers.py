"""Schemas of volunteers: input, output (mobile masked in lists) and filters."""
from marshmallow import ValidationError, fields, validate, validates_schema

from api.schemas.common import (AwareDateTime, Schema, mobile_validator, optional_text, positive_id,
                                required_text)
from core.kinds import CampaignKind
from core.masking import mask_mobile
from volunteers.availability import format_hhmm, parse_hhmm
from volunteers.models import Identity, VolunteerStatus

IDENTITIES = [identity.value for identity in Identity]
KINDS = [kind.value for kind in CampaignKind]


class SkillLevelSchema(Schema):
    code = required_text(40)
    level = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=5))
    certificate_expires_on = fields.Date(load_default=None, allow_none=True)


class SkillLevelOutSchema(Schema):
    code = fields.Function(lambda row: row.skill.code)
    name = fields.Function(lambda row: row.skill.name)
    level = fields.Integer()
    certificate_expires_on = fields.Date(allow_none=True)


class WindowSchema(Schema):
    weekday = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=6),
                             metadata={"description": "Monday = 0"})
    start = fields.String(required=True, metadata={"description": "HH:MM, local time"})
    end = fields.String(required=True, metadata={"description": "HH:MM (24:00 allowed)"})

    @validates_schema
    def check_times(self, data, **kwargs):
        errors = {}
        try:
            start = parse_hhmm(data["start"])
        except ValueError as error:
            errors["start"] = [str(error)]
        try:
            end = parse_hhmm(data["end"], allow_24=True)
        except ValueError as error:
            errors["end"] = [str(error)]
        if not errors and end <= start:
            errors["end"] = ["Must be after start."]
        if errors:
            raise ValidationError(errors)


class WindowOutSchema(Schema):
    weekday = fields.Integer()
    start = fields.Function(lambda row: format_hhmm(row.start_minute))
    end = fields.Function(lambda row: format_hhmm(row.end_minute))


class VolunteerSchema(Schema):
    """A volunteer as shown on their detail view."""

    id = fields.Integer()
    name = fields.String()
    mobile = fields.String()
    home_grid_id = fields.Integer()
    home_grid_name = fields.Function(lambda v: v.home_grid.name if v.home_grid else None)
    identities = fields.Function(lambda v: [identity.value for identity in v.identities])
    party_branch = fields.String(allow_none=True)
    skills = fields.List(fields.Nested(SkillLevelOutSchema))
    availability = fields.List(fields.Nested(WindowOutSchema))
    blackout_dates = fields.Function(lambda v: [b.day.isoformat() for b in v.blackouts])
    max_callups_per_month = fields.Integer()
    status = fields.Enum(VolunteerStatus, by_value=True)
    interests = fields.Function(lambda v: [k.value for k in CampaignKind if v.interests & k.bit])
    language = fields.String()
    consent_at = fields.AwareDateTime(allow_none=True)
    note = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class VolunteerSummarySchema(VolunteerSchema):
    """A volunteer in a list: the mobile number is masked."""

    mobile = fields.Function(lambda v: mask_mobile(v.mobile))


class VolunteerCreateSchema(Schema):
    name = required_text(64)
    mobile = fields.String(required=True, validate=mobile_validator)
    home_grid_id = positive_id(required=True)
    identities = fields.List(fields.String(validate=validate.OneOf(IDENTITIES)), load_default=list,
                             validate=validate.Length(max=len(IDENTITIES)))
    party_branch = optional_text(100)
    skills = fields.List(fields.Nested(SkillLevelSchema), load_default=list,
                         validate=validate.Length(max=50))
    availability = fields.List(fields.Nested(WindowSchema), load_default=list,
                               validate=validate.Length(max=100))
    blackout_dates = fields.List(fields.Date(), load_default=list, validate=validate.Length(max=366))
    max_callups_per_month = fields.Integer(load_default=4, strict=True, validate=validate.Range(min=0, max=100))
    status = fields.Enum(VolunteerStatus, by_value=True, load_default=VolunteerStatus.ACTIVE)
    interests = fields.List(fields.String(validate=validate.OneOf(KINDS)), load_default=list)
    language = fields.String(load_default="zh", validate=validate.OneOf(["zh", "en"]))
    consent_at = AwareDateTime(load_default=None, allow_none=True)
    note = optional_text(500)


class VolunteerUpdateSchema(VolunteerCreateSchema):
    """Every field optional (load it with partial=True); lists given replace the stored ones."""


class VolunteerQuerySchema(Schema):
    grid_id = positive_id(strict=False, metadata={"description": "Home grid in this node's subtree"})
    skill = fields.String(validate=validate.Length(max=40), metadata={"description": "Skill code"})
    min_level = fields.Integer(validate=validate.Range(min=1, max=5))
    identity = fields.String(validate=validate.OneOf(IDENTITIES))
    status = fields.Enum(VolunteerStatus, by_value=True)
    q = fields.String(validate=validate.Length(min=1, max=64),
                      metadata={"description": "Part of the name or mobile number"})
