"""/r/<token>: the one-tap answer page; GET shows the call-up, only POST answers it."""
from __future__ import annotations

import re
from collections.abc import Mapping

from flask import Blueprint, abort, current_app, render_template, request
from sqlalchemy import select

from notices.links import LinkExpired, resolve_link
from campaigns.messaging import callup_context
from campaigns import responses
from campaigns.models import CallUp, CallUpStatus
from campaigns.services import ETA_BUCKETS, get_callup, is_emergency
from campaigns.team_offers import MembersRefused, answer_team_callup, is_team_callup
from core.clock import utcnow
from core.db import kept_after_commit, reads_before_writing
from core.errors import Conflict, DomainError, NotFound, ValidationFailed
from core.i18n import _, _l, in_language, language, local_datetime
from web.locale import LANGUAGE_COOKIE, chosen_language
from extensions import csrf, db, limiter
from volunteers.models import Team, Volunteer, VolunteerStatus

bp = Blueprint("responses", __name__)

# What an emergency "yes" says about arrival (minutes; 0 = already on site): the staffing board's columns.
ETA_CHOICES = tuple(minutes for _, minutes in ETA_BUCKETS)

# What the page says after an answer, and for a refused one (by the key the error code maps to below).
DONE = {"accepted": _l("Confirmed, thank you for coming!"), "declined": _l("Noted, thank you for answering."),
        "team_accepted": _l("Confirmed: %(count)s people are coming, thank you!"),
        "team_declined": _l("Noted: your team is not coming, thank you for answering.")}
REFUSALS = {
    "none_chosen": _l("Choose at least one member; if the team cannot come, press \u201cOur team can't come\u201d."),
    "too_many": _l("At most %(places)s people: you chose %(count)s. Nothing was changed."),
    "busy": _l("Already serving at that time: %(names)s. Nothing was changed."),
    "gates": _l("Some members do not meet the position's requirements. Nothing was changed."),
    "already_called": _l("Already called up for this position: %(names)s. Nothing was changed."),
    "not_member": _l("Not active members of the team: %(names)s. Nothing was changed."),
    "full": _l("Not enough places left: only %(left)s. Nothing was changed."),
    "not_open": _l("This call-up is already answered or closed."),
    "failed": _l("The answer could not be saved; please try again. Nothing was changed."),
    "standby": _l("The position is full: you are on standby and will be offered the next place that frees."),
    "closed": _l("The activity was cancelled or the shift has ended: answers are closed."),
}
# Why a member cannot be sent, by the matcher's gate code.
GATE_REASONS = {"not_active": _l("not active"), "skill": _l("lacks the skill or level"),
                "no_certificate": _l("no valid certificate"), "certificate_expired": _l("certificate expired"),
                "unavailable": _l("not available at that time"), "blackout": _l("away that day"),
                "busy": _l("already serving at that time"), "monthly_cap": _l("monthly call-up limit reached")}
STATUSES = {"proposed": _l("Proposed"), "scheduled": _l("Scheduled"), "sent": _l("Awaiting your answer"),
            "accepted": _l("Accepted"), "declined": _l("Declined"), "expired": _l("Expired"),
            "withdrawn": _l("Withdrawn"), "attended": _l("Attended"), "no_show": _l("Did not attend")}
ETA_NAMES = {0: _l("Already on site"), 15: _l("Within 15 min"), 30: _l("Within 30 min"), 60: _l("Within 60 min")}
# How a page says a call-up's time (a CLDR pattern, per language): messages say it in the person's language.
WHEN_PATTERN = _l("EEE d MMM HH:mm")
LINK_ERRORS = {"not_found": _l("This link is not valid."),
               "expired": _l("This link has expired: the time to answer is over.")}


class _GateReasonsIn(Mapping):
    """GATE_REASONS said in one language, for the office's pages that still read ``LABELS[lang]["gate_codes"]``;
    delete with LABELS once they read GATE_REASONS."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def __getitem__(self, code: str) -> str:
        with in_language(self.lang):
            return str(GATE_REASONS[code])

    def __iter__(self):
        return iter(GATE_REASONS)

    def __len__(self) -> int:
        return len(GATE_REASONS)


LABELS = {lang: {"gate_codes": _GateReasonsIn(lang)} for lang in ("zh", "en")}


@bp.after_request
def _private(response):
    # The token is the credential: never leak it through Referer, caches or search engines.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def eta_text(minutes: int | None) -> str:
    """The arrival time a person gave, in words ("Within 15 min"); empty when they did not say."""
    if minutes is None:
        return ""
    return str(ETA_NAMES[minutes]) if minutes in ETA_NAMES else _("Within %(minutes)s min", minutes=minutes)


def page_context(callup: CallUp, person: Volunteer) -> dict[str, str]:
    """What a page about ``callup`` says (``callup_context``), its times in the page's language and zone."""
    pattern = str(WHEN_PATTERN)
    deadline = local_datetime(callup.expires_at, pattern) if callup.expires_at else ""
    return {**callup_context(callup, person), "when": local_datetime(callup.position.shift.start_at, pattern),
            "deadline": deadline}


def eta_from_form(form, *, allowed: bool) -> int | None:
    """The ``eta_minutes`` a form sent, strictly: absent, or (where ``allowed``) exactly one of ETA_CHOICES.

    Anything else (a forged 7, "abc", two values, an arrival time on a routine call-up or a
    decline) aborts with 400 before anything is written.
    """
    values = form.getlist("eta_minutes")
    if not values:
        return None
    if not allowed or len(values) != 1 or values[0] not in {str(minutes) for minutes in ETA_CHOICES}:
        abort(400)
    return int(values[0])


def _tel(phone: str) -> str:
    """A ``tel:`` address for a displayed number ("0571-8888 1234" → "tel:0571-88881234")."""
    return "tel:" + re.sub(r"[^0-9+\-]", "", phone)


# A refused answer's error code → the key of REFUSALS that says it on the page.
ANSWER_ERROR_KINDS = {"standby": "standby", "not_open": "not_open", "campaign_cancelled": "closed",
                      "shift_ended": "closed"}


def _reader_language(person: Volunteer | None) -> str:
    """The language of an answer page: the reader's own choice (the switch, or its cookie) when they made one,
    else the language of the person's messages, in which the link reached them."""
    if chosen_language() or LANGUAGE_COOKIE in request.cookies or person is None:
        return language()
    return person.language


def _page(callup, status: int = 200, refusal: str | None = None, done: str | None = None):
    if is_team_callup(callup):
        return _team_page(callup, status)
    volunteer = db.session.get(Volunteer, callup.volunteer_id) if callup.volunteer_id else None
    with in_language(_reader_language(volunteer)):
        context = page_context(callup, volunteer) if volunteer else {}
        emergency = is_emergency(callup)
        message = str(REFUSALS[ANSWER_ERROR_KINDS.get(refusal, "failed")]) if refusal else None
        return render_template("response.html", c=context, callup=callup, message=message, statuses=STATUSES,
                               done=str(DONE[done]) if done else None, tel=_tel(context.get("contact_phone") or ""),
                               emergency=emergency, eta_buttons=[(m, eta_text(m)) for m in ETA_CHOICES],
                               eta=eta_text(callup.eta_minutes) if emergency else "",
                               open=callup.status.value == "sent" or callup.status.value == "accepted"), status


def _error(kind: str, status: int):
    return render_template("response_error.html", message=LINK_ERRORS[kind], kind=kind), status


def _resolve(token: str) -> int:
    return resolve_link(token, now=utcnow())


# --- a team call-up: the leader names who comes --------------------------------------------------


def _team_page(callup, status: int = 200, *, error: tuple[str, dict] | None = None, done: str | None = None,
               chosen: frozenset[int] = frozenset(), count: int = 0):
    """The offer to a team: what, when, places offered, and the active members to tick (names only)."""
    team = db.session.get(Team, callup.team_id)
    leader = db.session.get(Volunteer, team.leader_id) if team and team.leader_id else None
    with in_language(_reader_language(leader)):
        return _render_team_page(callup, team, leader, status, error=error, done=done, chosen=chosen, count=count)


def _render_team_page(callup, team, leader, status, *, error, done, chosen, count):
    """The team's page in the language already chosen (see ``_team_page``), with the refusal or outcome said."""
    context = page_context(callup, leader) if leader else {}
    members = [m for m in team.members if m.status is VolunteerStatus.ACTIVE] if team else []
    sent = db.session.scalars(
        select(Volunteer.name).join(CallUp, CallUp.volunteer_id == Volunteer.id)
        .where(CallUp.position_id == callup.position_id, CallUp.team_id == callup.team_id,
               CallUp.status == CallUpStatus.ACCEPTED).order_by(Volunteer.id)).all()
    message = None
    if error and error[0] == "gates":
        message = " ".join([str(REFUSALS["gates"])] + [
            _("%(reason)s: %(names)s", reason=GATE_REASONS.get(code, code), names=_(", ").join(names))
            for code, names in error[1]["groups"].items()])
    elif error:
        kind, values = error
        message = str(REFUSALS[kind]) % {key: _(", ").join(value) if isinstance(value, list) else value
                                         for key, value in values.items()}
    done_text = str(DONE[done]) % {"count": count} if done else None
    return render_template("response.html", c=context, callup=callup, message=message, done=done_text,
                           statuses=STATUSES,
                           team=team, members=members, chosen=chosen, sent=sent,
                           tel=_tel(context.get("contact_phone") or ""),
                           open=callup.status is CallUpStatus.SENT), status


# A refused team answer's error code → the key of REFUSALS that says it on the page.
TEAM_ERROR_KINDS = {"too_many": "too_many", "not_member": "not_member", "already_called": "already_called",
                    "position_full": "full", "not_open": "not_open", "campaign_cancelled": "not_open",
                    "shift_ended": "not_open"}


def _team_error(callup, error: DomainError, count: int) -> tuple[str, dict]:
    """The page's message for a refused team answer, by the error's code (never its wording)."""
    team = db.session.get(Team, callup.team_id)
    names = {m.id: m.name for m in team.members} if team else {}
    if isinstance(error, MembersRefused):  # each gate with the members it refuses
        groups: dict[str, list[str]] = {}
        for refusal in error.refusals:
            groups.setdefault(refusal.code, []).append(refusal.name)
        return "gates", {"groups": groups}
    kind = TEAM_ERROR_KINDS.get(error.code, "failed")
    return kind, {"places": callup.places, "count": count, "left": error.about.get("left", 0),
                  "names": [names.get(i, str(i)) for i in error.about.get("volunteer_ids", [])]}


def _answer_team(callup, action: str):
    """Send the ticked members, or decline for the whole team; refusals are shown on the page."""
    chosen = [] if action == "decline" else _member_ids()
    if chosen is None:
        abort(400)
    picked = frozenset(chosen)
    if action == "send" and not chosen:
        return _team_page(callup, 422, error=("none_chosen", {}))
    if len(set(chosen)) > (callup.places or 0):
        return _team_page(callup, 422, error=("too_many", {"places": callup.places, "count": len(set(chosen))}),
                          chosen=picked)
    team = db.session.get(Team, callup.team_id)
    actor = f"link:volunteer:{team.leader_id}" if team and team.leader_id else f"link:team:{callup.team_id}"
    try:
        answer = answer_team_callup(callup.id, member_ids=chosen, now=utcnow(), actor=actor)
    except (ValidationFailed, Conflict) as error:
        db.session.rollback()
        fresh = get_callup(callup.id)
        return _team_page(fresh, error.status_code, error=_team_error(fresh, error, len(set(chosen))), chosen=picked)
    if action == "decline":
        return _team_page(answer.team_callup, done="team_declined")
    return _team_page(answer.team_callup, done="team_accepted", count=len(answer.callups))


def _member_ids() -> list[int] | None:
    """The ticked member ids, or None when one is not a number (a forged form)."""
    values = request.form.getlist("member_ids")
    if len(values) > 200 or not all(v.isdigit() and len(v) <= 12 for v in values):
        return None
    return [int(v) for v in values]


@bp.get("/r/<token>")
def show(token: str):
    """Show what, where, when and whom to ask (with a tel: link), with accept/decline buttons; changes nothing.

    An emergency's open call-up offers four "yes" buttons, one per arrival time, instead of one. GET
    and HEAD are what chat apps' link previews send, so they never count as "seen": the page's own
    script (static/seen.js) posts to ``seen`` once a person has it in front of them.
    """
    try:
        callup_id = _resolve(token)
    except LinkExpired:
        return _error("expired", 410)
    except NotFound:
        return _error("not_found", 404)
    return _page(get_callup(callup_id))


@bp.post("/r/<token>/seen")
@limiter.limit(lambda: current_app.config.get("ANSWER_RATE_LIMIT", "20 per minute"))  # per IP (SR-8)
@csrf.exempt  # the token in the URL is the credential, and recording "seen" twice changes nothing
def seen(token: str):
    """Record that a person opened the link (the first time only); 204, or 404/410 for a bad or old link."""
    try:
        callup_id = _resolve(token)
    except LinkExpired:
        return "", 410
    except NotFound:
        return "", 404
    responses.record_seen(callup_id, now=utcnow())
    return "", 204


@bp.post("/r/<token>")
@reads_before_writing  # SQLite: the write lock only from the answer's first write to its commit
@limiter.limit(lambda: current_app.config.get("ANSWER_RATE_LIMIT", "20 per minute"))  # per IP (SR-8)
@csrf.exempt  # the unguessable link itself is the credential; there is no cookie for a forged form to ride on
def answer(token: str):
    """Accept (in an emergency: with when the person can be there) or decline; a team's leader sends or declines."""
    action = request.form.get("action", "")
    if action not in {"accept", "decline", "send"}:
        abort(400)
    try:
        callup_id = _resolve(token)
    except LinkExpired:
        return _error("expired", 410)
    except NotFound:
        return _error("not_found", 404)
    # One query for the call-up, its shift, campaign and person, used by the answer and by the page after it.
    loaded = responses.load_callup(callup_id)
    callup = loaded[0]
    team = is_team_callup(callup)
    # Validated before anything is written: an arrival time only with an emergency's "yes".
    eta_minutes = eta_from_form(request.form, allowed=action == "accept" and not team and is_emergency(callup))
    if team:
        if action == "accept":
            abort(400)
        return _answer_team(callup, action)
    if action == "send":
        abort(400)
    actor = f"link:volunteer:{callup.volunteer_id}"
    try:
        with kept_after_commit(db.session):
            if action == "accept":
                callup = responses.accept_callup(callup_id, actor=actor, now=utcnow(), eta_minutes=eta_minutes,
                                                 loaded=loaded)
            else:
                callup = responses.decline_callup(callup_id, actor=actor, now=utcnow(), loaded=loaded)
    except Conflict as error:
        # A refusal that committed (a "yes" kept on standby) left the objects as it wrote them; any other
        # wrote nothing: the call-up as it stands now.
        if db.session().in_transaction():
            db.session.rollback()
            callup, _person = responses.load_callup(callup_id)
        return _page(callup, 409, refusal=error.code)
    return _page(callup, done="accepted" if action == "accept" else "declined")
