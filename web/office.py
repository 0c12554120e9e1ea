"""The office console: a community or street office's campaigns, their staffing board and the actions on them.

Pages for signed-in office and admin accounts. The sign-in and access check is the one of ``web/auth.py``
(``require_sign_in`` → ``accounts.access.authorize``), so ``PERMISSIONS`` decides who may open each page and
``OWNERS`` turns a ``campaign_id`` outside the office's subtree into a 404. Every action calls the service the
API view calls, flashes the outcome in Chinese and English and redirects back to the board (POST-redirect-GET).
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from callups.models import NotificationStatus
from callups.services import list_campaign_notifications
from campaigns import overrides, services
from campaigns.models import CallUpEvent, CampaignStatus, Priority
from core.clock import utcnow
from core.errors import DomainError
from core.kinds import KIND_LABELS
from extensions import db
from grids.models import Grid
from grids.paths import path_ids
from web.auth import _lang, _no_store, require_sign_in

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
FIELD_LABELS = {"status": "状态 · status", "reason": "原因 · reason", "hours": "时长 · hours",
                "grid_id": "范围 · grid", "shifts": "班次 · shifts"}


class ActionForm(FlaskForm):
    """Publish and the match dry run: only the CSRF token."""


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
    return [grid for grid in rows if g.scope.covers(grid.path)]


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
    return render_template(
        "office_campaign.html", campaign=campaign, board=board, timeline=timeline, failed=failed,
        overrides=active_overrides, now=utcnow(), local=_local, closed=closed,
        status=STATUS_LABELS[campaign.status], priority=PRIORITY_LABELS[campaign.priority],
        kind=KIND_LABELS[campaign.kind], eta_columns=ETA_COLUMNS, action_form=ActionForm(),
        cancel_form=CancelForm(), override_form=override_form, lang=_lang(), user=current_user.user)


@bp.post("/campaigns/<int:campaign_id>/publish")
def publish(campaign_id: int):
    """Publish a draft: its best-fit proposals become scheduled call-ups."""
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.publish_campaign(campaign_id, actor=g.scope.actor, now=utcnow(),
                                  timezone_name=current_app.config["TIMEZONE"])
    except DomainError as error:
        _flash_error("未能发布", "Could not publish", error)
    else:
        flash("已发布，召集将按计划发出。Published: the call-ups go out as planned.")
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
        opened = overrides.open_override(campaign, grid_id=form.grid_id.data, reason=form.reason.data,
                                         hours=form.hours.data, scope=g.scope, now=utcnow())
    except DomainError as error:
        _flash_error("未能放宽招募范围", "Could not open the override", error)
    else:
        flash(f"已放宽招募范围至 {opened.grid.name}，至 {_local(opened.expires_at)} 结束。"
              f"Override open across {opened.grid.name} until {_local(opened.expires_at)}.")
    return _back(campaign_id)
