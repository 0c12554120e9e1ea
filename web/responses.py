"""/r/<token>: the one-tap answer page; GET shows the call-up, only POST answers it."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request

from callups.links import LinkExpired, resolve_link
from callups.outbox import callup_context
from campaigns import responses
from campaigns.services import get_callup
from core.clock import utcnow
from core.errors import Conflict, NotFound
from extensions import csrf, db, limiter
from volunteers.models import Volunteer

bp = Blueprint("responses", __name__)

LABELS = {
    "zh": {"title": "志愿召集", "what": "活动", "role": "岗位", "when": "时间", "where": "地点",
           "deadline": "请在此前回复", "contact": "联系人", "accept": "我参加", "decline": "我不参加",
           "accepted": "已确认，感谢您参加！", "declined": "已收到，感谢您的回复。",
           "not_found": "链接无效。", "expired": "链接已过期：回复时间已过。", "lang": "zh-CN"},
    "en": {"title": "Call-up", "what": "Activity", "role": "Role", "when": "When", "where": "Where",
           "deadline": "Please answer by", "contact": "Contact", "accept": "I'll come", "decline": "I can't",
           "accepted": "Confirmed, thank you for coming!", "declined": "Noted, thank you for answering.",
           "not_found": "This link is not valid.", "expired": "This link has expired: the time to answer is over.",
           "lang": "en"},
}


@bp.after_request
def _private(response):
    # The token is the credential: never leak it through Referer, caches or search engines.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _page(callup, status: int = 200, message: str | None = None, done: str | None = None):
    volunteer = db.session.get(Volunteer, callup.volunteer_id) if callup.volunteer_id else None
    lang = "en" if volunteer and (volunteer.language or "").startswith("en") else "zh"
    context = callup_context(callup, volunteer) if volunteer else {}
    labels = LABELS[lang]
    return render_template("response.html", c=context, callup=callup, t=labels, message=message,
                           done=labels.get(done) if done else None,
                           open=callup.status.value == "sent" or callup.status.value == "accepted"), status


def _error(kind: str, status: int):
    return render_template("response_error.html", t=LABELS["zh"], en=LABELS["en"], kind=kind), status


def _resolve(token: str) -> int:
    return resolve_link(token, now=utcnow())


@bp.get("/r/<token>")
def show(token: str):
    """Show what, where, when and whom to ask, with accept/decline buttons; records 'seen'."""
    try:
        callup_id = _resolve(token)
    except LinkExpired:
        return _error("expired", 410)
    except NotFound:
        return _error("not_found", 404)
    return _page(responses.record_seen(callup_id, now=utcnow()))


@bp.post("/r/<token>")
@limiter.limit(lambda: current_app.config.get("ANSWER_RATE_LIMIT", "20 per minute"))  # per IP (SR-8)
@csrf.exempt  # the unguessable link itself is the credential; there is no cookie for a forged form to ride on
def answer(token: str):
    """Accept or decline from the link."""
    action = request.form.get("action", "")
    if action not in {"accept", "decline"}:
        abort(400)
    try:
        callup_id = _resolve(token)
    except LinkExpired:
        return _error("expired", 410)
    except NotFound:
        return _error("not_found", 404)
    callup = get_callup(callup_id)
    actor = f"link:volunteer:{callup.volunteer_id}"
    service = responses.accept_callup if action == "accept" else responses.decline_callup
    try:
        callup = service(callup_id, actor=actor, now=utcnow())
    except Conflict as error:
        db.session.rollback()
        return _page(get_callup(callup_id), 409, message=error.message)
    return _page(callup, done="accepted" if action == "accept" else "declined")
