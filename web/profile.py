"""A volunteer's own profile pages: skills, weekly hours, channels and consent, emergency calls, what they add up to;
and my data: its export and its erasure.

Each step saves through ``volunteers.services.update_volunteer`` with the person's own scope, after the input is
loaded by the API's ``VolunteerUpdateSchema``: the page, ``PATCH /api/v1/volunteers/{id}`` and the CLI share one
code path, so a rule (a window on the half hour, a cap of 0-100, certified skills kept for the office) is written
once. After registration the steps run in order (``?setup=1``) and end on the summary; later each opens on its own.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from marshmallow import ValidationError as MarshmallowError
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget
from zoneinfo import ZoneInfo

from accounts.audit import record_event
from accounts.privacy import erase_volunteer, personal_data
from api.schemas.accounts import MyDataSchema
from api.schemas.common import for_update
from api.schemas.volunteers import VolunteerUpdateSchema
from notices.models import Channel
from notices.outbox import channels_for
from core.clock import utcnow
from core.errors import DomainError
from core.i18n import HTML_LANG, LANGUAGE_NAMES, _, _l, language, say
from core.masking import mask_mobile
from extensions import db
from volunteers.availability import format_hhmm
from volunteers.models import Volunteer
from volunteers.readiness import NO_CALLUPS_LEFT, NO_HOURS, NOT_ACTIVE, readiness_of
from volunteers.services import get_volunteer, list_skills, update_volunteer
from web.auth import _no_store, require_sign_in
from web.forms import EmergencyCallsForm
from web.sessions import end_session

bp = Blueprint("profile", __name__, url_prefix="/me")
bp.before_request(require_sign_in)
bp.after_request(_no_store)

WEEKDAYS = (_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun"))
# Parts of a day a person ticks; adjacent parts join into one window, so a 09:00-15:00 shift fits morning + afternoon.
DAY_PARTS = (("morning", _l("Morning"), "08:00", "12:00"), ("afternoon", _l("Afternoon"), "12:00", "18:00"),
             ("evening", _l("Evening"), "18:00", "22:00"))
LEVELS = [SelectChoice(value, label) for value, label in (
    ("0", _l("No skill")), ("1", _l("1 Beginner")), ("2", _l("2 Can do")), ("3", _l("3 Skilled")),
    ("4", _l("4 Very good")), ("5", _l("5 Expert")))]
CHANNEL_LABELS = {"inapp": _l("in-app inbox"), "sms": _l("SMS"), "email": _l("E-mail"), "wecom": _l("WeCom")}
BLOCKER_TEXT = {
    NOT_ACTIVE: _l("Your status is paused or left: ask your community office."),
    NO_HOURS: _l("You have not given any weekly hours, so routine call-ups cannot reach you."),
    NO_CALLUPS_LEFT: _l("You set your monthly call-ups to 0."),
}
# The steps, in the order a new volunteer meets them: endpoint and title.
STEPS = (("profile.skills", _l("Skills")), ("profile.availability", _l("Weekly hours")),
         ("profile.channels", _l("How you are told")), ("profile.emergency", _l("Emergency calls")))


class SkillsForm(FlaskForm):
    """One level select per uncertified skill of the catalogue (fields added per request)."""


class AvailabilityForm(FlaskForm):
    slots = SelectMultipleField(_l("Weekly hours"), option_widget=CheckboxInput(),
                                widget=ListWidget(prefix_label=False), validate_choice=False)
    keep = SelectMultipleField(_l("Other hours"), option_widget=CheckboxInput(),
                               widget=ListWidget(prefix_label=False), validate_choice=False)
    max_callups_per_month = IntegerField(_l("At most this many call-ups a month"),
                                         render_kw={"inputmode": "numeric"})


class ChannelsForm(FlaskForm):
    consented_channels = SelectMultipleField(_l("I agree to be told by"),
                                             option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False),
                                             validate_choice=False)
    # Each language by its own name (and marked so, for screen readers), so a reader of either finds theirs.
    language = SelectField(_l("Language of messages"), validate_choice=False, choices=[
        SelectChoice(code, name, render_kw={"lang": HTML_LANG[code]}) for code, name in LANGUAGE_NAMES.items()])


def skill_name(skill) -> str:
    """A skill as the catalogue names it in the page's language (its code when it has no English name)."""
    return (skill.name_en or skill.code) if language() == "en" else skill.name


def _volunteer() -> Volunteer:
    volunteer_id = current_user.user.volunteer_id
    if volunteer_id is None:
        abort(404)
    return get_volunteer(volunteer_id)


def _today() -> date:
    return utcnow().astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


def _setup() -> bool:
    return request.args.get("setup") == "1"


def _next_url(endpoint: str) -> str:
    """After saving: the next step during setup (the summary after the last), else the summary."""
    names = [name for name, _title in STEPS]
    if _setup() and endpoint in names and names.index(endpoint) + 1 < len(names):
        return url_for(names[names.index(endpoint) + 1], setup=1)
    return url_for("profile.summary", done=1 if _setup() else None)


def _flat_messages(value) -> list[str]:
    """Marshmallow's nested messages ({0: {"end": [...]}}) as one flat list."""
    if isinstance(value, Mapping):
        return [message for item in value.values() for message in _flat_messages(item)]
    if isinstance(value, (list, tuple)):
        return [message for item in value for message in _flat_messages(item)]
    return [say(value)]


def _attach(form, errors: Mapping[str, object], fields: Mapping[str, str]) -> None:
    """Put errors keyed by record field (``availability``) under the form field that edits it (``slots``).

    A list field's errors by index ({"skills": {0: …}}) go under the field of that item when ``fields`` maps
    the index ("0" → "skill_3"), so a refused level shows next to its skill.
    """
    for name, messages in errors.items():
        if isinstance(messages, Mapping) and all(str(key) in fields for key in messages):
            _attach(form, {str(key): value for key, value in messages.items()}, fields)
            continue
        field = getattr(form, fields.get(name, name), None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + _flat_messages(messages)
        else:
            form.form_errors.extend(_flat_messages(messages))


def _save(form, body: dict, fields: Mapping[str, str]) -> bool:
    """Load ``body`` with the API's schema and save it with the person's own scope; errors land on ``form``."""
    try:
        data = for_update(VolunteerUpdateSchema).load(body)
    except MarshmallowError as error:
        _attach(form, error.messages, fields)
        return False
    try:
        update_volunteer(current_user.user.volunteer_id, data, scope=g.scope, now=utcnow())
    except DomainError as error:
        db.session.rollback()  # nothing half-written
        _attach(form, error.errors or {"": [error.message]}, fields)
        return False
    return True


def _page(template: str, form, *, endpoint: str, status: int = 200, **context):
    names = [name for name, _title in STEPS]
    return render_template(template, form=form, setup=_setup(), steps=STEPS, skill_name=skill_name,
                           step_number=names.index(endpoint) + 1, step_title=dict(STEPS)[endpoint],
                           skip_url=_next_url(endpoint), **context), status


def _status_of(form) -> int:
    return 400 if form.csrf_token.errors else 422


@bp.route("/profile/skills", methods=["GET", "POST"])
def skills():
    """What I can do: a level for each skill of the catalogue; certified skills are the office's to record."""
    volunteer = _volunteer()
    catalogue = db.session.scalars(list_skills()).all()
    held = {row.skill.code: row for row in volunteer.skills}
    open_skills = [skill for skill in catalogue if not skill.certified]
    form_class = type("BoundSkillsForm", (SkillsForm,), {
        f"skill_{skill.id}": SelectField(skill_name(skill), choices=LEVELS,
                                         validate_choice=False) for skill in open_skills})
    defaults = {f"skill_{skill.id}": str(held[skill.code].level) if skill.code in held else "0"
                for skill in open_skills}
    form = form_class() if request.method == "POST" else form_class(formdata=None, data=defaults)
    field_of = {skill.code: f"skill_{skill.id}" for skill in open_skills}
    if request.method == "POST":
        if not form.validate_on_submit():
            return _page("profile_skills.html", form, endpoint="profile.skills", status=_status_of(form),
                         open_skills=open_skills, field_of=field_of, certified=_certified(volunteer))
        body, sent = {"skills": []}, []
        for skill in open_skills:
            raw = form[f"skill_{skill.id}"].data or "0"
            if raw != "0":
                # A level the form does not offer still goes to the schema, whose refusal lands under that skill.
                body["skills"].append({"code": skill.code, "level": int(raw) if raw.isdigit() else raw})
                sent.append(f"skill_{skill.id}")
        if _save(form, body, {"skills": "skills", **{str(i): name for i, name in enumerate(sent)}}):
            flash(_("Skills saved."))
            return redirect(_next_url("profile.skills"))
        return _page("profile_skills.html", form, endpoint="profile.skills", status=422,
                     open_skills=open_skills, field_of=field_of, certified=_certified(volunteer))
    return _page("profile_skills.html", form, endpoint="profile.skills", open_skills=open_skills,
                 field_of=field_of, certified=_certified(volunteer))


def _certified(volunteer: Volunteer) -> list:
    return [row for row in volunteer.skills if row.skill.certified]


def _slot_value(weekday: int, part: str) -> str:
    return f"{weekday}-{part}"


def _window_value(weekday: int, start: int, end: int) -> str:
    return f"{weekday}-{format_hhmm(start)}-{format_hhmm(end)}"


@bp.route("/profile/availability", methods=["GET", "POST"])
def availability():
    """When I am free each week (mornings, afternoons, evenings by weekday) and how often I may be called."""
    volunteer = _volunteer()
    parts = {key: (start, end) for key, _name, start, end in DAY_PARTS}
    presets = {(start, end): key for key, (start, end) in parts.items()}
    ticked, others = [], []
    for window in volunteer.availability:
        bounds = (format_hhmm(window.start_minute), format_hhmm(window.end_minute))
        if bounds in presets:
            ticked.append(_slot_value(window.weekday, presets[bounds]))
        else:
            others.append((_window_value(window.weekday, window.start_minute, window.end_minute),
                           window.weekday, *bounds))
    if request.method == "POST":
        form = AvailabilityForm()
    else:
        form = AvailabilityForm(formdata=None, data={"slots": ticked, "keep": [value for value, *_ in others],
                                                    "max_callups_per_month": volunteer.max_callups_per_month})
    form.keep.choices = [SelectChoice(value, f"{WEEKDAYS[day]} {start}–{end}")
                         for value, day, start, end in others]
    context = {"weekdays": WEEKDAYS, "parts": DAY_PARTS, "others": others}
    if request.method == "POST":
        if not form.validate_on_submit():
            return _page("profile_availability.html", form, endpoint="profile.availability",
                         status=_status_of(form), **context)
        windows = []
        for value in form.slots.data or []:
            day, _dash, part = value.partition("-")
            start, end = parts.get(part, ("", ""))
            windows.append({"weekday": int(day) if day.isdigit() else day, "start": start, "end": end})
        for value in form.keep.data or []:
            day, _dash, rest = value.partition("-")
            start, _dash, end = rest.partition("-")
            windows.append({"weekday": int(day) if day.isdigit() else day, "start": start, "end": end})
        body = {"availability": windows}
        if form.max_callups_per_month.raw_data and form.max_callups_per_month.raw_data[0].strip():
            body["max_callups_per_month"] = form.max_callups_per_month.data
        if form.max_callups_per_month.errors or not _save(form, body, {"availability": "slots"}):
            return _page("profile_availability.html", form, endpoint="profile.availability", status=422, **context)
        flash(_("Weekly hours saved."))
        return redirect(_next_url("profile.availability"))
    return _page("profile_availability.html", form, endpoint="profile.availability", **context)


def _own_channels(volunteer: Volunteer) -> list[tuple[str, str, str]]:
    """(channel, label, address shown) for the channels this person has an address for."""
    found = [("sms", CHANNEL_LABELS["sms"], mask_mobile(volunteer.mobile))]
    if volunteer.email:
        found.append(("email", CHANNEL_LABELS["email"], volunteer.email))
    if volunteer.wecom_id:
        found.append(("wecom", CHANNEL_LABELS["wecom"], volunteer.wecom_id))
    return found


@bp.route("/profile/channels", methods=["GET", "POST"])
def channels():
    """How I am told of call-ups: consent per channel (withdrawn when unticked) and the language of messages."""
    volunteer = _volunteer()
    offered = _own_channels(volunteer)
    if request.method == "POST":
        form = ChannelsForm()
    else:
        form = ChannelsForm(formdata=None, data={"consented_channels": volunteer.consented_channels,
                                                 "language": volunteer.language})
    form.consented_channels.choices = [SelectChoice(value, _("%(channel)s (%(address)s)", channel=label, address=address))
                                       for value, label, address in offered]
    if request.method == "POST":
        if not form.validate_on_submit():
            return _page("profile_channels.html", form, endpoint="profile.channels", status=_status_of(form))
        # Consent to a channel without an address here (set by the office) is kept as it is.
        unseen = [c for c in volunteer.consented_channels if c not in {value for value, *_ in offered}]
        body = {"consented_channels": list(form.consented_channels.data or []) + unseen,
                "language": form.language.data}
        if _save(form, body, {}):
            flash(_("Channels saved."))
            return redirect(_next_url("profile.channels"))
        return _page("profile_channels.html", form, endpoint="profile.channels", status=422)
    return _page("profile_channels.html", form, endpoint="profile.channels")


@bp.route("/profile/emergency", methods=["GET", "POST"])
def emergency():
    """Whether emergencies may call me outside my weekly hours (the same choice as on /me)."""
    volunteer = _volunteer()
    if request.method == "POST":
        form = EmergencyCallsForm()
        if form.validate_on_submit() and _save(form, {"emergency_calls": form.emergency_calls.data}, {}):
            flash(_("Emergency call setting saved."))
            return redirect(_next_url("profile.emergency"))
        status = 400 if form.csrf_token.errors else 422
        return _page("profile_emergency.html", form, endpoint="profile.emergency", status=status)
    form = EmergencyCallsForm(formdata=None, data={"emergency_calls": volunteer.emergency_calls})
    return _page("profile_emergency.html", form, endpoint="profile.emergency")


def profile_summary(volunteer: Volunteer) -> dict:
    """What the summary shows: the matcher's view of the person and the channels a call-up would use, each list
    already said as one phrase of the page's language (its own separators)."""
    readiness = readiness_of(volunteer, today=_today())
    every_channel = {Channel.INAPP, Channel.SMS, Channel.EMAIL, Channel.WECOM}
    used = [channel.value for channel, _channel in channels_for(volunteer, every_channel)]
    return {"readiness": readiness,
            "channels": _(", ").join(str(CHANNEL_LABELS[name]) for name in used if name in CHANNEL_LABELS),
            "skills": _(", ").join(_("%(skill)s (level %(level)s)", skill=skill_name(held), level=held.level)
                                   for held in readiness.skills if not held.expired),
            "hours": _("; ").join(f"{WEEKDAYS[day]} {start}–{end}" for day, start, end in readiness.hours),
            "sms": "sms" in used, "blockers": [str(BLOCKER_TEXT[code]) for code in readiness.blockers]}


@bp.get("/profile")
def summary():
    """What I can be called for: skills, when, on which channels; or why not yet."""
    volunteer = _volunteer()
    return render_template("profile.html", volunteer=volunteer, steps=STEPS,
                           just_done=request.args.get("done") == "1", **profile_summary(volunteer))


class ErasureForm(FlaskForm):
    """Erasure cannot be undone: the box must be ticked."""

    confirm = BooleanField(_l("I confirm: erase my personal data"))


@bp.get("/data")
def my_data():
    """Download everything held about me as JSON (the same document as GET /api/v1/me/data), audited."""
    volunteer_id = _volunteer().id
    body = MyDataSchema().dumps(personal_data(volunteer_id), ensure_ascii=False)
    scope = g.scope
    record_event(actor=scope.actor, role=scope.role.value, action="GET profile.my_data", now=utcnow(), outcome="200",
                 object_type="volunteer", object_id=volunteer_id, ip=request.remote_addr)
    return Response(body, mimetype="application/json",
                    headers={"Content-Disposition": 'attachment; filename="my-data.json"'})


@bp.route("/erasure", methods=["GET", "POST"])
def erasure():
    """Erase me: the confirmation page, then the same anonymisation as POST /api/v1/me/erasure; signs me out."""
    volunteer = _volunteer()
    form = ErasureForm()
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        if form.confirm.data:
            erase_volunteer(volunteer.id, now=utcnow(), actor=g.scope.actor)
            end_session()
            flash(_("Your personal data was erased and your account closed."))
            return redirect(url_for("auth.login"))
        form.confirm.errors = [_("Tick the box to confirm.")]
        status = 422
    return render_template("profile_erasure.html", form=form), status
