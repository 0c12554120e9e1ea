"""One JSON error shape for the API (smorest's {code, status, message, errors}); an HTML page elsewhere.

The message and each field message are said in the request's language (the API's is English unless
Accept-Language asks for Chinese); ``code`` and the shape never change with it.
"""
from __future__ import annotations

import logging
from http import HTTPStatus

from flask import Flask, jsonify, render_template, request
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from core.errors import DomainError, said
from core.i18n import _l, say
from extensions import db

log = logging.getLogger(__name__)


def error_body(code: int, message: str | None = None, errors: dict | None = None) -> dict:
    """The payload every error answer uses."""
    body = {"code": code, "status": HTTPStatus(code).phrase}
    if message:
        body["message"] = message
    if errors:
        body["errors"] = errors
    return body


def _json_error(code: int, message: str | None = None, errors: dict | None = None, headers=None):
    response = jsonify(error_body(code, message, errors))
    response.status_code = code
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def _error_response(code: int, message: object = None, errors: dict | None = None, headers=None):
    """The JSON shape under /api/; elsewhere a page showing only the status and a short sentence."""
    if request.path.startswith("/api/"):
        return _json_error(code, say(message) if message else None, said(errors), headers)
    # Pages name the fields at fault (never their values or other details).
    fields = sorted(name for group in (errors or {}).values() if isinstance(group, dict) for name in group)
    try:
        return render_template("errors.html", code=code, fields=fields), code, headers or {}
    except OperationalError:
        # The page's frame asks the database who is signed in; when the database is what failed (a server
        # restart), that would turn this answer into a bare 500. Say the status without the frame instead.
        db.session.rollback()
        phrase = HTTPStatus(code).phrase
        page = f"<!doctype html><meta charset=utf-8><title>{code} {phrase}</title><h1>{code} {phrase}</h1>"
        return page, code, {"Content-Type": "text/html; charset=utf-8", **(headers or {})}


def register_error_handlers(app: Flask) -> None:
    """Map domain errors, database races and stray exceptions to the shared shape."""

    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError):
        db.session.rollback()
        errors = {"json": error.errors} if error.errors else None
        headers = {"Retry-After": "2"} if error.status_code == 503 else None
        return _error_response(error.status_code, error.message, errors, headers)

    @app.errorhandler(IntegrityError)
    def handle_integrity_error(error: IntegrityError):
        # A unique or check constraint fired under a race the service could not see.
        db.session.rollback()
        log.info("integrity error on %s %s: %s", request.method, request.path, error.orig)
        return _error_response(409, _l("The change conflicts with existing data; reload and try again."))

    @app.errorhandler(OperationalError)
    def handle_operational_error(error: OperationalError):
        db.session.rollback()
        text = str(error.orig).lower()
        if "locked" in text or "lock timeout" in text or "canceling statement" in text:
            return _error_response(503, _l("The database is busy; try again in a moment."),
                                   headers={"Retry-After": "2"})
        log.exception("database error on %s %s", request.method, request.path)
        return _error_response(503, _l("The database is not answering."), headers={"Retry-After": "5"})

    @app.errorhandler(MethodNotAllowed)
    def handle_method_not_allowed(error: MethodNotAllowed):
        # smorest's handler drops the Allow header; clients and schemathesis expect it.
        return _error_response(405, headers={"Allow": ", ".join(sorted(error.valid_methods or []))})

    @app.errorhandler(HTTPException)
    def handle_http_exception(error: HTTPException):
        data = getattr(error, "data", None) or {}
        errors = data.get("errors") or data.get("messages")
        message = data.get("message") or (None if errors else error.description)
        headers = dict(data.get("headers") or {})
        return _error_response(error.code or 500, message, errors, headers)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _error_response(500, _l("Something went wrong on our side; it has been logged."))
