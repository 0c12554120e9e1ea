"""/api/v1/reports: figures per district, street office or community and period, and their XLSX/CSV files."""
from zoneinfo import ZoneInfo

from flask import Response, current_app
from flask.views import MethodView

from api import Blueprint
from api.auth import current_scope
from api.schemas.reports import (ActivityReportSchema, CampaignReportSchema, EmergencyReportSchema,
                                 EnterpriseReportSchema, HoursReportSchema, PeopleReportSchema,
                                 ReportExportQuerySchema, ReportQuerySchema)
from core.clock import utcnow
from reports import services, tables

blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports",
                description="Reports for leaders and offices: campaigns, emergencies, people, hours, partners.")
# Bad dates or ids in the query are malformed requests: 400 naming the field.
QUERY = {"location": "query", "error_status_code": 400}


def _report(name: str, query: dict) -> services.Report:
    zone = current_app.config["TIMEZONE"]
    return services.build_report(name, scope=current_scope(), today=utcnow().astimezone(ZoneInfo(zone)).date(),
                                 zone=zone, **query)


@blp.route("/campaigns")
class CampaignReport(MethodView):
    @blp.arguments(ReportQuerySchema, **QUERY)
    @blp.response(200, CampaignReportSchema)
    @blp.alt_response(400, description="Bad date or grid id (the field is named)")
    @blp.alt_response(404, description="Grid unknown or outside the caller's area")
    def get(self, query):
        """Campaigns: places needed, called, accepted, attended, hours, time to fill, response time."""
        return _report("campaigns", query)


@blp.route("/emergencies")
class EmergencyReport(MethodView):
    @blp.arguments(ReportQuerySchema, **QUERY)
    @blp.response(200, EmergencyReportSchema)
    @blp.alt_response(400, description="Bad date or grid id (the field is named)")
    @blp.alt_response(404, description="Grid unknown or outside the caller's area")
    def get(self, query):
        """Emergencies: the share of places manned within one hour of publishing."""
        return _report("emergencies", query)


@blp.route("/people")
class PeopleReport(MethodView):
    @blp.arguments(ReportQuerySchema, **QUERY)
    @blp.response(200, PeopleReportSchema)
    @blp.alt_response(400, description="Bad date or grid id (the field is named)")
    @blp.alt_response(404, description="Grid unknown or outside the caller's area")
    def get(self, query):
        """Active people by grid, skill and identity."""
        return _report("people", query)


@blp.route("/activity")
class ActivityReport(MethodView):
    @blp.arguments(ReportQuerySchema, **QUERY)
    @blp.response(200, ActivityReportSchema)
    @blp.alt_response(400, description="Bad date or grid id (the field is named)")
    @blp.alt_response(404, description="Grid unknown or outside the caller's area")
    def get(self, query):
        """Active people in the period against those dormant for 180 days."""
        return _report("activity", query)


@blp.route("/hours")
class HoursReport(MethodView):
    @blp.arguments(ReportQuerySchema, **QUERY)
    @blp.response(200, HoursReportSchema)
    @blp.alt_response(400, description="Bad date or grid id (the field is named)")
    @blp.alt_response(404, description="Grid unknown or outside the caller's area")
    def get(self, query):
        """Service hours by grid, skill, kind of campaign and month."""
        return _report("hours", query)


@blp.route("/enterprises")
class EnterpriseReport(MethodView):
    @blp.arguments(ReportQuerySchema, **QUERY)
    @blp.response(200, EnterpriseReportSchema)
    @blp.alt_response(400, description="Bad date or grid id (the field is named)")
    @blp.alt_response(404, description="Grid unknown or outside the caller's area")
    def get(self, query):
        """Partner enterprises' teams: people, shifts served and hours."""
        return _report("enterprises", query)


@blp.route("/export")
class ReportExport(MethodView):
    @blp.arguments(ReportExportQuerySchema, **QUERY)
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="text/csv",
                  description="The report; with format=xlsx an XLSX workbook (a sheet per table)")
    @blp.doc(responses={200: {"content": {tables.EXPORT_MIMETYPES["xlsx"]: {
        "schema": {"type": "string", "format": "binary"}}}}})
    @blp.alt_response(400, description="Bad report name, date or grid id (the field is named)")
    @blp.alt_response(404, description="Grid unknown or outside the caller's area")
    def get(self, query):
        """Download one report as CSV or XLSX."""
        fmt, lang = query.pop("format"), query.pop("lang")
        report = _report(query.pop("report"), query)
        return Response(tables.export_report(report, fmt, lang), mimetype=tables.EXPORT_MIMETYPES[fmt], headers={
            "Content-Disposition": f'attachment; filename="{tables.export_filename(report, fmt)}"'})
