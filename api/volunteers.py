"""/api/v1/volunteers: people who can be called up."""
from flask.views import MethodView

from api import Blueprint
from api.auth import current_actor
from api.pagination import SelectPage
from api.schemas.volunteers import (VolunteerCreateSchema, VolunteerQuerySchema, VolunteerSchema,
                                   VolunteerSummarySchema, VolunteerUpdateSchema)
from core.clock import utcnow
from volunteers import services

blp = Blueprint("volunteers", __name__, url_prefix="/api/v1/volunteers",
                description="Volunteers, party members, cadres and team members.")


@blp.route("")
class Volunteers(MethodView):
    @blp.arguments(VolunteerQuerySchema, location="query")
    @blp.response(200, VolunteerSummarySchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, query):
        """List volunteers by grid subtree, skill, identity, status or text."""
        return services.list_volunteers(**query)

    @blp.arguments(VolunteerCreateSchema)
    @blp.response(201, VolunteerSchema)
    @blp.alt_response(409, description="Mobile number already registered")
    @blp.alt_response(422, description="Invalid input")
    def post(self, data):
        """Register a volunteer."""
        return services.register_volunteer(data, actor=current_actor(), now=utcnow())


@blp.route("/<int:volunteer_id>")
class VolunteerById(MethodView):
    @blp.response(200, VolunteerSchema)
    @blp.alt_response(404, description="Not found")
    def get(self, volunteer_id):
        """Show one volunteer."""
        return services.get_volunteer(volunteer_id)

    @blp.arguments(VolunteerUpdateSchema(partial=True))
    @blp.response(200, VolunteerSchema)
    @blp.alt_response(404, description="Not found")
    @blp.alt_response(409, description="Mobile number already registered")
    def patch(self, data, volunteer_id):
        """Change a volunteer's record."""
        return services.update_volunteer(volunteer_id, data, now=utcnow())

    @blp.response(204)
    @blp.alt_response(404, description="Not found")
    @blp.alt_response(409, description="Has call-up history")
    def delete(self, volunteer_id):
        """Remove a volunteer who was never called up."""
        services.delete_volunteer(volunteer_id)
