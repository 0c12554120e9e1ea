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
from extensions import db
from grids.models import LEVEL_NAMES, Grid
from reports import areas, services, tables
from web.auth import _lang, _no_store, require_sign_in

bp = Blueprint("cockpit", __name__, url_prefix="/cockpit")
bp.before_request(require_sign_in)
bp.after_request(_no_store)

# Drill-down links go as far as communities; a community's table lists its grids.
DEEPEST_LINKED_LEVEL = 2


def _query(schema, *, keep_lang: bool = False) -> dict:
    """The GET form's fields, checked by the API's schema; a bad one is a 400 naming it. ``lang`` is the
    page's language (and an export's headers), not a report field."""
    args = {key: value for key, value in request.args.items() if (keep_lang or key != "lang") and value != ""}
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
        choices=_area_choices(), level_names=LEVEL_NAMES, sheets={name: tables.sheets(r) for name, r in result.items()},
        titles={name: (zh, en) for name, (zh, en, _) in services.REPORTS.items()},
        linked_level=DEEPEST_LINKED_LEVEL, labels=tables.LABELS, lang=_lang(), user=current_user.user)


@bp.get("/export")
def export():
    """One report of the cockpit as CSV or XLSX, for the same area and period."""
    today, zone = _today_and_zone()
    query = _query(ReportExportQuerySchema(), keep_lang=True)
    fmt, lang = query.pop("format"), query.pop("lang")
    report = services.build_report(query.pop("report"), scope=g.scope, today=today, zone=zone, **query)
    return Response(tables.export_report(report, fmt, lang), mimetype=tables.EXPORT_MIMETYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="{tables.export_filename(report, fmt)}"'})
