"""Schemas of enterprises and co-building teams."""
from marshmallow import fields, post_dump, validate

from api.schemas.common import Schema, mobile_validator, optional_text, positive_id, required_text
from api.schemas.volunteers import caller_scope
from core.masking import mask_mobile, sees_team_members


# 统一社会信用代码: 18 digits or capitals other than I, O, S, V and Z (GB 32100-2015).
CREDIT_CODE_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{18}$"


class EnterpriseSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    status = fields.String(metadata={"description": "approved; pending or rejected for self-registered ones"})
    requested_grid_id = fields.Integer(allow_none=True,
                                       metadata={"description": "the street office or community it asked to pair with"})
    credit_code = fields.String(allow_none=True)
    contact_name = fields.String(allow_none=True)
    contact_mobile = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    team_count = fields.Function(lambda e: len(e.teams))
    created_at = fields.AwareDateTime()


class EnterpriseSummarySchema(EnterpriseSchema):
    """An enterprise in a list: the contact's mobile masked for every caller, as people's are in lists."""

    contact_mobile = fields.Function(lambda e: mask_mobile(e.contact_mobile), allow_none=True)


class EnterpriseCreateSchema(Schema):
    name = required_text(100)
    credit_code = fields.String(
        load_default=None, allow_none=True,
        validate=validate.Regexp(CREDIT_CODE_PATTERN, error="Not a unified social credit code."),
        metadata={"description": "Unified social credit code, 18 characters"})
    contact_name = optional_text(64)
    contact_mobile = fields.String(load_default=None, allow_none=True, validate=mobile_validator)
    address = optional_text(200)


class EnterpriseUpdateSchema(EnterpriseCreateSchema):
    """Every field optional (loaded with common.for_update)."""


class EnterpriseQuerySchema(Schema):
    q = fields.String(validate=validate.Length(min=1, max=100))


class TeamMemberSchema(Schema):
    """A team member as the team's enterprise sees them: masked mobile, no identities or party membership."""

    id = fields.Integer()
    name = fields.String()
    mobile = fields.Function(lambda v: mask_mobile(v.mobile))


class TeamSchema(Schema):
    id = fields.Integer()
    enterprise_id = fields.Integer()
    name = fields.String()
    leader_id = fields.Integer(allow_none=True)
    member_ids = fields.List(fields.Integer())
    members = fields.List(fields.Nested(TeamMemberSchema), metadata={
        "description": "Names and masked mobiles; only for the admin and the team's own enterprise"})
    paired_grid_ids = fields.List(fields.Integer())
    created_at = fields.AwareDateTime()

    @post_dump(pass_original=True)
    def apply_field_rules(self, data, team, **kwargs):
        """SR-3: office staff of other communities read teams district-wide, but not who is in them by name."""
        if not sees_team_members(caller_scope(), team.enterprise_id):
            data.pop("members", None)
        return data


class TeamCreateSchema(Schema):
    name = required_text(100)
    member_ids = fields.List(positive_id(), load_default=list, validate=validate.Length(max=1000))
    paired_grid_ids = fields.List(positive_id(), load_default=list, validate=validate.Length(max=200))
    leader_id = positive_id(load_default=None, allow_none=True)


class TeamUpdateSchema(TeamCreateSchema):
    """Every field optional (loaded with common.for_update)."""
