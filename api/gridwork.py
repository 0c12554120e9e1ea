"""/api/v1 grid practice: responder units, whistles (吹哨报到), visit targets, rounds and visits (循环走访), reports."""
from flask.views import MethodView

from api import Blueprint
from api.auth import current_scope
from api.pagination import SelectPage
from api.schemas.campaigns import CampaignSchema
from api.schemas.common import for_update
from api.schemas.gridwork import (CoverageSchema, RoundCreateSchema, RoundSchema,
                                  TargetBatchSchema, TargetQuerySchema, TargetSchema, TargetUpdateSchema,
                                  UnitCreateSchema, UnitQuerySchema, UnitSchema, UnitUpdateSchema, VisitRecordSchema,
                                  VisitSchema, WhistleAnswerSchema, WhistleCampaignSchema, WhistleCreateSchema, WhistleEventSchema,
                                  WhistleNoteSchema, WhistleQuerySchema, WhistleReportQuerySchema,
                                  WhistleReportRowSchema, WhistleSchema)
from core.clock import utcnow
from gridwork import reports, units, visits, whistles

blp = Blueprint("gridwork", __name__, url_prefix="/api/v1",
                description="Grid practice: responder units and whistles (a grid raises a problem, units report on site), "
                            "visit rounds (households visited in a monthly cycle).")


@blp.route("/units")
class Units(MethodView):
    @blp.arguments(UnitQuerySchema, location="query")
    @blp.response(200, UnitSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, query):
        """List responder units kept in or above the caller's area."""
        return units.list_units(scope=current_scope(), **query)

    @blp.arguments(UnitCreateSchema)
    @blp.response(201, UnitSchema)
    @blp.alt_response(409, description="Duplicate name")
    def post(self, data):
        """Register a responder unit (部门, 下沉站所)."""
        return units.register_unit(data, scope=current_scope(), now=utcnow())


@blp.route("/units/<int:unit_id>")
class UnitById(MethodView):
    @blp.response(200, UnitSchema)
    @blp.alt_response(404, description="Not found")
    def get(self, unit_id):
        """Show one responder unit."""
        return units.get_unit(unit_id)

    @blp.arguments(for_update(UnitUpdateSchema))
    @blp.response(200, UnitSchema)
    @blp.alt_response(404, description="Not found")
    def patch(self, data, unit_id):
        """Change a unit's kinds, grids, members, duty contact or status."""
        return units.update_unit(unit_id, data, scope=current_scope())


@blp.route("/whistles")
class Whistles(MethodView):
    @blp.arguments(WhistleQuerySchema, location="query")
    @blp.response(200, WhistleSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, query):
        """List whistles raised in the caller's area, newest first."""
        return whistles.list_whistles(scope=current_scope(), **query)

    @blp.arguments(WhistleCreateSchema)
    @blp.response(201, WhistleSchema)
    def post(self, data):
        """Raise a whistle: the responsible units are summoned at once."""
        return whistles.raise_whistle(data, scope=current_scope(), now=utcnow())


@blp.route("/whistles/<int:whistle_id>")
class WhistleById(MethodView):
    @blp.response(200, WhistleSchema)
    @blp.alt_response(404, description="Not found")
    def get(self, whistle_id):
        """Show one whistle with each unit's answers."""
        return whistles.get_whistle(whistle_id)


@blp.route("/whistles/<int:whistle_id>/events")
class WhistleEvents(MethodView):
    @blp.response(200, WhistleEventSchema(many=True))
    @blp.alt_response(404, description="Not found")
    def get(self, whistle_id):
        """A whistle's history: raised, summoned, answers, escalations, closing."""
        whistles.get_whistle(whistle_id)
        return whistles.whistle_events(whistle_id)


@blp.route("/whistles/<int:whistle_id>/answers")
class WhistleAnswers(MethodView):
    @blp.arguments(WhistleAnswerSchema)
    @blp.response(200, WhistleSchema)
    @blp.alt_response(409, description="The whistle is closed")
    def post(self, data, whistle_id):
        """Record a unit's answer (ack, arrive = 报到, resolve) given by phone or in person."""
        whistles.answer_for_unit(whistle_id, data["unit_id"], data["action"], scope=current_scope(), now=utcnow(),
                                 note=data.get("note"))
        return whistles.get_whistle(whistle_id)


@blp.route("/whistles/<int:whistle_id>/close")
class WhistleClose(MethodView):
    @blp.arguments(WhistleNoteSchema)
    @blp.response(200, WhistleSchema)
    @blp.alt_response(409, description="Already closed")
    def post(self, data, whistle_id):
        """Close the case off (销号) with a note."""
        return whistles.close_whistle(whistle_id, note=data["note"], scope=current_scope(), now=utcnow())


@blp.route("/whistles/<int:whistle_id>/reopen")
class WhistleReopen(MethodView):
    @blp.arguments(WhistleNoteSchema)
    @blp.response(200, WhistleSchema)
    @blp.alt_response(409, description="Not closed")
    def post(self, data, whistle_id):
        """Reopen a closed whistle: its units are summoned again."""
        return whistles.reopen_whistle(whistle_id, note=data["note"], scope=current_scope(), now=utcnow())


@blp.route("/whistles/<int:whistle_id>/campaign")
class WhistleCampaign(MethodView):
    @blp.arguments(WhistleCampaignSchema)
    @blp.response(201, CampaignSchema)
    @blp.alt_response(409, description="The whistle is closed or already has a campaign")
    def post(self, data, whistle_id):
        """Turn the whistle into a draft staffing campaign when people are needed."""
        return whistles.turn_into_campaign(whistle_id, data, scope=current_scope(), now=utcnow())


@blp.route("/visit-targets")
class VisitTargets(MethodView):
    @blp.arguments(TargetQuerySchema, location="query")
    @blp.response(200, TargetSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, query):
        """List visit targets of the caller's area (with their priority flags: audited)."""
        return visits.list_targets(scope=current_scope(), **query)

    @blp.arguments(TargetBatchSchema)
    @blp.response(201, TargetSchema(many=True))
    @blp.alt_response(409, description="A label already registered in its grid; nothing written")
    def post(self, data):
        """Register visit targets (households, courtyards, shops): all or none."""
        return visits.register_targets(data["targets"], scope=current_scope())


@blp.route("/visit-targets/<int:target_id>")
class VisitTargetById(MethodView):
    @blp.arguments(for_update(TargetUpdateSchema))
    @blp.response(200, TargetSchema)
    @blp.alt_response(404, description="Not found")
    def patch(self, data, target_id):
        """Change a target: flag, linked party member, still visited or not."""
        return visits.update_target(target_id, data, scope=current_scope())


@blp.route("/visit-rounds")
class VisitRounds(MethodView):
    @blp.response(200, RoundSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self):
        """List visit rounds of the caller's area, newest first."""
        return visits.list_rounds(scope=current_scope())

    @blp.arguments(RoundCreateSchema)
    @blp.response(201, RoundSchema)
    def post(self, data):
        """Create a round and assign every target to a visitor."""
        return visits.create_round(data, scope=current_scope(), now=utcnow())


@blp.route("/visit-rounds/<int:round_id>/coverage")
class VisitRoundCoverage(MethodView):
    @blp.response(200, CoverageSchema)
    @blp.alt_response(404, description="Not found")
    def get(self, round_id):
        """A round's coverage per grid, and who is behind."""
        return visits.coverage(round_id, now=utcnow())


@blp.route("/visits/<int:visit_id>")
class VisitById(MethodView):
    @blp.arguments(VisitRecordSchema)
    @blp.response(200, VisitSchema)
    @blp.alt_response(404, description="Not found")
    @blp.alt_response(409, description="The round has ended")
    def post(self, data, visit_id):
        """Record a visit: done, nobody home, or a problem found (which can raise a whistle)."""
        return visits.record_visit(visit_id, data, scope=current_scope(), now=utcnow())


@blp.route("/me/visits")
class MyVisits(MethodView):
    @blp.response(200, VisitSchema(many=True))
    def get(self):
        """The signed-in visitor's list for the rounds still running."""
        return visits.list_my_visits(current_scope().volunteer_id, now=utcnow())


@blp.route("/reports/whistles")
class WhistleReport(MethodView):
    @blp.arguments(WhistleReportQuerySchema, location="query")
    @blp.response(200, WhistleReportRowSchema(many=True))
    def get(self, query):
        """Whistles by kind, grade, unit or grid against their deadlines."""
        return reports.whistle_report(scope=current_scope(), now=utcnow(), **query)


@blp.route("/reports/visits")
class VisitReport(MethodView):
    @blp.response(200, CoverageSchema(many=True))
    def get(self):
        """Coverage of the latest visit rounds of the caller's area, per grid."""
        return reports.visit_report(scope=current_scope(), now=utcnow())
