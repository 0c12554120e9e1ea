"""Partner enterprises on the web: sign-up, the offices' review, and the enterprise's own portal.

- ``/partners/signup`` (public): an enterprise registers itself and its account, asking to pair with a
  street office or community; it waits for review.
- ``/partners/review`` (office staff, the district): the enterprises asking to pair within the office's
  subtree, pending first, with approve and reject (a reason is required to reject).
- ``/enterprise`` (the enterprise's account): its record and review state, its teams with their members,
  leader and paired communities, forms to form a team and add employees, and its teams' open call-ups,
  answered by naming who goes, through the same service as the leader's answer link.

Every action calls the domain service the API calls and redirects back with a flashed outcome
(POST-redirect-GET); the access table (``accounts.access.PERMISSIONS``) decides who may open each page.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from marshmallow import ValidationError
from sqlalchemy import select
from wtforms import PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from accounts.users import register_enterprise_account
from api.schemas.agreements import AgreementCreateSchema
from api.schemas.teams import CREDIT_CODE_PATTERN
from campaigns.models import CallUp, CallUpStatus, Position, Shift
from campaigns.party_report import enterprise_team_report, parse_quarter, previous_quarters
from campaigns.places import join_shift
from campaigns.team_offers import answer_team_callup
from core.clock import utcnow
from core.errors import DomainError, NotFound, ValidationFailed
from core.i18n import _, _l, lazy_pgettext, local_datetime, ngettext, say
from core.masking import MOBILE_RE, mask_mobile
from extensions import db, limiter
from grids.models import Grid
from grids.services import home_grid_groups
from volunteers import agreements, teams
from volunteers.models import EnterpriseStatus, Team
from web.auth import DEFAULT_REGISTER_LIMIT, _no_store, require_sign_in
from web.form_messages import form_int
from web.forms import flash_refused
from web.sessions import start_session

partners_bp = Blueprint("partners", __name__, url_prefix="/partners")
enterprise_bp = Blueprint("enterprise", __name__, url_prefix="/enterprise")
enterprise_bp.before_request(require_sign_in)
enterprise_bp.after_request(_no_store)
partners_bp.after_request(_no_store)

STATUS_LABELS = {EnterpriseStatus.PENDING.value: _l("Awaiting review"),
                 EnterpriseStatus.APPROVED.value: _l("Approved"),
                 EnterpriseStatus.REJECTED.value: _l("Not approved")}
FIELD_LABELS = {"name": _l("Name"), "credit_code": _l("Credit code"),
                "requested_grid_id": _l("Pair with"), "login": _l("Login"),
                "password": _l("Password"), "mobile": _l("Mobile"), "home_grid_id": _l("Home grid"),
                "member_ids": _l("Members"), "member_id": _l("Member"), "leader_id": _l("Leader"),
                "paired_grid_ids": _l("Paired communities"), "enterprise": _l("Enterprise"),
                "grid_id": _l("Signed by"), "signed_on": _l("Signed on"), "valid_until": _l("Valid until"),
                "enterprise_id": _l("Enterprise"),
                "note": _l("Reason"), "status": _l("Status")}
MOBILE_MESSAGE = _l("Give an 11-digit mobile number")


class SignupForm(FlaskForm):
    name = StringField(_l("Enterprise name"), validators=[DataRequired(), Length(max=100)])
    credit_code = StringField(_l("Unified social credit code (optional)"),
                              validators=[Optional(), Regexp(CREDIT_CODE_PATTERN, message=_l("18 digits or capitals"))])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])
    contact_name = StringField(_l("Contact person"), validators=[DataRequired(), Length(max=64)])
    contact_mobile = StringField(_l("Contact mobile"),
                                 validators=[DataRequired(), Regexp(MOBILE_RE.pattern, message=MOBILE_MESSAGE)],
                                 render_kw={"inputmode": "tel", "maxlength": 11, "autocomplete": "tel"})
    requested_grid_id = SelectField(_l("Street office or community to pair with"), coerce=int,
                                    validate_choice=False, validators=[DataRequired()])
    login = StringField(_l("Login name"), validators=[DataRequired(), Length(min=3, max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class TeamForm(FlaskForm):
    name = StringField(_l("Team name"), validators=[DataRequired(), Length(max=100)], id="team-name")
    paired_grid_ids = SelectMultipleField(_l("Paired communities"), coerce=int, validate_choice=False,
                                          id="team-paired")


class MemberForm(FlaskForm):
    name = StringField(lazy_pgettext("person", "Name"), validators=[DataRequired(), Length(max=64)])
    mobile = StringField(_l("Mobile"), validators=[DataRequired(), Regexp(MOBILE_RE.pattern, message=MOBILE_MESSAGE)],
                         render_kw={"inputmode": "tel", "maxlength": 11})
    home_grid_id = SelectField(_l("Home grid"), coerce=int, validate_choice=False, validators=[DataRequired()])


class ReviewForm(FlaskForm):
    note = StringField(_l("Reason (needed to reject)"), validators=[Optional(), Length(max=500)])


class AgreementForm(FlaskForm):
    """A signed pairing agreement; checked again by the API's schema and the service."""


AGREEMENT_STATES = {"valid": _l("In force"), "ending": _l("Ending soon"), "ended": _l("Ended"),
                    "superseded": _l("Renewed")}


class ActionForm(FlaskForm):
    """Buttons that carry only the CSRF token and their own fields read from the form."""


def _flash_refused(error: DomainError) -> None:
    flash_refused(error, FIELD_LABELS)


def _flash_form(form: FlaskForm) -> None:
    flash(_("Please check: %(problems)s", problems=_("; ").join(
        f"{getattr(form, name).label.text}: {' '.join(say(m) for m in messages)}"
        for name, messages in form.errors.items())))


def _pairing_choices() -> list[tuple[int, str]]:
    """Street offices and communities, each named with its street (communities repeat across streets)."""
    rows = db.session.execute(select(Grid.id, Grid.name, Grid.level, Grid.parent_id)
                              .where(Grid.level.in_(teams.PAIRING_LEVELS)).order_by(Grid.path)).all()
    streets = {row.id: row.name for row in rows if row.level == 1}
    return [(row.id, row.name if row.level == 1 else f"{streets.get(row.parent_id, '')} › {row.name}")
            for row in rows]


def _home_grid_groups() -> list[tuple[str, list[tuple[int, str]]]]:
    return [(group.label, group.options) for group in home_grid_groups()]


# --- sign-up and review ------------------------------------------------------------------------------

@partners_bp.before_request
def _sign_in_except_signup():
    if request.endpoint == "partners.signup":
        return None
    return require_sign_in()


@partners_bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config.get("REGISTER_RATE_LIMIT", DEFAULT_REGISTER_LIMIT), methods=["POST"])
def signup():
    """An enterprise registers itself and its account; it may sign in at once and waits for review."""
    form = SignupForm()
    form.requested_grid_id.choices = _pairing_choices()
    status = 200
    if form.validate_on_submit():
        data = {key: (getattr(form, key).data or "").strip() or None
                for key in ("name", "credit_code", "address", "contact_name", "contact_mobile")}
        data["requested_grid_id"] = form.requested_grid_id.data
        try:
            user = register_enterprise_account(data, login=form.login.data, password=form.password.data,
                                               now=utcnow(), ip=request.remote_addr)
        except DomainError as error:
            db.session.rollback()
            for name, messages in (error.errors or {}).items():
                field = form._fields.get(name)
                target = field.errors if field is not None else form.form_errors
                target.extend(say(m) for m in messages)
            if not error.errors:
                form.form_errors.append(say(error.message))
            status = error.status_code
        else:
            start_session(user)
            flash(_("Submitted: the street office or community you chose will review it; then you can form teams."))
            return redirect(url_for("enterprise.portal"))
    elif request.method == "POST":
        status = 400 if form.csrf_token.errors else 422
    return render_template("enterprise_signup.html", form=form), status


@partners_bp.get("/review")
def review_list():
    """Enterprises asking to pair within the office's subtree, pending first."""
    rows = db.session.scalars(teams.enterprises_to_review(scope=g.scope).limit(200)).all()
    today = _today()
    signing = [(value, text) for value, text in _pairing_choices()
               if g.scope.covers(db.session.get(Grid, value).path)]
    return render_template("enterprise_review.html", enterprises=rows, labels=STATUS_LABELS, form=ReviewForm(),
                           user=current_user.user, mask_mobile=mask_mobile, agreement_form=AgreementForm(),
                           agreements_by_enterprise={e.id: agreements.agreements_of(e.id, today=today) for e in rows
                                                     if e.status == EnterpriseStatus.APPROVED.value},
                           signing_grids=signing, agreement_states=AGREEMENT_STATES)


@partners_bp.post("/agreements")
def record_agreement():
    """Record a pairing agreement the office signed; the API's schema names each bad field."""
    if not AgreementForm().validate_on_submit():
        flash(_("The form expired; please try again."))
        return redirect(url_for("partners.review_list")), 303
    fields = ("enterprise_id", "grid_id", "signed_on", "valid_until", "note")
    raw = {name: request.form.get(name, "").strip() for name in fields}
    body = {name: (form_int(value) if name.endswith("_id") else value) for name, value in raw.items()
            if value or name != "note"}
    try:
        data = AgreementCreateSchema().load(body)
        agreement = agreements.record_agreement(data["enterprise_id"], data, scope=g.scope, now=utcnow())
    except ValidationError as error:
        _flash_refused(ValidationFailed(error.messages))
    except DomainError as error:
        _flash_refused(error)
    else:
        flash(_("Agreement recorded: %(grid)s, valid until %(until)s.", grid=agreement.grid.name,
                until=agreement.valid_until.isoformat()))
    return redirect(url_for("partners.review_list")), 303


def _today():
    return utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


@partners_bp.post("/review/<int:enterprise_id>")
def review(enterprise_id: int):
    form = ReviewForm()
    approve = request.form.get("decision") == "approve"
    if not form.validate_on_submit() or request.form.get("decision") not in ("approve", "reject"):
        _flash_form(form) if form.errors else flash(_("Choose approve or reject."))
        return redirect(url_for("partners.review_list")), 303
    try:
        enterprise = teams.review_enterprise(enterprise_id, approve=approve, note=form.note.data, scope=g.scope,
                                             now=utcnow())
    except DomainError as error:
        _flash_refused(error)
    else:
        flash(_("Approved: %(name)s.", name=enterprise.name) if approve else
              _("Rejected: %(name)s.", name=enterprise.name))
    return redirect(url_for("partners.review_list")), 303


# --- the enterprise's portal -------------------------------------------------------------------------

def _open_team_callups(team_ids: list[int]) -> list[dict]:
    """The teams' call-ups still awaiting an answer, soonest shift first, with what, when and where."""
    if not team_ids:
        return []
    rows = db.session.execute(
        join_shift(select(CallUp, Position, Shift))
        .where(CallUp.team_id.in_(team_ids), ~CallUp.is_person, CallUp.status == CallUpStatus.SENT,
               CallUp.expires_at > utcnow())
        .order_by(Shift.start_at)).all()
    return [{"callup": callup, "team": db.session.get(Team, callup.team_id), "role": position.role,
             "title": shift.campaign.title, "place": shift.place or db.session.get(Grid, shift.grid_id).name,
             "when": f"{local_datetime(shift.start_at)} – {local_datetime(shift.end_at, 'HH:mm')}",
             "deadline": local_datetime(callup.expires_at)} for callup, position, shift in rows]


@enterprise_bp.get("")
def portal():
    """The enterprise's record, its teams and their open call-ups."""
    enterprise = teams.get_enterprise(g.scope.enterprise_id)
    rows = db.session.scalars(teams.list_teams(enterprise_id=enterprise.id)).all()
    zone = current_app.config["TIMEZONE"]
    try:
        quarter = parse_quarter(request.args.get("quarter"), now=utcnow(), timezone_name=zone)
    except DomainError:
        quarter = parse_quarter(None, now=utcnow(), timezone_name=zone)
    service = enterprise_team_report(enterprise.id, quarter=quarter, timezone_name=zone)
    return render_template(
        "enterprise_portal.html", enterprise=enterprise, teams=rows, status_label=STATUS_LABELS[enterprise.status],
        quarter=quarter, quarters=previous_quarters(quarter), service=service,
        approved=enterprise.status == EnterpriseStatus.APPROVED.value, callups=_open_team_callups([t.id for t in rows]),
        team_form=TeamForm(), member_form=MemberForm(), action_form=ActionForm(), pairing=_pairing_choices(),
        home_groups=_home_grid_groups(), mask_mobile=mask_mobile, user=current_user.user,
        agreements=agreements.agreements_of(enterprise.id, today=_today()), agreements_of_id=enterprise.id,
        agreement_states=AGREEMENT_STATES)


def _own_team(team_id: int) -> Team:
    team = teams.get_team(team_id)
    if team.enterprise_id != g.scope.enterprise_id:  # the access table already refuses; belt and braces
        raise NotFound.of("team", team_id)
    return team


def _back():
    return redirect(url_for("enterprise.portal")), 303


@enterprise_bp.post("/teams")
def create_team():
    form = TeamForm()
    if not form.validate_on_submit():
        _flash_form(form)
        return _back()
    try:
        team = teams.create_team(g.scope.enterprise_id, {"name": form.name.data.strip(),
                                                         "paired_grid_ids": form.paired_grid_ids.data or []},
                                 scope=g.scope)
    except DomainError as error:
        _flash_refused(error)
    else:
        flash(_("Team “%(name)s” formed: add its members.", name=team.name))
    return _back()


@enterprise_bp.post("/teams/<int:team_id>/members")
def add_member(team_id: int):
    form = MemberForm()
    if not form.validate_on_submit():
        _flash_form(form)
        return _back()
    _own_team(team_id)
    try:
        person = teams.add_employee(team_id, {"name": form.name.data.strip(), "mobile": form.mobile.data.strip(),
                                              "home_grid_id": form.home_grid_id.data}, scope=g.scope, now=utcnow())
    except DomainError as error:
        _flash_refused(error)
    else:
        flash(_("Added %(name)s.", name=person.name))
    return _back()


def _member_id() -> int | None:
    value = request.form.get("member_id", "")
    return int(value) if value.isdigit() and len(value) < 10 else None


def _member_action(team_id: int, change, done: str):
    """A button on a member's row: ``change(member_id)`` through the teams service, then back."""
    form = ActionForm()
    member_id = _member_id()
    if not form.validate_on_submit() or member_id is None:
        flash(_("Choose a member."))
        return _back()
    _own_team(team_id)
    try:
        change(member_id)
    except DomainError as error:
        _flash_refused(error)
    else:
        flash(done)
    return _back()


@enterprise_bp.post("/teams/<int:team_id>/remove")
def remove_member(team_id: int):
    return _member_action(team_id, lambda member: teams.remove_member(team_id, member, scope=g.scope),
                          _("Removed from the team."))


@enterprise_bp.post("/teams/<int:team_id>/leader")
def set_leader(team_id: int):
    return _member_action(team_id, lambda member: teams.update_team(team_id, {"leader_id": member}, scope=g.scope),
                          _("Leader set: the team's call-ups reach the leader."))


@enterprise_bp.post("/call-ups/<int:callup_id>/answer")
def answer(callup_id: int):
    """Name who goes (or decline for the team): the same service as the leader's answer link."""
    form = ActionForm()
    if not form.validate_on_submit():
        flash(_("The page expired, please try again."))
        return _back()
    decline = request.form.get("action") == "decline"
    chosen = [] if decline else [int(v) for v in request.form.getlist("member_ids") if v.isdigit() and len(v) < 10]
    if not decline and not chosen:
        flash(_("Choose at least one member, or press “Our team can't come”."))
        return _back()
    try:
        result = answer_team_callup(callup_id, member_ids=chosen, now=utcnow(),
                                    actor=f"enterprise:{g.scope.enterprise_id}:user:{current_user.user.id}")
    except DomainError as error:
        _flash_refused(error)
    else:
        flash(_("Answered: the team is not coming.") if decline else
              ngettext("%(num)d person sent, thank you!", "%(num)d people sent, thank you!", len(result.callups)))
    return _back()


def register_enterprise_pages(app) -> None:
    app.register_blueprint(partners_bp)
    app.register_blueprint(enterprise_bp)
