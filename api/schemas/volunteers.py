"""Schemas of volunteers: input, output (mobile masked in lists) and filters."""
from flask import g, has_request_context
from marshmallow import ValidationError, fields, post_dump, validate, validates_schema

from api.auth import current_scope
from api.schemas.common import (AwareDateTime, Schema, TrimmedString, mobile_validator, optional_text,
                                positive_id, required_text)
from core.kinds import CampaignKind
from core.masking import mask_mobile, sees_full_contact, sees_party_membership
from core.scope import Scope
from volunteers.availability import format_hhmm, parse_hhmm
from volunteers.services import VOLUNTEER_SORTS
from volunteers.models import CONSENT_CHANNELS, EmergencyCalls, Identity, VolunteerStatus

IDENTITIES = [identity.value for identity in Identity]
KINDS = [kind.value for kind in CampaignKind]


def caller_scope() -> Scope | None:
    """The scope of the request being answered (API token or signed-in page), or None outside a request.

    The one place where output schemas learn who is asking, for the SR-3 field rules in core.masking.
    """
    return current_scope() if has_request_context() and "scope" in g else None


def hide_party_membership(data: dict) -> dict:
    """Drop the party identity and branch from a dumped person."""
    if "identities" in data:
        data["identities"] = [value for value in data["identities"] if value != Identity.PARTY_MEMBER.value]
    if "party_branch" in data:
        data["party_branch"] = None
    return data


class SkillLevelSchema(Schema):
    code = required_text(40)
    level = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=5))
    certificate_expires_on = fields.Date(load_default=None, allow_none=True)
    certificate_no = TrimmedString(allow_none=True, validate=validate.Length(min=1, max=64), metadata={
        "description": "Number of the certificate behind the skill; left out, the number on record stays"})


class SkillLevelOutSchema(Schema):
    code = fields.Function(lambda row: row.skill.code)
    name = fields.Function(lambda row: row.skill.name)
    level = fields.Integer()
    certificate_expires_on = fields.Date(allow_none=True)
    certificate_no = fields.String(allow_none=True)


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


class ChannelConsentSchema(Schema):
    channel = fields.String()
    granted_at = fields.AwareDateTime()
    withdrawn_at = fields.AwareDateTime(allow_none=True)


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
    emergency_calls = fields.String(metadata={
        "description": "any_hour: may be called in emergencies outside the weekly hours; available_hours: never"})
    consent_at = fields.AwareDateTime(allow_none=True)
    consented_channels = fields.List(fields.String(), metadata={
        "description": "Channels besides the in-app inbox the person agreed to be messaged on"})
    channel_consents = fields.List(fields.Nested(ChannelConsentSchema),
                                   metadata={"description": "When each channel consent was given or withdrawn"})
    note = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()

    @post_dump(pass_original=True)
    def apply_field_rules(self, data, volunteer, **kwargs):
        """SR-3: the full mobile and party membership only for the admin, office staff and the person."""
        scope = caller_scope()
        if "mobile" in data and not sees_full_contact(scope, volunteer.id):
            data["mobile"] = mask_mobile(volunteer.mobile)
        if not sees_party_membership(scope, volunteer.id):
            hide_party_membership(data)
        return data


class VolunteerSummarySchema(VolunteerSchema):
    """A volunteer in a list: the mobile number masked, party membership left out for every caller.

    Membership appears only on one person's detail view and in the roster export (README, SR-3).
    """

    class Meta:
        exclude = ("party_branch",)

    mobile = fields.Function(lambda v: mask_mobile(v.mobile))

    @post_dump(pass_original=True)
    def apply_field_rules(self, data, volunteer, **kwargs):
        """Lists never carry the party identity, whoever asks (overrides the detail view's rule)."""
        return hide_party_membership(data)


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
    emergency_calls = fields.String(
        load_default=EmergencyCalls.ANY_HOUR.value, validate=validate.OneOf([e.value for e in EmergencyCalls]),
        metadata={"description": "Emergencies: any_hour (default) = call me at any hour; available_hours = only "
                                 "in my weekly hours. Declared absences and rest always hold."})
    consent_at = AwareDateTime(load_default=None, allow_none=True)
    consented_channels = fields.List(
        fields.String(validate=validate.OneOf(CONSENT_CHANNELS)), load_default=list,
        validate=validate.Length(max=len(CONSENT_CHANNELS)), metadata={
            "description": "Channels the person agrees to be messaged on (sms, email, wecom); the list replaces "
                           "the stored one, and a channel left out is withdrawn. The in-app inbox needs none."})
    note = optional_text(500)


class VolunteerUpdateSchema(VolunteerCreateSchema):
    """Every field optional (loaded with common.for_update); lists given replace the stored ones."""


class VolunteerQuerySchema(Schema):
    grid_id = positive_id(strict=False, metadata={"description": "Home grid in this node's subtree"})
    skill = fields.String(validate=validate.Length(max=40), metadata={"description": "Skill code"})
    min_level = fields.Integer(validate=validate.Range(min=1, max=5))
    identity = fields.String(validate=validate.OneOf(IDENTITIES))
    status = fields.Enum(VolunteerStatus, by_value=True)
    q = fields.String(validate=validate.Length(min=1, max=64),
                      metadata={"description": "Part of the name or mobile number"})
    emergency_calls = fields.String(validate=validate.OneOf([e.value for e in EmergencyCalls]),
                                    metadata={"description": "The person's emergency preference"})
    callable = fields.Boolean(metadata={"description": "true: people routine call-ups can reach (active, weekly "
                                                       "hours, a monthly cap above 0); false: the others"})
    sort = fields.String(load_default="id", validate=validate.OneOf(VOLUNTEER_SORTS),
                         metadata={"description": "id (registration order), name, or grid (home grid in tree order)"})
