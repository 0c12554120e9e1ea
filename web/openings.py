"""Activities near me: the open places a volunteer may take themselves, as cards on the phone.

The list and the sign-up are ``campaigns.signups``' (the API's /me/openings and /me/sign-ups call the same).
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange

from campaigns.signups import NEAR_COMMUNITY, NEAR_GRID, openings_near, sign_up
from core.clock import utcnow
from core.errors import Conflict, DomainError
from core.i18n import _, _l
from extensions import db
from web.auth import _no_store, require_sign_in

bp = Blueprint("openings", __name__)
bp.before_request(require_sign_in)
bp.after_request(_no_store)

NEARNESS = {NEAR_GRID: _l("In your grid"), NEAR_COMMUNITY: _l("In your community")}
NEARNESS_ELSEWHERE = _l("In your street")
# The matcher's gates (campaigns.team_offers.Refusal codes) as the person reads why a place is not theirs.
REFUSALS = {
    "not_active": _l("Your registration is paused."),
    "skill": _l("It needs a skill or level you have not registered."),
    "no_certificate": _l("It needs a certificate you have not registered."),
    "certificate_expired": _l("Your certificate expires before the shift."),
    "unavailable": _l("It is outside the hours you said you are free."),
    "blackout": _l("You marked that day as one you cannot serve."),
    "busy": _l("You already serve at about that time."),
    "monthly_cap": _l("You have reached your monthly limit of call-ups."),
}


class SignUpForm(FlaskForm):
    """The place to take, in the form rather than the address: who may take it is the sign-up rule's
    (the person's street), not the access table's owner of a position."""

    position_id = IntegerField(validators=[InputRequired(), NumberRange(min=1)])


@bp.get("/me/activities")
def activities():
    """Open places near the person that they may take, nearest first; the others say why not."""
    openings = openings_near(current_user.user.volunteer_id, now=utcnow())
    return render_template("openings.html", open_to_me=[o for o in openings if o.refusal is None],
                           not_for_me=[o for o in openings if o.refusal is not None], form=SignUpForm(),
                           nearness=NEARNESS, elsewhere=NEARNESS_ELSEWHERE, refusals=REFUSALS)


@bp.post("/me/activities/sign-up")
def sign_up_for():
    """Take the place; the answer comes back as a message on the list (and a confirmation on the channels)."""
    form = SignUpForm()
    if not form.validate_on_submit():
        flash(_("The form expired; please try again."))
        return redirect(url_for("openings.activities"))
    try:
        callup = sign_up(current_user.user.volunteer_id, form.position_id.data, now=utcnow(),
                         actor=f"user:{current_user.user.id}")
    except Conflict as error:
        db.session.rollback()
        flash(_("The position is full: you are on standby and will be told if a place frees up.")
              if error.code == "standby" else _("You could not sign up: %(why)s", why=str(error.message)))
        return redirect(url_for("openings.activities"))
    except DomainError as error:
        db.session.rollback()
        flash(_("You could not sign up: %(why)s", why=str(error.message)))
        return redirect(url_for("openings.activities"))
    flash(_("You are signed up for %(title)s. A confirmation is on its way.",
            title=callup.position.shift.campaign.title))
    return redirect(url_for("auth.me") + f"#callup-{callup.id}")

