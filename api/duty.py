"""/api/v1/volunteers/{id}/duty-weeks: the duty rota (值班) of one person."""
from flask import current_app
from flask.views import MethodView
from marshmallow import fields, validate

from api import Blueprint
from api.auth import current_actor
from api.schemas.common import Schema
from core.clock import utcnow
from volunteers import duty

blp = Blueprint("duty", __name__, url_prefix="/api/v1/volunteers",
                description="The duty rota: who is on duty which weeks; called first in emergencies.")


class DutyWeeksSchema(Schema):
    weeks = fields.List(fields.Date(), required=True, validate=validate.Length(max=duty.MAX_WEEKS), metadata={
        "description": "The Mondays of the weeks on duty; the list replaces the stored one"})


@blp.route("/<int:volunteer_id>/duty-weeks")
class VolunteerDuty(MethodView):
    @blp.response(200, DutyWeeksSchema)
    @blp.alt_response(404, description="Not found")
    def get(self, volunteer_id):
        """The weeks the person is on duty."""
        return {"weeks": duty.duty_weeks(volunteer_id)}

    @blp.arguments(DutyWeeksSchema)
    @blp.response(200, DutyWeeksSchema)
    @blp.alt_response(404, description="Not found")
    @blp.alt_response(422, description="Not a Monday, or not a designated identity")
    def put(self, data, volunteer_id):
        """Replace the person's duty weeks (people of the district's designated identities only)."""
        return {"weeks": duty.set_duty_weeks(volunteer_id, data["weeks"], actor=current_actor(), now=utcnow(),
                                             designated=current_app.config["DUTY_IDENTITIES"])}
