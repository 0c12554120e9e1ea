"""The leaders' cockpit (领导驾驶舱): headline figures, charts with their data tables, drill-down and exports.

Desktop-first, still readable on a phone. The figures come from ``reports.services``, the same code path as
/api/v1/reports; the area and period come from a GET form (``grid_id``, ``from``, ``to``) checked with the
API's schema, so a bad date is a 400 naming the field and another office's area is a 404.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, g, render_template, request
from flask_login import current_user
from marshmallow import ValidationError as MarshmallowError
from sqlalchemy import select

from api.schemas.reports import ReportExportQuerySchema, ReportQuerySchema
from core.clock import utcnow
from core.errors import BadRequest
from core.i18n import _l
from extensions import db
from grids.models import Grid
from reports import areas, services, tables
from web.auth import _no_store, require_sign_in

bp = Blueprint("cockpit", __name__, url_prefix="/cockpit")
bp.before_request(require_sign_in)
bp.after_request(_no_store)

# Drill-down links go as far as communities; a community's table lists its grids.
DEEPEST_LINKED_LEVEL = 2
# What the trail says the open area is, by its level in the grid tree.
LEVEL_LABELS = {0: _l("District"), 1: _l("Street office"), 2: _l("Community"), 3: _l("Grid"), 4: _l("Micro-grid")}


def _query(schema) -> dict:
    """The GET form's fields, checked by the API's schema; a bad one is a 400 naming it. ``lang`` is the
    page's language (the switch), not a report field."""
    args = {key: value for key, value in request.args.items() if key != "lang" and value != ""}
    try:
        return schema.load(args)
    except MarshmallowError as error:
        raise BadRequest(error.normalized_messages()) from None


def _today_and_zone():
    zone = current_app.config["TIMEZONE"]
    return utcnow().astimezone(ZoneInfo(zone)).date(), zone


def _area_choices() -> list[Grid]:
    """Nodes the caller may open from the form: their own down to communities, in tree order."""
    return list(db.session.scalars(select(Grid).where(g.scope.grid_clause(Grid.path), Grid.level <= DEEPEST_LINKED_LEVEL)
                                   .order_by(Grid.path)))


@bp.get("")
def cockpit():
    """Every report for one area and period on one screen."""
    today, zone = _today_and_zone()
    query = _query(ReportQuerySchema())
    result = services.build_cockpit(scope=g.scope, today=today, zone=zone, **query)
    first = next(iter(result.values()))
    area, period = first.area, first.period
    return render_template(
        "cockpit.html", reports=result, area=area, period=period, trail=areas.trail(area, g.scope),
        drill=areas.children(area) if area.level < DEEPEST_LINKED_LEVEL else [],
        choices=_area_choices(), level_name=LEVEL_LABELS[area.level],
        sheets={name: tables.sheets(r) for name, r in result.items()},
        titles={name: title for name, (title, _function) in services.REPORTS.items()},
        linked_level=DEEPEST_LINKED_LEVEL, labels=tables.LABELS, user=current_user.user)


@bp.get("/export")
def export():
    """One report of the cockpit as CSV or XLSX, for the same area and period, in the page's language."""
    today, zone = _today_and_zone()
    query = _query(ReportExportQuerySchema())
    fmt = query.pop("format")
    query.pop("lang", None)  # the API's choice of headers; the page's is its own language
    report = services.build_report(query.pop("report"), scope=g.scope, today=today, zone=zone, **query)
    return Response(tables.export_report(report, fmt), mimetype=tables.EXPORT_MIMETYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="{tables.export_filename(report, fmt)}"'})
