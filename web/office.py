"""The office console: a community or street office's campaigns, their staffing board and the actions on them.

Pages for signed-in office and admin accounts. The sign-in and access check is the one of ``web/auth.py``
(``require_sign_in`` → ``accounts.access.authorize``), so ``PERMISSIONS`` decides who may open each page and
``OWNERS`` turns a ``campaign_id`` outside the office's subtree into a 404. Every action calls the service the
API view calls, flashes the outcome in the clerk's language and redirects back to the board (POST-redirect-GET).
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
from sqlalchemy.orm import lazyload
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TimeField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from accounts.users import actor_names
from api.schemas.campaigns import CampaignCreateSchema
from callups import alerts, checkin_codes
from callups.services import list_campaign_notifications, send_failed_again
from campaigns import attendance, backfill, changes, invitations, overrides, services, team_offers
from campaigns.changes import get_shift
from campaigns.models import (CLOSED_CAMPAIGN_STATES, CallUpEvent, CallUpStatus, Campaign, CampaignStatus,
                              GridAlertRecipient, Priority)
from campaigns.team_offers import MembersRefused
from core.clock import utcnow
from core.errors import DomainError
from core.i18n import _, _l, lazy_pgettext, local_datetime, ngettext, say
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
from web.auth import _no_store, require_sign_in
from web.forms import field_details, flash_refused
from web.hours import qr_svg

bp = Blueprint("office", __name__, url_prefix="/office")
bp.before_request(require_sign_in)
bp.after_request(_no_store)

PAGE_SIZE = 20
TIMELINE_SIZE = 50
STATUS_LABELS = {
    CampaignStatus.DRAFT: _l("Draft"), CampaignStatus.PUBLISHED: _l("Published"),
    CampaignStatus.STAFFED: _l("Staffed"), CampaignStatus.PARTLY_STAFFED: _l("Partly staffed"),
    CampaignStatus.RUNNING: _l("Running"), CampaignStatus.DONE: lazy_pgettext("campaign", "Done"), CampaignStatus.CANCELLED: _l("Cancelled"),
}
PRIORITY_LABELS = {Priority.ROUTINE: lazy_pgettext("campaign", "Routine"), Priority.URGENT: _l("Urgent"), Priority.EMERGENCY: lazy_pgettext("campaign", "Emergency")}
ETA_COLUMNS = (("on_site", lazy_pgettext("campaign", "On site")), ("within_15", _l("≤15 min")), ("within_30", _l("≤30 min")),
               ("within_60", _l("≤1 h")), ("later", lazy_pgettext("campaign", "Later")), ("unknown", _l("Not said")))
FIELD_LABELS = {"attended": _l("Attendance"), "status": _l("Status"), "reason": _l("Reason"), "hours": lazy_pgettext("campaign", "Hours"),
                "grid_id": _l("Recruit across"), "shifts": lazy_pgettext("campaign", "Shifts")}


class ActionForm(FlaskForm):
    """Publish and the match dry run: only the CSRF token."""


class AlertForm(FlaskForm):
    message = StringField(lazy_pgettext("campaign", "What is happening"), validators=[DataRequired(), Length(max=200)],
                          id="alert-message")


class CancelForm(FlaskForm):
    # Cancelling tells everyone called: a real reason, and a tick that the clerk means it.
    reason = StringField(_l("Reason (told to everyone called)"), validators=[DataRequired(), Length(min=4, max=500)])
    confirm = BooleanField(_l("Yes, cancel and tell everyone called"),
                           validators=[DataRequired()], id="cancel-confirm")


class DeleteForm(FlaskForm):
    confirm = BooleanField(_l("Yes, delete this draft"), validators=[DataRequired()], id="delete-confirm")


class ShiftChangeForm(FlaskForm):
    """A published shift's new day, times and place; the note goes to everyone told."""
    day = DateField(_l("Date"), validators=[InputRequired()])
    start = TimeField(_l("Start"), validators=[InputRequired()])
    end = TimeField(_l("End"), validators=[InputRequired()])
    place = StringField(_l("Place"), validators=[Length(max=200)])
    note = StringField(_l("Message to people"), validators=[Length(max=500)])


class OverrideForm(FlaskForm):
    # The service checks the grid (above the office, within the caller's scope): one rule, one place.
    # Own ids: the cancel form on the same page has a "reason" too.
    grid_id = SelectField(_l("Recruit across"), coerce=int, validate_choice=False, validators=[InputRequired()],
                          id="override-grid")
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(min=4, max=500)], id="override-reason")
    hours = IntegerField(lazy_pgettext("campaign", "Hours"), default=6, id="override-hours",
                         validators=[InputRequired(), NumberRange(min=1, max=overrides.MAX_OVERRIDE_HOURS)])


def _override_grids(campaign) -> list[Grid]:
    """Grids above the campaign's office that the caller covers: its street, the district (widest first)."""
    ancestors = path_ids(campaign.office.path)[:-1]
    if not ancestors:
        return []
    rows = db.session.scalars(select(Grid).where(Grid.id.in_(ancestors)).order_by(Grid.level)).all()
    # A street office may widen its own campaigns to the district (campaigns/overrides.py).
    own = g.scope.grid_path is not None and campaign.office.path == g.scope.grid_path
    return [grid for grid in rows if own or g.scope.covers(grid.path)]


def _flash_error(what: str, error: DomainError) -> None:
    flash_refused(error, FIELD_LABELS, what)


def _flash_form_errors(what: str, form: FlaskForm) -> None:
    details = field_details({getattr(form, name).label.text: messages for name, messages in form.errors.items()})
    flash(_("%(what)s: %(details)s", what=what, details=details))


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
    # The campaigns alone (not their shifts and positions): the figures come from one grouped query.
    rows = db.session.scalars(stmt.options(lazyload(Campaign.shifts)).limit(PAGE_SIZE)
                              .offset((page - 1) * PAGE_SIZE)).all()
    figures = services.campaign_figures([campaign.id for campaign in rows])
    items = []
    for campaign in rows:
        fill = figures[campaign.id]
        items.append({"campaign": campaign, "status": STATUS_LABELS[campaign.status],
                      "priority": PRIORITY_LABELS[campaign.priority], "kind": KIND_LABELS[campaign.kind],
                      "first_shift": local_datetime(fill["first_start"]) if fill["first_start"] else "",
                      "fill_rate": fill["fill_rate"], "accepted": fill["accepted"], "headcount": fill["headcount"]})
    return render_template("office_campaigns.html", items=items, status=status, statuses=STATUS_LABELS,
                           page=page, pages=pages, total=total, user=current_user.user)


@bp.get("/campaigns/<int:campaign_id>")
def campaign(campaign_id: int):
    """The staffing board of one campaign, its recent history and the actions on it."""
    campaign = services.get_campaign(campaign_id, with_positions=False)
    board = services.staffing(campaign_id)
    positions, positions_pager = _page_of(board["positions"], "page")
    roster, roster_pager = _roster(campaign_id)
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
        overrides=active_overrides, now=utcnow(), closed=closed,
        status=STATUS_LABELS[campaign.status], priority=PRIORITY_LABELS[campaign.priority],
        kind=KIND_LABELS[campaign.kind], eta_columns=ETA_COLUMNS, action_form=ActionForm(), roster=roster,
        roster_total=roster_pager.total, roster_pager=roster_pager, positions=positions, positions_pager=positions_pager,
        codes=[] if campaign.status is CampaignStatus.DRAFT or closed else _check_in_codes(campaign),
        undo_batch=request.args.get("undo", "")[:16], undo_shift=request.args.get("shift", type=int),
        cancel_form=CancelForm(), delete_form=DeleteForm(), shift_forms=_shift_forms(campaign),
        offer_forms=_offer_forms(campaign, positions),
        override_form=override_form, alert_form=alert_form,
        confirm_publish=confirm_publish, user=current_user.user)


def _offer_forms(campaign, positions: list[dict]) -> tuple[InviteForm, TeamOfferForm | None] | None:
    """One invite form and one team-offer form, each choosing among the positions of this page of the board with
    open places that have not started (one form, not one per position, and one page of choices: an emergency may
    have thousands of positions, and the clerk picks among the ones in the table above)."""
    if campaign.status not in team_offers.OFFERABLE:
        return None
    now = utcnow()
    started = {shift.id for shift in campaign.shifts if shift.start_at <= now}
    positions = [SelectChoice(p["position_id"], _("%(role)s (%(open)s open)", role=p["role"], open=p["open"]))
                 for p in positions if p["open"] >= 1 and p["shift_id"] not in started]
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
    CallUpStatus.PROPOSED: _l("Proposed"), CallUpStatus.SCHEDULED: _l("Scheduled"), CallUpStatus.SENT: _l("Sent"),
    CallUpStatus.ACCEPTED: lazy_pgettext("campaign", "Accepted"), CallUpStatus.DECLINED: lazy_pgettext("campaign", "Declined"), CallUpStatus.EXPIRED: _l("Expired"),
    CallUpStatus.WITHDRAWN: _l("Withdrawn"), CallUpStatus.ATTENDED: _l("Attended"), CallUpStatus.NO_SHOW: _l("No-show")}
ROSTER_STATUS = {status: CALLUP_STATUS_LABELS[status]
                 for status in (CallUpStatus.ACCEPTED, CallUpStatus.ATTENDED, CallUpStatus.NO_SHOW)}
# The notes the services write on call-up events (English, for the API), as the board says them.
TIMELINE_NOTES = (
    ("standby: position full", _l("Standby: the position was full")),
    ("standby: a place freed, offered", _l("A place freed: offered from standby")),
    ("no answer before the deadline", _l("No answer before the deadline")),
    ("the shift starts before anyone could answer", _l("The shift starts before an answer")),
    ("extra offer: position at risk", _l("Extra offer: position at risk")),
    ("published", _l("Published")),
    ("campaign cancelled", _l("Campaign cancelled")),
    ("backfill wave", _l("Backfill wave")),
    ("no answer yet: sent again by", _l("No answer yet: sent again by")),
)


def _timeline_note(note: str | None) -> str:
    """A stored note in words: a known start is said in the clerk's language, the rest (a reason typed) as is."""
    if not note:
        return ""
    for start, words in TIMELINE_NOTES:
        if note.startswith(start):
            rest = note[len(start):].lstrip(": ")
            return _("%(note)s: %(detail)s", note=words, detail=rest) if rest else str(words)
    return note


def _timeline(campaign_id: int) -> list[dict]:
    """The newest call-up events, oldest first, in words and names (not "sent → accepted", "user:3")."""
    newest = (services.list_timeline(campaign_id).order_by(None)
              .order_by(CallUpEvent.at.desc(), CallUpEvent.id.desc()).limit(TIMELINE_SIZE))
    rows = list(reversed(db.session.execute(newest).all()))
    by = actor_names({row.actor for row in rows})
    return [{"at": row.at, "who": row.volunteer_name or (_("Team %(id)s", id=row.team_id) if row.team_id else "—"),
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


def _pager(total: int, arg: str) -> Pager:
    """Which page of a board table of ``total`` rows the query argument ``arg`` asks for (the last if past it)."""
    pages = max(1, -(-total // BOARD_PAGE_SIZE))
    return Pager(arg, min(max(request.args.get(arg, 1, type=int) or 1, 1), pages), pages, total)


def _page_of(rows: list, arg: str) -> tuple[list, Pager]:
    """One page of a board table, chosen by the query argument ``arg``."""
    pager = _pager(len(rows), arg)
    return rows[(pager.page - 1) * BOARD_PAGE_SIZE:pager.page * BOARD_PAGE_SIZE], pager


def _roster(campaign_id: int) -> tuple[list[dict], Pager]:
    """One page of who accepted, per position, with masked mobiles and whether they may be marked now (only
    that page is read: an emergency's roster may run to thousands)."""
    now = utcnow()
    stmt = attendance.list_roster(campaign_id)
    pager = _pager(db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())),
                   "roster_page")
    people = []
    rows = db.session.execute(stmt.limit(BOARD_PAGE_SIZE).offset((pager.page - 1) * BOARD_PAGE_SIZE)).all()
    for callup, name, mobile, role, shift in rows:
        opens, closes = attendance.marking_window(shift, attended=True)
        no_show_opens = attendance.marking_window(shift, attended=False)[0]
        note = (_("Opens two hours before the shift") if now < opens
                else _("Closed a week after the shift") if now > closes else "")
        people.append({"callup": callup, "name": name, "mobile": mask_mobile(mobile), "role": role,
                       "start": local_datetime(shift.start_at), "status": ROSTER_STATUS[callup.status],
                       "may_attend": opens <= now <= closes, "may_no_show": no_show_opens <= now <= closes,
                       "may_check_out": callup.status is CallUpStatus.ATTENDED and callup.checked_out_at is None
                       and now <= closes, "checked_in": local_datetime(callup.attended_at, "HH:mm"),
                       "checked_out": local_datetime(callup.checked_out_at, "HH:mm"),
                       "punctuality": attendance.punctuality(callup, shift), "note": note})
    return people, pager


def _check_in_codes(campaign) -> list[dict]:
    """Per shift that is not over: its QR code (inline SVG), whether "everyone came" may be pressed now."""
    now = utcnow()
    codes = []
    for shift in campaign.shifts:
        if now > checkin_codes.code_expires_at(shift):
            continue
        opens, closes = attendance.marking_window(shift, attended=True)
        codes.append({"shift": shift, "svg": qr_svg(checkin_codes.shift_check_in_url(shift), scale=3),
                      "start": local_datetime(shift.start_at), "everyone_open": opens <= now <= closes})
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
                           svg=qr_svg(url, scale=8), start=local_datetime(shift.start_at),
                           end=local_datetime(shift.end_at, "HH:mm"),
                           expires=local_datetime(checkin_codes.code_expires_at(shift)), user=current_user.user)


@bp.post("/campaigns/<int:campaign_id>/shifts/<int:shift_id>/everyone-came")
def everyone_came(campaign_id: int, shift_id: int):
    """"Everyone came": every accepted person of the shift checked in at once, with an undo on the board."""
    if not ActionForm().validate_on_submit():
        abort(400)
    _shift_of_campaign(campaign_id, shift_id)
    try:
        batch, marked = attendance.mark_everyone_attended(shift_id, actor=g.scope.actor, now=utcnow())
    except DomainError as error:
        _flash_error(_("Could not record attendance"), error)
        return redirect(url_for("office.campaign", campaign_id=campaign_id, _anchor="roster"))
    flash(ngettext("Checked in %(num)s person.", "Checked in %(num)s people.", len(marked)))
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
        _flash_error(_("Could not undo"), error)
    else:
        flash(ngettext("Undone for %(num)s person.", "Undone for %(num)s people.", len(undone)))
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
        _flash_error(_("Could not check out"), error)
    else:
        flash(_("Checked out."))
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
        _flash_error(_("Could not record attendance"), error)
    else:
        flash(_("Checked in.") if choice == "1" else _("Recorded as a no-show."))
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
        _flash_error(_("Could not publish"), error)
    else:
        left = sum((p.unfilled_reasons or {}).get("open", 0) for s in published.shifts for p in s.positions)
        if left:
            flash(ngettext("Published, but %(num)s place has nobody to call yet: see the reasons in the positions "
                           "table; widening the search or changing the needs re-matches at once.",
                           "Published, but %(num)s places have nobody to call yet: see the reasons in the positions "
                           "table; widening the search or changing the needs re-matches at once.", left))
        else:
            flash(_("Published: the call-ups go out as planned."))
    return _back(campaign_id)


@bp.post("/campaigns/<int:campaign_id>/alert")
def alert(campaign_id: int):
    """Urgent and emergency campaigns: alert (预警) the staff and grid members of the whole area at once."""
    form = AlertForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        _flash_form_errors(_("Could not send the alert"), form)
        return _back(campaign_id)
    try:
        sent = alerts.broadcast_alert(campaign_id, message=form.message.data, actor=g.scope.actor, now=utcnow())
    except DomainError as error:
        _flash_error(_("Could not send the alert"), error)
    else:
        count = db.session.scalar(select(func.count()).select_from(GridAlertRecipient)
                                  .where(GridAlertRecipient.alert_id == sent.id))
        flash(ngettext("Alert sent to %(num)s person (staff and grid members of every level); acknowledgements below.",
                       "Alert sent to %(num)s people (staff and grid members of every level); acknowledgements below.",
                       count))
    return _back(campaign_id)


@bp.post("/campaigns/<int:campaign_id>/cancel")
def cancel(campaign_id: int):
    """Cancel with a reason: open call-ups are withdrawn and those who accepted are told."""
    form = CancelForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        _flash_form_errors(_("Could not cancel"), form)
        return _back(campaign_id)
    try:
        services.cancel_campaign(campaign_id, reason=form.reason.data, actor=g.scope.actor, now=utcnow())
    except DomainError as error:
        _flash_error(_("Could not cancel"), error)
    else:
        flash(_("Cancelled: the people who accepted have been told."))
    return _back(campaign_id)


@bp.post("/campaigns/<int:campaign_id>/match")
def match(campaign_id: int):
    """Dry run of the matcher: how many would be called and why places stay open; nothing changes."""
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        plan = services.match_campaign(campaign_id, now=utcnow(), timezone_name=current_app.config["TIMEZONE"])
    except DomainError as error:
        _flash_error(_("Could not run the dry run"), error)
        return _back(campaign_id)
    proposals = sum(len(position.proposals) for position in plan.positions)
    unfilled = sum(position.unfilled for position in plan.positions)
    flash(_("Dry run (nothing changed): people proposed: %(proposals)s; places unfilled: %(unfilled)s.",
            proposals=proposals, unfilled=unfilled))
    return redirect(url_for("office.preview", campaign_id=campaign_id))


class InviteForm(FlaskForm):
    position_id = SelectField(_l("Position"), coerce=int, validate_choice=False, validators=[InputRequired()],
                              id="invite-position")
    mobile = StringField(_l("Mobile"), validators=[DataRequired(), Length(min=11, max=11)], id="invite-mobile")


class TeamOfferForm(FlaskForm):
    position_id = SelectField(_l("Position"), coerce=int, validate_choice=False, validators=[InputRequired()],
                              id="team-position")
    team_id = SelectField(_l("Team"), coerce=int, validate_choice=False, validators=[InputRequired()])
    places = IntegerField(_l("Places"), default=1, validators=[InputRequired(), NumberRange(min=1, max=1000)])


# The gate that refuses a person named by the office (campaigns/team_offers.py ``MembersRefused``), in words.
GATE_LABELS = {"not_active": _l("not active"), "skill": _l("lacks the skill or level"),
               "no_certificate": _l("no valid certificate"), "certificate_expired": _l("certificate expired"),
               "unavailable": _l("not available at that time"), "blackout": _l("away that day"),
               "busy": _l("already serving at that time"), "monthly_cap": _l("monthly call-up limit reached")}


def _refused_text(error: DomainError) -> str:
    """A refusal by the matcher's gates in words (by code), otherwise the service's own message."""
    if isinstance(error, MembersRefused):
        return _("; ").join(_("%(field)s: %(message)s", field=r.name, message=GATE_LABELS.get(r.code, r.code))
                            for r in error.refusals)
    return " ".join(say(m) for messages in (error.errors or {}).values() for m in messages) or say(error.message)


@bp.post("/campaigns/<int:campaign_id>/invite")
def invite(campaign_id: int):
    """Invite one named person (by mobile, within the office's area) to a position; the same gates as the matcher."""
    form = InviteForm()
    if not form.validate_on_submit():
        _flash_form_errors(_("Not invited"), form)
        return _back(campaign_id)
    try:
        person = invitations.find_person(form.mobile.data, scope=g.scope)
        invitations.invite_person(campaign_id, form.position_id.data, person.id, scope=g.scope, now=utcnow())
    except DomainError as error:
        db.session.rollback()
        flash(_("%(what)s: %(details)s", what=_("Not invited"), details=_refused_text(error)))
        return _back(campaign_id)
    flash(_("%(name)s is invited; the call-up goes out now.", name=person.name))
    return _back(campaign_id)


@bp.post("/campaigns/<int:campaign_id>/team-offer")
def team_offer(campaign_id: int):
    """Offer places of a position to a partner enterprise's team; its leader names who goes."""
    form = TeamOfferForm()
    if not form.validate_on_submit():
        _flash_form_errors(_("Not offered"), form)
        return _back(campaign_id)
    try:
        callup = team_offers.offer_to_team(form.position_id.data, form.team_id.data, scope=g.scope, now=utcnow(),
                                           places=form.places.data, campaign_id=campaign_id)
    except DomainError as error:
        db.session.rollback()
        flash(_("%(what)s: %(details)s", what=_("Not offered"), details=_refused_text(error)))
        return _back(campaign_id)
    flash(ngettext("%(num)s place offered; the leader answers.", "%(num)s places offered; the leader answers.",
                   callup.places))
    return _back(campaign_id)


def _team_choices() -> list[SelectChoice]:
    """Teams of approved partner enterprises that have a leader to answer, by enterprise."""
    return [SelectChoice(team_id, f"{enterprise} · {name}") for team_id, name, enterprise in db.session.execute(
        list_offerable_teams().with_only_columns(Team.id, Team.name, Enterprise.name))]


CHANNEL_LABELS = {Channel.INAPP: lazy_pgettext("campaign", "In-app"), Channel.EMAIL: lazy_pgettext("campaign", "E-mail"), Channel.WEBHOOK: _l("Webhook"),
                  Channel.WECOM: _l("WeCom"), Channel.SMS: _l("SMS")}
MESSAGE_STATUS_LABELS = {NotificationStatus.PENDING: _l("Pending"), NotificationStatus.SENDING: _l("Sending"),
                         NotificationStatus.SENT: _l("Sent"), NotificationStatus.FAILED: _l("Failed")}
MESSAGE_KIND_LABELS = {
    NotificationKind.CALLUP: lazy_pgettext("campaign", "Call-up"), NotificationKind.REMINDER: _l("Reminder"),
    NotificationKind.CONFIRMATION: _l("Confirmation"), NotificationKind.FILLED: _l("Filled"),
    NotificationKind.CANCELLATION: _l("Cancellation"), NotificationKind.COORDINATOR: _l("To the coordinator"),
    NotificationKind.CHANGE: _l("Change of shift"), NotificationKind.FOLLOW_UP: _l("Follow-up"),
    NotificationKind.ALERT: _l("Alert")}
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
                           action_form=ActionForm(), user=current_user.user)


@bp.post("/campaigns/<int:campaign_id>/messages/retry")
def retry_messages(campaign_id: int):
    """Send the failed messages again (after the SMS gateway or mail server is back)."""
    if not ActionForm().validate_on_submit():
        abort(400)
    count = send_failed_again(campaign_id, now=utcnow())
    flash(ngettext("%(num)s failed message is going out again.", "%(num)s failed messages are going out again.",
                   count))
    return redirect(url_for("office.messages", campaign_id=campaign_id))


# The matcher's cost terms (matching/scoring.py TERMS) as a clerk reads them; lower is a better fit.
TERM_LABELS = {"distance": _l("Distance"), "preferred": _l("Preferred skills"),
               "fairness": _l("Fairness (recent service)"), "reliability": _l("Reliability"),
               "team": _l("Team pairing"), "interest": _l("Interest"), "off_hours": _l("Off hours"),
               "duty": _l("Duty")}
STANDBY_SHOWN = 5


@bp.get("/campaigns/<int:campaign_id>/preview")
def preview(campaign_id: int):
    """The dry run with names: who would be called for each position, the score and its terms side by side,
    the next in line, and why places stay open. Nothing changes, so reloading shows it again."""
    campaign = services.get_campaign(campaign_id)
    try:
        plan = services.match_campaign(campaign_id, now=utcnow(), timezone_name=current_app.config["TIMEZONE"])
    except DomainError as error:
        _flash_error(_("Could not run the dry run"), error)
        return _back(campaign_id)
    people = name_cards({p.volunteer_id for pos in plan.positions for p in pos.proposals}
                        | {vid for pos in plan.positions for vid, _cost in pos.standby[:STANDBY_SHOWN]})
    terms = [term for term in TERM_LABELS
             if any(p.breakdown.get(term) for pos in plan.positions for p in pos.proposals)]
    return render_template("office_preview.html", campaign=campaign, plan=plan, people=people, terms=terms,
                           term_labels=TERM_LABELS, standby_shown=STANDBY_SHOWN, action_form=ActionForm(),
                           user=current_user.user)


@bp.post("/campaigns/<int:campaign_id>/override")
def override(campaign_id: int):
    """Emergency: let the campaign recruit across its street or the district for some hours."""
    campaign = services.get_campaign(campaign_id)
    form = OverrideForm()
    form.grid_id.choices = [SelectChoice(grid.id, grid.name) for grid in _override_grids(campaign)]
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        _flash_form_errors(_("Could not open the override"), form)
        return _back(campaign_id)
    try:
        opened = backfill.widen_search(campaign, grid_id=form.grid_id.data, reason=form.reason.data,
                                       hours=form.hours.data, scope=g.scope, now=utcnow(),
                                       timezone_name=current_app.config["TIMEZONE"])
    except DomainError as error:
        _flash_error(_("Could not open the override"), error)
    else:
        flash(_("Override open across %(grid)s until %(until)s; re-matched at once, %(count)s more called.",
                grid=opened.grid.name, until=local_datetime(opened.expires_at), count=opened.rematched))
    return _back(campaign_id)


# --- The campaign editor: the same dict the API receives, the same schema, the same service (web/campaign_form.py). ---

OFFICE_MAX_LEVEL = 2  # street (1) and community (2) offices; the district (0) for the admin


def _editor_choices() -> dict:
    """What the selects offer: the caller's offices (street, community), the grids of their subtree, the skills."""
    grids = db.session.scalars(list_grids(scope=g.scope)).all()
    return {"kinds": [(kind.value, KIND_LABELS[kind]) for kind in CampaignKind],
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
                flash(_('Draft "%(title)s" saved: run a dry run, then publish.', title=saved.title)
                      if campaign else
                      _('Draft campaign "%(title)s" created: run a dry run, then publish.', title=saved.title))
                return redirect(url_for("office.campaign", campaign_id=saved.id))
            errors, status = failed
            if not campaign_form.is_date(request.form.get("date", "")):  # the times failed for want of a date
                errors.pop("start", None), errors.pop("end", None)
                errors["date"] = [campaign_form.field_text("date", _("Enter a date (YYYY-MM-DD)."))]
        values["shift_count"] = str(count)
    elif campaign is not None:
        values, fits = campaign_form.values_of(campaign, ZoneInfo(current_app.config["TIMEZONE"]))
    else:
        today = utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()
        values = campaign_form.blank_values(current_user.user.grid_id, today, Priority.ROUTINE.value)
    return render_template("office_new_campaign.html", form=form, values=values, errors=errors, campaign=campaign,
                           fits=fits, shift_numbers=range(1, int(values["shift_count"]) + 1),
                           labels=campaign_form.LABELS, user=current_user.user,
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
        flash(_("A published campaign is changed shift by shift below."))
        return _back(campaign_id)
    return _editor(campaign)


@bp.post("/campaigns/<int:campaign_id>/delete")
def delete_campaign(campaign_id: int):
    """Delete a draft, once the clerk has ticked that they mean it."""
    form = DeleteForm()
    if not form.validate_on_submit():
        _flash_form_errors(_("Not deleted"), form)
        return _back(campaign_id)
    title = services.get_campaign(campaign_id).title
    try:
        services.delete_campaign(campaign_id, actor=g.scope.actor, now=utcnow())
    except DomainError as error:
        _flash_error(_("Not deleted"), error)
        return _back(campaign_id)
    flash(_('Draft "%(title)s" deleted.', title=title))
    return redirect(url_for("office.campaigns"))


@bp.post("/campaigns/<int:campaign_id>/shifts/<int:shift_id>")
def change_shift(campaign_id: int, shift_id: int):
    """A published shift's new time or place (and a note): everyone accepted or invited is told."""
    form = ShiftChangeForm(prefix=f"shift-{shift_id}")
    shift = changes.get_shift(shift_id)
    if shift.campaign_id != campaign_id:
        abort(404)
    if not form.validate_on_submit():
        _flash_form_errors(_("Shift not changed"), form)
        return _back(campaign_id)
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    data = {"start": datetime.combine(form.day.data, form.start.data, tzinfo=zone),
            "end": datetime.combine(form.day.data, form.end.data, tzinfo=zone),
            "place": form.place.data or None, "note": form.note.data}
    try:
        changes.change_shift(shift_id, data, scope=g.scope, now=utcnow())
    except DomainError as error:
        _flash_error(_("Shift not changed"), error)
        return _back(campaign_id)
    flash(_("Everyone accepted or invited on this shift has been told."))
    return _back(campaign_id)
