"""Gunicorn settings for `gunicorn` run from the repository root; every value can be set from the environment."""
from __future__ import annotations

import gc
import os
import shutil
import tempfile

# Before anything imports prometheus_client: its workers count into files in one directory, which /metrics
# adds up. GRIDMUSTER_METRICS_DIR names it (systemd: under RuntimeDirectory); without it a temporary one, made
# once (a reload reads this file again and keeps it) and removed when gunicorn exits.
_metrics_dir = os.environ.get("GRIDMUSTER_METRICS_DIR") or os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if not _metrics_dir:
    _metrics_dir = os.environ["GRIDMUSTER_METRICS_TMPDIR"] = tempfile.mkdtemp(prefix="gridmuster-metrics-")
_temporary_metrics_dir = os.environ.get("GRIDMUSTER_METRICS_TMPDIR") == _metrics_dir
os.makedirs(_metrics_dir, exist_ok=True)
os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir

import gunicorn.http.wsgi  # noqa: E402
from gunicorn.glogging import Logger  # noqa: E402

from app import SERVER_HEADER  # noqa: E402
from config import parse_choice  # noqa: E402
from core.logs import configure_logging, redact, redact_handler  # noqa: E402
from core.metrics import mark_worker_dead  # noqa: E402
from web.security import AnswerLinkFilter  # noqa: E402

# gunicorn writes "Server: gunicorn" itself, from this module global, read for every response it makes (HTTP/1
# and HTTP/2); it has no setting for it, and a header set by the app would only be sent next to its own.
gunicorn.http.wsgi.SERVER = SERVER_HEADER

LOG_FORMAT = parse_choice(os.environ.get("GRIDMUSTER_LOG_FORMAT"), "GRIDMUSTER_LOG_FORMAT", ("text", "json"), "text")


def _whole_number(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    if not value.strip():
        return default
    if not value.strip().isdigit() or int(value) < 1:
        raise RuntimeError(f"{name}={value!r} must be a whole number of at least 1")
    return int(value)


class RedactingLogger(Logger):
    """Gunicorn's logger: answer-link tokens, mobile numbers and secrets cut from every line; with
    GRIDMUSTER_LOG_FORMAT=json each line (access lines too) is one JSON object carrying the request id."""

    def atoms(self, resp, req, environ, request_time):
        # The token sits in the request line, the path, RAW_URI and possibly a Referer: clean every atom.
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()}

    def access(self, resp, req, environ, request_time):
        if LOG_FORMAT != "json":
            return super().access(resp, req, environ, request_time)
        if not self.access_log_enabled:
            return
        atoms = self.atoms(resp, req, environ, request_time)
        # The path without its query string: query values (a searched name or number) stay out of the log.
        fields = {"request_id": atoms.get("{x-request-id}o", "-"), "method": atoms.get("m"),
                  "path": redact(environ.get("PATH_INFO", "")), "status": atoms.get("s"),
                  "bytes": atoms.get("B"), "duration_ms": round(request_time.total_seconds() * 1000, 1),
                  "remote_addr": atoms.get("h"), "user_agent": atoms.get("a")}
        self.access_log.info("%s %s %s", fields["method"], fields["path"], fields["status"], extra=fields)

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                redact_handler(handler, LOG_FORMAT)
        # Worker errors name the request URI ("Error handling request /r/…").
        if not any(isinstance(existing, AnswerLinkFilter) for existing in self.error_log.filters):
            self.error_log.addFilter(AnswerLinkFilter())


def on_starting(server):
    """The app's own loggers (gridmuster.*, api.errors) write to stderr like gunicorn's, redacted, with the
    request id; and the metrics directory starts empty: a previous run's files would be added in."""
    configure_logging(log_format=LOG_FORMAT, level=server.cfg.loglevel)
    for name in os.listdir(_metrics_dir):
        path = os.path.join(_metrics_dir, name)
        shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)


def on_exit(server):
    if _temporary_metrics_dir:
        shutil.rmtree(_metrics_dir, ignore_errors=True)


def post_worker_init(worker):
    """The app is loaded: move everything it made (about 280,000 objects: catalogues, models, the OpenAPI spec)
    out of the cyclic collector's reach. Otherwise every full collection walks them all again, and a board page
    that loads a few thousand rows spends a third of its time there (profiled)."""
    gc.collect()
    gc.freeze()


def child_exit(server, worker):
    """A worker that exits (recycled, timed out, killed) leaves no live gauge behind."""
    mark_worker_dead(worker.pid)


wsgi_app = "app:create_app()"
bind = os.environ.get("GRIDMUSTER_BIND") or (
    f"{os.environ.get('GRIDMUSTER_HOST', '127.0.0.1')}:{_whole_number('GRIDMUSTER_PORT', 8000)}")
workers = _whole_number("GRIDMUSTER_WORKERS", 2)
threads = _whole_number("GRIDMUSTER_THREADS", 1)
timeout = _whole_number("GRIDMUSTER_WORKER_TIMEOUT", 30)
graceful_timeout = _whole_number("GRIDMUSTER_GRACEFUL_TIMEOUT", 30)
# Only this proxy may say a request came over HTTPS (X-Forwarded-Proto), which turns on HSTS.
forwarded_allow_ips = os.environ.get("GRIDMUSTER_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-"  # stdout, one line a request
errorlog = "-"  # stderr
loglevel = os.environ.get("GRIDMUSTER_LOG_LEVEL", "info")
logger_class = RedactingLogger
