"""/api/v1/callups: one invitation of one person to one position."""
from flask.views import MethodView

from api import Blueprint
from api.schemas.campaigns import CallUpSchema
from campaigns import services

blp = Blueprint("callups", __name__, url_prefix="/api/v1/callups", description="Call-ups and their history.")


@blp.route("/<int:callup_id>")
class CallUpById(MethodView):
    @blp.response(200, CallUpSchema)
    @blp.alt_response(404, description="Not found")
    def get(self, callup_id):
        """Show one call-up with its history."""
        return services.get_callup(callup_id)
