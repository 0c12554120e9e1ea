"""Grid practice pages: whistles raised and followed by office staff, a visitor's list on the phone, round coverage.

Signed-in pages, checked by ``web/auth.py`` (``require_sign_in`` → ``accounts.access.authorize``): ``PERMISSIONS``
names who may open each and ``OWNERS`` turns a ``whistle_id``, ``round_id`` or ``visit_id`` outside the caller's
reach into a 404. Every action calls the service the API calls, flashes the outcome and redirects (POST-redirect-GET).
"""
from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from marshmallow import ValidationError as MarshmallowError
from sqlalchemy import func, select
from wtforms import DateField, FloatField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from accounts.audit import record_event
from api.schemas.gridwork import RoundCreateSchema, TargetCreateSchema, UnitCreateSchema, WhistleCampaignSchema
from campaigns.models import Priority
from core.clock import utcnow
from core.errors import DomainError
from core.i18n import _, _l, local_datetime, ngettext, say
from extensions import db
from grids.models import Grid
from gridwork import reports, units, visits, whistles
from gridwork.models import ProblemKind, RoundKind, UnitType, VisitOutcome, VisitTargetKind, WhistleStatus
from web.auth import _no_store, require_sign_in
from web.campaign_form import local_time
from web.forms import MultiCheckboxField, flash_refused

bp = Blueprint("grid", __name__, url_prefix="/grid")
bp.before_request(require_sign_in)
bp.after_request(_no_store)

KIND_LABELS = {
    ProblemKind.SANITATION: _l("Sanitation"), ProblemKind.GAS_SAFETY: _l("Gas safety"),
    ProblemKind.FIRE_SAFETY: _l("Fire safety"), ProblemKind.WATER_POWER: _l("Water and power"),
    ProblemKind.PUBLIC_ORDER: _l("Public order"), ProblemKind.BUILDING: _l("Buildings"),
    ProblemKind.TRAFFIC: _l("Traffic"), ProblemKind.DISPUTE: _l("Disputes"), ProblemKind.OTHER: _l("Other"),
}
GRADE_LABELS = {Priority.ROUTINE: _l("Routine"), Priority.URGENT: _l("Urgent"), Priority.EMERGENCY: _l("Emergency")}
OUTCOME_LABELS = {VisitOutcome.PENDING: _l("To visit"), VisitOutcome.DONE: _l("Done"),
                  VisitOutcome.NOBODY_HOME: _l("Nobody home"), VisitOutcome.PROBLEM: _l("Problem found")}
PRIORITY_LABELS = {"living_alone": _l("Lives alone"), "hardship": _l("Hardship"), "elderly": _l("Elderly"),
                   "disabled": _l("Disabled")}
EVENT_LABELS = {"raised": _l("Raised"), "summoned": _l("Unit summoned"), "ack": _l("Acknowledged by the unit"),
                "arrive": _l("Unit on site"), "resolve": _l("Resolved by the unit"), "closed": _l("Closed off"),
                "reopened": _l("Reopened"), "escalated_1": _l("Escalated to the street office"),
                "escalated_2": _l("Escalated to the district"), "campaign": _l("Campaign drafted")}
ANSWER_LABELS = {"ack": _l("Acknowledged"), "arrive": _l("On site"), "resolve": _l("Resolved")}
# Times on these pages are this year's and near: month, day and time, in the office's zone.
SHORT_TIME = "MM-dd HH:mm"


class WhistleForm(FlaskForm):
    grid_id = SelectField(_l("Grid"), coerce=int, validate_choice=False, validators=[InputRequired()])
    title = StringField(_l("Problem"), validators=[DataRequired(), Length(max=100)])
    address = StringField(_l("Address"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=[(k.value, label) for k, label in KIND_LABELS.items()])
    grade = RadioField(_l("Grade"), choices=[(p.value, label) for p, label in GRADE_LABELS.items()],
                       default=Priority.ROUTINE.value)
    description = TextAreaField(_l("Details"), validators=[Optional(), Length(max=1000)])
    photo = FileField(_l("Photo (optional)"))


class NoteForm(FlaskForm):
    note = StringField(_l("Note"), validators=[DataRequired(), Length(max=500)])


class AnswerForm(FlaskForm):
    """A unit's answer recorded by the office: the CSRF token; the unit and action come from the button."""


class VisitForm(FlaskForm):
    outcome = RadioField(_l("Outcome"), choices=[(o.value, OUTCOME_LABELS[o]) for o in visits.RECORDABLE],
                         validators=[InputRequired()])
    note = StringField(_l("Remarks"), validators=[Optional(), Length(max=500)])
    problem_title = StringField(_l("Problem (raises a whistle)"), validators=[Optional(), Length(max=100)])
    # Only read with a problem title; a plain "done" sends none.
    problem_kind = SelectField(_l("Kind"), choices=[(k.value, label) for k, label in KIND_LABELS.items()],
                               validate_choice=False)


def _local(value) -> str:
    """A time as these pages show it (``SHORT_TIME`` in the office's zone); "" for none."""
    return local_datetime(value, SHORT_TIME)


def _flash_error(error: DomainError) -> None:
    flash_refused(error, {})


def _my_grids(min_level: int = 2) -> list[Grid]:
    """Grids of the caller's area from ``min_level`` down (communities and grids: where a whistle is raised)."""
    return list(db.session.scalars(select(Grid).where(g.scope.grid_clause(Grid.path), Grid.level >= min_level)
                                   .order_by(Grid.path).limit(500)))


@bp.get("/whistles")
def whistle_list():
    """Whistles of the office's area, open first."""
    status = next((s for s in WhistleStatus if s.value == request.args.get("status")), None)
    rows = db.session.scalars(whistles.list_whistles(scope=g.scope, status=status).limit(100)).all()
    return render_template("grid_whistles.html", rows=rows, status=status, kinds=KIND_LABELS, grades=GRADE_LABELS,
                           local=_local, now=utcnow(), user=current_user.user)


@bp.route("/whistles/new", methods=["GET", "POST"])
def new_whistle():
    """Raise a whistle from the phone: what, where, kind, grade, a photo."""
    form = WhistleForm()
    form.grid_id.choices = [SelectChoice(grid.id, grid.name) for grid in _my_grids()]
    if form.validate_on_submit():
        photo = form.photo.data.read() if form.photo.data else None
        data = {"grid_id": form.grid_id.data, "title": form.title.data.strip(), "address": form.address.data.strip(),
                "kind": form.kind.data, "grade": form.grade.data, "description": (form.description.data or "").strip()}
        try:
            whistle = whistles.raise_whistle(data, scope=g.scope, now=utcnow(), photo=photo)
        except DomainError as error:
            for name, messages in (error.errors or {}).items():
                if name in form:
                    form[name].errors = list(form[name].errors) + [say(m) for m in messages]
            _flash_error(error)
        else:
            flash(ngettext("Whistle raised, %(num)d unit summoned", "Whistle raised, %(num)d units summoned",
                           len(whistle.summons)))
            return redirect(url_for("grid.whistle", whistle_id=whistle.id))
    return render_template("grid_whistle_new.html", form=form, user=current_user.user)


@bp.get("/whistles/<int:whistle_id>")
def whistle(whistle_id: int):
    """One whistle: each unit's answers against the deadlines, the history, close or reopen."""
    item = whistles.get_whistle(whistle_id)
    return render_template("grid_whistle.html", w=item, events=whistles.whistle_events(whistle_id),
                           kinds=KIND_LABELS, grades=GRADE_LABELS, answers=ANSWER_LABELS, local=_local, now=utcnow(),
                           event_labels=EVENT_LABELS, note_form=NoteForm(), answer_form=AnswerForm(),
                           user=current_user.user)


@bp.get("/whistles/<int:whistle_id>/photo")
def whistle_photo(whistle_id: int):
    """The whistle's photo, with the type checked when it was stored."""
    item = whistles.get_whistle(whistle_id)
    if item.photo is None:
        return Response(status=404)
    return Response(item.photo, mimetype=item.photo_type, headers={"X-Content-Type-Options": "nosniff"})


@bp.post("/whistles/<int:whistle_id>/answer")
def answer(whistle_id: int):
    """Record a unit's answer given by phone or in person."""
    unit_id = request.form.get("unit_id", "")
    if AnswerForm().validate_on_submit() and unit_id.isdecimal() and len(unit_id) < 10:
        try:
            whistles.answer_for_unit(whistle_id, int(unit_id), request.form.get("action", ""), scope=g.scope,
                                     now=utcnow())
            flash(_("Recorded"))
        except DomainError as error:
            _flash_error(error)
    return redirect(url_for("grid.whistle", whistle_id=whistle_id))


@bp.post("/whistles/<int:whistle_id>/close")
def close(whistle_id: int):
    """Close the case off (销号), or reopen it, with a note."""
    form = NoteForm()
    reopen = request.form.get("reopen") == "1"
    if not form.validate_on_submit():
        flash(_("Write a note"))
        return redirect(url_for("grid.whistle", whistle_id=whistle_id))
    try:
        action = whistles.reopen_whistle if reopen else whistles.close_whistle
        action(whistle_id, note=form.note.data, scope=g.scope, now=utcnow())
        flash(_("Reopened") if reopen else _("Closed off"))
    except DomainError as error:
        _flash_error(error)
    return redirect(url_for("grid.whistle", whistle_id=whistle_id))


@bp.post("/whistles/<int:whistle_id>/campaign")
def staff(whistle_id: int):
    """When people are needed: draft a staffing campaign from the whistle, then review it on the console."""
    if not AnswerForm().validate_on_submit():
        return redirect(url_for("grid.whistle", whistle_id=whistle_id))
    day = request.form.get("day", "")
    headcount = request.form.get("headcount", "").strip()
    body = {"start": local_time(day, request.form.get("start", ""), ZoneInfo(current_app.config["TIMEZONE"])),
            "end": local_time(day, request.form.get("end", ""), ZoneInfo(current_app.config["TIMEZONE"])), "role": request.form.get("role", ""),
            "headcount": int(headcount) if headcount.isdecimal() and len(headcount) < 6 else headcount}
    try:
        campaign = whistles.turn_into_campaign(whistle_id, WhistleCampaignSchema().load(body), scope=g.scope,
                                               now=utcnow())
    except MarshmallowError as error:
        flash(_("Not done: %(details)s", details="; ".join(f"{name}: {' '.join(say(m) for m in msgs)}"
                                                           for name, msgs in error.messages.items())))
    except DomainError as error:
        _flash_error(error)
    else:
        flash(_("Campaign drafted: review and publish it"))
        return redirect(url_for("office.campaign", campaign_id=campaign.id))
    return redirect(url_for("grid.whistle", whistle_id=whistle_id))


@bp.get("/visits")
def my_visits():
    """The visitor's list for the running rounds, on the phone; priority flags are audited when shown."""
    user = current_user.user
    rows = visits.list_my_visits(user.volunteer_id, now=utcnow())
    flagged = sum(1 for visit in rows if visit.target.priority is not None)
    if flagged:
        record_event(actor=g.scope.actor, role=g.scope.role.value, action="GET grid.my_visits", now=utcnow(),
                     outcome="200", detail=f"priority_flags={flagged}")
        db.session.commit()
    return render_template("grid_visits.html", rows=rows, outcomes=OUTCOME_LABELS, priorities=PRIORITY_LABELS,
                           form=VisitForm(), local=_local, user=user)


@bp.post("/visits/<int:visit_id>")
def record_visit(visit_id: int):
    """Record one visit; a problem with a title raises a whistle in the same step."""
    form = VisitForm()
    if not form.validate_on_submit():
        flash(_("Choose what the visit found"))
        return redirect(url_for("grid.my_visits"))
    data = {"outcome": form.outcome.data, "note": form.note.data}
    if form.outcome.data == VisitOutcome.PROBLEM.value and (form.problem_title.data or "").strip():
        kind = form.problem_kind.data if form.problem_kind.data in {k.value for k in ProblemKind} else "other"
        data["whistle"] = {"title": form.problem_title.data.strip(), "kind": kind}
    try:
        visit = visits.record_visit(visit_id, data, scope=g.scope, now=utcnow())
        flash(_("Recorded: %(target)s; a whistle was raised", target=visit.target.label) if visit.whistle_id
              else _("Recorded: %(target)s", target=visit.target.label))
    except DomainError as error:
        _flash_error(error)
    return redirect(url_for("grid.my_visits") + f"#visit-{visit_id}")


@bp.get("/reports")
def report():
    """Whistles against their deadlines by kind, grade, unit or grid (last 30 days), and the responder units."""
    group_by = request.args.get("group_by") if request.args.get("group_by") in reports.GROUPS else "kind"
    rows = reports.whistle_report(scope=g.scope, group_by=group_by, now=utcnow())
    unit_rows = db.session.scalars(units.list_units(scope=g.scope).limit(200)).all()
    return render_template("grid_report.html", rows=rows, group_by=group_by, groups=reports.GROUPS, units=unit_rows,
                           kind_names={k.value: label for k, label in KIND_LABELS.items()},
                           user=current_user.user)


TARGET_KIND_LABELS = {VisitTargetKind.HOUSEHOLD: _l("Households"), VisitTargetKind.COURTYARD: _l("Courtyards"),
                      VisitTargetKind.SHOP: _l("Street-front shops")}
ROUND_KIND_LABELS = {RoundKind.MONTHLY: _l("Monthly cycle"), RoundKind.DRIVE: _l("One-off drive")}
TARGETS_PAGE_SIZE = 50


class RoundForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=100)])
    grid_id = SelectField(_l("Area"), coerce=int, validate_choice=False, validators=[InputRequired()])
    kind = RadioField(_l("Kind"), choices=[(k.value, label) for k, label in ROUND_KIND_LABELS.items()],
                      default=RoundKind.MONTHLY.value)
    target_kinds = MultiCheckboxField(_l("Targets"), default=[VisitTargetKind.HOUSEHOLD.value],
                                      choices=[(k.value, label) for k, label in TARGET_KIND_LABELS.items()])
    due = DateField(_l("Due by"), validators=[InputRequired()])


class TargetForm(FlaskForm):
    grid_id = SelectField(_l("Grid"), coerce=int, validate_choice=False, validators=[InputRequired()])
    kind = SelectField(_l("Kind"), choices=[(k.value, label) for k, label in TARGET_KIND_LABELS.items()])
    label = StringField(_l("Name (e.g. block 3, entrance 2, flat 301)"), validators=[DataRequired(), Length(max=100)])
    building = StringField(_l("Building"), validators=[Optional(), Length(max=40)])
    unit_no = StringField(_l("Entrance"), validators=[Optional(), Length(max=20)])
    x = FloatField(_l("Metres east"), default=0.0, validators=[Optional()])
    y = FloatField(_l("Metres north"), default=0.0, validators=[Optional()])
    # Checked by the API's schema (an unknown value is named there); a missing one means none.
    priority = SelectField(_l("Priority"), choices=[("", _l("None"))] + list(PRIORITY_LABELS.items()),
                           validate_choice=False, validators=[Optional()])


def _area_choices(min_level: int) -> list[SelectChoice]:
    return [SelectChoice(grid.id, grid.name) for grid in _my_grids(min_level=min_level)]


def _schema_errors(form: FlaskForm, error, rename: dict[str, str] | None = None) -> None:
    """Put a schema's or service's errors next to the form's fields (the rest as a flash)."""
    messages = error.messages if isinstance(error, MarshmallowError) else (error.errors or {"form": [error.message]})
    for name, found in messages.items():
        field = (rename or {}).get(name, name)
        text = [say(m) for m in (found if isinstance(found, list) else [found])]
        if field in form:
            form[field].errors = list(form[field].errors) + text
        else:
            flash(_("Not saved: %(details)s", details="; ".join(text)))


UNIT_TYPE_LABELS = {UnitType.SECTION: _l("Street-office section"), UnitType.STATION: _l("Sunk-down station"),
                    UnitType.UTILITY: _l("Utility"), UnitType.PARTNER: _l("Partner unit")}


class UnitForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    unit_type = SelectField(_l("Type"), choices=[(t.value, label) for t, label in UNIT_TYPE_LABELS.items()])
    office_grid_id = SelectField(_l("Kept by"), coerce=int, validate_choice=False, validators=[InputRequired()])
    kinds = MultiCheckboxField(_l("Problems it handles"),
                               choices=[(k.value, label) for k, label in KIND_LABELS.items()])
    grid_ids = SelectMultipleField(_l("Grids it covers (with everything below)"), coerce=int,
                                   validate_choice=False)
    duty_mobile = StringField(_l("Mobile of the person on duty"),
                              validators=[DataRequired(), Length(min=11, max=11)])


@bp.route("/units", methods=["GET", "POST"])
def unit_list():
    """Responder units the office sees, and a form for a street office (or the district) to register one."""
    form = UnitForm()
    keepers = [grid for grid in _my_grids(min_level=0) if grid.level in units.KEEPER_LEVELS]
    form.office_grid_id.choices = [SelectChoice(grid.id, grid.name) for grid in keepers]
    form.grid_ids.choices = _area_choices(min_level=1)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                duty = units.find_by_mobile(form.duty_mobile.data)
                body = {"name": form.name.data.strip(), "unit_type": form.unit_type.data,
                        "office_grid_id": form.office_grid_id.data, "kinds": form.kinds.data,
                        "grid_ids": form.grid_ids.data, "member_ids": [duty.id], "duty_volunteer_id": duty.id}
                unit = units.register_unit(UnitCreateSchema().load(body), scope=g.scope, now=utcnow())
            except (MarshmallowError, DomainError) as error:
                db.session.rollback()
                _schema_errors(form, error, {"member_ids": "duty_mobile", "duty_volunteer_id": "duty_mobile"})
            else:
                flash(_("Unit %(name)s registered; whistles call its person on duty", name=unit.name))
                return redirect(url_for("grid.unit_list"))
        status = 422
    rows = db.session.scalars(units.list_units(scope=g.scope).limit(200)).all()
    return render_template("grid_units.html", rows=rows, form=form, types=UNIT_TYPE_LABELS,
                           kinds={kind.value: label for kind, label in KIND_LABELS.items()},
                           may_register=bool(keepers), user=current_user.user), status


@bp.route("/rounds", methods=["GET", "POST"])
def rounds():
    """The office's visit rounds, and a form to start one: every target of the area assigned to a visitor."""
    form = RoundForm()
    form.grid_id.choices = _area_choices(min_level=1)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            zone = ZoneInfo(current_app.config["TIMEZONE"])
            due = datetime.combine(form.due.data, time(23, 59), tzinfo=zone)
            body = {"title": form.title.data.strip(), "grid_id": form.grid_id.data, "kind": form.kind.data,
                    "target_kinds": form.target_kinds.data, "due_at": due.isoformat()}
            try:
                created = visits.create_round(RoundCreateSchema().load(body), scope=g.scope, now=utcnow())
            except (MarshmallowError, DomainError) as error:
                db.session.rollback()
                _schema_errors(form, error, {"due_at": "due"})
            else:
                flash(_("Round %(title)s created and every target assigned", title=created.title))
                return redirect(url_for("grid.round_coverage", round_id=created.id))
        status = 422
    rows = db.session.scalars(visits.list_rounds(scope=g.scope).limit(50)).all()
    return render_template("grid_rounds.html", rows=rows, form=form, local=_local,
                           user=current_user.user), status


@bp.route("/targets", methods=["GET", "POST"])
def targets():
    """The register of visit targets of the office's area (50 a page, by grid), and a form to add one."""
    form = TargetForm()
    form.grid_id.choices = _area_choices(min_level=visits.GRID_LEVEL)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            body = {"grid_id": form.grid_id.data, "kind": form.kind.data, "label": form.label.data.strip(),
                    "building": (form.building.data or "").strip() or None,
                    "unit_no": (form.unit_no.data or "").strip() or None,
                    "x": form.x.data or 0.0, "y": form.y.data or 0.0, "priority": form.priority.data or None}
            try:
                [added] = visits.register_targets([TargetCreateSchema().load(body)], scope=g.scope)
            except (MarshmallowError, DomainError) as error:
                db.session.rollback()
                _schema_errors(form, error)
            else:
                flash(_("Target %(label)s added", label=added.label))
                return redirect(url_for("grid.targets", grid_id=added.grid_id))
        status = 422
    grid_id = request.args.get("grid_id", type=int)
    page = max(1, request.args.get("page", 1, type=int) or 1)
    stmt = visits.list_targets(scope=g.scope, grid_id=grid_id)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.scalars(stmt.limit(TARGETS_PAGE_SIZE).offset((page - 1) * TARGETS_PAGE_SIZE)).all()
    g.audit_detail = f"count={len(rows)}"  # the list shows priority flags: the request audit records how many
    return render_template("grid_targets.html", rows=rows, form=form, total=total, page=page,
                           pages=max(1, -(-total // TARGETS_PAGE_SIZE)), grid_id=grid_id, grids=form.grid_id.choices,
                           kinds=TARGET_KIND_LABELS, priorities=PRIORITY_LABELS,
                           user=current_user.user), status


@bp.get("/rounds/<int:round_id>")
def round_coverage(round_id: int):
    """A round's coverage per grid and who is behind."""
    return render_template("grid_round.html", c=visits.coverage(round_id, now=utcnow()), local=_local,
                           user=current_user.user)
