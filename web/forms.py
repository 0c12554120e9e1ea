"""Flask-WTF forms for the pages; every form carries a CSRF token."""
from __future__ import annotations

from collections.abc import Mapping

from flask import flash
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, RadioField, SelectField, SelectMultipleField, StringField
from wtforms.widgets import CheckboxInput, ListWidget
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Regexp

from accounts.passwords import MAX_LENGTH, MIN_LENGTH
from core.errors import DomainError
from core.i18n import _, _l, lazy_pgettext, say
from core.masking import MOBILE_RE
from extensions import db
from volunteers.models import EMERGENCY_CALLS_NAMES

MOBILE_PATTERN = MOBILE_RE.pattern


class LoginForm(FlaskForm):
    login = StringField(_l("Login or mobile"), validators=[DataRequired(), Length(max=64)],
                        render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_LENGTH)],
                             render_kw={"autocomplete": "current-password"})


MOBILE_MESSAGE = _l("Enter an 11-digit mainland mobile number.")


class MobileCodeForm(FlaskForm):
    """Registration step 1: the number a one-time code is sent to."""

    mobile = StringField(_l("Mobile"), validators=[DataRequired(), Regexp(MOBILE_PATTERN, message=MOBILE_MESSAGE)],
                         render_kw={"autocomplete": "tel", "inputmode": "numeric"})


class RegisterForm(FlaskForm):
    """Registration step 2: the code proves the number; nothing about it is told before."""

    code = StringField(_l("Code from the SMS"), validators=[
        DataRequired(), Regexp(r"^\d{6}$", message=_l("Enter the 6-digit code."))],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})
    name = StringField(lazy_pgettext("person", "Name"), validators=[DataRequired(), Length(max=64)],
                       render_kw={"autocomplete": "name"})
    mobile = StringField(_l("Mobile"), validators=[
        DataRequired(), Regexp(MOBILE_PATTERN, message=MOBILE_MESSAGE)],
        render_kw={"autocomplete": "tel", "inputmode": "numeric"})
    home_grid_id = SelectField(_l("Home community or grid"), coerce=int,
                               validators=[InputRequired()])
    # No composition rules and paste allowed: length and the common-password list are checked by the service.
    password = PasswordField(_l("Password (8 characters or more)"), validators=[
        DataRequired(), Length(min=MIN_LENGTH, max=MAX_LENGTH)], render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Password again"), validators=[
        DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"})
    consent = BooleanField(_l("I agree"))


class LogoutForm(FlaskForm):
    """Signing out is a POST; the "everywhere" button also revokes the account's app sign-in tokens."""

    everywhere = BooleanField()


class AnswerForm(FlaskForm):
    action = RadioField(choices=[SelectChoice("accept", "accept"), SelectChoice("decline", "decline")],
                        validators=[InputRequired()])


class CheckInForm(FlaskForm):
    """"I have arrived": only the CSRF token."""


class PartyOrgForm(FlaskForm):
    """双报到: the party organisation of a party member's workplace (empty clears it)."""

    party_org = StringField(_l("Workplace party organisation"), validators=[Length(max=100)], id="party-org",
                            render_kw={"list": "party-org-names", "autocomplete": "organization"})


class EmergencyCallsForm(FlaskForm):
    """A volunteer's choice: may emergencies call them outside the weekly hours they gave?"""

    emergency_calls = RadioField(_l("Emergency calls"), choices=[
        SelectChoice(choice.value, label) for choice, label in EMERGENCY_CALLS_NAMES.items()],
        validators=[InputRequired()])


class StaffContactForm(FlaskForm):
    """Office staff: where their coordinator notices go besides the office inbox (accounts/staff.py checks it)."""

    email = StringField(_l("E-mail"), validators=[Length(max=254)], render_kw={"autocomplete": "email"})
    mobile = StringField(_l("Mobile"), validators=[Length(max=11)],
                         render_kw={"autocomplete": "tel", "inputmode": "numeric"})
    wecom_id = StringField(_l("WeCom id"), validators=[Length(max=64)])
    notify_channels = SelectMultipleField(
        _l("Tell me of every answer by"),
        choices=[SelectChoice("sms", _l("SMS")), SelectChoice("email", _l("E-mail")),
                 SelectChoice("wecom", _l("WeCom"))],
        option_widget=CheckboxInput(), widget=ListWidget(prefix_label=False))


def flash_refused(error: DomainError, labels: Mapping[str, object], what: str | None = None) -> None:
    """A refused action as one flashed message, in the page's language, naming the fields the service named
    (by their ``labels``) with its messages said by meaning; rolls the session back first, so the page that
    follows reads what is committed. ``what`` names the action refused ("Not done" when not given)."""
    db.session.rollback()
    details = field_details({labels.get(name, name): [say(m) for m in messages]
                             for name, messages in (error.errors or {}).items()}) or say(error.message)
    flash(_("%(what)s: %(details)s", what=what, details=details) if what else
          _("Not done: %(details)s", details=details))


def field_details(messages: Mapping[object, list]) -> str:
    """"Field: message message; field: message", in the language spoken."""
    return _("; ").join(_("%(field)s: %(message)s", field=name, message=" ".join(str(m) for m in found))
                        for name, found in messages.items())


class MultiCheckboxField(SelectMultipleField):
    """Several choices as checkboxes, each with its own label (no script)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
