"""/a/<token>: a grid alert's acknowledgement page; GET shows the alert, only POST acknowledges it."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from callups.alerts import acknowledge_alert, find_recipient
from campaigns.models import GridAlert
from campaigns.services import get_campaign
from core.clock import utcnow
from core.errors import NotFound
from extensions import csrf, db, limiter
from web.responses import _private

bp = Blueprint("alerts", __name__)
bp.after_request(_private)  # the token is the credential: no Referer, no cache, no index


def _page(token: str, status: int = 200):
    try:
        recipient = find_recipient(token)
    except NotFound:
        return render_template("alert.html", recipient=None), 404
    alert = db.session.get(GridAlert, recipient.alert_id)
    return render_template("alert.html", recipient=recipient, alert=alert,
                           campaign=get_campaign(alert.campaign_id), token=token), status


@bp.get("/a/<token>")
def show(token: str):
    """What the alert says, with a button to acknowledge it; changes nothing (link previews fetch it too)."""
    return _page(token)


@bp.post("/a/<token>")
@limiter.limit(lambda: current_app.config.get("ANSWER_RATE_LIMIT", "20 per minute"))  # per IP (SR-8)
@csrf.exempt  # the unguessable link is the credential; no cookie for a forged form to ride on
def acknowledge(token: str):
    """Acknowledge the alert (once; pressing again changes nothing)."""
    try:
        acknowledge_alert(token, now=utcnow(), note=request.form.get("note", "")[:200])
    except NotFound:
        return _page(token)
    return _page(token)
