"""Schemas of campaigns, shifts, positions, call-ups and staffing."""
from marshmallow import fields, validate

from api.schemas.common import LocalDateTime, Schema, optional_text, positive_id, required_text
from campaigns.attendance import punctuality
from campaigns.models import CallUpStatus, CampaignStatus, Priority
from campaigns.reasons import said_unfilled
from core.kinds import CampaignKind
from core.masking import mask_name
from volunteers.models import Identity

IDENTITIES = [identity.value for identity in Identity]


class SkillRequirementSchema(Schema):
    code = required_text(40)
    min_level = fields.Integer(load_default=1, strict=True, validate=validate.Range(min=1, max=5))


class PositionCreateSchema(Schema):
    role = required_text(100)
    headcount = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=1000))
    required_skills = fields.List(fields.Nested(SkillRequirementSchema), load_default=list,
                                  validate=validate.Length(max=20))
    preferred_skills = fields.List(fields.Nested(SkillRequirementSchema), load_default=list,
                                   validate=validate.Length(max=20))
    min_party_members = fields.Integer(load_default=0, strict=True, validate=validate.Range(min=0, max=1000))
    required_identities = fields.List(fields.String(validate=validate.OneOf(IDENTITIES)), load_default=list)


class ShiftCreateSchema(Schema):
    start = LocalDateTime(required=True)
    end = LocalDateTime(required=True)
    grid_id = positive_id(required=True, metadata={"description": "Where: a grid in the office's subtree"})
    place = optional_text(200)
    positions = fields.List(fields.Nested(PositionCreateSchema), required=True,
                            validate=validate.Length(min=1, max=100))


class PolicySchema(Schema):
    send_at = LocalDateTime(allow_none=True, metadata={"description": "When call-ups go out (default: at publish)"})
    response_minutes = fields.Integer(strict=True, validate=validate.Range(min=1, max=20160))
    reminder_hours = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1, max=336)),
                                 validate=validate.Length(max=5))
    max_radius_level = fields.Integer(strict=True, validate=validate.Range(min=0, max=4))
    wave_minutes = fields.Integer(strict=True, validate=validate.Range(min=1, max=240))
    over_recruit_percent = fields.Integer(strict=True, validate=validate.Range(min=0, max=300))
    at_risk_extra_percent = fields.Integer(strict=True, validate=validate.Range(min=0, max=100), metadata={
        "description": "Extra offers for a full position likely to fall short, as % of headcount (0: none)"})
    follow_up_minutes = fields.Integer(
        strict=True, validate=validate.Range(min=1, max=1440),
        metadata={"description": "Minutes after which a person who neither opened nor answered the call-up "
                                 "gets it again on another channel (default: emergency 5, urgent 30, routine never)"})
    materialise_days_ahead = fields.Integer(
        strict=True, validate=validate.Range(min=1, max=60),
        metadata={"description": "Recurring templates: days ahead each occurrence is created (default 7)"})
    sign_ups = fields.Boolean(metadata={
        "description": "Volunteers living in the shift's street may sign up for open places themselves (default no)"})


class CampaignCreateSchema(Schema):
    title = required_text(200)
    kind = fields.Enum(CampaignKind, by_value=True, required=True)
    priority = fields.Enum(Priority, by_value=True, load_default=Priority.ROUTINE)
    office_grid_id = positive_id(required=True)
    description = optional_text(2000)
    contact_name = optional_text(64)
    contact_phone = fields.String(load_default=None, allow_none=True,
                                  validate=validate.Regexp(r"^[0-9+\- ]{5,20}$", error="Not a phone number."))
    shifts = fields.List(fields.Nested(ShiftCreateSchema), required=True, validate=validate.Length(min=1, max=200))
    policy = fields.Nested(PolicySchema, load_default=dict)
    recurrence_cron = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100),
                                    metadata={"description": "Five-field cron, e.g. '0 9 * * sat'"})
    coordinator_user_id = positive_id(allow_none=True, metadata={
        "description": "The office or admin account told of every accept and decline (its grid must cover the "
                       "office); default: the signed-in creator; null: the office's in-app notices only"})


class CampaignUpdateSchema(CampaignCreateSchema):
    """Every field optional (loaded with common.for_update); only drafts change."""


class SkillRequirementOutSchema(Schema):
    code = fields.Function(lambda ps: ps.skill.code)
    name = fields.Function(lambda ps: ps.skill.name)
    min_level = fields.Integer()


class PositionSchema(Schema):
    id = fields.Integer()
    role = fields.String()
    headcount = fields.Integer()
    accepted = fields.Integer(attribute="accepted_count")
    min_party_members = fields.Integer()
    required_identities = fields.Function(lambda p: [i.value for i in Identity.from_mask(p.required_identities)])
    required_skills = fields.Function(
        lambda p: SkillRequirementOutSchema(many=True).dump([s for s in p.skills if not s.preferred]))
    preferred_skills = fields.Function(
        lambda p: SkillRequirementOutSchema(many=True).dump([s for s in p.skills if s.preferred]))
    unfilled = fields.Function(lambda p: said_unfilled(p.unfilled_reasons), allow_none=True, metadata={
        "description": "Places the last match could not fill: {open, reasons: [{code, params, text}], at}; "
                       "text in the language of Accept-Language"})


class ShiftSchema(Schema):
    id = fields.Integer()
    start = LocalDateTime(attribute="start_at")
    end = LocalDateTime(attribute="end_at")
    grid_id = fields.Integer()
    place = fields.String(allow_none=True)
    positions = fields.List(fields.Nested(PositionSchema))


class CampaignSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    kind = fields.Enum(CampaignKind, by_value=True)
    priority = fields.Enum(Priority, by_value=True)
    status = fields.Enum(CampaignStatus, by_value=True)
    office_grid_id = fields.Integer()
    description = fields.String(allow_none=True)
    contact_name = fields.String(allow_none=True)
    contact_phone = fields.String(allow_none=True)
    policy = fields.Dict()
    recurrence_cron = fields.String(allow_none=True)
    template_id = fields.Integer(allow_none=True, metadata={"description": "The recurring template of an occurrence"})
    occurrence_at = LocalDateTime(allow_none=True)
    coordinator_user_id = fields.Integer(allow_none=True)
    shifts = fields.List(fields.Nested(ShiftSchema))
    headcount = fields.Function(lambda c: sum(p.headcount for s in c.shifts for p in s.positions))
    unfilled_places = fields.Function(
        lambda c: sum((p.unfilled_reasons or {}).get("open", 0) for s in c.shifts for p in s.positions),
        metadata={"description": "Places the last match (publish, backfill, override) found nobody to ask for; "
                                 "each position's `unfilled` says why"})
    published_at = LocalDateTime(allow_none=True)
    cancelled_at = LocalDateTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    created_at = LocalDateTime()
    updated_at = LocalDateTime()


class CampaignCancelSchema(Schema):
    reason = required_text(500, metadata={"description": "Why the campaign is cancelled (1-500 characters)"})


class CampaignQuerySchema(Schema):
    office_grid_id = positive_id(strict=False, metadata={"description": "Campaigns of offices in this subtree"})
    status = fields.Enum(CampaignStatus, by_value=True)
    kind = fields.Enum(CampaignKind, by_value=True)
    priority = fields.Enum(Priority, by_value=True)
    q = fields.String(validate=validate.Length(min=1, max=100))


class CallUpEventSchema(Schema):
    at = LocalDateTime()
    actor = fields.String()
    from_state = fields.String(allow_none=True)
    to_state = fields.String()
    note = fields.String(allow_none=True)


class CallUpSchema(Schema):
    id = fields.Integer()
    position_id = fields.Integer()
    campaign_id = fields.Function(lambda c: c.position.shift.campaign_id)
    volunteer_id = fields.Integer(allow_none=True)
    team_id = fields.Integer(allow_none=True)
    status = fields.Enum(CallUpStatus, by_value=True)
    score = fields.Float(allow_none=True)
    breakdown = fields.Dict()
    wave = fields.Integer()
    radius_level = fields.Integer(allow_none=True)
    channel = fields.String(allow_none=True)
    answered_by = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    eta_minutes = fields.Integer(allow_none=True, metadata={
        "description": "An emergency acceptance: minutes until the person can be there (0 = on site)."})
    standby_at = LocalDateTime(allow_none=True, metadata={
        "description": "When the person said yes to a full position and was kept on standby."})
    created_at = LocalDateTime()
    send_at = LocalDateTime(allow_none=True)
    sent_at = LocalDateTime(allow_none=True)
    seen_at = LocalDateTime(allow_none=True)
    expires_at = LocalDateTime(allow_none=True)
    responded_at = LocalDateTime(allow_none=True)
    attended_at = LocalDateTime(allow_none=True, metadata={"description": "Check-in: the real arrival time"})
    checked_out_at = LocalDateTime(allow_none=True, metadata={"description": "Check-out: the real leaving time"})
    late_minutes = fields.Function(lambda c: _punctuality(c).late_minutes, metadata={
        "description": "Minutes late (arrived more than 5 minutes after the start); 0 when on time"})
    early_minutes = fields.Function(lambda c: _punctuality(c).early_minutes, metadata={
        "description": "Minutes left before the end (more than 5 minutes early); 0 otherwise"})
    events = fields.List(fields.Nested(CallUpEventSchema))


def _punctuality(callup):
    return punctuality(callup, callup.position.shift)


class CallUpQuerySchema(Schema):
    status = fields.Enum(CallUpStatus, by_value=True)
    position_id = positive_id(strict=False)


class ArrivingSchema(Schema):
    callup_id = fields.Integer()
    volunteer_id = fields.Integer(allow_none=True)
    name = fields.Function(lambda p: mask_name(p["name"]), metadata={"description": "Family name only, the rest masked (**)"})
    eta_minutes = fields.Integer(allow_none=True, metadata={"description": "What the person said: 0, 15, 30, 60"})
    arrive_at = LocalDateTime(allow_none=True, metadata={"description": "Answer time + ETA (check-in time once there)"})
    in_time = fields.Boolean(metadata={"description": "Expected within 60 minutes of the alarm"})


class EtaBoardSchema(Schema):
    on_site = fields.List(fields.Nested(ArrivingSchema))
    within_15 = fields.List(fields.Nested(ArrivingSchema))
    within_30 = fields.List(fields.Nested(ArrivingSchema))
    within_60 = fields.List(fields.Nested(ArrivingSchema))
    later = fields.List(fields.Nested(ArrivingSchema))
    unknown = fields.List(fields.Nested(ArrivingSchema), metadata={"description": "Accepted without an ETA"})


class PositionStaffingSchema(Schema):
    position_id = fields.Integer()
    shift_id = fields.Integer()
    role = fields.String()
    headcount = fields.Integer()
    accepted = fields.Integer()
    pending = fields.Integer()
    declined = fields.Integer()
    expired = fields.Integer()
    withdrawn = fields.Integer()
    attended = fields.Integer()
    open = fields.Integer()
    expected_attendance = fields.Float(metadata={
        "description": "Sum of show-up probabilities (attended+1)/(attended+no_shows+2) of those who accepted"})
    at_risk = fields.Boolean(metadata={"description": "Full (accepted = headcount) but expected attendance is lower"})
    eta_board = fields.Nested(EtaBoardSchema, metadata={
        "description": "Emergencies only: the people who accepted, by when they said they can be there"})
    all_within_hour = fields.Boolean(metadata={
        "description": "Emergencies only: someone accepted and everyone who did is expected within 60 minutes "
                       "of the alarm (an unknown ETA counts as late)"})
    unfilled = fields.Dict(allow_none=True, metadata={
        "description": "Places still open that the last match found nobody for, with the reasons "
                       "({open, reasons: [{code, params, text}], at}; null once filled)"})
    reached = fields.Integer(metadata={"description": "Call-ups that went out (sent, answered or closed since)"})
    opened = fields.Integer(metadata={"description": "Of those, opened by the person (link page or app)"})
    answered = fields.Integer(metadata={"description": "Of those, answered (accepted or declined)"})
    silent = fields.Integer(metadata={"description": "Still open, neither opened nor answered"})
    followed_up = fields.Integer(metadata={"description": "Silent people contacted again on another channel"})
    last_arrival_at = LocalDateTime(allow_none=True, metadata={
        "description": "Emergencies only: when the last person who accepted is expected (null if any ETA is unknown)"})


class StaffingSchema(Schema):
    campaign_id = fields.Integer()
    status = fields.String()
    headcount = fields.Integer()
    accepted = fields.Integer()
    fill_rate = fields.Float()
    positions = fields.List(fields.Nested(PositionStaffingSchema))
    alarm_at = LocalDateTime(allow_none=True, metadata={
        "description": "Emergencies: when the first call-up went out; the hour of the standard runs from it"})
    arrivals = fields.Dict(allow_none=True, metadata={
        "description": "Emergencies: people checked in within 15, 30 and 60 minutes of the alarm, later, and "
                       "accepted but not yet arrived: {within_15, within_30, within_60, later, not_arrived}"})
    alerts = fields.Dict(allow_none=True, metadata={
        "description": "Emergencies: the grid alert sent, its recipients and acknowledgements"})
    standard_met = fields.Boolean(allow_none=True, metadata={
        "description": "Emergencies: every position full and everyone expected within 60 minutes (null otherwise)"})


class TimelineEventSchema(Schema):
    id = fields.Integer()
    at = LocalDateTime()
    callup_id = fields.Integer()
    position_id = fields.Integer()
    volunteer_id = fields.Integer(allow_none=True)
    team_id = fields.Integer(allow_none=True)
    volunteer = fields.Function(lambda row: mask_name(row.volunteer_name),
                                metadata={"description": "Family name only, the rest masked (**)"})
    from_state = fields.String(allow_none=True)
    to_state = fields.String()
    actor = fields.String()
    note = fields.String(allow_none=True)


class ProposalSchema(Schema):
    volunteer_id = fields.Integer()
    score = fields.Float(metadata={"description": "0-100, higher is a better fit"})
    cost = fields.Float(metadata={"description": "The matcher's cost; lower is better"})
    breakdown = fields.Dict(metadata={"description": "Weighted cost terms that add up to the cost"})
    radius_level = fields.Integer(metadata={"description": "Grid level of the search that found the person"})
    party_slot = fields.Boolean(metadata={"description": "Fills a place reserved for a party member"})


class StandbySchema(Schema):
    volunteer_id = fields.Function(lambda pair: pair[0])
    cost = fields.Function(lambda pair: pair[1])


class ReasonSchema(Schema):
    code = fields.String(metadata={"description": "Stable: the gate (radius, no_skill, all_busy, ...) or "
                                                  "party_minimum"})
    params = fields.Dict(metadata={"description": "The numbers: before, lost, after, needed, skill (code), ..."})
    text = fields.String(metadata={"description": "In words, in the language of Accept-Language (English by default)"})


class PositionPlanSchema(Schema):
    position_id = fields.Integer()
    shift_id = fields.Integer()
    role = fields.String()
    headcount = fields.Integer()
    slots = fields.Integer(metadata={"description": "Places this round tries to fill"})
    proposals = fields.List(fields.Nested(ProposalSchema))
    unfilled = fields.Integer()
    standby = fields.List(fields.Nested(StandbySchema))
    reasons = fields.List(fields.Nested(ReasonSchema))
    steps = fields.List(fields.Dict(), metadata={"description": "Escalation: radius level and places filled"})


class MatchSchema(Schema):
    campaign_id = fields.Integer()
    positions = fields.List(fields.Nested(PositionPlanSchema))
    total_cost = fields.Float()
    stats = fields.Dict()


class AlertCreateSchema(Schema):
    message = required_text(200, metadata={"description": "What is happening and what grid members should do"})


class AlertRecipientSchema(Schema):
    kind = fields.String(metadata={"description": "staff or grid_member"})
    name = fields.String(metadata={"description": "Family name only, the rest masked (**)"})
    grid = fields.String(allow_none=True)
    acked_at = LocalDateTime(allow_none=True)
    note = fields.String(allow_none=True)


class AlertSchema(Schema):
    id = fields.Integer()
    campaign_id = fields.Integer()
    message = fields.String()
    created_by = fields.String(allow_none=True)
    created_at = LocalDateTime()
    recipients = fields.Integer()
    acknowledged = fields.Integer()
    people = fields.List(fields.Nested(AlertRecipientSchema))
