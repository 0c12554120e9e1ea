"""Schemas of the openings a volunteer may sign up for, and of a sign-up."""
from marshmallow import fields

from api.schemas.common import LocalDateTime, Schema, positive_id

NEARNESS = {3: "grid", 2: "community", 1: "street"}


class OpeningSchema(Schema):
    """An open position of a sign-up campaign near the caller's home, and whether they may take it."""

    position_id = fields.Function(lambda o: o.position.id)
    campaign_id = fields.Function(lambda o: o.position.shift.campaign_id)
    campaign_title = fields.Function(lambda o: o.position.shift.campaign.title)
    role = fields.Function(lambda o: o.position.role)
    place = fields.Function(lambda o: o.position.shift.place)
    start_at = LocalDateTime(attribute="position.shift.start_at")
    end_at = LocalDateTime(attribute="position.shift.end_at")
    places_left = fields.Integer()
    nearness = fields.Function(lambda o: NEARNESS.get(o.nearness, "street"), metadata={
        "description": "How near the shift is to the caller's home grid: grid, community or street"})
    may_sign_up = fields.Function(lambda o: o.refusal is None)
    refusal = fields.String(allow_none=True, metadata={
        "description": "The matcher's gate the caller fails (skill, no_certificate, unavailable, busy, ...), or null"})


class SignUpSchema(Schema):
    position_id = positive_id(required=True)
