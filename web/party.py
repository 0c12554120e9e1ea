"""双报到 pages: for offices, the workplace party organisations whose members live in the office's area, and each
one's quarterly report of its members' community service, as a page and an XLSX file; for an organisation's own
contact, the same report with all its members in the district."""
from __future__ import annotations

import io
import logging

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, url_for
from flask_login import current_user
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import func, select

from accounts.audit import record_event
from campaigns.party_report import parse_quarter, party_org_report, previous_quarters
from core.clock import utcnow
from core.i18n import _, _l, lazy_pgettext, ngettext
from core.scope import Role
from extensions import db
from grids.models import Grid
from volunteers.models import PartyOrganisation, Volunteer
from web.auth import _no_store, require_sign_in
from web.certificate import render_party_report

log = logging.getLogger(__name__)
bp = Blueprint("party", __name__, url_prefix="/office/party-orgs")
bp.before_request(require_sign_in)
bp.after_request(_no_store)

COLUMNS = ((lazy_pgettext("person", "Name"), "name"), (_l("Grid"), "grid"), (_l("Registered on"), "registered_on"),
           (_l("Called"), "called"), (_l("Accepted"), "accepted"), (_l("Attended"), "attended"),
           (_l("Hours"), "hours"))


@bp.get("")
def orgs():
    """Organisations with members living in the caller's area, and how many."""
    members = func.count(Volunteer.id)
    rows = db.session.execute(
        select(PartyOrganisation, members).join(Volunteer, Volunteer.party_org_id == PartyOrganisation.id)
        .join(Grid, Grid.id == Volunteer.home_grid_id).where(g.scope.grid_clause(Grid.path))
        .group_by(PartyOrganisation.id).order_by(PartyOrganisation.name)).all()
    return render_template("party_orgs.html", rows=rows, user=current_user.user)


def _report(org_id: int):
    """The report for the ``quarter`` asked; a bad quarter is the service's 422 naming the field (the app's
    error handler draws the page)."""
    quarter = parse_quarter(request.args.get("quarter"), now=utcnow(), timezone_name=current_app.config["TIMEZONE"])
    return party_org_report(org_id, quarter=quarter, scope=g.scope, timezone_name=current_app.config["TIMEZONE"])


@bp.get("/ours")
def ours():
    """A party organisation's contact lands on their own organisation's report."""
    return redirect(url_for("party.report", org_id=g.scope.party_org_id, **request.args.to_dict()))


@bp.get("/<int:org_id>")
def report(org_id: int):
    """One organisation's quarterly report: its members in the caller's area and their service."""
    found = _report(org_id)
    return render_template("party_report.html", report=found, columns=COLUMNS, own=g.scope.role is Role.PARTY_ORG,
                           quarters=previous_quarters(found.quarter), user=current_user.user)


@bp.get("/<int:org_id>/report.xlsx")
def report_xlsx(org_id: int):
    """The same report as a spreadsheet (the export of names is audited)."""
    found = _report(org_id)
    quarter = found.quarter
    book = Workbook()
    sheet = book.active
    sheet.title = quarter.label
    sheet.append([_("%(org)s · Party members' community service · %(quarter)s", org=found.org.name,
                    quarter=quarter.label)])
    sheet.append([str(title) for title, _key in COLUMNS])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for member in found.members:
        sheet.append([str(getattr(member, key)) if key == "registered_on" else getattr(member, key)
                      for _title, key in COLUMNS])
    totals = found.totals
    sheet.append([_("Total"), ngettext("%(num)d person", "%(num)d people", totals["members"]), "", totals["called"],
                  totals["accepted"], totals["attended"], totals["hours"]])
    for column, width in zip("ABCDEFG", (14, 22, 14, 10, 10, 10, 12)):
        sheet.column_dimensions[column].width = width
    data = io.BytesIO()
    book.save(data)
    return _download(found, data.getvalue(), "xlsx",
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.get("/<int:org_id>/report.pdf")
def report_pdf(org_id: int):
    """The same report as a PDF with a CJK font, to print or send on (the export of names is audited)."""
    found = _report(org_id)
    pdf = render_party_report(found, columns=COLUMNS, font_path=current_app.config["CERTIFICATE_FONT"])
    return _download(found, pdf, "pdf", "application/pdf")


def _download(found, data: bytes, extension: str, mimetype: str) -> Response:
    """An export of the report as a file, audited with its quarter and number of members."""
    user, quarter, org_id = current_user.user, found.quarter, found.org.id
    record_event(actor=g.scope.actor, role=user.role.value, action="party_report.export", now=utcnow(), outcome="ok",
                 object_type="party_organisation", object_id=org_id, ip=request.remote_addr,
                 detail=f"{quarter.label}, {found.totals['members']} members, {extension}")
    return Response(data, headers={"Content-Disposition": f'attachment; filename="party-org-{org_id}-'
                                                          f'{quarter.label}.{extension}"'}, mimetype=mimetype)
