"""Gunicorn settings for `gunicorn` run from the repository root; every value can be set from the environment."""
from __future__ import annotations

import os

import gunicorn.http.wsgi
from gunicorn.glogging import Logger

from app import SERVER_HEADER
from web.security import AnswerLinkFilter, redact_tokens

# gunicorn writes "Server: gunicorn" itself, from this module global, read for every response it makes (HTTP/1
# and HTTP/2); it has no setting for it, and a header set by the app would only be sent next to its own.
gunicorn.http.wsgi.SERVER = SERVER_HEADER


def _whole_number(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    if not value.strip():
        return default
    if not value.strip().isdigit() or int(value) < 1:
        raise RuntimeError(f"{name}={value!r} must be a whole number of at least 1")
    return int(value)


class RedactingLogger(Logger):
    """Gunicorn's logger, with answer-link tokens (/r/<token>) cut from access and error lines."""

    def atoms(self, resp, req, environ, request_time):
        # The token sits in the request line, the path, RAW_URI and possibly a Referer: clean every atom.
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact_tokens(value) if isinstance(value, str) else value for key, value in atoms.items()}

    def setup(self, cfg):
        super().setup(cfg)
        # Worker errors name the request URI ("Error handling request /r/…").
        if not any(isinstance(existing, AnswerLinkFilter) for existing in self.error_log.filters):
            self.error_log.addFilter(AnswerLinkFilter())


wsgi_app = "app:create_app()"
bind = os.environ.get("GRIDMUSTER_BIND") or (
    f"{os.environ.get('GRIDMUSTER_HOST', '127.0.0.1')}:{_whole_number('GRIDMUSTER_PORT', 8000)}")
workers = _whole_number("GRIDMUSTER_WORKERS", 2)
threads = _whole_number("GRIDMUSTER_THREADS", 1)
timeout = _whole_number("GRIDMUSTER_WORKER_TIMEOUT", 30)
graceful_timeout = 30
# Only this proxy may say a request came over HTTPS (X-Forwarded-Proto), which turns on HSTS.
forwarded_allow_ips = os.environ.get("GRIDMUSTER_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"  # stdout, one line a request
errorlog = "-"  # stderr
loglevel = os.environ.get("GRIDMUSTER_LOG_LEVEL", "info")
logger_class = RedactingLogger
