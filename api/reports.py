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


# path -> (view name, schema, summary): six read-only reports with one shape, so one view factory.
REPORT_VIEWS = {
    "campaigns": ("CampaignReport", CampaignReportSchema,
                  "Campaigns: places needed, called, accepted, attended, hours, time to fill, response time."),
    "emergencies": ("EmergencyReport", EmergencyReportSchema,
                    "Emergencies: the share of places manned within one hour of publishing."),
    "people": ("PeopleReport", PeopleReportSchema, "Active people by grid, skill and identity."),
    "activity": ("ActivityReport", ActivityReportSchema,
                 "Active people in the period against those dormant for 180 days."),
    "hours": ("HoursReport", HoursReportSchema, "Service hours by grid, skill, kind of campaign and month."),
    "enterprises": ("EnterpriseReport", EnterpriseReportSchema,
                    "Partner enterprises' teams: people, shifts served and hours."),
}


def _report_view(name: str, view_name: str, schema, summary: str) -> None:
    def get(self, query):
        return _report(name, query)

    get.__doc__ = summary
    get = blp.alt_response(404, description="Grid unknown or outside the caller's area")(get)
    get = blp.alt_response(422, description="The dates make no period: ends before it starts, or too long")(get)
    get = blp.alt_response(400, description="Bad date or grid id (the field is named)")(get)
    get = blp.response(200, schema)(get)
    get = blp.arguments(ReportQuerySchema, **QUERY)(get)
    blp.route(f"/{name}")(type(view_name, (MethodView,), {"get": get}))


for _name, (_view, _schema, _summary) in REPORT_VIEWS.items():
    _report_view(_name, _view, _schema, _summary)


@blp.route("/export")
class ReportExport(MethodView):
    @blp.arguments(ReportExportQuerySchema, **QUERY)
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="text/csv",
                  description="The report; with format=xlsx an XLSX workbook (a sheet per table)")
    @blp.doc(responses={200: {"content": {tables.EXPORT_MIMETYPES["xlsx"]: {
        "schema": {"type": "string", "format": "binary"}}}}})
    @blp.alt_response(400, description="Bad report name, date or grid id (the field is named)")
    @blp.alt_response(422, description="The dates make no period: ends before it starts, or too long")
    @blp.alt_response(404, description="Grid unknown or outside the caller's area")
    def get(self, query):
        """Download one report as CSV or XLSX."""
        fmt, lang = query.pop("format"), query.pop("lang")
        report = _report(query.pop("report"), query)
        return Response(tables.export_report(report, fmt, lang), mimetype=tables.EXPORT_MIMETYPES[fmt], headers={
            "Content-Disposition": f'attachment; filename="{tables.export_filename(report, fmt)}"'})
