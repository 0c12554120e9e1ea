"""/api/v1/volunteers: people who can be called up."""
from zoneinfo import ZoneInfo

from flask import Response, current_app
from flask.views import MethodView

from api import Blueprint
from api.auth import current_scope, note_audit
from api.pagination import SelectPage
from api.schemas.common import for_update
from api.schemas.roster import (RosterExportQuerySchema, RosterImportOptionsSchema,
                                RosterImportResultSchema, RosterUploadSchema)
from api.schemas.volunteers import (VolunteerCreateSchema, VolunteerQuerySchema, VolunteerSchema,
                                   VolunteerSummarySchema, VolunteerUpdateSchema)
from core.clock import utcnow
from extensions import limiter
from volunteers import roster, services

blp = Blueprint("volunteers", __name__, url_prefix="/api/v1/volunteers",
                description="Volunteers, party members, cadres and team members.")


@blp.record_once
def _provide_row_schema(state) -> None:
    # `flask volunteers import` checks rows with this schema too, but domain code may not import api/.
    state.app.extensions["volunteer_create_schema"] = VolunteerCreateSchema


@blp.route("")
class Volunteers(MethodView):
    @blp.arguments(VolunteerQuerySchema, location="query")
    @blp.response(200, VolunteerSummarySchema(many=True))
    @blp.alt_response(404, description="Unknown grid in grid_id")
    @blp.paginate(SelectPage)
    def get(self, query):
        """List volunteers by grid subtree, skill, identity, status or text."""
        return services.list_volunteers(scope=current_scope(), **query)

    @blp.arguments(VolunteerCreateSchema)
    @blp.response(201, VolunteerSchema)
    @blp.alt_response(409, description="Mobile number already registered")
    @blp.alt_response(422, description="Invalid input")
    def post(self, data):
        """Register a volunteer."""
        return services.register_volunteer(data, scope=current_scope(), now=utcnow())


@blp.route("/<int:volunteer_id>")
class VolunteerById(MethodView):
    @blp.response(200, VolunteerSchema)
    @blp.alt_response(404, description="Not found")
    def get(self, volunteer_id):
        """Show one volunteer."""
        return services.get_volunteer(volunteer_id)

    @blp.arguments(for_update(VolunteerUpdateSchema))
    @blp.response(200, VolunteerSchema)
    @blp.alt_response(404, description="Not found")
    @blp.alt_response(409, description="Mobile number already registered")
    def patch(self, data, volunteer_id):
        """Change a volunteer's record."""
        return services.update_volunteer(volunteer_id, data, scope=current_scope(), now=utcnow())

    @blp.response(204)
    @blp.alt_response(404, description="Not found")
    @blp.alt_response(409, description="Has call-up history")
    def delete(self, volunteer_id):
        """Remove a volunteer who was never called up."""
        services.delete_volunteer(volunteer_id)


def _roster_check_limit() -> str:
    return current_app.config["ROSTER_CHECK_RATE_LIMIT"]


@blp.route("/import")
class VolunteerImport(MethodView):
    # A roster (or its dry run) checks up to 50,000 numbers against the register: per caller, audited with counts.
    decorators = [limiter.limit(_roster_check_limit, key_func=lambda: current_scope().actor, methods=["POST"])]

    @blp.arguments(RosterUploadSchema, location="files")
    @blp.arguments(RosterImportOptionsSchema, location="query")
    @blp.response(200, RosterImportResultSchema)
    @blp.alt_response(409, description="A mobile number was registered meanwhile; nothing written")
    @blp.alt_response(422, description="Bad rows (errors.json.rows: row, column, message) or an "
                                       "unreadable file (errors.json.file); nothing written")
    @blp.alt_response(429, description="Too many imports or dry runs by this caller")
    def post(self, files, options):
        """Import a roster file (CSV or XLSX): every row, or none if any is bad."""
        options = _with_form_options(options)
        return _audited_import(
            files["file"].read(), schema=VolunteerCreateSchema(), scope=current_scope(), now=utcnow(),
            max_rows=current_app.config["IMPORT_MAX_ROWS"],
            limits=roster.FileLimits.from_config(current_app.config), **options)


def _audited_import(content: bytes, **kwargs) -> roster.ImportResult:
    """``roster.import_roster``, noting the rows checked and the numbers found registered for the audit row."""
    dry_run = bool(kwargs.get("dry_run"))
    try:
        result = roster.import_roster(content, **kwargs)
    except roster.RosterRejected as rejected:
        note_audit(roster.check_summary(rejected.total, rejected.row_errors, dry_run=dry_run))
        raise
    note_audit(roster.check_summary(result.total, result.errors, dry_run=dry_run))
    return result


def _with_form_options(options: dict) -> dict:
    """The import options may also come as multipart form fields next to the file."""
    form = blp.ARGUMENTS_PARSER.parse(RosterImportOptionsSchema, location="form")
    return {key: value or form[key] for key, value in options.items()}


@blp.route("/export")
class VolunteerExport(MethodView):
    @blp.arguments(RosterExportQuerySchema, location="query")
    @blp.response(200, {"type": "string", "format": "binary"}, content_type="text/csv",
                  description="The roster; with format=xlsx an XLSX workbook")
    @blp.doc(responses={200: {"content": {roster.XLSX_MIMETYPE: {
        "schema": {"type": "string", "format": "binary"}}}}})
    @blp.alt_response(404, description="Unknown grid")
    def get(self, query):
        """Download the roster as CSV or XLSX, with the list's filters."""
        fmt, lang = query.pop("format"), query.pop("lang")
        body, _ = roster.export_roster(services.list_volunteers(scope=current_scope(), **query), fmt=fmt, lang=lang)
        today = utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()
        return Response(body, mimetype=roster.MIMETYPES[fmt], headers={
            "Content-Disposition": f'attachment; filename="{roster.export_filename(fmt, today)}"'})
