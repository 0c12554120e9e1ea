"""Schemas of responder units, whistles, visit targets, rounds and visits."""
from marshmallow import fields, validate

from api.schemas.common import (AwareDateTime, LocalDateTime, Schema, StrictBoolean, optional_text, positive_id,
                                required_text)
from campaigns.models import Priority
from core.masking import mask_name
from gridwork.models import (ProblemKind, RoundKind, UnitType, VisitOutcome, VisitPriority, VisitTargetKind,
                             WhistleStatus)
from gridwork.reports import GROUPS
from gridwork.whistles import ANSWERS

KINDS = [kind.value for kind in ProblemKind]


class UnitSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    unit_type = fields.Enum(UnitType, by_value=True)
    office_grid_id = fields.Integer()
    kinds = fields.Function(lambda unit: unit.kind_list)
    grid_ids = fields.List(fields.Integer())
    member_ids = fields.List(fields.Integer())
    duty_volunteer_id = fields.Integer(allow_none=True)
    active = fields.Boolean()
    created_at = LocalDateTime()


class UnitCreateSchema(Schema):
    name = required_text(100)
    unit_type = fields.Enum(UnitType, by_value=True, load_default=UnitType.SECTION)
    office_grid_id = positive_id(required=True, metadata={"description": "the street office or district keeping it"})
    kinds = fields.List(fields.String(validate=validate.OneOf(KINDS)), required=True,
                        validate=validate.Length(min=1, max=len(KINDS)))
    grid_ids = fields.List(positive_id(), required=True, validate=validate.Length(min=1, max=500),
                           metadata={"description": "grids (with their subtrees) the unit covers"})
    member_ids = fields.List(positive_id(), load_default=list, validate=validate.Length(max=500))
    duty_volunteer_id = positive_id(load_default=None, allow_none=True,
                                    metadata={"description": "the member a whistle calls; default the first"})


class UnitUpdateSchema(UnitCreateSchema):
    """Every field optional (loaded with common.for_update)."""

    active = StrictBoolean()


class UnitQuerySchema(Schema):
    kind = fields.String(validate=validate.OneOf(KINDS))
    grid_id = positive_id(strict=False, metadata={"description": "units covering this grid"})
    active = fields.Boolean()


class SummonsSchema(Schema):
    unit_id = fields.Integer()
    unit_name = fields.Function(lambda s: s.unit.name)
    summoned_at = LocalDateTime()
    acked_at = LocalDateTime(allow_none=True)
    arrived_at = LocalDateTime(allow_none=True)
    resolved_at = LocalDateTime(allow_none=True)
    note = fields.String(allow_none=True)


class WhistleEventSchema(Schema):
    action = fields.String()
    unit_id = fields.Integer(allow_none=True)
    actor = fields.String()
    at = LocalDateTime()
    note = fields.String(allow_none=True)


class WhistleSchema(Schema):
    id = fields.Integer()
    grid_id = fields.Integer()
    title = fields.String()
    description = fields.String()
    address = fields.String()
    kind = fields.Enum(ProblemKind, by_value=True)
    grade = fields.Enum(Priority, by_value=True)
    status = fields.Enum(WhistleStatus, by_value=True)
    raised_by = fields.String()
    raised_at = LocalDateTime()
    ack_due_at = LocalDateTime()
    arrive_due_at = LocalDateTime()
    resolve_due_at = LocalDateTime()
    escalation_level = fields.Integer(metadata={"description": "0 units only, 1 street office told, 2 district told"})
    closed_at = LocalDateTime(allow_none=True)
    close_note = fields.String(allow_none=True)
    reopened_count = fields.Integer()
    has_photo = fields.Function(lambda w: w.photo_size is not None)
    campaign_id = fields.Integer(allow_none=True, metadata={"description": "the staffing campaign it turned into"})
    summons = fields.List(fields.Nested(SummonsSchema))


class WhistleCreateSchema(Schema):
    grid_id = positive_id(required=True)
    title = required_text(100)
    description = optional_text(1000)
    address = required_text(200)
    kind = fields.Enum(ProblemKind, by_value=True, required=True)
    grade = fields.Enum(Priority, by_value=True, load_default=Priority.ROUTINE)


class WhistleQuerySchema(Schema):
    status = fields.Enum(WhistleStatus, by_value=True)
    grade = fields.Enum(Priority, by_value=True)
    kind = fields.Enum(ProblemKind, by_value=True)
    grid_id = positive_id(strict=False)


class WhistleAnswerSchema(Schema):
    unit_id = positive_id(required=True)
    action = fields.String(required=True, validate=validate.OneOf(ANSWERS))
    note = optional_text(500)


class WhistleNoteSchema(Schema):
    note = required_text(500)


class TargetSchema(Schema):
    id = fields.Integer()
    grid_id = fields.Integer()
    kind = fields.Enum(VisitTargetKind, by_value=True)
    label = fields.String()
    building = fields.String(allow_none=True)
    unit_no = fields.String(allow_none=True)
    x = fields.Float()
    y = fields.Float()
    priority = fields.Enum(VisitPriority, by_value=True, allow_none=True,
                           metadata={"description": "living alone, hardship…: office staff only, audited"})
    linked_volunteer_id = fields.Integer(allow_none=True)
    active = fields.Boolean()


class TargetCreateSchema(Schema):
    grid_id = positive_id(required=True)
    kind = fields.Enum(VisitTargetKind, by_value=True, load_default=VisitTargetKind.HOUSEHOLD)
    label = required_text(100)
    building = optional_text(40)
    unit_no = optional_text(20)
    x = fields.Float(load_default=0.0, validate=validate.Range(min=-1e6, max=1e6),
                     metadata={"description": "metres east of the district's reference point"})
    y = fields.Float(load_default=0.0, validate=validate.Range(min=-1e6, max=1e6))
    priority = fields.Enum(VisitPriority, by_value=True, load_default=None, allow_none=True)
    linked_volunteer_id = positive_id(load_default=None, allow_none=True)


class TargetBatchSchema(Schema):
    targets = fields.List(fields.Nested(TargetCreateSchema), required=True, validate=validate.Length(min=1, max=2000))


class TargetUpdateSchema(TargetCreateSchema):
    """Every field optional (loaded with common.for_update)."""

    active = StrictBoolean()


class TargetQuerySchema(Schema):
    grid_id = positive_id(strict=False)
    kind = fields.Enum(VisitTargetKind, by_value=True)
    priority_only = fields.Boolean(load_default=False)


class RoundSchema(Schema):
    id = fields.Integer()
    grid_id = fields.Integer()
    kind = fields.Enum(RoundKind, by_value=True)
    title = fields.String()
    period = fields.String()
    target_kinds = fields.Function(lambda r: r.target_kinds.split(","))
    due_at = LocalDateTime()
    created_by = fields.String()
    created_at = LocalDateTime()
    assigned_cost = fields.Float(allow_none=True)


class RoundCreateSchema(Schema):
    grid_id = positive_id(required=True, metadata={"description": "the area: a street, community or grid"})
    title = required_text(100)
    kind = fields.Enum(RoundKind, by_value=True, load_default=RoundKind.MONTHLY)
    period = fields.String(load_default=None, validate=validate.Length(min=1, max=20))
    target_kinds = fields.List(fields.String(validate=validate.OneOf([k.value for k in VisitTargetKind])),
                               load_default=lambda: ["household"], validate=validate.Length(min=1, max=3))
    due_at = AwareDateTime(required=True)
    visitor_ids = fields.List(positive_id(), load_default=None, validate=validate.Length(min=1, max=5000),
                              metadata={"description": "default: the area's grid workers, building leaders and party members"})


class CoverageGridSchema(Schema):
    grid_id = fields.Integer()
    grid_name = fields.String()
    targets = fields.Integer()
    visited = fields.Integer()
    pending = fields.Integer()
    done = fields.Integer()
    nobody_home = fields.Integer()
    problem = fields.Integer()


class CoverageVisitorSchema(Schema):
    visitor_id = fields.Integer(allow_none=True)
    name = fields.Function(lambda v: mask_name(v["name"]) if v["name"] else None)
    assigned = fields.Integer()
    visited = fields.Integer()
    behind = fields.Boolean()


class CoverageSchema(Schema):
    round_id = fields.Integer()
    title = fields.String()
    period = fields.String()
    due_at = LocalDateTime()
    targets = fields.Integer()
    visited = fields.Integer()
    coverage = fields.Float()
    elapsed = fields.Float()
    grids = fields.List(fields.Nested(CoverageGridSchema))
    visitors = fields.List(fields.Nested(CoverageVisitorSchema))


class VisitSchema(Schema):
    id = fields.Integer()
    round_id = fields.Integer()
    target_id = fields.Integer()
    visitor_id = fields.Integer(allow_none=True)
    label = fields.Function(lambda v: v.target.label)
    target_kind = fields.Function(lambda v: v.target.kind.value)
    priority = fields.Function(lambda v: v.target.priority.value if v.target.priority else None,
                               metadata={"description": "for the office and the assigned visitor; audited"})
    outcome = fields.Enum(VisitOutcome, by_value=True)
    visited_at = LocalDateTime(allow_none=True)
    note = fields.String(allow_none=True)
    whistle_id = fields.Integer(allow_none=True)


class VisitProblemSchema(Schema):
    title = required_text(100)
    kind = fields.Enum(ProblemKind, by_value=True, required=True)
    grade = fields.Enum(Priority, by_value=True, load_default=Priority.ROUTINE)


class VisitRecordSchema(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(["done", "nobody_home", "problem"]))
    note = optional_text(500)
    whistle = fields.Nested(VisitProblemSchema, load_default=None, allow_none=True,
                            metadata={"description": "with outcome problem: raise a whistle in the same step"})


class WhistleReportQuerySchema(Schema):
    group_by = fields.String(load_default="kind", validate=validate.OneOf(GROUPS))
    since = AwareDateTime(load_default=None, metadata={"description": "default: 30 days before until"})
    until = AwareDateTime(load_default=None, metadata={"description": "default: now"})


class WhistleReportRowSchema(Schema):
    group = fields.String()
    whistles = fields.Integer()
    closed = fields.Integer()
    closed_on_time = fields.Integer()
    summons = fields.Integer()
    acked_on_time = fields.Integer()
    arrived_on_time = fields.Integer()
    median_ack_minutes = fields.Float(allow_none=True)
    median_arrive_minutes = fields.Float(allow_none=True)
    median_close_minutes = fields.Float(allow_none=True)


class WhistleCampaignSchema(Schema):
    start = AwareDateTime(required=True)
    end = AwareDateTime(required=True)
    role = required_text(100, metadata={"description": "who is needed, e.g. clean-up volunteers"})
    headcount = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=1000))
    office_grid_id = positive_id(load_default=None, allow_none=True,
                                 metadata={"description": "the office running it; default the whistle's community"})
