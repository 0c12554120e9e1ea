"""/api/v1/callups: one invitation of one person to one position; answers, outbox and inbox."""
from flask.views import MethodView

from api import Blueprint
from api.auth import current_actor
from api.pagination import SelectPage
from api.schemas.callups import (AcceptSchema, AttendanceSchema, DeclineSchema, InboxMessageSchema,
                                 NotificationQuerySchema, NotificationSchema, SmsInboundSchema)
from api.schemas.campaigns import CallUpSchema
from api.schemas.hours import AttendanceCorrectionSchema
from callups import services as outbox_services
from campaigns import attendance, responses, services
from core.clock import utcnow

# The prefix is /api/v1 so that the campaign's outbox and a person's inbox sit under their owners.
blp = Blueprint("callups", __name__, url_prefix="/api/v1", description="Call-ups, answers and messages.")


@blp.route("/callups/<int:callup_id>")
class CallUpById(MethodView):
    @blp.response(200, CallUpSchema)
    @blp.alt_response(404, description="Not found")
    def get(self, callup_id):
        """Show one call-up with its history."""
        return services.get_callup(callup_id)


@blp.route("/callups/<int:callup_id>/accept")
class CallUpAccept(MethodView):
    @blp.arguments(AcceptSchema)
    @blp.response(200, CallUpSchema)
    @blp.alt_response(404, description="Not found")
    @blp.alt_response(409, description="No longer open, or the position is full (kept on standby)")
    def post(self, data, callup_id):
        """Accept a call-up (again: same answer)."""
        return responses.accept_callup(callup_id, actor=current_actor(), now=utcnow(), **data)


@blp.route("/callups/<int:callup_id>/decline")
class CallUpDecline(MethodView):
    @blp.arguments(DeclineSchema)
    @blp.response(200, CallUpSchema)
    @blp.alt_response(404, description="Not found")
    @blp.alt_response(409, description="No longer open")
    def post(self, data, callup_id):
        """Decline a call-up, or withdraw an acceptance before the shift."""
        return responses.decline_callup(callup_id, actor=current_actor(), now=utcnow(), **data)


@blp.route("/callups/<int:callup_id>/attendance")
class CallUpAttendance(MethodView):
    @blp.arguments(AttendanceSchema)
    @blp.response(200, CallUpSchema)
    @blp.alt_response(404, description="Not found")
    @blp.alt_response(409, description="Not accepted, or outside the check-in window")
    def post(self, data, callup_id):
        """Record that an accepted person came (attended) or did not (no-show)."""
        return attendance.record_attendance(callup_id, attended=data["attended"], actor=current_actor(),
                                            now=utcnow(), at=data["at"], reason=data["reason"])

    @blp.arguments(AttendanceCorrectionSchema)
    @blp.response(200, CallUpSchema)
    @blp.alt_response(404, description="Not found")
    @blp.alt_response(409, description="Not checked in, or attendance closed")
    @blp.alt_response(422, description="Invalid times, or no reason")
    def patch(self, data, callup_id):
        """Correct the real check-in or check-out time, with a reason (the trail keeps before and after)."""
        return attendance.correct_times(callup_id, actor=current_actor(), now=utcnow(), **data)


@blp.route("/campaigns/<int:campaign_id>/notifications")
class CampaignNotifications(MethodView):
    @blp.arguments(NotificationQuerySchema, location="query")
    @blp.response(200, NotificationSchema(many=True))
    @blp.alt_response(404, description="Not found")
    @blp.paginate(SelectPage)
    def get(self, query, campaign_id):
        """List a campaign's messages; status=failed shows those the office must follow up."""
        return outbox_services.list_campaign_notifications(campaign_id, **query)


@blp.route("/volunteers/<int:volunteer_id>/inbox")
class VolunteerInbox(MethodView):
    @blp.response(200, InboxMessageSchema(many=True))
    @blp.alt_response(404, description="Not found")
    @blp.paginate(SelectPage)
    def get(self, volunteer_id):
        """List a person's in-app messages."""
        return outbox_services.list_inbox(volunteer_id)


@blp.route("/sms/inbound")
class SmsInbound(MethodView):
    @blp.arguments(SmsInboundSchema)
    @blp.response(200, CallUpSchema)
    @blp.alt_response(404, description="No volunteer or no open call-up for this sender")
    @blp.alt_response(409, description="Several open call-ups, or no longer open / full")
    def post(self, data):
        """Answer by SMS reply: '1' accepts ('1 15': an emergency's yes within 15 min), '2' declines."""
        return responses.answer_by_sms(data["sender"], data["text"], now=utcnow())
