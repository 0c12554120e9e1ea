"""/api/v1 shifts and team call-ups: changing a published shift, offering places to a team, the team's answer."""
from flask.views import MethodView

from api import Blueprint
from api.auth import current_actor, current_scope
from api.schemas.campaigns import CallUpSchema
from api.schemas.shifts import (ChangedShiftSchema, InvitationCreateSchema, ShiftChangeSchema, TeamAnswerCreateSchema,
                                TeamAnswerSchema, TeamCallUpSchema, TeamOfferCreateSchema)
from campaigns import changes, invitations, team_offers
from core.clock import utcnow

blp = Blueprint("shifts", __name__, url_prefix="/api/v1", description="Shift changes and team call-ups.")


@blp.route("/shifts/<int:shift_id>")
class ShiftById(MethodView):
    @blp.arguments(ShiftChangeSchema)
    @blp.response(200, ChangedShiftSchema)
    @blp.alt_response(404, description="Not found")
    @blp.alt_response(409, description="Campaign not published, or the shift has started")
    @blp.alt_response(422, description="Invalid input")
    def patch(self, data, shift_id):
        """Change a published shift's time, place or note; everyone affected is told."""
        return changes.change_shift(shift_id, data, scope=current_scope(), now=utcnow())


@blp.route("/campaigns/<int:campaign_id>/positions/<int:position_id>/team-offers")
class TeamOffers(MethodView):
    @blp.arguments(TeamOfferCreateSchema)
    @blp.response(201, TeamCallUpSchema)
    @blp.alt_response(404, description="Not found")
    @blp.alt_response(409, description="Campaign not open, shift started, or an offer is already open")
    @blp.alt_response(422, description="Invalid input, or more places than are open")
    def post(self, data, campaign_id, position_id):
        """Offer places of a position to a co-building team; its leader is asked how many and who."""
        return team_offers.offer_to_team(position_id, data["team_id"], scope=current_scope(), now=utcnow(),
                                         places=data["places"], campaign_id=campaign_id,
                                         response_minutes=data.get("response_minutes"))


@blp.route("/campaigns/<int:campaign_id>/positions/<int:position_id>/invitations")
class Invitations(MethodView):
    @blp.arguments(InvitationCreateSchema)
    @blp.response(201, CallUpSchema)
    @blp.alt_response(404, description="Not found, or the person is outside your area")
    @blp.alt_response(409, description="Campaign not open, shift started, or the person is already called")
    @blp.alt_response(422, description="No place open, or the person fails a requirement (which one is named)")
    def post(self, data, campaign_id, position_id):
        """Invite one named person to a position; the call-up goes out through their channels at once."""
        return invitations.invite_person(campaign_id, position_id, data["volunteer_id"], scope=current_scope(),
                                         now=utcnow())


@blp.route("/callups/<int:callup_id>/team-answer")
class CallUpTeamAnswer(MethodView):
    @blp.arguments(TeamAnswerCreateSchema)
    @blp.response(200, TeamAnswerSchema)
    @blp.alt_response(404, description="Not found")
    @blp.alt_response(409, description="Not a team call-up, no longer open, or not enough places left")
    @blp.alt_response(422, description="Invalid input, or people who are not active members of the team")
    def post(self, data, callup_id):
        """Answer a team call-up: the members who come (an empty list declines)."""
        return team_offers.answer_team_callup(callup_id, member_ids=data["member_ids"], now=utcnow(),
                                              actor=current_actor())
