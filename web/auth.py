"""Sign-in pages: /login, /logout, volunteer self-registration and /me (a volunteer's own call-ups)."""
from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from accounts.access import authorize
from accounts.models import Role
from accounts.services import scope_for
from accounts.staff import CONTACT_FIELDS, update_own_contact
from accounts.users import (CONSENT_TEXT, CONSENT_VERSION, LoginFailed, SignInThrottled, authenticate_password,
                            end_sessions, list_own_callups, register_volunteer_account)
from accounts.verification import TooManyCodes, request_mobile_code
from campaigns import attendance, responses
from campaigns.hours import hours_summary
from campaigns.models import CallUpStatus
from campaigns.services import get_callup, is_emergency
from core.clock import utcnow
from core.errors import Conflict, DomainError, ValidationFailed
from core.i18n import _, _l, language, say
from core.scope import STAFF_ROLES
from extensions import db, limiter, login_manager
from grids.services import home_grid_groups
from core.masking import mask_mobile
from volunteers.models import PartyOrganisation, Volunteer
from volunteers.party_orgs import set_party_org
from volunteers.services import update_volunteer
from web.forms import (AnswerForm, CheckInForm, EmergencyCallsForm, LoginForm, LogoutForm, MobileCodeForm,
                       PartyOrgForm, RegisterForm, StaffContactForm)
from web.responses import ETA_CHOICES, eta_from_form, eta_text, page_context
from web.sessions import end_session, start_session

bp = Blueprint("auth", __name__)

# Pages anyone may open; every other page of this blueprint needs a signed-in account and passes authorize().
PUBLIC_ENDPOINTS = {"auth.login", "auth.register", "auth.register_code"}
DEFAULT_LOGIN_LIMIT = "10 per minute"
HOME_PAGES = {Role.ADMIN: "office.campaigns", Role.OFFICE: "office.campaigns", Role.ENTERPRISE: "enterprise.portal",
              Role.PARTY_ORG: "party.ours"}
DEFAULT_REGISTER_LIMIT = "10 per hour"
STATUS_TEXT = {
    "sent": _l("Awaiting your answer"), "accepted": _l("You are coming"), "declined": _l("You declined"),
    "expired": _l("Expired"), "withdrawn": _l("Withdrawn"), "attended": _l("Attended"),
    "no_show": _l("Did not attend"), "proposed": _l("Proposed"), "scheduled": _l("Scheduled"),
}


def login_rate_key() -> str:
    """Rate-limit key: the login typed in (hashed, so no mobile number lands in the limiter store) plus the IP."""
    digest = hashlib.sha256(request.form.get("login", "").strip().lower().encode()).hexdigest()[:16]
    return f"{digest}:{get_remote_address()}"


def login_limit() -> str:
    return current_app.config.get("LOGIN_RATE_LIMIT", DEFAULT_LOGIN_LIMIT)


# The scope "login" is shared with POST /api/v1/auth/token: one counter per login and IP (SR-8).
login_rate_limit = limiter.shared_limit(login_limit, scope="login", key_func=login_rate_key, methods=["POST"])


def _safe_next(target: str | None, role: Role | None = None) -> str:
    """Only a path on this site: an open redirect would make a fine phishing tool. Without one, each role
    lands where its work is: staff on the console, enterprises on their portal, volunteers on /me."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target \
            and not urlsplit(target).netloc:
        return target
    return url_for(HOME_PAGES.get(role, "auth.me"))


def _attach_errors(form, error: DomainError) -> None:
    """Put a service's field errors under the form's fields; the rest shows at the top."""
    for name, messages in (error.errors or {}).items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + [say(m) for m in messages]
        else:
            form.form_errors.extend(say(m) for m in messages)
    if not error.errors:
        form.form_errors.append(say(error.message))


@bp.before_request
def require_sign_in():
    """Pages other than sign-in and registration need an account the access table lets in."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        if g.get("session_expired"):
            return redirect(url_for("auth.login", expired=1, next=request.path))
        return login_manager.unauthorized()
    user = current_user.user
    g.scope = scope_for(user, actor=f"user:{user.id}")
    try:
        authorize(g.scope, request.endpoint, request.method, request.view_args)
    except DomainError:
        g.audit_outcome = "refused"
        raise
    return None


@bp.after_request
def _no_store(response):
    # Signed-in pages and forms with tokens are personal: never cache them.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/login", methods=["GET", "POST"])
@login_rate_limit
def login():
    """Sign in with a login (a volunteer's mobile) and password; a new session each time."""
    form = LoginForm()
    status, headers = 200, {}
    if form.validate_on_submit():
        config = current_app.config
        try:
            user = authenticate_password(form.login.data, form.password.data, now=utcnow(),
                                         max_failures=config["LOGIN_MAX_FAILURES"],
                                         max_delay_seconds=config["LOGIN_MAX_DELAY_SECONDS"], ip=request.remote_addr)
        except (LoginFailed, SignInThrottled) as error:
            form.form_errors.append(say(error.message))
            status = error.status_code
            if isinstance(error, SignInThrottled):
                headers["Retry-After"] = str(error.retry_after)
        else:
            start_session(user)
            return redirect(_safe_next(request.args.get("next"), user.role))
    elif request.method == "POST":
        status = 400 if form.csrf_token.errors else 422
    return render_template("login.html", form=form,
                           expired=request.args.get("expired") == "1"), status, headers


@bp.post("/logout")
def logout():
    """Sign out: every web session of the account ends; "everywhere" also revokes its app sign-in tokens."""
    form = LogoutForm()
    if form.validate_on_submit():
        everywhere = bool(form.everywhere.data)
        end_sessions(current_user.user.id, now=utcnow(), ip=request.remote_addr, everywhere=everywhere)
        end_session()
        flash(_("You have signed out everywhere.") if everywhere else _("You have signed out."))
    return redirect(url_for("auth.login"))


def _grid_choices() -> list[SelectChoice]:
    """Communities and grids a volunteer may call home, each named by its full path (street › community › grid)."""
    return [SelectChoice(str(grid_id), label, optgroup=group.label)
            for group in home_grid_groups() for grid_id, label in group.options]


def _register_page(form, *, code_form=None, sent_to: str | None = None, status: int = 200):
    """Step 1 (``code_form``: the mobile number) or step 2 (``form``: the code and the rest).

    The home-grid select is drawn from ``form.home_grid_id.choices`` grouped by community, with nothing chosen
    until the person chooses: a preselected first community put people in the wrong place unnoticed.
    """
    groups = []
    if form is not None:
        for choice in form.home_grid_id.choices or []:
            if not groups or groups[-1][0] != choice.optgroup:
                groups.append((choice.optgroup, []))
            groups[-1][1].append((choice.value, choice.label))
    return render_template("register.html", form=form, code_form=code_form, sent_to=sent_to,
                           consent_text=CONSENT_TEXT, consent_version=CONSENT_VERSION, grid_groups=groups), status


@bp.post("/register/code")
@limiter.limit(lambda: current_app.config.get("REGISTER_RATE_LIMIT", DEFAULT_REGISTER_LIMIT))
def register_code():
    """Registration step 1: send a one-time code to the mobile number; the answer is the same for every number."""
    code_form = MobileCodeForm()
    if not code_form.validate_on_submit():
        return _register_page(None, code_form=code_form, status=400 if code_form.csrf_token.errors else 422)
    mobile = code_form.mobile.data.strip()
    try:
        request_mobile_code(mobile, now=utcnow(), ip=request.remote_addr,
                            log_code=not current_app.config.get("SMS_GATEWAY_URL"))
    except TooManyCodes as error:
        db.session.rollback()
        _attach_errors(code_form, error)
        return _register_page(None, code_form=code_form, status=error.status_code)
    form = RegisterForm(formdata=None, data={"mobile": mobile})
    form.home_grid_id.choices = _grid_choices()
    return _register_page(form, sent_to=mask_mobile(mobile))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config.get("REGISTER_RATE_LIMIT", DEFAULT_REGISTER_LIMIT), methods=["POST"])
def register():
    """Registration step 2: the code sent to the mobile, name, password, home grid and consent to the purpose."""
    if request.method == "GET":
        return _register_page(None, code_form=MobileCodeForm())
    form = RegisterForm()
    form.home_grid_id.choices = _grid_choices()
    status = 200
    if form.validate_on_submit():
        # Messages reach the person in the language they registered in, until they choose another.
        data = {"name": form.name.data.strip(), "mobile": form.mobile.data.strip(),
                "home_grid_id": form.home_grid_id.data, "language": language()}
        try:
            user = register_volunteer_account(data, code=form.code.data.strip(), password=form.password.data,
                                              consent=bool(form.consent.data), now=utcnow(), ip=request.remote_addr)
        except (ValidationFailed, Conflict) as error:
            db.session.rollback()
            _attach_errors(form, error)
            status = error.status_code
        else:
            start_session(user)
            flash(_("Registered: welcome aboard! Two more minutes on your skills and hours, "
                    "and your community can call you."))
            return redirect(url_for("profile.skills", setup=1))
    else:
        status = 400 if form.csrf_token.errors else 422
    return _register_page(form, status=status)


@bp.get("/me")
def me():
    """The signed-in volunteer's call-ups with their status and answer buttons; staff see who they are."""
    user = current_user.user
    if user.role in (Role.ENTERPRISE, Role.PARTY_ORG):
        return redirect(url_for(HOME_PAGES[user.role]))
    items = []
    hours = emergency_form = profile = party_form = None
    party_names = []
    if user.role is Role.VOLUNTEER and user.volunteer_id is not None:
        from web.profile import profile_summary

        volunteer = db.session.get(Volunteer, user.volunteer_id)
        profile = profile_summary(volunteer)
        hours = hours_summary(user.volunteer_id)
        for callup in db.session.scalars(list_own_callups(user.volunteer_id).limit(100)):
            emergency = is_emergency(callup)
            items.append({"callup": callup, "c": page_context(callup, volunteer),
                          "status": STATUS_TEXT.get(callup.status.value, callup.status.value),
                          "open": callup.status in (CallUpStatus.SENT, CallUpStatus.ACCEPTED),
                          "check_in": attendance.may_check_in_self(callup, utcnow()),
                          "check_out": attendance.may_check_out_self(callup, utcnow()),
                          "emergency": emergency, "eta": eta_text(callup.eta_minutes) if emergency else ""})
        emergency_form = EmergencyCallsForm(formdata=None, data={"emergency_calls": volunteer.emergency_calls})
        if volunteer.is_party_member:
            current = db.session.get(PartyOrganisation, volunteer.party_org_id) if volunteer.party_org_id else None
            party_form = PartyOrgForm(formdata=None, data={"party_org": current.name if current else ""})
            party_names = db.session.scalars(select(PartyOrganisation.name).order_by(PartyOrganisation.name)
                                             .limit(500)).all()
    contact_form = None
    if user.role in STAFF_ROLES:
        contact_form = StaffContactForm(formdata=None, data={
            "email": user.email, "mobile": user.mobile, "wecom_id": user.wecom_id,
            "notify_channels": user.notify_channel_list})
    return _me_page(user, items=items, hours=hours, contact_form=contact_form, emergency_form=emergency_form,
                    profile=profile, party_form=party_form, party_names=party_names)


def _me_page(user, *, items=(), hours=None, contact_form=None, emergency_form=None, profile=None,
             party_form=None, party_names=(), status: int = 200):
    return render_template("me.html", user=user, items=items, hours=hours, logout_form=LogoutForm(),
                           profile=profile, party_form=party_form, party_names=party_names,
                           answer_form=AnswerForm(), eta_buttons=[(m, eta_text(m)) for m in ETA_CHOICES],
                           contact_form=contact_form, emergency_form=emergency_form,
                           check_in_form=CheckInForm()), status


@bp.post("/me/emergency-calls")
def emergency_calls():
    """A volunteer chooses whether emergencies may call them outside their weekly hours."""
    form = EmergencyCallsForm()
    if not form.validate_on_submit():
        abort(400)
    update_volunteer(current_user.user.volunteer_id, {"emergency_calls": form.emergency_calls.data},
                     scope=g.scope, now=utcnow())
    flash(_("Emergency call setting saved."))
    return redirect(url_for("auth.me"))


CHECKED_IN = _l("Checked in: thank you for coming!")
CHECKED_OUT = _l("Checked out: thank you for your work!")


def flash_refusal(error: DomainError) -> None:
    """A refused self-service action as the service's own field messages (rolled back first)."""
    db.session.rollback()
    flash(" ".join(say(m) for messages in (error.errors or {}).values() for m in messages) or say(error.message))


def check_self(callup_id: int, *, leaving: bool) -> bool:
    """Check the signed-in volunteer in (or out) of their call-up and flash the outcome; True when done."""
    mark = attendance.check_out_self if leaving else attendance.check_in_self
    try:
        mark(callup_id, volunteer_id=current_user.user.volunteer_id, now=utcnow())
    except Conflict as error:
        flash_refusal(error)
        return False
    flash(str(CHECKED_OUT if leaving else CHECKED_IN))
    return True


@bp.post("/me/call-ups/<int:callup_id>/arrived")
def arrived(callup_id: int):
    """"I have arrived": check myself in on an accepted call-up (authorize() checked it is mine)."""
    if not CheckInForm().validate_on_submit():
        abort(400)
    check_self(callup_id, leaving=False)
    return redirect(url_for("auth.me"))


@bp.post("/me/call-ups/<int:callup_id>/departed")
def departed(callup_id: int):
    """"I am leaving": check myself out of a call-up I checked in to (authorize() checked it is mine)."""
    if not CheckInForm().validate_on_submit():
        abort(400)
    check_self(callup_id, leaving=True)
    return redirect(url_for("auth.me"))


@bp.post("/me/party-org")
def party_org():
    """双报到: a party member records (or clears) their workplace party organisation."""
    form = PartyOrgForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        flash(_("The organisation's name is at most 100 characters."))
        return redirect(url_for("auth.me"))
    try:
        set_party_org(current_user.user.volunteer_id, form.party_org.data, now=utcnow())
    except ValidationFailed as error:
        flash_refusal(error)
    else:
        flash(_("Workplace party organisation saved."))
    return redirect(url_for("auth.me"))


@bp.post("/me/contact")
def contact():
    """Office staff set their e-mail, mobile, WeCom id and the channels of their coordinator notices."""
    user = current_user.user
    form = StaffContactForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _me_page(user, contact_form=form, status=422)
    try:
        update_own_contact(g.scope, {name: getattr(form, name).data for name in CONTACT_FIELDS})
    except ValidationFailed as error:
        db.session.rollback()
        _attach_errors(form, error)
        return _me_page(user, contact_form=form, status=422)
    flash(_("Notice channels saved."))
    return redirect(url_for("auth.me"))


@bp.post("/me/call-ups/<int:callup_id>")
def answer(callup_id: int):
    """Accept (in an emergency: with when I can be there) or decline one of my call-ups (authorize() checked it)."""
    form = AnswerForm()
    if not form.validate_on_submit():
        abort(400)
    accept = form.action.data == "accept"
    eta_minutes = eta_from_form(request.form, allowed=accept and is_emergency(get_callup(callup_id)))
    try:
        if accept:
            responses.accept_callup(callup_id, actor=g.scope.actor, now=utcnow(), eta_minutes=eta_minutes)
        else:
            responses.decline_callup(callup_id, actor=g.scope.actor, now=utcnow())
    except Conflict as error:
        db.session.rollback()
        flash(say(error.message))
    else:
        flash(_("Confirmed, thank you for coming!") if form.action.data == "accept"
              else _("Noted, thank you for answering."))
    return redirect(url_for("auth.me"))
