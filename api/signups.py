"""/api/v1/me/openings and /api/v1/me/sign-ups: places a volunteer may take themselves."""
from flask.views import MethodView

from api import Blueprint
from api.auth import current_actor, own_volunteer_id
from api.schemas.accounts import MyCallUpSchema
from api.schemas.signups import OpeningSchema, SignUpSchema
from campaigns.signups import openings_near, sign_up
from core.clock import utcnow

blp = Blueprint("signups", __name__, url_prefix="/api/v1",
                description="Open places of campaigns that take sign-ups, near the caller's home, and signing up.")



@blp.route("/me/openings")
class MyOpenings(MethodView):
    @blp.response(200, OpeningSchema(many=True))
    @blp.alt_response(404, description="The token is not a volunteer's")
    def get(self):
        """List open places the caller may sign up for: their street's, nearest first, then soonest (at most 50)."""
        return openings_near(own_volunteer_id(), now=utcnow())


@blp.route("/me/sign-ups")
class MySignUps(MethodView):
    @blp.arguments(SignUpSchema)
    @blp.response(201, MyCallUpSchema)
    @blp.alt_response(404, description="No such position, or the token is not a volunteer's")
    @blp.alt_response(409, description="The campaign takes no sign-ups from the caller, the shift has started, "
                                       "or the position is full (the caller is kept on standby)")
    @blp.alt_response(422, description="The caller does not pass the position's gates (skill, availability, ...)")
    def post(self, data):
        """Take an open place: accepted at once, confirmed like any other yes."""
        return sign_up(own_volunteer_id(), data["position_id"], now=utcnow(), actor=current_actor())
