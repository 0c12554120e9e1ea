"""Check-in by a shift's QR code (/check-in/<token>), the certificate of service (/me/certificate.pdf) and its
public check (/verify/<code>: masked name, total hours, issue date, nothing else)."""
from __future__ import annotations

import functools
import logging

import segno
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from accounts.audit import record_event
from callups import checkin_codes
from notices.links import LinkExpired
from campaigns import attendance, hours
from campaigns.changes import get_shift
from core.clock import utcnow
from core.errors import Conflict, NotFound
from core.i18n import _, local_datetime
from core.masking import mask_name
from extensions import db, limiter
from volunteers.models import Volunteer
from web.auth import _no_store, check_self, require_sign_in
from web.certificate import render_certificate
from web.forms import CheckInForm
from web.responses import page_context

log = logging.getLogger(__name__)
bp = Blueprint("service", __name__)
bp.after_request(_no_store)
PUBLIC_ENDPOINTS = {"service.verify"}
DEFAULT_VERIFY_LIMIT = "30 per minute"


@bp.before_request
def _sign_in():
    """Everything but the public certificate check needs an account the access table lets in."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    return require_sign_in()


def qr_svg(url: str, *, scale: int = 4) -> str:
    """The QR code of ``url`` as inline SVG (no script, no image request; prints sharp at any size)."""
    return _drawn_qr(url, scale, _("Check-in QR code"))


@functools.lru_cache(maxsize=512)
def _drawn_qr(url: str, scale: int, title: str) -> str:
    # A shift's code is the same for its whole life (a signed shift id and expiry), and encoding one takes
    # about 12 ms: the board of a 20-shift emergency, refreshed every few seconds, draws each once.
    return segno.make(url, error="m").svg_inline(scale=scale, title=title)


def _shift_of(token: str) -> int | None:
    try:
        return checkin_codes.read_shift_code(token, now=utcnow(), secret_key=current_app.config["SECRET_KEY"])
    except LinkExpired:
        return None


@bp.route("/check-in/<token>", methods=["GET", "POST"])
def check_in(token: str):
    """The page a shift's QR code opens: the signed-in volunteer checks in (or out) on their own call-up."""
    user = current_user.user
    try:
        shift_id = _shift_of(token)
    except NotFound:
        return render_template("check_in.html", state="invalid"), 404
    if shift_id is None:
        return render_template("check_in.html", state="expired"), 410
    shift = get_shift(shift_id)
    callup = attendance.own_callup_on_shift(shift_id, user.volunteer_id) if user.volunteer_id else None
    if callup is None:
        return render_template("check_in.html", state="not_listed", shift=shift), 404
    if request.method == "POST":
        if not CheckInForm().validate_on_submit() or request.form.get("action") not in ("in", "out"):
            abort(400)
        check_self(callup.id, leaving=request.form["action"] == "out")
        return redirect(url_for("service.check_in", token=token))
    now = utcnow()
    volunteer = db.session.get(Volunteer, user.volunteer_id)
    opens, closes = attendance.self_check_in_window(shift)
    return render_template(
        "check_in.html", state=callup.status.value, shift=shift, callup=callup, c=page_context(callup, volunteer),
        may_check_in=attendance.may_check_in_self(callup, now), may_check_out=attendance.may_check_out_self(callup, now),
        too_early=now < opens, too_late=now > closes, punctuality=attendance.punctuality(callup, shift),
        form=CheckInForm())


@bp.get("/me/certificate.pdf")
def certificate():
    """The signed-in volunteer's certificate of service: their shifts and hours, with a verification code."""
    user = current_user.user
    try:
        issued = hours.issue_certificate(user.volunteer_id, now=utcnow())
    except Conflict:
        db.session.rollback()
        flash(_("No hours are booked yet: no certificate to issue."))
        return redirect(url_for("auth.me"))
    volunteer = db.session.get(Volunteer, user.volunteer_id)
    pdf = render_certificate(issued, name=volunteer.name,
                             shifts=hours.served_shifts(user.volunteer_id, through_entry_id=issued.through_entry_id),
                             font_path=current_app.config["CERTIFICATE_FONT"],
                             verify_url=url_for("service.verify", code=issued.code, _external=True))
    record_event(actor=f"user:{user.id}", role=user.role.value, action="certificate.download", now=utcnow(),
                 outcome="ok", object_type="volunteer", object_id=user.volunteer_id, ip=request.remote_addr,
                 detail=f"code {issued.code}")
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="certificate-{issued.code}.pdf"'})


@bp.get("/verify/<code>")
@limiter.limit(lambda: current_app.config.get("VERIFY_RATE_LIMIT", DEFAULT_VERIFY_LIMIT))
def verify(code: str):
    """Anyone checks a certificate: the name masked, total hours and the issue date; nothing else."""
    found = hours.find_certificate(code)
    if found is None:
        return render_template("verify.html", certificate=None, code=code[:20]), 404
    name = db.session.get(Volunteer, found.volunteer_id).name
    return render_template("verify.html", certificate=found, masked=mask_name(name),
                           hours=round((found.recorded_minutes + found.manual_minutes) / 60, 2),
                           issued=local_datetime(found.issued_at, "yyyy-MM-dd"))



