"""/api/v1 check-in and check-out, the attendance trail, "everyone came", and the hours ledger with its totals."""
from flask import current_app
from flask.views import MethodView

from api import Blueprint
from api.auth import current_actor, current_scope
from api.pagination import SelectPage
from api.schemas.campaigns import CallUpSchema
from api.schemas.hours import (AttendanceChangeSchema, BatchSchema, CertificateSchema, CheckInCodeSchema,
                               CheckInSchema, HoursCorrectionSchema, HoursEntrySchema, HoursSummarySchema,
                               ManualHoursSchema, UndoneSchema, UndoSchema)
from callups import checkin_codes
from campaigns import attendance, hours
from campaigns.changes import get_shift
from core.clock import utcnow

blp = Blueprint("hours", __name__, url_prefix="/api/v1", description="Check-in, check-out and the hours ledger.")


@blp.route("/callups/<int:callup_id>/check-in")
class CallUpCheckIn(MethodView):
    @blp.arguments(CheckInSchema)
    @blp.response(200, CallUpSchema)
    @blp.alt_response(404, description="Not found")
    @blp.alt_response(409, description="Not accepted, or outside the check-in window")
    def post(self, data, callup_id):
        """Check in: a volunteer on their own call-up (now), an office anyone (now or at a given time)."""
        return attendance.check_in(callup_id, scope=current_scope(), now=utcnow(), at=data["at"])


@blp.route("/callups/<int:callup_id>/check-out")
class CallUpCheckOut(MethodView):
    @blp.arguments(CheckInSchema)
    @blp.response(200, CallUpSchema)
    @blp.alt_response(404, description="Not found")
    @blp.alt_response(409, description="Not checked in, or outside the check-out window")
    def post(self, data, callup_id):
        """Check out: a volunteer on their own call-up (now), an office anyone (now or at a given time)."""
        return attendance.check_out_by(callup_id, scope=current_scope(), now=utcnow(), at=data["at"])


@blp.route("/callups/<int:callup_id>/attendance-changes")
class CallUpAttendanceChanges(MethodView):
    @blp.response(200, AttendanceChangeSchema(many=True))
    @blp.alt_response(404, description="Not found")
    @blp.paginate(SelectPage)
    def get(self, callup_id):
        """The attendance trail of a call-up: who changed what, when, before and after, and why."""
        return attendance.list_changes(callup_id)


@blp.route("/shifts/<int:shift_id>/check-in-code")
class ShiftCheckInCode(MethodView):
    @blp.response(200, CheckInCodeSchema)
    @blp.alt_response(404, description="Not found")
    def get(self, shift_id):
        """The signed, expiring address a shift's QR code holds (to print or show on a screen)."""
        shift = get_shift(shift_id)
        return {"url": checkin_codes.shift_check_in_url(shift), "expires_at": checkin_codes.code_expires_at(shift)}


@blp.route("/shifts/<int:shift_id>/everyone-attended")
class ShiftEveryoneAttended(MethodView):
    @blp.response(200, BatchSchema)
    @blp.alt_response(404, description="Not found")
    @blp.alt_response(409, description="Outside the check-in window")
    def post(self, shift_id):
        """"Everyone came": check in every accepted person of the shift at once; the batch can be undone."""
        batch, ids = attendance.mark_everyone_attended(shift_id, actor=current_actor(), now=utcnow())
        return {"batch": batch, "callup_ids": ids}


@blp.route("/shifts/<int:shift_id>/everyone-attended/undo")
class ShiftEveryoneAttendedUndo(MethodView):
    @blp.arguments(UndoSchema)
    @blp.response(200, UndoneSchema)
    @blp.alt_response(404, description="Not found")
    @blp.alt_response(422, description="Unknown batch")
    def post(self, data, shift_id):
        """Undo an "everyone came": marks nobody changed since go back to accepted (the trail keeps both)."""
        return {"callup_ids": attendance.undo_batch(shift_id, data["batch"], actor=current_actor(), now=utcnow())}


@blp.route("/volunteers/<int:volunteer_id>/hours")
class VolunteerHours(MethodView):
    @blp.response(200, HoursEntrySchema(many=True))
    @blp.alt_response(404, description="Not found")
    @blp.paginate(SelectPage)
    def get(self, volunteer_id):
        """A person's ledger rows, newest first: bookings from check-in, hours added by hand, corrections."""
        return hours.list_entries(volunteer_id)

    @blp.arguments(ManualHoursSchema)
    @blp.response(201, HoursEntrySchema)
    @blp.alt_response(404, description="Not found")
    @blp.alt_response(409, description="Not on the roster, or the shift has not ended")
    @blp.alt_response(422, description="Invalid input, or more than the shift's length")
    def post(self, data, volunteer_id):
        """Add hours by hand for one of the person's shifts (kept apart from check-in hours)."""
        return hours.add_manual_hours(data["callup_id"], volunteer_id=volunteer_id, hours=data["hours"],
                                      reason=data["reason"], approved_by=current_actor(), now=utcnow(),
                                      timezone_name=current_app.config["TIMEZONE"])


@blp.route("/volunteers/<int:volunteer_id>/hours/corrections")
class VolunteerHoursCorrections(MethodView):
    @blp.arguments(HoursCorrectionSchema)
    @blp.response(201, HoursEntrySchema)
    @blp.alt_response(404, description="Not found")
    @blp.alt_response(409, description="Nothing to correct")
    @blp.alt_response(422, description="Invalid input, or more than the shift's length")
    def post(self, data, volunteer_id):
        """Correct a booking: a new row for the difference, with you as approver and the reason (never an edit)."""
        return hours.correct_entry(data["entry_id"], volunteer_id=volunteer_id, hours=data["hours"],
                                   reason=data["reason"], approved_by=current_actor(), now=utcnow())


@blp.route("/volunteers/<int:volunteer_id>/hours/totals")
class VolunteerHoursTotals(MethodView):
    @blp.response(200, HoursSummarySchema)
    @blp.alt_response(404, description="Not found")
    def get(self, volunteer_id):
        """A person's hours in total, by year and by month, by check-in and by hand."""
        return hours.hours_summary(volunteer_id)


@blp.route("/volunteers/<int:volunteer_id>/certificates")
class VolunteerCertificates(MethodView):
    @blp.response(201, CertificateSchema)
    @blp.alt_response(404, description="Not found")
    @blp.alt_response(409, description="No hours booked yet")
    def post(self, volunteer_id):
        """Issue a certificate of service (the last one again if no hours changed); check it at /verify/<code>."""
        return hours.issue_certificate(volunteer_id, now=utcnow())
