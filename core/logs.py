"""Log lines from the environment: plain text or one JSON object a line, each with the request id, none with a secret.

``GRIDMUSTER_LOG_FORMAT`` is ``text`` (the default) or ``json``; ``GRIDMUSTER_LOG_LEVEL`` the level. Every line
passes through ``redact`` after it is formatted, exception text included: answer-link tokens, mainland mobile
numbers, bearer tokens and password or token fields never reach a handler, whoever logged them.
"""
from __future__ import annotations

import logging
import re
import sys
import uuid
from contextvars import ContextVar
from typing import TextIO

from pythonjsonlogger.json import JsonFormatter

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

# The id of the request (or scheduler job run) this thread or task is working for; set by web/ops.py.
request_id_var: ContextVar[str | None] = ContextVar("gridmuster_request_id", default=None)
# An incoming X-Request-Id is kept when it looks like an id (a proxy's hex, a UUID): 8-64 plain characters.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,63}")

# The token in /r/<token> is a one-time credential; so is the path of a sign-in link.
ANSWER_LINK = re.compile(r"/r/[^/?#\s\"'\\]+")
REDACTED_LINK = "/r/…"
# Mainland mobile numbers, alone or after +86 / 86, wherever they stand (a query string, an SQL error's DETAIL).
MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d{9}(?!\d)")
BEARER = re.compile(r"(?i)\b(bearer\s+)[^\s\"',;\\]+")
SECRET_NAMES = "password|passwd|new_password|token|access_token|code|secret|csrf_token|key|api_key|signature"
SECRET_FIELD = re.compile(rf"(?i)(\b(?:{SECRET_NAMES})[\"']?\s*[=:]\s*[\"']?)[^&\s\"',;\\]+")


def redact(text: str) -> str:
    """``text`` with answer-link tokens, mobile numbers, bearer tokens and password/token fields cut out."""
    if not text:
        return text
    text = ANSWER_LINK.sub(REDACTED_LINK, text)
    text = MOBILE.sub("[mobile]", text)
    text = BEARER.sub(r"\1[redacted]", text)
    return SECRET_FIELD.sub(r"\1[redacted]", text)


def new_request_id() -> str:
    return uuid.uuid4().hex


def accept_request_id(incoming: str | None) -> str:
    """The caller's X-Request-Id when it is a sane id, else a fresh one."""
    if incoming and SANE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return new_request_id()


def current_request_id() -> str | None:
    return request_id_var.get()


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = request_id_var.get() or "-"
        return True


class RedactingFormatter(logging.Formatter):
    """Formats with ``inner``, then redacts the whole line (message, extras and traceback alike)."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record))


def json_formatter() -> JsonFormatter:
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, request id, process."""
    return JsonFormatter("%(levelname)s %(name)s %(message)s %(request_id)s %(process)d",
                         rename_fields={"levelname": "level", "name": "logger"}, timestamp="time",
                         json_ensure_ascii=False)


def build_formatter(log_format: str) -> logging.Formatter:
    """The redacting formatter for ``text`` or ``json``."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format {log_format!r} must be one of {', '.join(LOG_FORMATS)}")
    inner = json_formatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    return RedactingFormatter(inner)


def redact_handler(handler: logging.Handler, log_format: str) -> None:
    """Make another library's handler (gunicorn's) redact and carry the request id; in ``json`` format it
    writes JSON objects, in ``text`` it keeps its own line format."""
    inner = json_formatter() if log_format == "json" else (handler.formatter or logging.Formatter())
    if not isinstance(inner, RedactingFormatter):
        handler.setFormatter(RedactingFormatter(inner))
    if not any(isinstance(existing, RequestIdFilter) for existing in handler.filters):
        handler.addFilter(RequestIdFilter())


def configure_logging(*, log_format: str = "text", level: str = "INFO", stream: TextIO | None = None) -> None:
    """Send every logger's records to ``stream`` (stderr) through one redacting handler; idempotent."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_gridmuster", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler._gridmuster = True  # type: ignore[attr-defined]
    handler.setFormatter(build_formatter(log_format))
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    # APScheduler logs every tick and httpx every request at INFO (a webhook URL may hold its key): our jobs
    # log their counts instead.
    for noisy in ("apscheduler", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
