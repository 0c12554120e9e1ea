"""The office console's roster: the people of the office's subtree, one person's record and its edit form,
roster files in and out, and the grid tree with its counts.

Same conventions as ``web/office.py``: ``require_sign_in`` checks ``PERMISSIONS`` and turns a ``volunteer_id``
outside the office's subtree into a 404; every page calls the service the API view calls
(``volunteers.services``, ``volunteers.roster``); outcomes are flashed in the page's language after a redirect.
The request audit of ``api/auth.py`` records every POST (a reveal of a full mobile number, an import, an edit)
and the GETs it lists as personal-data reads (one person's record, the roster file), with counts noted here.
"""
from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from marshmallow import ValidationError as MarshmallowError
from sqlalchemy import false, func, select

from accounts.privacy import list_person_callups, service_totals
from api.schemas.common import for_update
from api.schemas.volunteers import VolunteerCreateSchema, VolunteerQuerySchema, VolunteerUpdateSchema
from campaigns.attendance import callup_tally
from campaigns.grid_tree import grid_tree
from core.clock import utcnow
from core.errors import DomainError, NotFound
from core.i18n import _, _l, language, lazy_pgettext, local_datetime, ngettext, say
from core.masking import mask_mobile, sees_full_contact, sees_party_membership
from extensions import db, limiter
from grids.services import HOME_GRID_MIN_LEVEL, list_grids
from volunteers import roster
from volunteers.availability import format_hhmm
from volunteers.models import EMERGENCY_CALLS_NAMES, IDENTITY_NAMES, Identity, Volunteer, VolunteerStatus
from volunteers.readiness import NO_CALLUPS_LEFT, NO_HOURS, NOT_ACTIVE, readiness_of
from volunteers.services import get_volunteer, list_skills, list_volunteers, update_volunteer
from web.auth import _no_store, require_sign_in
from web.form_messages import form_int
from web.office import CALLUP_STATUS_LABELS, ActionForm


def _note_audit(detail: str) -> None:
    """Facts (counts, never personal values) for the audit row the app-wide request audit writes (api/auth.py
    reads ``g.audit_detail`` after every request, pages included)."""
    g.audit_detail = detail

bp = Blueprint("roster", __name__, url_prefix="/office")
bp.before_request(require_sign_in)
bp.after_request(_no_store)

PAGE_SIZE = 50
RECENT_CALLUPS = 10
FILTER_KEYS = ("q", "grid_id", "skill", "min_level", "identity", "emergency_calls", "callable", "status", "sort")
WEEKDAY_NAMES = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"), _l("Saturday"),
                 _l("Sunday"))
STATUS_NAMES = {VolunteerStatus.ACTIVE: _l("Active"), VolunteerStatus.PAUSED: _l("Paused"),
                VolunteerStatus.LEFT: _l("Left")}
EMERGENCY_NAMES = {choice.value: name for choice, name in EMERGENCY_CALLS_NAMES.items()}
CHANNEL_NAMES = {"sms": _l("SMS"), "email": _l("E-mail"), "wecom": _l("WeCom")}
BLOCKER_NAMES = {NOT_ACTIVE: _l("Paused or left"), NO_HOURS: _l("No weekly hours"),
                 NO_CALLUPS_LEFT: _l("Monthly cap is 0")}
SORT_NAMES = {"name": lazy_pgettext("person", "Name"), "grid": _l("Grid"), "id": _l("Registration order")}
FIELD_LABELS = {
    "q": _l("Search"), "grid_id": _l("Grid"), "skill": _l("Skill"), "min_level": _l("Minimum level"),
    "identity": _l("Identity"), "emergency_calls": _l("Emergency calls"), "callable": _l("Callable"),
    "status": _l("Status"), "sort": _l("Sort"),
    "name": lazy_pgettext("person", "Name"), "mobile": _l("Mobile"), "home_grid_id": _l("Home grid"),
    "identities": _l("Identities"), "party_branch": _l("Party branch"), "skills": _l("Skills"),
    "availability": _l("Weekly hours"), "max_callups_per_month": _l("Monthly cap"),
    "file": _l("File"), "form": _l("Record"),
}


def _today() -> date:
    return utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


# --- the list ------------------------------------------------------------------------------------------------


def _filters() -> tuple[dict, dict, dict[str, list[str]]]:
    """The list's filters from the query string: (loaded for the service, as typed, errors by field).

    The API's query schema reads them, so the page filters exactly as ``GET /api/v1/volunteers`` does; a bad
    value is named next to its control and left out, the others still apply.
    """
    typed = {key: request.args.get(key, "").strip() for key in FILTER_KEYS}
    typed = {key: value for key, value in typed.items() if value}
    try:
        return VolunteerQuerySchema().load(typed), typed, {}
    except MarshmallowError as error:
        bad = {key: [say(m) for m in messages] for key, messages in error.messages.items()}
        kept = {key: value for key, value in typed.items() if key not in bad}
        return VolunteerQuerySchema().load(kept), typed, bad


def _page_number(pages: int) -> int:
    raw = request.args.get("page", "1")
    page = int(raw) if raw.isdecimal() and len(raw) <= 5 and int(raw) > 0 else 1
    return min(page, pages)


def _filter_choices() -> dict:
    return {"grids": db.session.scalars(list_grids(scope=g.scope)).all(),
            "skills": db.session.scalars(list_skills()).all(), "identities": IDENTITY_NAMES,
            "statuses": STATUS_NAMES, "emergency": EMERGENCY_NAMES, "sorts": SORT_NAMES, "levels": range(1, 6)}


@bp.get("/volunteers")
def volunteers():
    """The people of the office's subtree: search, filters, 50 a page with the total, sorted by name or grid."""
    query, typed, errors = _filters()
    try:
        stmt = list_volunteers(scope=g.scope, **query)
    except NotFound:
        errors["grid_id"] = [_("Unknown grid.")]
        query.pop("grid_id")
        stmt = list_volunteers(scope=g.scope, **query)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = _page_number(pages)
    today = _today()
    rows = [{"volunteer": v, "mobile": mask_mobile(v.mobile), "readiness": readiness_of(v, today=today)}
            for v in db.session.scalars(stmt.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE))]
    return render_template("office_volunteers.html", rows=rows, total=total, page=page, pages=pages, typed=typed,
                           errors=errors, filtered=bool(set(typed) - {"sort"}),
                           more_filters=bool(set(typed) - {"q"}) or bool(errors), sort_links={
                               key: url_for("roster.volunteers", **{**typed, "sort": key}) for key in ("name", "grid")},
                           status_names=STATUS_NAMES,
                           labels=FIELD_LABELS, user=current_user.user, **_filter_choices())


@bp.get("/volunteers/export")
def export():
    """The filtered list as a CSV or XLSX roster file (the API's export), audited with its row count."""
    fmt = "xlsx" if request.args.get("format") == "xlsx" else "csv"
    query, _, errors = _filters()
    if errors:
        abort(422)
    body, count = roster.export_roster(list_volunteers(scope=g.scope, **query), fmt=fmt, lang=language())
    _note_audit(f"count={count}")
    return Response(body, mimetype=roster.MIMETYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="{roster.export_filename(fmt, _today())}"'})


@bp.get("/volunteers/template")
def template():
    """An empty roster file with the columns import reads (the export of nobody)."""
    fmt = "xlsx" if request.args.get("format") == "xlsx" else "csv"
    body, _ = roster.export_roster(select(Volunteer).where(false()), fmt=fmt, lang=language())
    return Response(body, mimetype=roster.MIMETYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="volunteers-template.{fmt}"'})


# --- one person ----------------------------------------------------------------------------------------------


def _week(volunteer: Volunteer) -> list[tuple[str, list[str]]]:
    """Each weekday with the person's windows that day ("09:00–12:00"), Monday first."""
    days = [(name, []) for name in WEEKDAY_NAMES]
    for window in volunteer.availability:
        start, end = format_hhmm(window.start_minute), format_hhmm(window.end_minute)
        days[window.weekday][1].append(f"{start}–{end}")
    return days


def _callups(volunteer_id: int) -> list[dict]:
    rows = db.session.scalars(list_person_callups(volunteer_id).limit(RECENT_CALLUPS)).all()
    return [{"callup": c, "campaign": c.position.shift.campaign, "role": c.position.role,
             "start": local_datetime(c.position.shift.start_at), "status": CALLUP_STATUS_LABELS[c.status],
             "own": g.scope.covers(c.position.shift.campaign.office.path)} for c in rows]


def _detail_page(volunteer_id: int, *, full_mobile: str | None = None):
    volunteer = get_volunteer(volunteer_id)
    today = _today()
    tally = callup_tally(volunteer_id)
    party = sees_party_membership(g.scope, volunteer_id)
    return render_template(
        "office_volunteer.html", volunteer=volunteer, masked=mask_mobile(volunteer.mobile), full_mobile=full_mobile,
        may_reveal=sees_full_contact(g.scope, volunteer_id), readiness=readiness_of(volunteer, today=today),
        today=today, week=_week(volunteer), callups=_callups(volunteer_id), service=service_totals(volunteer_id),
        tally=[(CALLUP_STATUS_LABELS[status], count) for status, count in sorted(
            tally.items(), key=lambda item: list(CALLUP_STATUS_LABELS).index(item[0]))],
        identities=[IDENTITY_NAMES[i] for i in volunteer.identities if party or i is not Identity.PARTY_MEMBER],
        party_branch=volunteer.party_branch if party else None, status_names=STATUS_NAMES,
        emergency=EMERGENCY_NAMES.get(volunteer.emergency_calls, volunteer.emergency_calls), channels=CHANNEL_NAMES,
        blockers=BLOCKER_NAMES, action_form=ActionForm(), user=current_user.user)


@bp.get("/volunteers/<int:volunteer_id>")
def volunteer(volunteer_id: int):
    """One person's record: skills, identities, week, channels, recent call-ups and service; mobile masked."""
    return _detail_page(volunteer_id)


@bp.post("/volunteers/<int:volunteer_id>/mobile")
def reveal_mobile(volunteer_id: int):
    """Show the full mobile number (with a tel: link) to a role allowed it; every reveal is audited."""
    if not ActionForm().validate_on_submit():
        abort(400)
    volunteer = get_volunteer(volunteer_id)
    if not sees_full_contact(g.scope, volunteer_id):
        abort(403)
    return _detail_page(volunteer_id, full_mobile=volunteer.mobile)


# --- the edit form -------------------------------------------------------------------------------------------


def _skill_field(code: str, part: str = "level") -> str:
    return f"skill-{code}-{part}"


def _edit_values(volunteer: Volunteer) -> dict:
    """The form's fields as the record holds them."""
    values = {"name": volunteer.name, "home_grid_id": str(volunteer.home_grid_id),
              "identities": [i.value for i in volunteer.identities], "party_branch": volunteer.party_branch or "",
              "availability": "; ".join(roster.week_entries(volunteer, english=language() == "en")),
              "max_callups_per_month": str(volunteer.max_callups_per_month),
              "emergency_calls": volunteer.emergency_calls, "status": volunteer.status.value}
    for row in volunteer.skills:
        values[_skill_field(row.skill.code)] = str(row.level)
        values[_skill_field(row.skill.code, "no")] = row.certificate_no or ""
        values[_skill_field(row.skill.code, "expires")] = (row.certificate_expires_on.isoformat()
                                                            if row.certificate_expires_on else "")
    return values


def _edit_body(form, skills) -> tuple[dict, list[str], dict[str, list[str]]]:
    """The PATCH /api/v1/volunteers/{id} body this form stands for, the skill codes in its order, and the
    weekly hours that could not be read."""
    def text(name: str) -> str:
        return form.get(name, "").strip()

    body = {"name": text("name"), "home_grid_id": form_int(text("home_grid_id")),
            "identities": form.getlist("identities"), "party_branch": text("party_branch") or None,
            "max_callups_per_month": form_int(text("max_callups_per_month")),
            "emergency_calls": text("emergency_calls"), "status": text("status")}
    items, codes = [], []
    for skill in skills:
        level = text(_skill_field(skill.code))
        if not level:
            continue
        items.append({"code": skill.code, "level": form_int(level),
                      "certificate_no": text(_skill_field(skill.code, "no")) or None,
                      "certificate_expires_on": text(_skill_field(skill.code, "expires")) or None})
        codes.append(skill.code)
    body["skills"] = items
    windows, unreadable = roster.parse_week(form.get("availability", ""))
    body["availability"] = windows
    return body, codes, ({"availability": [roster.said(m) for m in unreadable]} if unreadable else {})


def _edit_errors(errors: dict, codes: list[str]) -> dict[str, list[str]]:
    """Schema or service errors by form field; a skill's are under its own row (skill-<code>-level …)."""
    found: dict[str, list[str]] = {}

    def flat(messages) -> list[str]:
        if isinstance(messages, dict):
            return [m for inner in messages.values() for m in flat(inner)]
        return [str(m) for m in (messages if isinstance(messages, (list, tuple)) else [messages])]

    for name, messages in errors.items():
        if name == "skills" and isinstance(messages, dict):
            for index, inner in messages.items():
                code = codes[index] if isinstance(index, int) and index < len(codes) else None
                parts = inner.items() if isinstance(inner, dict) and code else [("level", inner)]
                for part, part_messages in parts:
                    key = _skill_field(code, {"certificate_no": "no", "certificate_expires_on": "expires"}
                                       .get(part, "level")) if code else "skills"
                    found.setdefault(key, []).extend(say(m) for m in flat(part_messages))
        else:
            found.setdefault(name if name in FIELD_LABELS or name in ("emergency_calls", "status") else "form",
                             []).extend(say(m) for m in flat(messages))
    return found


@bp.route("/volunteers/<int:volunteer_id>/edit", methods=["GET", "POST"])
def edit(volunteer_id: int):
    """Change the fields an office keeps (name, home grid, identities, skills, week, cap, emergency preference);
    the API's update schema and service check them, and nothing is written unless all of them are right."""
    volunteer = get_volunteer(volunteer_id)
    skills = db.session.scalars(list_skills()).all()
    form = ActionForm()
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        body, codes, errors = _edit_body(request.form, skills)
        if not errors:
            try:
                data = for_update(VolunteerUpdateSchema).load(body)
                update_volunteer(volunteer_id, data, scope=g.scope, now=utcnow())
            except MarshmallowError as error:
                errors = _edit_errors(error.messages, codes)
            except DomainError as error:
                db.session.rollback()
                errors = _edit_errors(error.errors or {"form": [error.message]}, codes)
            else:
                flash(_("Saved the record of %(name)s.", name=volunteer.name))
                return redirect(url_for("roster.volunteer", volunteer_id=volunteer_id))
        status = 422
        values = {key: request.form.getlist(key) if key == "identities" else request.form.get(key, "")
                  for key in request.form}
        values.setdefault("identities", [])
        volunteer = get_volunteer(volunteer_id)
    else:
        values = _edit_values(volunteer)
    grids = [grid for grid in db.session.scalars(list_grids(scope=g.scope)) if grid.level >= HOME_GRID_MIN_LEVEL]
    if volunteer.home_grid_id not in {grid.id for grid in grids}:
        grids.insert(0, volunteer.home_grid)  # an older record's street-level home stays selected, not replaced
    return render_template("office_volunteer_edit.html", volunteer=volunteer, form=form, values=values, errors=errors,
                           labels=FIELD_LABELS, grids=grids, skills=skills, identities=IDENTITY_NAMES,
                           statuses=STATUS_NAMES, emergency=EMERGENCY_NAMES, levels=range(1, 6),
                           user=current_user.user), status


# --- import --------------------------------------------------------------------------------------------------


def _roster_check_limit() -> str:
    return current_app.config["ROSTER_CHECK_RATE_LIMIT"]


@bp.route("/volunteers/import", methods=["GET", "POST"])
@limiter.limit(_roster_check_limit, key_func=lambda: g.scope.actor, methods=["POST"])
def import_roster():
    """Upload a roster file: every row is checked, and all are registered or none (the API's import)."""
    form = ActionForm()
    context: dict = {"row_errors": [], "file_errors": [], "result": None}
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        upload = request.files.get("file")
        dry_run = request.form.get("dry_run") == "1"
        if upload is None or not upload.filename:
            context["file_errors"], status = [_("Choose a file.")], 422
        else:
            outcome = _import(upload.read(), dry_run=dry_run)
            if isinstance(outcome, roster.ImportResult) and not dry_run:
                flash(ngettext("Imported %(num)d person.", "Imported %(num)d people.", outcome.imported))
                return redirect(url_for("roster.volunteers"))
            if isinstance(outcome, roster.ImportResult):
                context["result"] = outcome
            else:
                context.update(outcome)
                status = 422 if context["row_errors"] or context["file_errors"] else 409
        context["dry_run"] = dry_run
    return render_template("office_volunteer_import.html", form=form, columns=roster.COLUMNS,
                           required=roster.REQUIRED_COLUMNS, max_rows=current_app.config["IMPORT_MAX_ROWS"],
                           user=current_user.user, **context), status


def _import(content: bytes, *, dry_run: bool) -> roster.ImportResult | dict:
    """``roster.import_roster`` with the API's audit note (rows checked, numbers found registered): the result,
    or what to show instead."""
    try:
        result = roster.import_roster(content, schema=VolunteerCreateSchema(), scope=g.scope, now=utcnow(),
                                      max_rows=current_app.config["IMPORT_MAX_ROWS"], dry_run=dry_run,
                                      limits=roster.FileLimits.from_config(current_app.config))
    except roster.RosterRejected as rejected:
        db.session.rollback()
        _note_audit(roster.check_summary(rejected.total, rejected.row_errors, dry_run=dry_run))
        shown = rejected.row_errors[:roster.MAX_REPORTED_ERRORS]
        return {"row_errors": [{"row": e.row, "column": e.column, "message": roster.said(e.message)} for e in shown],
                "bad_rows": len({e.row for e in rejected.row_errors}), "total_rows": rejected.total,
                "error_count": len(rejected.row_errors), "file_errors": []}
    except DomainError as error:
        db.session.rollback()
        messages = [m for ms in (error.errors or {"file": [error.message]}).values() for m in ms]
        return {"row_errors": [], "file_errors": [say(m) for m in messages]}
    _note_audit(roster.check_summary(result.total, result.errors, dry_run=dry_run))
    return result


# --- the grid tree -------------------------------------------------------------------------------------------


@bp.get("/grids")
def grids():
    """The office's part of the grid tree (street › community › grid), each node with its counts."""
    return render_template("office_grids.html", roots=grid_tree(g.scope), user=current_user.user)
