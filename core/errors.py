"""Domain errors raised by services; api/ and web/ render them."""
from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    """Base of every error a service raises on purpose.

    ``code`` is stable (pages map it to their own words; they never read the English message) and
    ``about`` carries the plain values a page may show with it (ids, counts).
    """

    status_code = 400
    code = "refused"

    def __init__(self, message: str, errors: Mapping[str, object] | None = None, *, code: str | None = None,
                 about: Mapping[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        # Values are lists of messages, or nested mappings for nested input (shifts → 0 → end).
        self.errors = dict(errors or {})
        if code is not None:
            self.code = code
        self.about = dict(about or {})


class NotFound(DomainError):
    """The object does not exist or is not visible to the caller."""

    status_code = 404
    code = "not_found"

    @classmethod
    def of(cls, kind: str, ident: object) -> "NotFound":
        return cls(f"{kind} {ident} not found", about={"kind": kind, "id": ident})


class PermissionDenied(DomainError):
    """The caller may not do this."""

    status_code = 403
    code = "permission_denied"


class ValidationFailed(DomainError):
    """A business rule rejects the input; ``errors`` names the fields."""

    status_code = 422
    code = "invalid"

    def __init__(self, errors: Mapping[str, object], message: str = "Invalid input.", *, code: str | None = None,
                 about: Mapping[str, object] | None = None) -> None:
        super().__init__(message, errors, code=code, about=about)

    @classmethod
    def field(cls, name: str, message: str, *, code: str | None = None,
              about: Mapping[str, object] | None = None) -> "ValidationFailed":
        return cls({name: [message]}, code=code, about=about)


class Conflict(DomainError):
    """The request clashes with the current state: duplicate, wrong state, full."""

    status_code = 409
    code = "conflict"

    @classmethod
    def duplicate(cls, name: str, value: object) -> "Conflict":
        return cls(f"{name} {value} already exists", {name: ["Already registered."]}, code="duplicate",
                   about={"field": name})

    @classmethod
    def wrong_state(cls, kind: str, state: str, action: str) -> "Conflict":
        return cls(f"cannot {action} a {kind} in state {state}", {"status": [f"Is {state}."]}, code="wrong_state",
                   about={"kind": kind, "state": state, "action": action})


class Unavailable(DomainError):
    """The database is busy; the client should retry shortly."""

    status_code = 503
    code = "unavailable"


class BadRequest(DomainError):
    """Malformed input that names its field (a date that is no date, a period that ends before it starts)."""

    status_code = 400
    code = "bad_request"

    def __init__(self, errors: Mapping[str, object], message: str = "Bad request.") -> None:
        super().__init__(message, errors)
