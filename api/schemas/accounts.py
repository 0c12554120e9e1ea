"""Schemas of the caller's own data, the audit log and API tokens."""
from marshmallow import ValidationError, fields, post_dump, validate, validates_schema

from api.schemas.callups import InboxMessageSchema
from api.schemas.hours import HoursEntrySchema
from api.schemas.common import (AwareDateTime, LocalDateTime, Schema, StrictBoolean, mobile_validator, positive_id,
                                required_text)
from api.schemas.volunteers import VolunteerSchema
from core.masking import mask_mobile
from core.scope import Role


class MeVolunteerSchema(Schema):
    """The person behind a volunteer token, as a list shows them (the full record is GET /me/data)."""

    id = fields.Integer()
    name = fields.String()
    mobile = fields.Function(lambda v: mask_mobile(v.mobile))
    home_grid_id = fields.Integer()
    status = fields.Function(lambda v: v.status.value)


STAFF_CHANNELS = ("sms", "email", "wecom")


class MeAccountSchema(Schema):
    """The signed-in account; staff also see their own contact details and notice channels in full."""

    id = fields.Integer()
    login = fields.String()
    display_name = fields.String()
    email = fields.String(allow_none=True)
    mobile = fields.String(allow_none=True)
    wecom_id = fields.String(allow_none=True)
    notify_channels = fields.List(fields.String(), attribute="notify_channel_list", metadata={
        "description": "Channels of coordinator notices besides the in-app row (staff)"})

    @post_dump(pass_original=True)
    def staff_only(self, data, user, **kwargs):
        # A volunteer's login is their mobile and their contact details live on their volunteer record.
        if user.role not in (Role.OFFICE, Role.ADMIN):
            for name in ("login", "email", "mobile", "wecom_id", "notify_channels"):
                data.pop(name, None)
        return data


class MeSchema(Schema):
    role = fields.Function(lambda p: p["scope"].role.value)
    actor = fields.Function(lambda p: p["scope"].actor)
    grid_id = fields.Function(lambda p: p["scope"].grid_id)
    grid_name = fields.Function(lambda p: p["grid"].name if p["grid"] else None)
    volunteer_id = fields.Function(lambda p: p["scope"].volunteer_id)
    enterprise_id = fields.Function(lambda p: p["scope"].enterprise_id)
    enterprise_name = fields.Function(lambda p: p["enterprise"].name if p["enterprise"] else None)
    party_org_id = fields.Function(lambda p: p["scope"].party_org_id)
    party_org_name = fields.Function(lambda p: p["party_org"].name if p.get("party_org") else None,
                                     metadata={"description": "A party organisation contact's organisation"})
    volunteer = fields.Function(lambda p: MeVolunteerSchema().dump(p["volunteer"]) if p["volunteer"] else None)
    service_hours = fields.Function(
        lambda p: {"shifts": p["service_hours"].shifts, "hours": p["service_hours"].hours}
        if p.get("service_hours") else None,
        metadata={"description": "A volunteer's attended shifts and their hours (null for other callers)"})
    account = fields.Function(lambda p: MeAccountSchema().dump(p["account"]) if p.get("account") else None,
                              metadata={"description": "The signed-in account (null for integration tokens)"})


class MeUpdateSchema(Schema):
    """Staff change their own contact details and the channels of their coordinator notices; a field left
    out keeps its value, null clears an address. Volunteers change theirs at PATCH /volunteers/{id}."""

    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    mobile = fields.String(allow_none=True, validate=mobile_validator, metadata={"description": "Mainland mobile"})
    wecom_id = fields.String(allow_none=True, validate=validate.Length(min=1, max=64))
    notify_channels = fields.List(
        fields.String(validate=validate.OneOf(STAFF_CHANNELS)), validate=validate.Length(max=len(STAFF_CHANNELS)),
        metadata={"description": "Where coordinator notices go besides the in-app row (sms, email, wecom); "
                                 "the list replaces the stored one, [] means in-app only. Each needs its address."})


class MyCallUpSchema(Schema):
    """One of the caller's call-ups: what, when, where and how it stands."""

    id = fields.Integer()
    campaign_id = fields.Function(lambda c: c.position.shift.campaign_id)
    campaign_title = fields.Function(lambda c: c.position.shift.campaign.title)
    role = fields.Function(lambda c: c.position.role)
    place = fields.Function(lambda c: c.position.shift.place)
    start_at = LocalDateTime(attribute="position.shift.start_at")
    end_at = LocalDateTime(attribute="position.shift.end_at")
    status = fields.Function(lambda c: c.status.value)
    sent_at = LocalDateTime(allow_none=True)
    expires_at = LocalDateTime(allow_none=True)
    responded_at = LocalDateTime(allow_none=True)
    attended_at = LocalDateTime(allow_none=True)


class PersonalRecordSchema(VolunteerSchema):
    """The person's own record, with the contact details a list never shows."""

    email = fields.String(allow_none=True)
    wecom_id = fields.String(allow_none=True)
    notify_channels = fields.String(allow_none=True)
    party_org_id = fields.Integer(allow_none=True, metadata={
        # The OpenAPI contract is English; 双报到 is the policy's own name.
        "description": "双报到: the workplace party organisation the person reports to"})  # i18n: as written


class AccountSchema(Schema):
    login = fields.String()
    display_name = fields.String()
    active = fields.Boolean()
    created_at = LocalDateTime()
    last_login_at = LocalDateTime(allow_none=True)


class ConsentSchema(Schema):
    purpose = fields.String()
    version = fields.String()
    granted_at = LocalDateTime()
    withdrawn_at = LocalDateTime(allow_none=True)


class ExportChannelConsentSchema(Schema):
    channel = fields.String()
    granted_at = LocalDateTime()
    withdrawn_at = LocalDateTime(allow_none=True)


class MyTeamSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    enterprise_name = fields.Function(lambda t: t.enterprise.name)


class ServiceSchema(Schema):
    attended = fields.Integer(metadata={"description": "Shifts with hours on the ledger"})
    hours = fields.Float(metadata={"description": "Hours on the ledger (by check-in and by hand)"})
    recorded_hours = fields.Float(metadata={"description": "Hours booked from check-in and check-out"})
    manual_hours = fields.Float(metadata={"description": "Hours added by hand"})


class MyDataSchema(Schema):
    """Everything held about the caller (the right of access and portability)."""

    volunteer = fields.Nested(PersonalRecordSchema)
    account = fields.Nested(AccountSchema, allow_none=True)
    consents = fields.List(fields.Nested(ConsentSchema))
    channel_consents = fields.List(fields.Nested(ExportChannelConsentSchema))
    callups = fields.List(fields.Nested(MyCallUpSchema))
    messages = fields.List(fields.Nested(InboxMessageSchema))
    teams = fields.List(fields.Nested(MyTeamSchema))
    service = fields.Nested(ServiceSchema)
    hours = fields.List(fields.Nested(HoursEntrySchema), metadata={"description": "The person's hours ledger rows"})


class ErasureSchema(Schema):
    confirm = StrictBoolean(required=True, validate=validate.Equal(True, error="Send true to confirm."),
                            metadata={"description": "Must be true: erasure cannot be undone"})


class ErasureResultSchema(Schema):
    volunteer_id = fields.Integer(attribute="id")
    name = fields.String()
    status = fields.Function(lambda v: v.status.value)


class AuditEventSchema(Schema):
    id = fields.Integer()
    at = LocalDateTime()
    actor = fields.String()
    role = fields.String(allow_none=True)
    action = fields.String()
    object_type = fields.String(allow_none=True)
    object_id = fields.String(allow_none=True)
    outcome = fields.String()
    ip = fields.String(allow_none=True)
    detail = fields.String(allow_none=True)
    request_id = fields.String(allow_none=True, metadata={"description": "X-Request-Id of the request that wrote it"})


class AuditEventQuerySchema(Schema):
    actor = fields.String(validate=validate.Length(min=1, max=100), metadata={"description": "Part of the actor label"})
    action = fields.String(validate=validate.Length(min=1, max=64), metadata={"description": "Action prefix"})
    object_type = fields.String(validate=validate.Length(min=1, max=32))
    object_id = fields.String(validate=validate.Length(min=1, max=64))
    since = AwareDateTime(metadata={"description": "From this time (inclusive)"})
    until = AwareDateTime(metadata={"description": "Before this time"})
    request_id = fields.String(validate=validate.Length(min=1, max=64),
                               metadata={"description": "The X-Request-Id of one request"})

    @validates_schema
    def check_window(self, data, **kwargs):
        if data.get("since") and data.get("until") and data["until"] <= data["since"]:
            raise ValidationError({"until": ["Must be after since."]})


class ApiTokenSchema(Schema):
    """A token as listed: never its value or hash."""

    id = fields.Integer()
    name = fields.String()
    role = fields.Enum(Role, by_value=True)
    grid_id = fields.Integer(allow_none=True)
    volunteer_id = fields.Integer(allow_none=True)
    enterprise_id = fields.Integer(allow_none=True)
    party_org_id = fields.Integer(allow_none=True)
    created_at = LocalDateTime()
    expires_at = LocalDateTime(allow_none=True)
    revoked_at = LocalDateTime(allow_none=True)
    last_used_at = LocalDateTime(allow_none=True)


class ApiTokenCreatedSchema(ApiTokenSchema):
    token = fields.String(metadata={"description": "The bearer token; shown this once, never stored"})


class ApiTokenCreateSchema(Schema):
    name = required_text(100)
    role = fields.Enum(Role, by_value=True, required=True)
    grid_id = positive_id(load_default=None, allow_none=True, metadata={"description": "Office tokens"})
    volunteer_id = positive_id(load_default=None, allow_none=True, metadata={"description": "Volunteer tokens"})
    enterprise_id = positive_id(load_default=None, allow_none=True, metadata={"description": "Enterprise tokens"})
    party_org_id = positive_id(load_default=None, allow_none=True,
                               metadata={"description": "Party organisation contact tokens"})
    expires_at = AwareDateTime(load_default=None, allow_none=True, metadata={
        "description": "When the token stops working; without it and expires_in_days, after "
                       "GRIDMUSTER_INTEGRATION_TOKEN_DAYS (90 days). The answer shows the expiry."})
    expires_in_days = fields.Integer(load_default=None, allow_none=True, strict=True,
                                     validate=validate.Range(min=1, max=3650))

    @validates_schema
    def check_expiry(self, data, **kwargs):
        if data.get("expires_at") is not None and data.get("expires_in_days") is not None:
            raise ValidationError({"expires_in_days": ["Give expires_at or expires_in_days, not both."]})
