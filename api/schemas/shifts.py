"""Schemas of shift changes and team call-ups."""
from marshmallow import fields, validate

from api.schemas.campaigns import CallUpSchema
from api.schemas.common import LocalDateTime, Schema, TrimmedString, optional_text, positive_id


class ShiftChangeSchema(Schema):
    start = LocalDateTime(metadata={"description": "New start; alone, it moves the shift and keeps its length"})
    end = LocalDateTime(metadata={"description": "New end"})
    grid_id = positive_id(metadata={"description": "New place: a grid in the office's subtree"})
    # No load_default: a PATCH changes only what it names, so a missing place stays as it is (null clears it).
    place = TrimmedString(allow_none=True, validate=validate.Length(max=200),
                          metadata={"description": "New place description; null clears it"})
    note = optional_text(300, metadata={"description": "Told to everyone affected, with the change"})


class ChangedShiftSchema(Schema):
    id = fields.Integer()
    campaign_id = fields.Integer()
    start = LocalDateTime(attribute="start_at")
    end = LocalDateTime(attribute="end_at")
    grid_id = fields.Integer()
    place = fields.String(allow_none=True)
    changed_at = LocalDateTime(allow_none=True)


class TeamOfferCreateSchema(Schema):
    team_id = positive_id(required=True, metadata={"description": "The co-building team offered the places"})
    places = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=1000),
                            metadata={"description": "How many places the team is offered"})
    response_minutes = fields.Integer(strict=True, validate=validate.Range(min=1, max=20160),
                                      metadata={"description": "Time to answer (default: the campaign's policy)"})


class InvitationCreateSchema(Schema):
    volunteer_id = positive_id(required=True, metadata={
        "description": "The person invited by name; they must meet the position's requirements and live in your area"})


class TeamCallUpSchema(CallUpSchema):
    places = fields.Integer(allow_none=True)
    extra = fields.Boolean()


class TeamAnswerCreateSchema(Schema):
    member_ids = fields.List(positive_id(), required=True, validate=validate.Length(max=1000),
                             metadata={"description": "The members who come; empty declines the offer"})


class TeamAnswerSchema(Schema):
    team_callup = fields.Nested(TeamCallUpSchema)
    callups = fields.List(fields.Nested(TeamCallUpSchema))
