"""The office console: a community or street office's campaigns, their staffing board and the actions on them.

Pages for signed-in office and admin accounts. The sign-in and access check is the one of ``web/auth.py``
(``require_sign_in`` → ``accounts.access.authorize``), so ``PERMISSIONS`` decides who may open each page and
``OWNERS`` turns a ``campaign_id`` outside the office's subtree into a 404. Every action calls the service the
API view calls, flashes the outcome in Chinese and English and redirects back to the board (POST-redirect-GET).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from marshmallow import ValidationError as MarshmallowError
from sqlalchemy import func, select
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from accounts.users import actor_names
from api.schemas.campaigns import CampaignCreateSchema
from callups import alerts, checkin_codes
from callups.services import list_campaign_notifications, send_failed_again
from campaigns import attendance, backfill, changes, invitations, overrides, services, team_offers
from campaigns.changes import get_shift
from campaigns.models import (CLOSED_CAMPAIGN_STATES, CallUpEvent, CallUpStatus, CampaignStatus, GridAlertRecipient,
                              Priority)
from campaigns.team_offers import MembersRefused
from core.clock import utcnow
from core.errors import DomainError
from core.kinds import KIND_LABELS, CampaignKind
from core.masking import mask_mobile
from extensions import db
from grids.models import Grid
from grids.paths import path_ids
from grids.services import list_grids
from notices.models import Channel, NotificationKind, NotificationStatus
from volunteers.services import list_skills, name_cards
from volunteers.models import Enterprise, Team
from volunteers.teams import list_offerable_teams
from web import campaign_form
from web.auth import _lang, _no_store, require_sign_in
from web.forms import flash_refused
from web.hours import qr_svg
from web.responses import LABELS as ANSWER_LABELS

bp = Blueprint("office", __name__, url_prefix="/office")
bp.before_request(require_sign_in)
bp.after_request(_no_store)

PAGE_SIZE = 20
TIMELINE_SIZE = 50
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
    # Cancelling tells everyone called: a real reason, and a tick that the clerk means it.
    reason = StringField("取消原因 · Reason (told to everyone called)", validators=[DataRequired(), Length(min=4, max=500)])
    confirm = BooleanField("确认取消并通知所有已召集的人 · Yes, cancel and tell everyone called",
                           validators=[DataRequired()], id="cancel-confirm")


class DeleteForm(FlaskForm):
    confirm = BooleanField("确认删除此草稿 · Yes, delete this draft", validators=[DataRequired()], id="delete-confirm")


class ShiftChangeForm(FlaskForm):
    """A published shift's new day, times and place; the note goes to everyone told."""
    day = DateField("日期 · Date", validators=[InputRequired()])
    start = TimeField("开始 · Start", validators=[InputRequired()])
    end = TimeField("结束 · End", validators=[InputRequired()])
    place = StringField("地点 · Place", validators=[Length(max=200)])
    note = StringField("留言 · Message to people", validators=[Length(max=500)])


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
    flash_refused(zh, en, error, FIELD_LABELS)


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
    positions, positions_pager = _page_of(board["positions"], "page")
    roster_all = _roster(campaign_id)
    roster, roster_pager = _page_of(roster_all, "roster_page")
    timeline = _timeline(campaign_id)
    failed = db.session.scalar(select(func.count()).select_from(
        list_campaign_notifications(campaign_id, status=NotificationStatus.FAILED).order_by(None).subquery()))
    active_overrides = db.session.scalars(overrides.list_overrides(campaign_id).limit(10)).all()
    closed = campaign.status in CLOSED_CAMPAIGN_STATES
    override_form = None
    if g.scope.may_open_override and not closed:
        override_form = OverrideForm()
        override_form.grid_id.choices = [SelectChoice(grid.id, grid.name) for grid in _override_grids(campaign)]
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
        kind=KIND_LABELS[campaign.kind], eta_columns=ETA_COLUMNS, action_form=ActionForm(), roster=roster,
        roster_total=len(roster_all), roster_pager=roster_pager, positions=positions, positions_pager=positions_pager,
        codes=[] if campaign.status is CampaignStatus.DRAFT or closed else _check_in_codes(campaign),
        undo_batch=request.args.get("undo", "")[:16], undo_shift=request.args.get("shift", type=int),
        cancel_form=CancelForm(), delete_form=DeleteForm(), shift_forms=_shift_forms(campaign),
        offer_forms=_offer_forms(campaign, board),
        override_form=override_form, alert_form=alert_form,
        confirm_publish=confirm_publish, lang=_lang(), user=current_user.user)


def _offer_forms(campaign, board) -> tuple[InviteForm, TeamOfferForm | None] | None:
    """One invite form and one team-offer form, each choosing among the positions with open places that have
    not started (one form, not one per position: an emergency may have thousands)."""
    if campaign.status not in team_offers.OFFERABLE:
        return None
    now = utcnow()
    started = {shift.id for shift in campaign.shifts if shift.start_at <= now}
    positions = [SelectChoice(p["position_id"], f"{p['role']}（空缺 {p['open']} · {p['open']} open）")
                 for p in board["positions"] if p["open"] >= 1 and p["shift_id"] not in started]
    if not positions:
        return None
    invite_form = InviteForm(formdata=None)
    invite_form.position_id.choices = positions
    teams = _team_choices()
    team_form = None
    if teams:
        team_form = TeamOfferForm(formdata=None)
        team_form.position_id.choices, team_form.team_id.choices = positions, teams
    return invite_form, team_form


def _shift_forms(campaign) -> dict[int, "ShiftChangeForm"]:
    """A change form per shift of a published campaign that has not started, filled with its local time."""
    if campaign.status not in changes.CHANGEABLE:
        return {}
    zone, now = ZoneInfo(current_app.config["TIMEZONE"]), utcnow()
    forms = {}
    for shift in sorted(campaign.shifts, key=lambda s: (s.start_at, s.id)):
        if shift.start_at <= now:
            continue
        start, end = shift.start_at.astimezone(zone), shift.end_at.astimezone(zone)
        forms[shift.id] = ShiftChangeForm(prefix=f"shift-{shift.id}", formdata=None, day=start.date(),
                                          start=start.time(), end=end.time(), place=shift.place)
    return forms


CALLUP_STATUS_LABELS = {
    CallUpStatus.PROPOSED: "拟召集 · Proposed", CallUpStatus.SCHEDULED: "待发送 · Scheduled",
    CallUpStatus.SENT: "已发送 · Sent", CallUpStatus.ACCEPTED: "已确认 · Accepted",
    CallUpStatus.DECLINED: "已婉拒 · Declined", CallUpStatus.EXPIRED: "已过期 · Expired",
    CallUpStatus.WITHDRAWN: "已撤回 · Withdrawn", CallUpStatus.ATTENDED: "已到岗 · Attended",
    CallUpStatus.NO_SHOW: "未到 · No-show"}
ROSTER_STATUS = {status: CALLUP_STATUS_LABELS[status]
                 for status in (CallUpStatus.ACCEPTED, CallUpStatus.ATTENDED, CallUpStatus.NO_SHOW)}
# The notes the services write on call-up events (English, for the API), as the board says them.
TIMELINE_NOTES = (
    ("standby: position full", "满员，候补 · Standby: the position was full"),
    ("standby: a place freed, offered", "有空缺，已邀请候补 · A place freed: offered from standby"),
    ("no answer before the deadline", "截止前未回复 · No answer before the deadline"),
    ("the shift starts before anyone could answer", "班次开始前来不及回复 · The shift starts before an answer"),
    ("extra offer: position at risk", "岗位有风险，加邀 · Extra offer: position at risk"),
    ("published", "已发布 · Published"),
    ("campaign cancelled", "活动已取消 · Campaign cancelled"),
    ("backfill wave", "补招 · Backfill wave"),
    ("no answer yet: sent again by", "未回复，已再次发送 · No answer yet: sent again by"),
)


def _timeline_note(note: str | None) -> str:
    """A stored note in words: a known start is said in both languages, the rest (a reason typed) as is."""
    if not note:
        return ""
    for start, words in TIMELINE_NOTES:
        if note.startswith(start):
            rest = note[len(start):].lstrip(": ")
            return f"{words}{'：' + rest if rest else ''}"
    return note


def _timeline(campaign_id: int) -> list[dict]:
    """The newest call-up events, oldest first, in words and names (not "sent → accepted", "user:3")."""
    newest = (services.list_timeline(campaign_id).order_by(None)
              .order_by(CallUpEvent.at.desc(), CallUpEvent.id.desc()).limit(TIMELINE_SIZE))
    rows = list(reversed(db.session.execute(newest).all()))
    by = actor_names({row.actor for row in rows})
    return [{"at": row.at, "who": row.volunteer_name or (f"队伍 · team {row.team_id}" if row.team_id else "—"),
             "change": (CALLUP_STATUS_LABELS[CallUpStatus(row.to_state)] if row.from_state in (None, row.to_state)
                        else f"{CALLUP_STATUS_LABELS[CallUpStatus(row.from_state)]} → "
                             f"{CALLUP_STATUS_LABELS[CallUpStatus(row.to_state)]}"),
             "by": by[row.actor], "note": _timeline_note(row.note)} for row in rows]


BOARD_PAGE_SIZE = 100  # rows of the positions and roster tables per page: an emergency may have thousands


@dataclass(frozen=True)
class Pager:
    arg: str
    page: int
    pages: int
    total: int


def _page_of(rows: list, arg: str) -> tuple[list, Pager]:
    """One page of a board table, chosen by the query argument ``arg``."""
    pages = max(1, -(-len(rows) // BOARD_PAGE_SIZE))
    page = min(max(request.args.get(arg, 1, type=int) or 1, 1), pages)
    return rows[(page - 1) * BOARD_PAGE_SIZE:page * BOARD_PAGE_SIZE], Pager(arg, page, pages, len(rows))


def _roster(campaign_id: int) -> list[dict]:
    """Who accepted, per position, with masked mobiles and whether they may be marked now."""
    now = utcnow()
    people = []
    for callup, name, mobile, role, shift in db.session.execute(attendance.list_roster(campaign_id)).all():
        opens, closes = attendance.marking_window(shift, attended=True)
        no_show_opens, _ = attendance.marking_window(shift, attended=False)
        note = ("班次前两小时开放 · Opens two hours before the shift" if now < opens
                else "登记已截止 · Closed a week after the shift" if now > closes else "")
        people.append({"callup": callup, "name": name, "mobile": mask_mobile(mobile), "role": role, "start": _local(shift.start_at), "status": ROSTER_STATUS[callup.status],
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
    return redirect(url_for("office.preview", campaign_id=campaign_id))


class InviteForm(FlaskForm):
    position_id = SelectField("岗位 · Position", coerce=int, validate_choice=False, validators=[InputRequired()],
                              id="invite-position")
    mobile = StringField("手机号 · Mobile", validators=[DataRequired(), Length(min=11, max=11)], id="invite-mobile")


class TeamOfferForm(FlaskForm):
    position_id = SelectField("岗位 · Position", coerce=int, validate_choice=False, validators=[InputRequired()],
                              id="team-position")
    team_id = SelectField("队伍 · Team", coerce=int, validate_choice=False, validators=[InputRequired()])
    places = IntegerField("名额 · Places", default=1, validators=[InputRequired(), NumberRange(min=1, max=1000)])


def _refused_text(error: DomainError) -> str:
    """A refusal by the matcher's gates in words (by code), otherwise the service's own message."""
    if isinstance(error, MembersRefused):
        return "；".join(f"{r.name}：{ANSWER_LABELS['zh']['gate_codes'].get(r.code, r.code)} · "
                        f"{ANSWER_LABELS['en']['gate_codes'].get(r.code, r.code)}" for r in error.refusals)
    return " ".join(str(m) for messages in (error.errors or {}).values() for m in messages) or error.message


@bp.post("/campaigns/<int:campaign_id>/invite")
def invite(campaign_id: int):
    """Invite one named person (by mobile, within the office's area) to a position; the same gates as the matcher."""
    form = InviteForm()
    if not form.validate_on_submit():
        _flash_form_errors("未邀请", "Not invited", form)
        return _back(campaign_id)
    try:
        person = invitations.find_person(form.mobile.data, scope=g.scope)
        invitations.invite_person(campaign_id, form.position_id.data, person.id, scope=g.scope, now=utcnow())
    except DomainError as error:
        db.session.rollback()
        flash(f"未邀请 · Not invited：{_refused_text(error)}")
        return _back(campaign_id)
    flash(f"已邀请 {person.name}，召集消息即将发出。{person.name} is invited; the call-up goes out now.")
    return _back(campaign_id)


@bp.post("/campaigns/<int:campaign_id>/team-offer")
def team_offer(campaign_id: int):
    """Offer places of a position to a partner enterprise's team; its leader names who goes."""
    form = TeamOfferForm()
    if not form.validate_on_submit():
        _flash_form_errors("未发出", "Not offered", form)
        return _back(campaign_id)
    try:
        callup = team_offers.offer_to_team(form.position_id.data, form.team_id.data, scope=g.scope, now=utcnow(),
                                           places=form.places.data, campaign_id=campaign_id)
    except DomainError as error:
        db.session.rollback()
        flash(f"未发出 · Not offered：{_refused_text(error)}")
        return _back(campaign_id)
    flash(f"已向队伍发出 {callup.places} 个名额，等待队长回复。{callup.places} places offered; the leader answers.")
    return _back(campaign_id)


def _team_choices() -> list[SelectChoice]:
    """Teams of approved partner enterprises that have a leader to answer, by enterprise."""
    return [SelectChoice(team_id, f"{enterprise} · {name}") for team_id, name, enterprise in db.session.execute(
        list_offerable_teams().with_only_columns(Team.id, Team.name, Enterprise.name))]


CHANNEL_LABELS = {Channel.INAPP: "站内 · In-app", Channel.EMAIL: "邮件 · E-mail", Channel.WEBHOOK: "接口 · Webhook",
                  Channel.WECOM: "企业微信 · WeCom", Channel.SMS: "短信 · SMS"}
MESSAGE_STATUS_LABELS = {NotificationStatus.PENDING: "待发送 · Pending", NotificationStatus.SENDING: "发送中 · Sending",
                         NotificationStatus.SENT: "已发送 · Sent", NotificationStatus.FAILED: "失败 · Failed"}
MESSAGE_KIND_LABELS = {
    NotificationKind.CALLUP: "召集 · Call-up", NotificationKind.REMINDER: "提醒 · Reminder",
    NotificationKind.CONFIRMATION: "确认 · Confirmation", NotificationKind.FILLED: "已满员 · Filled",
    NotificationKind.CANCELLATION: "取消 · Cancellation", NotificationKind.COORDINATOR: "给负责人 · To the coordinator",
    NotificationKind.CHANGE: "变更 · Change", NotificationKind.FOLLOW_UP: "再次联系 · Follow-up",
    NotificationKind.ALERT: "预警 · Alert"}
MESSAGES_PAGE_SIZE = 50


@bp.get("/campaigns/<int:campaign_id>/messages")
def messages(campaign_id: int):
    """The campaign's messages, newest first, the failed ones by default: to whom, by which channel, why it failed."""
    campaign = services.get_campaign(campaign_id)
    wanted = request.args.get("status", NotificationStatus.FAILED.value)
    status = next((s for s in NotificationStatus if s.value == wanted), None) if wanted != "all" else None
    if wanted not in {"all"} | {s.value for s in NotificationStatus}:
        abort(400)
    page = max(1, min(request.args.get("page", 1, type=int) or 1, 10_000))
    stmt = list_campaign_notifications(campaign_id, status=status)
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.scalars(stmt.limit(MESSAGES_PAGE_SIZE).offset((page - 1) * MESSAGES_PAGE_SIZE)).all()
    people = name_cards({row.volunteer_id for row in rows if row.volunteer_id})
    return render_template("office_messages.html", campaign=campaign, rows=rows, people=people, total=total,
                           page=page, pages=max(1, -(-total // MESSAGES_PAGE_SIZE)), wanted=wanted,
                           statuses=MESSAGE_STATUS_LABELS, channels=CHANNEL_LABELS, kinds=MESSAGE_KIND_LABELS,
                           local=_local, action_form=ActionForm(), lang=_lang(), user=current_user.user)


@bp.post("/campaigns/<int:campaign_id>/messages/retry")
def retry_messages(campaign_id: int):
    """Send the failed messages again (after the SMS gateway or mail server is back)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    count = send_failed_again(campaign_id, now=utcnow())
    flash(f"已重新发送 {count} 条失败的消息。{count} failed messages are going out again.")
    return redirect(url_for("office.messages", campaign_id=campaign_id))


# The matcher's cost terms (matching/scoring.py TERMS) as a clerk reads them; lower is a better fit.
TERM_LABELS = {"distance": "距离 · Distance", "preferred": "优选技能 · Preferred skills",
               "fairness": "公平（近期服务）· Fairness (recent service)", "reliability": "可靠性 · Reliability",
               "team": "团队 · Team", "interest": "意愿 · Interest", "off_hours": "非空闲时段 · Off hours",
               "duty": "值班 · Duty"}
STANDBY_SHOWN = 5


@bp.get("/campaigns/<int:campaign_id>/preview")
def preview(campaign_id: int):
    """The dry run with names: who would be called for each position, the score and its terms side by side,
    the next in line, and why places stay open. Nothing changes, so reloading shows it again."""
    campaign = services.get_campaign(campaign_id)
    try:
        plan = services.match_campaign(campaign_id, now=utcnow(), timezone_name=current_app.config["TIMEZONE"])
    except DomainError as error:
        _flash_error("未能试匹配", "Could not run the dry run", error)
        return _back(campaign_id)
    people = name_cards({p.volunteer_id for pos in plan.positions for p in pos.proposals}
                        | {vid for pos in plan.positions for vid, _ in pos.standby[:STANDBY_SHOWN]})
    terms = [term for term in TERM_LABELS
             if any(p.breakdown.get(term) for pos in plan.positions for p in pos.proposals)]
    return render_template("office_preview.html", campaign=campaign, plan=plan, people=people, terms=terms,
                           term_labels=TERM_LABELS, standby_shown=STANDBY_SHOWN, action_form=ActionForm(),
                           lang=_lang(), user=current_user.user)


@bp.post("/campaigns/<int:campaign_id>/override")
def override(campaign_id: int):
    """Emergency: let the campaign recruit across its street or the district for some hours."""
    campaign = services.get_campaign(campaign_id)
    form = OverrideForm()
    form.grid_id.choices = [SelectChoice(grid.id, grid.name) for grid in _override_grids(campaign)]
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


# --- The campaign editor: the same dict the API receives, the same schema, the same service (web/campaign_form.py). ---

OFFICE_MAX_LEVEL = 2  # street (1) and community (2) offices; the district (0) for the admin


def _editor_choices() -> dict:
    """What the selects offer: the caller's offices (street, community), the grids of their subtree, the skills."""
    grids = db.session.scalars(list_grids(scope=g.scope)).all()
    return {"kinds": [(kind.value, f"{KIND_LABELS[kind]} · {kind.value.replace('_', ' ')}") for kind in CampaignKind],
            "priorities": [(priority.value, label) for priority, label in PRIORITY_LABELS.items()],
            "offices": [grid for grid in grids if grid.level <= OFFICE_MAX_LEVEL],
            "grids": grids, "skills": db.session.scalars(list_skills()).all(),
            "rows": range(1, campaign_form.MAX_FORM_POSITIONS + 1), "levels": range(1, 6),
            "repeats": campaign_form.REPEATS, "prefix": campaign_form.prefix,
            "max_shifts": campaign_form.MAX_FORM_SHIFTS}


def _save_campaign(campaign_id: int | None):
    """Save the posted form as a new draft or over a draft: (campaign, None) or (None, (errors, status))."""
    body, layout = campaign_form.campaign_body(request.form, ZoneInfo(current_app.config["TIMEZONE"]))
    try:
        data = CampaignCreateSchema().load(body)  # the whole form, whole: a draft's edit replaces its shifts
        if campaign_id is None:
            return services.draft_campaign(data, scope=g.scope, now=utcnow()), None
        # Policy settings the form does not show (set through the API) stay as they were.
        kept = {key: value for key, value in (services.get_campaign(campaign_id).policy or {}).items()
                if key not in campaign_form.POLICY_FIELDS}
        data["policy"] = {**kept, **data["policy"]}
        return services.update_campaign(campaign_id, data, scope=g.scope, now=utcnow()), None
    except MarshmallowError as error:
        return None, (campaign_form.form_errors(error.messages, layout), 422)
    except DomainError as error:
        db.session.rollback()
        return None, (campaign_form.form_errors(error.errors or {"form": [error.message]}, layout), error.status_code)


def _editor(campaign=None):
    """The editor's GET and POST, for a new campaign (``campaign`` None) and for a draft."""
    form = ActionForm()
    errors: dict[str, list[str]] = {}
    status, fits = 200, True
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        values = request.form.to_dict()
        count = campaign_form.shift_count(values)
        if "add_shift" in values:  # draw the form again with one more block; nothing is saved
            values.update(campaign_form.added_block_defaults(values, count))
        else:
            saved, failed = _save_campaign(campaign.id if campaign else None)
            if saved is not None:
                flash(f"已保存活动草稿“{saved.title}”，请试匹配后发布。Draft saved: run a dry run, then publish."
                      if campaign else f"已创建活动草稿“{saved.title}”，请试匹配后发布。"
                                       f"Draft campaign created: run a dry run, then publish.")
                return redirect(url_for("office.campaign", campaign_id=saved.id))
            errors, status = failed
            if not campaign_form.is_date(request.form.get("date", "")):  # the times failed for want of a date
                errors.pop("start", None), errors.pop("end", None)
                errors["date"] = [campaign_form.field_text("date", "请填写日期。Enter a date (YYYY-MM-DD).")]
        values["shift_count"] = str(count)
    elif campaign is not None:
        values, fits = campaign_form.values_of(campaign, ZoneInfo(current_app.config["TIMEZONE"]))
    else:
        today = utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()
        values = campaign_form.blank_values(current_user.user.grid_id, today, Priority.ROUTINE.value)
    return render_template("office_new_campaign.html", form=form, values=values, errors=errors, campaign=campaign,
                           fits=fits, shift_numbers=range(1, int(values["shift_count"]) + 1),
                           labels=campaign_form.LABELS, lang=_lang(), user=current_user.user,
                           **_editor_choices()), status


@bp.route("/campaigns/new", methods=["GET", "POST"])
def new_campaign():
    """Draft a campaign: several shifts, up to three positions each; it opens on its board, ready for a dry run."""
    return _editor()


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
def edit_campaign(campaign_id: int):
    """Change a draft on the same form (published campaigns change shift by shift on their board)."""
    campaign = services.get_campaign(campaign_id)
    if campaign.status is not CampaignStatus.DRAFT:
        flash("已发布的活动不能整体修改；请在班次处修改时间地点。A published campaign is changed shift by shift below.")
        return _back(campaign_id)
    return _editor(campaign)


@bp.post("/campaigns/<int:campaign_id>/delete")
def delete_campaign(campaign_id: int):
    """Delete a draft, once the clerk has ticked that they mean it."""
    form = DeleteForm()
    if not form.validate_on_submit():
        _flash_form_errors("未删除", "Not deleted", form)
        return _back(campaign_id)
    title = services.get_campaign(campaign_id).title
    try:
        services.delete_campaign(campaign_id, actor=g.scope.actor, now=utcnow())
    except DomainError as error:
        db.session.rollback()
        _flash_error("未删除", "Not deleted", error)
        return _back(campaign_id)
    flash(f"已删除活动草稿“{title}”。Draft deleted.")
    return redirect(url_for("office.campaigns"))


@bp.post("/campaigns/<int:campaign_id>/shifts/<int:shift_id>")
def change_shift(campaign_id: int, shift_id: int):
    """A published shift's new time or place (and a note): everyone accepted or invited is told."""
    form = ShiftChangeForm(prefix=f"shift-{shift_id}")
    shift = changes.get_shift(shift_id)
    if shift.campaign_id != campaign_id:
        abort(404)
    if not form.validate_on_submit():
        _flash_form_errors("未修改班次", "Shift not changed", form)
        return _back(campaign_id)
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    data = {"start": datetime.combine(form.day.data, form.start.data, tzinfo=zone),
            "end": datetime.combine(form.day.data, form.end.data, tzinfo=zone),
            "place": form.place.data or None, "note": form.note.data}
    try:
        changes.change_shift(shift_id, data, scope=g.scope, now=utcnow())
    except DomainError as error:
        db.session.rollback()
        _flash_error("未修改班次", "Shift not changed", error)
        return _back(campaign_id)
    flash("已通知本班次已确认和待回复的人。Everyone accepted or invited on this shift has been told.")
    return _back(campaign_id)
