"""Domain errors raised by services; api/ and web/ render them.

Their messages are catalogue entries (``_l``), so each is said in the language of whoever reads it:
``message``, ``errors`` and ``str()`` give them in the request's language (an API client's, a page's), and
outside a request (logs, the command line) in English, the code's language.
"""
from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext

from flask import has_request_context
from flask_babel.speaklater import LazyString

from core.i18n import _l, in_language, say

Message = str | LazyString


def N_(message: str) -> str:
    """Marks a catalogue entry that is looked up when the error is read (scripts/i18n extracts ``N_``)."""
    return message


# NotFound.of: a sentence for each kind of object (the English is "{kind} {id} not found" for all).
NOT_FOUND = {
    "call-up": N_("call-up %(id)s not found"), "callup": N_("callup %(id)s not found"),
    "campaign": N_("campaign %(id)s not found"), "enterprise": N_("enterprise %(id)s not found"),
    "grid": N_("grid %(id)s not found"), "org": N_("org %(id)s not found"),
    "party_organisation": N_("party_organisation %(id)s not found"), "position": N_("position %(id)s not found"),
    "round": N_("round %(id)s not found"), "shift": N_("shift %(id)s not found"),
    "skill": N_("skill %(id)s not found"), "target": N_("target %(id)s not found"),
    "team": N_("team %(id)s not found"), "token": N_("token %(id)s not found"), "unit": N_("unit %(id)s not found"),
    "user": N_("user %(id)s not found"), "visit": N_("visit %(id)s not found"),
    "volunteer": N_("volunteer %(id)s not found"), "whistle": N_("whistle %(id)s not found"),
}
NOT_FOUND_OTHER = N_("%(kind)s %(id)s not found")
# Conflict.duplicate: a sentence for each unique field ("{name} {value} already exists").
DUPLICATE = {
    "code": N_("code %(value)s already exists"), "credit_code": N_("credit_code %(value)s already exists"),
    "label": N_("label %(value)s already exists"), "name": N_("name %(value)s already exists"),
}
DUPLICATE_OTHER = N_("%(name)s %(value)s already exists")
# Conflict.wrong_state: a sentence for each refused action ("cannot {action} a {kind} in state {state}")
# and a word for each state it may name.
WRONG_STATE = {
    ("campaign", "alert"): N_("cannot alert a campaign in state %(state)s"),
    ("campaign", "cancel"): N_("cannot cancel a campaign in state %(state)s"),
    ("campaign", "change a shift of"): N_("cannot change a shift of a campaign in state %(state)s"),
    ("campaign", "delete"): N_("cannot delete a campaign in state %(state)s"),
    ("campaign", "edit"): N_("cannot edit a campaign in state %(state)s"),
    ("campaign", "invite people to"): N_("cannot invite people to a campaign in state %(state)s"),
    ("campaign", "match"): N_("cannot match a campaign in state %(state)s"),
    ("campaign", "offer places of"): N_("cannot offer places of a campaign in state %(state)s"),
    ("campaign", "publish"): N_("cannot publish a campaign in state %(state)s"),
    ("campaign", "widen"): N_("cannot widen a campaign in state %(state)s"),
    ("enterprise", "review"): N_("cannot review a enterprise in state %(state)s"),
    ("round", "record"): N_("cannot record a round in state %(state)s"),
    ("whistle", "ack"): N_("cannot ack a whistle in state %(state)s"),
    ("whistle", "arrive"): N_("cannot arrive a whistle in state %(state)s"),
    ("whistle", "close"): N_("cannot close a whistle in state %(state)s"),
    ("whistle", "reopen"): N_("cannot reopen a whistle in state %(state)s"),
    ("whistle", "resolve"): N_("cannot resolve a whistle in state %(state)s"),
    ("whistle", "staff"): N_("cannot staff a whistle in state %(state)s"),
}
WRONG_STATE_OTHER = N_("cannot %(action)s a %(kind)s in state %(state)s")
# Words for the states and actions errors name inside their sentences (a campaign's, a call-up's, a whistle's,
# an enterprise's status; what was refused), so a Chinese sentence never carries an English word.
WORDS = {
    "accepted": N_("accepted"), "approved": N_("approved"), "attended": N_("attended"), "cancelled": N_("cancelled"),
    "closed": N_("closed"), "declined": N_("declined"), "done": N_("done"), "draft": N_("draft"),
    "ended": N_("ended"), "expired": N_("expired"), "has a campaign": N_("has a campaign"),
    "no_show": N_("no_show"), "open": N_("open"), "partly_staffed": N_("partly_staffed"), "pending": N_("pending"),
    "proposed": N_("proposed"), "published": N_("published"), "rejected": N_("rejected"), "running": N_("running"),
    "scheduled": N_("scheduled"), "sent": N_("sent"), "staffed": N_("staffed"), "withdrawn": N_("withdrawn"),
    "accept": N_("accept"), "answer": N_("answer"), "decline": N_("decline"),
}


def word(value: str) -> Message:
    """A state or action named in an error's sentence, said in the reader's language (unknown ones as written)."""
    return _l(WORDS[value]) if value in WORDS else value


def _reading() -> AbstractContextManager:
    """The language an error is read in: the request's; outside a request, English."""
    return nullcontext() if has_request_context() else in_language("en")


def said(messages: object) -> object:
    """Messages (as nested as input gives them: marshmallow's, webargs', a service's) in the language being
    spoken; text that is already said stays as it is."""
    if isinstance(messages, Mapping):
        return {key: said(inner) for key, inner in messages.items()}
    if isinstance(messages, (list, tuple)):
        return [said(inner) for inner in messages]
    return say(messages) if isinstance(messages, (str, LazyString)) else messages


class DomainError(Exception):
    """Base of every error a service raises on purpose.

    ``code`` is stable (pages map it to their own words, not to the message) and
    ``about`` carries the plain values a page may show with it (ids, counts).
    """

    status_code = 400
    code = "refused"

    def __init__(self, message: Message, errors: Mapping[str, object] | None = None, *, code: str | None = None,
                 about: Mapping[str, object] | None = None) -> None:
        super().__init__(message)
        self._message = message
        # Values are lists of messages, or nested mappings for nested input (shifts → 0 → end).
        self._errors = dict(errors or {})
        if code is not None:
            self.code = code
        self.about = dict(about or {})

    @property
    def message(self) -> str:
        """The message, in the reader's language (see the module's docstring)."""
        with _reading():
            return say(self._message)

    @property
    def errors(self) -> dict[str, object]:
        """The field messages, in the reader's language."""
        with _reading():
            return said(self._errors)

    def __str__(self) -> str:
        return self.message


class NotFound(DomainError):
    """The object does not exist or is not visible to the caller."""

    status_code = 404
    code = "not_found"

    @classmethod
    def of(cls, kind: str, ident: object) -> "NotFound":
        return cls(_l(NOT_FOUND.get(kind, NOT_FOUND_OTHER), kind=kind, id=ident), about={"kind": kind, "id": ident})


class PermissionDenied(DomainError):
    """The caller may not do this."""

    status_code = 403
    code = "permission_denied"


class ValidationFailed(DomainError):
    """A business rule rejects the input; ``errors`` names the fields."""

    status_code = 422
    code = "invalid"

    def __init__(self, errors: Mapping[str, object], message: Message = _l("Invalid input."), *,
                 code: str | None = None, about: Mapping[str, object] | None = None) -> None:
        super().__init__(message, errors, code=code, about=about)

    @classmethod
    def field(cls, name: str, message: Message, *, code: str | None = None,
              about: Mapping[str, object] | None = None) -> "ValidationFailed":
        return cls({name: [message]}, code=code, about=about)


class Conflict(DomainError):
    """The request clashes with the current state: duplicate, wrong state, full."""

    status_code = 409
    code = "conflict"

    @classmethod
    def duplicate(cls, name: str, value: object) -> "Conflict":
        return cls(_l(DUPLICATE.get(name, DUPLICATE_OTHER), name=name, value=value),
                   {name: [_l("Already registered.")]}, code="duplicate", about={"field": name})

    @classmethod
    def wrong_state(cls, kind: str, state: str, action: str) -> "Conflict":
        return cls(_l(WRONG_STATE.get((kind, action), WRONG_STATE_OTHER), kind=kind, state=word(state), action=action),
                   {"status": [_l("Is %(state)s.", state=word(state))]}, code="wrong_state",
                   about={"kind": kind, "state": state, "action": action})


class Unavailable(DomainError):
    """The database is busy; the client should retry shortly."""

    status_code = 503
    code = "unavailable"


class BadRequest(DomainError):
    """Malformed input that names its field (a date that is no date, a period that ends before it starts)."""

    status_code = 400
    code = "bad_request"

    def __init__(self, errors: Mapping[str, object], message: Message = _l("Bad request.")) -> None:
        super().__init__(message, errors)
