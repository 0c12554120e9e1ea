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
from extensions import db
from grids.models import Grid
from gridwork import reports, units, visits, whistles
from gridwork.models import ProblemKind, RoundKind, UnitType, VisitOutcome, VisitTargetKind, WhistleStatus
from web.auth import _lang, _no_store, require_sign_in
from web.campaign_form import local_time
from web.form_messages import both
from web.forms import MultiCheckboxField

bp = Blueprint("grid", __name__, url_prefix="/grid")
bp.before_request(require_sign_in)
bp.after_request(_no_store)

KIND_LABELS = {
    ProblemKind.SANITATION: "环境卫生 · Sanitation", ProblemKind.GAS_SAFETY: "燃气安全 · Gas safety",
    ProblemKind.FIRE_SAFETY: "消防安全 · Fire safety", ProblemKind.WATER_POWER: "水电气暖 · Water and power",
    ProblemKind.PUBLIC_ORDER: "治安秩序 · Public order", ProblemKind.BUILDING: "房屋设施 · Buildings",
    ProblemKind.TRAFFIC: "道路交通 · Traffic", ProblemKind.DISPUTE: "矛盾纠纷 · Disputes",
    ProblemKind.OTHER: "其他 · Other",
}
GRADE_LABELS = {Priority.ROUTINE: "一般 · Routine", Priority.URGENT: "紧急 · Urgent",
                Priority.EMERGENCY: "特急 · Emergency"}
OUTCOME_LABELS = {VisitOutcome.PENDING: "待走访 · To visit", VisitOutcome.DONE: "已走访 · Done",
                  VisitOutcome.NOBODY_HOME: "无人在家 · Nobody home", VisitOutcome.PROBLEM: "发现问题 · Problem found"}
PRIORITY_LABELS = {"living_alone": "独居 · Lives alone", "hardship": "困难 · Hardship", "elderly": "高龄 · Elderly",
                   "disabled": "残障 · Disabled"}
EVENT_LABELS = {"raised": "吹哨 · Raised", "summoned": "通知部门 · Unit summoned", "ack": "部门收到 · Acknowledged",
                "arrive": "部门报到 · On site", "resolve": "部门办结 · Resolved", "closed": "销号 · Closed off",
                "reopened": "重新办理 · Reopened", "escalated_1": "上报街道 · Escalated to the street office",
                "escalated_2": "上报区 · Escalated to the district", "campaign": "转为招募活动 · Campaign drafted"}
ANSWER_LABELS = {"ack": "已收到 · Acknowledged", "arrive": "已报到 · On site", "resolve": "已办结 · Resolved"}


class WhistleForm(FlaskForm):
    grid_id = SelectField("网格 · Grid", coerce=int, validate_choice=False, validators=[InputRequired()])
    title = StringField("问题 · Problem", validators=[DataRequired(), Length(max=100)])
    address = StringField("地点 · Address", validators=[DataRequired(), Length(max=200)])
    kind = SelectField("类别 · Kind", choices=[(k.value, label) for k, label in KIND_LABELS.items()])
    grade = RadioField("等级 · Grade", choices=[(p.value, label) for p, label in GRADE_LABELS.items()],
                       default=Priority.ROUTINE.value)
    description = TextAreaField("情况说明 · Details", validators=[Optional(), Length(max=1000)])
    photo = FileField("照片（可选）· Photo (optional)")


class NoteForm(FlaskForm):
    note = StringField("说明 · Note", validators=[DataRequired(), Length(max=500)])


class AnswerForm(FlaskForm):
    """A unit's answer recorded by the office: the CSRF token; the unit and action come from the button."""


class VisitForm(FlaskForm):
    outcome = RadioField("结果 · Outcome", choices=[(o.value, OUTCOME_LABELS[o]) for o in visits.RECORDABLE],
                         validators=[InputRequired()])
    note = StringField("备注 · Note", validators=[Optional(), Length(max=500)])
    problem_title = StringField("问题（吹哨）· Problem (raises a whistle)", validators=[Optional(), Length(max=100)])
    # Only read with a problem title; a plain "done" sends none.
    problem_kind = SelectField("类别 · Kind", choices=[(k.value, label) for k, label in KIND_LABELS.items()],
                               validate_choice=False)


def _local(value) -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime("%m-%d %H:%M")


def _flash_error(error: DomainError) -> None:
    db.session.rollback()
    details = "; ".join(f"{name}: {' '.join(str(m) for m in messages)}" for name, messages in (error.errors or {}).items())
    flash(f"未完成 · Not done: {details or error.message}")


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
                           local=_local, now=utcnow(), lang=_lang(), user=current_user.user)


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
                    form[name].errors = list(form[name].errors) + [str(m) for m in messages]
            _flash_error(error)
        else:
            flash(f"已吹哨，已通知 {len(whistle.summons)} 个部门 · Whistle raised, {len(whistle.summons)} units summoned")
            return redirect(url_for("grid.whistle", whistle_id=whistle.id))
    return render_template("grid_whistle_new.html", form=form, lang=_lang(), user=current_user.user)


@bp.get("/whistles/<int:whistle_id>")
def whistle(whistle_id: int):
    """One whistle: each unit's answers against the deadlines, the history, close or reopen."""
    item = whistles.get_whistle(whistle_id)
    return render_template("grid_whistle.html", w=item, events=whistles.whistle_events(whistle_id),
                           kinds=KIND_LABELS, grades=GRADE_LABELS, answers=ANSWER_LABELS, local=_local, now=utcnow(),
                           event_labels=EVENT_LABELS, note_form=NoteForm(), answer_form=AnswerForm(), lang=_lang(), user=current_user.user)


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
            flash("已记录 · Recorded")
        except DomainError as error:
            _flash_error(error)
    return redirect(url_for("grid.whistle", whistle_id=whistle_id))


@bp.post("/whistles/<int:whistle_id>/close")
def close(whistle_id: int):
    """Close the case off (销号), or reopen it, with a note."""
    form = NoteForm()
    reopen = request.form.get("reopen") == "1"
    if not form.validate_on_submit():
        flash("请填写说明 · Write a note")
        return redirect(url_for("grid.whistle", whistle_id=whistle_id))
    try:
        action = whistles.reopen_whistle if reopen else whistles.close_whistle
        action(whistle_id, note=form.note.data, scope=g.scope, now=utcnow())
        flash("已重新办理 · Reopened" if reopen else "已销号 · Closed off")
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
        flash("未完成 · Not done: " + "; ".join(f"{name}: {' '.join(map(str, msgs))}"
                                                 for name, msgs in error.messages.items()))
    except DomainError as error:
        _flash_error(error)
    else:
        flash("已生成招募活动草稿 · Campaign drafted: review and publish it")
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
                           form=VisitForm(), local=_local, lang=_lang(), user=user)


@bp.post("/visits/<int:visit_id>")
def record_visit(visit_id: int):
    """Record one visit; a problem with a title raises a whistle in the same step."""
    form = VisitForm()
    if not form.validate_on_submit():
        flash("请选择走访结果 · Choose what the visit found")
        return redirect(url_for("grid.my_visits"))
    data = {"outcome": form.outcome.data, "note": form.note.data}
    if form.outcome.data == VisitOutcome.PROBLEM.value and (form.problem_title.data or "").strip():
        kind = form.problem_kind.data if form.problem_kind.data in {k.value for k in ProblemKind} else "other"
        data["whistle"] = {"title": form.problem_title.data.strip(), "kind": kind}
    try:
        visit = visits.record_visit(visit_id, data, scope=g.scope, now=utcnow())
        flash(f"已记录：{visit.target.label} · Recorded" + (" · 已吹哨 · whistle raised" if visit.whistle_id else ""))
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
                           kind_names={k.value: label for k, label in KIND_LABELS.items()}, lang=_lang(),
                           user=current_user.user)


TARGET_KIND_LABELS = {VisitTargetKind.HOUSEHOLD: "住户 · Households", VisitTargetKind.COURTYARD: "楼院 · Courtyards",
                      VisitTargetKind.SHOP: "沿街商铺 · Street-front shops"}
ROUND_KIND_LABELS = {RoundKind.MONTHLY: "每月循环走访 · Monthly cycle", RoundKind.DRIVE: "专项排查 · One-off drive"}
TARGETS_PAGE_SIZE = 50


class RoundForm(FlaskForm):
    title = StringField("名称 · Title", validators=[DataRequired(), Length(max=100)])
    grid_id = SelectField("范围 · Area", coerce=int, validate_choice=False, validators=[InputRequired()])
    kind = RadioField("类型 · Kind", choices=[(k.value, label) for k, label in ROUND_KIND_LABELS.items()],
                      default=RoundKind.MONTHLY.value)
    target_kinds = MultiCheckboxField("走访对象 · Targets", default=[VisitTargetKind.HOUSEHOLD.value],
                                      choices=[(k.value, label) for k, label in TARGET_KIND_LABELS.items()])
    due = DateField("截止日期 · Due by", validators=[InputRequired()])


class TargetForm(FlaskForm):
    grid_id = SelectField("网格 · Grid", coerce=int, validate_choice=False, validators=[InputRequired()])
    kind = SelectField("类型 · Kind", choices=[(k.value, label) for k, label in TARGET_KIND_LABELS.items()])
    label = StringField("名称 · Name (e.g. 3幢2单元301)", validators=[DataRequired(), Length(max=100)])
    building = StringField("楼栋 · Building", validators=[Optional(), Length(max=40)])
    unit_no = StringField("单元 · Unit", validators=[Optional(), Length(max=20)])
    x = FloatField("东向（米）· Metres east", default=0.0, validators=[Optional()])
    y = FloatField("北向（米）· Metres north", default=0.0, validators=[Optional()])
    # Checked by the API's schema (an unknown value is named there); a missing one means none.
    priority = SelectField("关注 · Priority", choices=[("", "无 · None")] + list(PRIORITY_LABELS.items()),
                           validate_choice=False, validators=[Optional()])


def _area_choices(min_level: int) -> list[SelectChoice]:
    return [SelectChoice(grid.id, grid.name) for grid in _my_grids(min_level=min_level)]


def _schema_errors(form: FlaskForm, error, rename: dict[str, str] | None = None) -> None:
    """Put a schema's or service's errors next to the form's fields (the rest as a flash)."""
    messages = error.messages if isinstance(error, MarshmallowError) else (error.errors or {"form": [error.message]})
    for name, found in messages.items():
        field = (rename or {}).get(name, name)
        text = [both(str(m)) for m in (found if isinstance(found, list) else [found])]
        if field in form:
            form[field].errors = list(form[field].errors) + text
        else:
            flash(f"未保存 · Not saved：{'；'.join(text)}")


UNIT_TYPE_LABELS = {UnitType.SECTION: "街道科室 · Street-office section", UnitType.STATION: "下沉站所 · Sunk-down station",
                    UnitType.UTILITY: "公用事业 · Utility", UnitType.PARTNER: "共建单位 · Partner unit"}


class UnitForm(FlaskForm):
    name = StringField("名称 · Name", validators=[DataRequired(), Length(max=100)])
    unit_type = SelectField("类型 · Type", choices=[(t.value, label) for t, label in UNIT_TYPE_LABELS.items()])
    office_grid_id = SelectField("所属 · Kept by", coerce=int, validate_choice=False, validators=[InputRequired()])
    kinds = MultiCheckboxField("负责的问题 · Problems it handles",
                               choices=[(k.value, label) for k, label in KIND_LABELS.items()])
    grid_ids = SelectMultipleField("负责的网格 · Grids it covers (with everything below)", coerce=int,
                                   validate_choice=False)
    duty_mobile = StringField("值班人手机号 · Mobile of the person on duty",
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
                flash(f"已登记“{unit.name}”，吹哨时将通知其值班人 · Unit registered; whistles call its person on duty")
                return redirect(url_for("grid.unit_list"))
        status = 422
    rows = db.session.scalars(units.list_units(scope=g.scope).limit(200)).all()
    return render_template("grid_units.html", rows=rows, form=form, types=UNIT_TYPE_LABELS,
                           kinds={kind.value: label for kind, label in KIND_LABELS.items()},
                           may_register=bool(keepers), lang=_lang(), user=current_user.user), status


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
                flash(f"已创建走访“{created.title}”并分配到人 · Round created and every target assigned")
                return redirect(url_for("grid.round_coverage", round_id=created.id))
        status = 422
    rows = db.session.scalars(visits.list_rounds(scope=g.scope).limit(50)).all()
    return render_template("grid_rounds.html", rows=rows, form=form, local=_local, lang=_lang(),
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
                flash(f"已添加走访对象“{added.label}” · Target added")
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
                           kinds=TARGET_KIND_LABELS, priorities=PRIORITY_LABELS, lang=_lang(),
                           user=current_user.user), status


@bp.get("/rounds/<int:round_id>")
def round_coverage(round_id: int):
    """A round's coverage per grid and who is behind."""
    return render_template("grid_round.html", c=visits.coverage(round_id, now=utcnow()), local=_local, lang=_lang(),
                           user=current_user.user)
