"""The office console: a community or street office's campaigns, their staffing board and the actions on them.

Pages for signed-in office and admin accounts. The sign-in and access check is the one of ``web/auth.py``
(``require_sign_in`` → ``accounts.access.authorize``), so ``PERMISSIONS`` decides who may open each page and
``OWNERS`` turns a ``campaign_id`` outside the office's subtree into a 404. Every action calls the service the
API view calls, flashes the outcome in Chinese and English and redirects back to the board (POST-redirect-GET).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from marshmallow import ValidationError as MarshmallowError
from sqlalchemy import func, select
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from api.schemas.campaigns import CampaignCreateSchema
from callups.models import NotificationStatus
from callups.services import list_campaign_notifications
from callups import alerts, checkin_codes
from campaigns import attendance, backfill, overrides, services
from campaigns.models import CallUpEvent, CallUpStatus, CampaignStatus, GridAlertRecipient, Priority
from core.clock import utcnow
from core.errors import DomainError
from core.kinds import KIND_LABELS, CampaignKind
from core.masking import mask_mobile
from extensions import db
from grids.models import Grid
from grids.paths import path_ids
from grids.services import list_grids
from volunteers.services import list_skills
from campaigns.changes import get_shift
from web.auth import _lang, _no_store, require_sign_in
from web.hours import qr_svg

bp = Blueprint("office", __name__, url_prefix="/office")
bp.before_request(require_sign_in)
bp.after_request(_no_store)

PAGE_SIZE = 20
TIMELINE_SIZE = 50
MAX_REASONS_SHOWN = 3
STATUS_LABELS = {
    CampaignStatus.DRAFT: "草稿 · Draft", CampaignStatus.PUBLISHED: "已发布 · Published",
    CampaignStatus.STAFFED: "已满员 · Staffed", CampaignStatus.PARTLY_STAFFED: "部分满员 · Partly staffed",
    CampaignStatus.RUNNING: "进行中 · Running", CampaignStatus.DONE: "已结束 · Done",
    CampaignStatus.CANCELLED: "已取消 · Cancelled",
}
PRIORITY_LABELS = {Priority.ROUTINE: "常规 · Routine", Priority.URGENT: "紧急 · Urgent",
                   Priority.EMERGENCY: "应急 · Emergency"}
ETA_COLUMNS = (("on_site", "已到岗 · On site"), ("within_15", "15 分钟内 · ≤15 min"),
               ("within_30", "30 分钟内 · ≤30 min"), ("within_60", "1 小时内 · ≤1 h"),
               ("later", "1 小时以上 · Later"), ("unknown", "未告知 · Not said"))
FIELD_LABELS = {"attended": "到岗 · attendance", "status": "状态 · status", "reason": "原因 · reason", "hours": "时长 · hours",
                "grid_id": "范围 · grid", "shifts": "班次 · shifts"}


class ActionForm(FlaskForm):
    """Publish and the match dry run: only the CSRF token."""


class AlertForm(FlaskForm):
    message = StringField("预警内容 · What is happening", validators=[DataRequired(), Length(max=200)],
                          id="alert-message")


class CancelForm(FlaskForm):
    reason = StringField("取消原因 · Reason", validators=[DataRequired(), Length(max=500)])


class OverrideForm(FlaskForm):
    # The service checks the grid (above the office, within the caller's scope): one rule, one place.
    # Own ids: the cancel form on the same page has a "reason" too.
    grid_id = SelectField("招募范围 · Recruit across", coerce=int, validate_choice=False, validators=[InputRequired()],
                          id="override-grid")
    reason = StringField("原因 · Reason", validators=[DataRequired(), Length(min=4, max=500)], id="override-reason")
    hours = IntegerField("时长（小时）· Hours", default=6, id="override-hours",
                         validators=[InputRequired(), NumberRange(min=1, max=overrides.MAX_OVERRIDE_HOURS)])


def _local(value):
    """A UTC time as local ``YYYY-MM-DD HH:MM`` (the deployment's zone), or an empty string."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime("%Y-%m-%d %H:%M")


def _override_grids(campaign) -> list[Grid]:
    """Grids above the campaign's office that the caller covers: its street, the district (widest first)."""
    ancestors = path_ids(campaign.office.path)[:-1]
    if not ancestors:
        return []
    rows = db.session.scalars(select(Grid).where(Grid.id.in_(ancestors)).order_by(Grid.level)).all()
    # A street office may widen its own campaigns to the district (campaigns/overrides.py).
    own = g.scope.grid_path is not None and campaign.office.path == g.scope.grid_path
    return [grid for grid in rows if own or g.scope.covers(grid.path)]


def _flash_error(zh: str, en: str, error: DomainError) -> None:
    """A refused action as one message naming the fields the service named."""
    db.session.rollback()
    details = "; ".join(f"{FIELD_LABELS.get(name, name)}: {' '.join(str(m) for m in messages)}"
                        for name, messages in (error.errors or {}).items())
    flash(f"{zh} {en}: {details or error.message}")


def _flash_form_errors(zh: str, en: str, form: FlaskForm) -> None:
    details = "; ".join(f"{getattr(form, name).label.text}: {' '.join(messages)}"
                        for name, messages in form.errors.items())
    flash(f"{zh} {en}: {details}")


def _back(campaign_id: int):
    return redirect(url_for("office.campaign", campaign_id=campaign_id))


@bp.get("/campaigns")
def campaigns():
    """The office's campaigns, newest first, 20 a page, with an optional status filter."""
    status = next((s for s in CampaignStatus if s.value == request.args.get("status")), None)
    page = request.args.get("page", "1")
    page = int(page) if page.isdecimal() and len(page) <= 5 and int(page) > 0 else 1
    stmt = services.list_campaigns(scope=g.scope, status=status)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(page, pages)
    rows = db.session.scalars(stmt.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    items = []
    for campaign in rows:
        board = services.staffing(campaign.id)
        items.append({"campaign": campaign, "status": STATUS_LABELS[campaign.status],
                      "priority": PRIORITY_LABELS[campaign.priority], "kind": KIND_LABELS[campaign.kind],
                      "first_shift": _local(campaign.shifts[0].start_at) if campaign.shifts else "",
                      "fill_rate": board["fill_rate"], "accepted": board["accepted"], "headcount": board["headcount"]})
    return render_template("office_campaigns.html", items=items, status=status, statuses=STATUS_LABELS,
                           page=page, pages=pages, total=total, lang=_lang(), user=current_user.user)


@bp.get("/campaigns/<int:campaign_id>")
def campaign(campaign_id: int):
    """The staffing board of one campaign, its recent history and the actions on it."""
    campaign = services.get_campaign(campaign_id)
    board = services.staffing(campaign_id)
    newest = (services.list_timeline(campaign_id).order_by(None)
              .order_by(CallUpEvent.at.desc(), CallUpEvent.id.desc()).limit(TIMELINE_SIZE))
    timeline = list(reversed(db.session.execute(newest).all()))
    failed = db.session.scalar(select(func.count()).select_from(
        list_campaign_notifications(campaign_id, status=NotificationStatus.FAILED).order_by(None).subquery()))
    active_overrides = db.session.scalars(overrides.list_overrides(campaign_id).limit(10)).all()
    closed = campaign.status in (CampaignStatus.CANCELLED, CampaignStatus.DONE)
    override_form = None
    if g.scope.may_open_override and not closed:
        override_form = OverrideForm()
        override_form.grid_id.choices = [(grid.id, grid.name) for grid in _override_grids(campaign)]
    # Publishing with places nobody can fill asks first: the dry run's reasons, then "publish anyway".
    confirm_publish = None
    if request.args.get("confirm_publish") and campaign.status is CampaignStatus.DRAFT:
        plan = services.match_campaign(campaign_id, now=utcnow(), timezone_name=current_app.config["TIMEZONE"])
        confirm_publish = [{"role": p.role, "open": p.places_left_open, "reasons": p.reasons}
                           for p in plan.positions if p.places_left_open]
    alert_form = AlertForm() if campaign.priority is not Priority.ROUTINE and not closed \
        and campaign.status is not CampaignStatus.DRAFT else None
    return render_template(
        "office_campaign.html", campaign=campaign, board=board, timeline=timeline, failed=failed,
        overrides=active_overrides, now=utcnow(), local=_local, closed=closed,
        status=STATUS_LABELS[campaign.status], priority=PRIORITY_LABELS[campaign.priority],
        kind=KIND_LABELS[campaign.kind], eta_columns=ETA_COLUMNS, action_form=ActionForm(), roster=_roster(campaign_id),
        codes=[] if campaign.status is CampaignStatus.DRAFT or closed else _check_in_codes(campaign),
        undo_batch=request.args.get("undo", "")[:16], undo_shift=request.args.get("shift", type=int),
        cancel_form=CancelForm(), override_form=override_form, alert_form=alert_form,
        confirm_publish=confirm_publish, lang=_lang(), user=current_user.user)


ROSTER_STATUS = {CallUpStatus.ACCEPTED: "已确认 · Accepted", CallUpStatus.ATTENDED: "已到岗 · Attended",
                 CallUpStatus.NO_SHOW: "未到 · No-show"}


def _roster(campaign_id: int) -> list[dict]:
    """Who accepted, per position, with masked mobiles and whether they may be marked now."""
    now = utcnow()
    people = []
    for callup, volunteer, position, shift in db.session.execute(attendance.list_roster(campaign_id)).all():
        opens, closes = attendance.marking_window(shift, attended=True)
        no_show_opens, _ = attendance.marking_window(shift, attended=False)
        note = ("班次前两小时开放 · Opens two hours before the shift" if now < opens
                else "登记已截止 · Closed a week after the shift" if now > closes else "")
        people.append({"callup": callup, "name": volunteer.name, "mobile": mask_mobile(volunteer.mobile),
                       "role": position.role, "start": _local(shift.start_at), "status": ROSTER_STATUS[callup.status],
                       "may_attend": opens <= now <= closes, "may_no_show": no_show_opens <= now <= closes,
                       "may_check_out": callup.status is CallUpStatus.ATTENDED and callup.checked_out_at is None
                       and now <= closes, "checked_in": _local(callup.attended_at)[11:],
                       "checked_out": _local(callup.checked_out_at)[11:],
                       "punctuality": attendance.punctuality(callup, shift), "note": note})
    return people


def _check_in_codes(campaign) -> list[dict]:
    """Per shift that is not over: its QR code (inline SVG), whether "everyone came" may be pressed now."""
    now = utcnow()
    codes = []
    for shift in campaign.shifts:
        if now > checkin_codes.code_expires_at(shift):
            continue
        opens, closes = attendance.marking_window(shift, attended=True)
        codes.append({"shift": shift, "svg": qr_svg(checkin_codes.shift_check_in_url(shift), scale=3),
                      "start": _local(shift.start_at), "everyone_open": opens <= now <= closes})
    return codes


def _shift_of_campaign(campaign_id: int, shift_id: int):
    shift = get_shift(shift_id)
    if shift.campaign_id != campaign_id:
        abort(404)
    return shift


@bp.get("/campaigns/<int:campaign_id>/shifts/<int:shift_id>/code")
def shift_code(campaign_id: int, shift_id: int):
    """A printable sheet with the shift's check-in QR code, to put up where people arrive."""
    shift = _shift_of_campaign(campaign_id, shift_id)
    url = checkin_codes.shift_check_in_url(shift)
    return render_template("office_shift_code.html", campaign=shift.campaign, shift=shift, url=url,
                           svg=qr_svg(url, scale=8), start=_local(shift.start_at), end=_local(shift.end_at)[11:],
                           expires=_local(checkin_codes.code_expires_at(shift)), lang=_lang(), user=current_user.user)


@bp.post("/campaigns/<int:campaign_id>/shifts/<int:shift_id>/everyone-came")
def everyone_came(campaign_id: int, shift_id: int):
    """"Everyone came": every accepted person of the shift checked in at once, with an undo on the board."""
    if not ActionForm().validate_on_submit():
        abort(400)
    _shift_of_campaign(campaign_id, shift_id)
    try:
        batch, marked = attendance.mark_everyone_attended(shift_id, actor=g.scope.actor, now=utcnow())
    except DomainError as error:
        _flash_error("未能登记", "Could not record attendance", error)
        return redirect(url_for("office.campaign", campaign_id=campaign_id, _anchor="roster"))
    flash(f"已登记 {len(marked)} 人到岗。Checked in {len(marked)} people.")
    return redirect(url_for("office.campaign", campaign_id=campaign_id, undo=batch, shift=shift_id, _anchor="roster"))


@bp.post("/campaigns/<int:campaign_id>/shifts/<int:shift_id>/everyone-came/undo")
def undo_everyone_came(campaign_id: int, shift_id: int):
    """Take back an "everyone came" (marks changed since stay as they are)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    _shift_of_campaign(campaign_id, shift_id)
    try:
        undone = attendance.undo_batch(shift_id, request.form.get("batch", ""), actor=g.scope.actor, now=utcnow())
    except DomainError as error:
        _flash_error("未能撤销", "Could not undo", error)
    else:
        flash(f"已撤销 {len(undone)} 人的到岗登记。Undone for {len(undone)} people.")
    return redirect(url_for("office.campaign", campaign_id=campaign_id, _anchor="roster"))


@bp.post("/campaigns/<int:campaign_id>/attendance/<int:callup_id>/check-out")
def check_out(campaign_id: int, callup_id: int):
    """Record that a checked-in person left now (an early leave shows on the roster)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    if services.get_callup(callup_id).position.shift.campaign_id != campaign_id:
        abort(404)
    try:
        attendance.check_out(callup_id, actor=g.scope.actor, now=utcnow())
    except DomainError as error:
        _flash_error("未能签退", "Could not check out", error)
    else:
        flash("已登记签退。Checked out.")
    return redirect(url_for("office.campaign", campaign_id=campaign_id, _anchor="roster"))


@bp.post("/campaigns/<int:campaign_id>/attendance/<int:callup_id>")
def mark_attendance(campaign_id: int, callup_id: int):
    """Check a person in (attended) or record a no-show, from the board's roster."""
    choice = request.form.get("attended")
    if not ActionForm().validate_on_submit() or choice not in ("1", "0"):
        abort(400)
    callup = services.get_callup(callup_id)
    if callup.position.shift.campaign_id != campaign_id:
        abort(404)
    try:
        attendance.record_attendance(callup_id, attended=choice == "1", actor=g.scope.actor, now=utcnow())
    except DomainError as error:
        _flash_error("未能登记", "Could not record attendance", error)
    else:
        flash("已登记到岗。Checked in." if choice == "1" else "已登记未到。Recorded as a no-show.")
    return redirect(url_for("office.campaign", campaign_id=campaign_id, _anchor="roster"))


@bp.post("/campaigns/<int:campaign_id>/publish")
def publish(campaign_id: int):
    """Publish a draft: its best-fit proposals become scheduled call-ups."""
    if not ActionForm().validate_on_submit():
        abort(400)
    zone = current_app.config["TIMEZONE"]
    try:
        if request.form.get("confirm") != "1":
            services.check_publishable(campaign_id, now=utcnow())
            plan = services.match_campaign(campaign_id, now=utcnow(), timezone_name=zone)
            if any(position.places_left_open for position in plan.positions):
                # Ask before publishing places nobody can fill: the board shows why, with "publish anyway".
                return redirect(url_for("office.campaign", campaign_id=campaign_id, confirm_publish=1,
                                        _anchor="confirm-publish"))
        published = services.publish_campaign(campaign_id, actor=g.scope.actor, now=utcnow(), timezone_name=zone)
    except DomainError as error:
        _flash_error("未能发布", "Could not publish", error)
    else:
        left = sum((p.unfilled_reasons or {}).get("open", 0) for s in published.shifts for p in s.positions)
        if left:
            flash(f"已发布，但有 {left} 个名额暂时无人可召集，原因见岗位表；放宽范围或修改要求后会立即重新匹配。"
                  f"Published, but {left} places have nobody to call yet: see the reasons in the positions table; "
                  f"widening the search or changing the needs re-matches at once.")
        else:
            flash("已发布，召集将按计划发出。Published: the call-ups go out as planned.")
    return _back(campaign_id)


@bp.post("/campaigns/<int:campaign_id>/alert")
def alert(campaign_id: int):
    """Urgent and emergency campaigns: alert (预警) the staff and grid members of the whole area at once."""
    form = AlertForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        _flash_form_errors("未能发出预警", "Could not send the alert", form)
        return _back(campaign_id)
    try:
        sent = alerts.broadcast_alert(campaign_id, message=form.message.data, actor=g.scope.actor, now=utcnow())
    except DomainError as error:
        _flash_error("未能发出预警", "Could not send the alert", error)
    else:
        count = db.session.scalar(select(func.count()).select_from(GridAlertRecipient)
                                  .where(GridAlertRecipient.alert_id == sent.id))
        flash(f"预警已发给 {count} 人（网格各级工作人员和网格员），确认情况见下方。"
              f"Alert sent to {count} people (staff and grid members of every level); acknowledgements below.")
    return _back(campaign_id)


@bp.post("/campaigns/<int:campaign_id>/cancel")
def cancel(campaign_id: int):
    """Cancel with a reason: open call-ups are withdrawn and those who accepted are told."""
    form = CancelForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        _flash_form_errors("未能取消", "Could not cancel", form)
        return _back(campaign_id)
    try:
        services.cancel_campaign(campaign_id, reason=form.reason.data, actor=g.scope.actor, now=utcnow())
    except DomainError as error:
        _flash_error("未能取消", "Could not cancel", error)
    else:
        flash("活动已取消，已通知已确认的志愿者。Cancelled: the people who accepted have been told.")
    return _back(campaign_id)


@bp.post("/campaigns/<int:campaign_id>/match")
def match(campaign_id: int):
    """Dry run of the matcher: how many would be called and why places stay open; nothing changes."""
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        plan = services.match_campaign(campaign_id, now=utcnow(), timezone_name=current_app.config["TIMEZONE"])
    except DomainError as error:
        _flash_error("未能试匹配", "Could not run the dry run", error)
        return _back(campaign_id)
    proposals = sum(len(position.proposals) for position in plan.positions)
    unfilled = sum(position.unfilled for position in plan.positions)
    flash(f"试匹配（未做任何更改）：拟召集 {proposals} 人，仍缺 {unfilled} 人。"
          f"Dry run (nothing changed): {proposals} proposals, {unfilled} places unfilled.")
    shown = []
    for position in plan.positions:
        for reason in position.reasons:
            text = f"{position.role}：{reason.get('text_zh', '')} · {reason.get('text', '')}"
            if text not in shown:
                shown.append(text)
    for text in shown[:MAX_REASONS_SHOWN]:
        flash(text)
    return _back(campaign_id)


@bp.post("/campaigns/<int:campaign_id>/override")
def override(campaign_id: int):
    """Emergency: let the campaign recruit across its street or the district for some hours."""
    campaign = services.get_campaign(campaign_id)
    form = OverrideForm()
    form.grid_id.choices = [(grid.id, grid.name) for grid in _override_grids(campaign)]
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        _flash_form_errors("未能放宽招募范围", "Could not open the override", form)
        return _back(campaign_id)
    try:
        opened = backfill.widen_search(campaign, grid_id=form.grid_id.data, reason=form.reason.data,
                                       hours=form.hours.data, scope=g.scope, now=utcnow(),
                                       timezone_name=current_app.config["TIMEZONE"])
    except DomainError as error:
        _flash_error("未能放宽招募范围", "Could not open the override", error)
    else:
        flash(f"已放宽招募范围至 {opened.grid.name}，至 {_local(opened.expires_at)} 结束；已立即重新匹配，"
              f"新召集 {opened.rematched} 人。Override open across {opened.grid.name} until "
              f"{_local(opened.expires_at)}; re-matched at once: {opened.rematched} more people called.")
    return _back(campaign_id)


# --- A new one-shift campaign from a form: the same dict the API receives, the same schema, the same service. ---

MAX_FORM_POSITIONS = 3
OFFICE_MAX_LEVEL = 2  # street (1) and community (2) offices; the district (0) for the admin
NEW_CAMPAIGN_LABELS = {
    "title": "标题 · Title", "kind": "类型 · Kind", "priority": "优先级 · Priority",
    "office_grid_id": "办公网格 · Office", "description": "说明 · Description",
    "contact_name": "联系人 · Contact", "contact_phone": "联系电话 · Contact phone",
    "date": "日期 · Date", "start": "开始时间 · Start", "end": "结束时间 · End", "place": "地点 · Place",
    "shift_grid_id": "班次网格 · Shift grid", "positions": "岗位 · Positions", "role": "岗位名称 · Role",
    "headcount": "人数 · Headcount", "skill": "所需技能 · Required skill", "min_level": "最低等级 · Minimum level",
    "min_party_members": "党员至少 · Party members at least", "form": "活动 · Campaign",
}
MESSAGES_ZH = {  # marshmallow's usual messages, in Chinese first
    "Missing data for required field.": "必填。",
    "Not a valid integer.": "请输入整数。",
    "Not a valid datetime.": "日期或时间无效。",
    "Not a phone number.": "电话号码格式不对。",
    "Must be after start.": "结束时间须晚于开始时间。",
    "Cannot exceed the headcount.": "不能多于人数。",
}
MESSAGE_STARTS_ZH = (("Unknown grid", "网格不存在或不在您的管辖范围内。"), ("Must be greater than or equal", "超出允许范围。"),
                     ("Length must be between", "长度不符合要求。"), ("Shorter than minimum length 1", "至少填写一项。"),
                     ("Must be one of", "请从列表中选择。"), ("Unknown skill", "技能不存在。"))


def _new_campaign_text(field: str, message: str) -> str:
    """One error as "label: 中文 English"."""
    zh = MESSAGES_ZH.get(message) or next((text for start, text in MESSAGE_STARTS_ZH if message.startswith(start)),
                                          "不在办公网格之内。" if "outside the office" in message else "")
    name, _, row = field.partition("-")
    label = NEW_CAMPAIGN_LABELS.get(name, name) + (f"（岗位 {row} · position {row}）" if row else "")
    return f"{label}: {zh}{' ' if zh else ''}{message}"


def _form_id(raw: str):
    """A select's value as the API's integer, or the raw text so the schema names it (strict integers)."""
    raw = raw.strip()
    return int(raw) if raw.isdecimal() and len(raw) <= 10 else raw


def _form_local_time(day: str, clock: str):
    """A local date and clock time as ISO 8601 with the deployment's offset; garbage goes on to the schema."""
    try:
        moment = datetime.combine(date.fromisoformat(day.strip()), time.fromisoformat(clock.strip()))
    except ValueError:
        return f"{day} {clock}".strip()
    return moment.replace(tzinfo=ZoneInfo(current_app.config["TIMEZONE"])).isoformat()


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text.strip())
    except ValueError:
        return False
    return True


def _campaign_body(form) -> tuple[dict, list[int]]:
    """The POST /api/v1/campaigns body a client would send for this form, and the form rows of its positions."""
    def text(name: str):
        value = form.get(name, "").strip()
        return value or None

    body = {key: text(key) for key in ("title", "kind", "priority", "description", "contact_name", "contact_phone")}
    body["office_grid_id"] = _form_id(form.get("office_grid_id", ""))
    positions, rows = [], []
    for row in range(1, MAX_FORM_POSITIONS + 1):
        role, headcount = text(f"role-{row}"), text(f"headcount-{row}")
        if role is None and headcount is None:
            continue
        position = {"role": role, "headcount": _form_id(headcount or ""),
                    "min_party_members": _form_id(form.get(f"min_party_members-{row}", "").strip() or "0")}
        if text(f"skill-{row}"):
            position["required_skills"] = [{"code": text(f"skill-{row}"),
                                            "min_level": _form_id(form.get(f"min_level-{row}", "").strip() or "1")}]
        positions.append({key: value for key, value in position.items() if value is not None})
        rows.append(row)
    day = form.get("date", "")
    shift = {"start": _form_local_time(day, form.get("start", "")), "end": _form_local_time(day, form.get("end", "")),
             "grid_id": _form_id(form.get("shift_grid_id", "")), "place": text("place"), "positions": positions}
    body["shifts"] = [{key: value for key, value in shift.items() if value not in (None, "")}]
    return {key: value for key, value in body.items() if value not in (None, "")}, rows


def _new_campaign_errors(errors: dict, rows: list[int]) -> dict[str, list[str]]:
    """Schema or service errors, nested like the body (shifts → 0 → positions → 1 → headcount), by form field."""
    found: dict[str, list[str]] = {}

    def add(field: str, messages) -> None:
        if isinstance(messages, dict):  # deeper than the form goes (a nested "_schema"): name the nearest field
            for inner in messages.values():
                add(field, inner)
        else:
            found.setdefault(field, []).extend(_new_campaign_text(field, str(m)) for m in messages)

    def add_position(row: int, position_errors) -> None:
        if not isinstance(position_errors, dict):
            return add(f"role-{row}", position_errors)
        for field, messages in position_errors.items():
            if field != "required_skills":
                add(f"{field}-{row}", messages)
            elif not isinstance(messages, dict):
                add(f"skill-{row}", messages)
            else:  # the one required skill: its code is the skill select, its level the level select
                for skill_errors in messages.values():
                    for key, inner in skill_errors.items():
                        add(f"{'skill' if key == 'code' else key}-{row}", inner)

    for name, messages in errors.items():
        shifts = messages if name == "shifts" and isinstance(messages, dict) else None
        if shifts is None:
            add(name, messages)
            continue
        for shift_errors in shifts.values():
            if not isinstance(shift_errors, dict):
                add("date", shift_errors)
                continue
            for key, value in shift_errors.items():
                if key == "positions" and isinstance(value, dict):
                    for index, position_errors in value.items():
                        add_position(rows[index] if isinstance(index, int) and index < len(rows) else 1,
                                     position_errors)
                else:
                    add({"grid_id": "shift_grid_id", "_schema": "date"}.get(key, key), value)
    return found


def _new_campaign_choices() -> dict:
    """What the selects offer: the caller's offices (street, community), the grids of their subtree, the skills."""
    grids = db.session.scalars(list_grids(scope=g.scope)).all()
    return {"kinds": [(kind.value, f"{KIND_LABELS[kind]} · {kind.value.replace('_', ' ')}") for kind in CampaignKind],
            "priorities": [(priority.value, label) for priority, label in PRIORITY_LABELS.items()],
            "offices": [grid for grid in grids if grid.level <= OFFICE_MAX_LEVEL],
            "grids": grids, "skills": db.session.scalars(list_skills()).all(),
            "rows": range(1, MAX_FORM_POSITIONS + 1), "levels": range(1, 6)}


@bp.route("/campaigns/new", methods=["GET", "POST"])
def new_campaign():
    """Draft a one-shift campaign with up to three positions; it opens on its board, ready for a dry run."""
    form = ActionForm()
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        body, rows = _campaign_body(request.form)
        try:
            data = CampaignCreateSchema().load(body)
            campaign = services.draft_campaign(data, scope=g.scope, now=utcnow())
        except MarshmallowError as error:
            errors, status = _new_campaign_errors(error.messages, rows), 422
        except DomainError as error:
            db.session.rollback()
            errors = _new_campaign_errors(error.errors or {"form": [error.message]}, rows)
            status = error.status_code
        else:
            flash(f"已创建活动草稿“{campaign.title}”，请试匹配后发布。"
                  f"Draft campaign created: run a dry run, then publish.")
            return redirect(url_for("office.campaign", campaign_id=campaign.id))
        if errors and not _is_date(request.form.get("date", "")):  # the times failed for want of a date: say so
            errors.pop("start", None), errors.pop("end", None)
            errors["date"] = [_new_campaign_text("date", "请填写日期。Enter a date (YYYY-MM-DD).")]
        values = request.form
    else:
        tomorrow = utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date() + timedelta(days=1)
        values = {"priority": Priority.ROUTINE.value, "office_grid_id": str(current_user.user.grid_id or ""),
                  "date": tomorrow.isoformat(), "start": "09:00", "end": "12:00", "min_party_members-1": "0"}
    return render_template("office_new_campaign.html", form=form, values=values, errors=errors,
                           labels=NEW_CAMPAIGN_LABELS, lang=_lang(), user=current_user.user,
                           **_new_campaign_choices()), status
