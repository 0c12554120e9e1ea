"""Security headers on every answer, and answer-link tokens kept out of the request log."""
from __future__ import annotations

import logging

from flask import Flask, Response, current_app, request

from core.errors import ValidationFailed
from core.logs import redact

# No 'unsafe-inline' anywhere: every script and style is a file under /static.
# img-src adds data: because the Swagger UI stylesheet draws its icons as data: SVGs.
CONTENT_SECURITY_POLICY = ("default-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
                           "form-action 'self'; img-src 'self' data:")
STRICT_TRANSPORT_SECURITY = "max-age=31536000; includeSubDomains"
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # The /r/<token> pages set no-referrer themselves; setdefault keeps that.
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# Types a browser decodes as text; each gets an explicit charset so nothing is sniffed.
TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/xml")

class AnswerLinkFilter(logging.Filter):
    """Rewrites a log record so no answer-link token, mobile number or password reaches any handler
    (core/logs.py redacts again at the handlers it configures)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def add_security_headers(response: Response) -> Response:
    """Headers every answer carries: pages, JSON, static files and error pages alike."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    # Behind TLS either the request says so or the deployment does (secure cookies mean HTTPS only).
    if request.is_secure or current_app.config.get("SECURE_COOKIES"):
        response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    content_type = response.headers.get("Content-Type", "")
    if content_type.startswith(TEXT_TYPES) and "charset=" not in content_type.lower():
        response.headers["Content-Type"] = f"{content_type}; charset=utf-8"
    return response


def refuse_nul_characters() -> None:
    """Pages: a form field or query parameter with a NUL character is refused (422 naming it) before any view
    runs; PostgreSQL cannot store or even compare such text. The API's schemas refuse it themselves."""
    if request.path.startswith("/api/"):
        return
    bad = sorted({name for source in (request.args, request.form) for name, value in source.items(multi=True)
                  if "\x00" in name or "\x00" in value})
    if bad:
        raise ValidationFailed({name.replace("\x00", "") or "field": ["Must not contain the NUL character (U+0000)."]
                                for name in bad})


def register_security(app: Flask) -> None:
    """Add the header hook and the NUL guard; keep answer-link tokens out of the dev-server and error logs."""
    app.before_request(refuse_nul_characters)
    app.after_request(add_security_headers)
    # api.errors logs the path of a failed request; werkzeug logs every request line.
    for name in ("werkzeug", "api.errors", app.logger.name):
        logger = logging.getLogger(name)
        if not any(isinstance(existing, AnswerLinkFilter) for existing in logger.filters):
            logger.addFilter(AnswerLinkFilter())
