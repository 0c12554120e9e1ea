"""/w/<token>: a summoned unit's duty contact answers a whistle: received, on site (报到), resolved. GET changes nothing."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from core.clock import utcnow
from core.errors import Conflict, NotFound
from core.i18n import _
from extensions import csrf, limiter
from gridwork.whistles import ANSWERS, answer_by_token, find_summons
from web.grid import ANSWER_LABELS, GRADE_LABELS, KIND_LABELS
from web.responses import _private

bp = Blueprint("whistle_links", __name__)
bp.after_request(_private)  # the token is the credential: no Referer, no cache, no index


def _page(token: str, message: str | None = None):
    try:
        summons = find_summons(token)
    except NotFound:
        return render_template("whistle_link.html", summons=None), 404
    return render_template("whistle_link.html", summons=summons, w=summons.whistle, token=token, message=message,
                           kinds=KIND_LABELS, grades=GRADE_LABELS, answers=ANSWER_LABELS)


@bp.get("/w/<token>")
def show(token: str):
    """The whistle and the unit's answers so far, with the buttons for the next one."""
    return _page(token)


@bp.post("/w/<token>")
@limiter.limit(lambda: current_app.config.get("ANSWER_RATE_LIMIT", "20 per minute"))
@csrf.exempt  # the unguessable link is the credential; no cookie for a forged form to ride on
def answer(token: str):
    """Record the answer (each stamp once; pressing again changes nothing)."""
    action = request.form.get("action", "")
    if action not in ANSWERS:
        return _page(token, _("Choose an answer"))
    try:
        answer_by_token(token, action, now=utcnow(), note=request.form.get("note", "")[:500])
    except NotFound:
        return _page(token)
    except Conflict:
        return _page(token, _("This case is closed"))
    return _page(token, _("Recorded, thank you"))
