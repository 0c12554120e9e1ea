"""Operations endpoints and hooks: /healthz, /readyz, /metrics, the request id and the HTTP metrics.

- ``/healthz``: the process answers and so does the database (the REST contract's health check): 503 when
  the database does not, whatever the cause; it asks nothing else (no Redis, no schema).
- ``/readyz``: the database answers, Redis answers when the rate limits are kept there, and the database
  schema is at this code's Alembic head; otherwise 503 naming the failed check: for a load balancer.
- ``/metrics``: Prometheus text. With ``GRIDMUSTER_METRICS_TOKEN`` set it wants that bearer token; without
  one it answers only a loopback caller that came through no proxy, and 404 to everyone else. It is outside
  /api and the sign-in pages, so the access table does not cover it: this module is its one rule.
"""
from __future__ import annotations

import hmac
import logging
import time
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from callups.services import callup_status_counts, outbox_backlog
from campaigns.models import CallUpStatus
from core.clock import utcnow
from core.logs import accept_request_id, request_id_var
from core.metrics import HTTP_LATENCY, HTTP_REQUESTS, exposition
from extensions import db, limiter
from notices.models import Channel

log = logging.getLogger(__name__)

bp = Blueprint("ops", __name__)

REQUEST_ID_HEADER = "X-Request-Id"
LOOPBACK = {"127.0.0.1", "::1"}
# A request relayed by a proxy on this host comes from loopback too; these headers say it was relayed.
PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")


@bp.get("/healthz")
def healthz():
    """200 ``{"status": "ok"}`` when the database answers a ``SELECT 1``; else 503 naming it (never a 500)."""
    database = _check_database()
    if not database["ok"]:
        return jsonify({"status": "unavailable", "failed": ["database"], "checks": {"database": database}}), 503
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    """200 when every dependency is ready for traffic, 503 naming the checks that failed."""
    checks = {"database": _check_database(), "migrations": _check_migrations()}
    if not current_app.config.get("RATELIMIT_STORAGE_URI", "memory://").startswith("memory://"):
        checks["redis"] = _check_rate_limit_storage()
    failed = sorted(name for name, check in checks.items() if not check["ok"])
    body = {"status": "unavailable" if failed else "ok", "checks": checks}
    if failed:
        body["failed"] = failed
    return jsonify(body), 503 if failed else 200


def _check_database() -> dict[str, Any]:
    try:
        db.session.execute(text("SELECT 1"))
        return {"ok": True}
    except Exception as error:  # any driver error means "not ready", never a 500
        db.session.rollback()
        log.warning("database check failed: %s", type(error).__name__)
        return {"ok": False, "error": type(error).__name__}


def code_head() -> str | None:
    """The Alembic head of the migrations shipped with this code (read once per process)."""
    heads = current_app.extensions.get("gridmuster_migration_heads")
    if heads is None:
        from alembic.script import ScriptDirectory

        config = current_app.extensions["migrate"].migrate.get_config()
        heads = current_app.extensions["gridmuster_migration_heads"] = tuple(
            ScriptDirectory.from_config(config).get_heads())
    return heads[0] if len(heads) == 1 else None


def _check_migrations() -> dict[str, Any]:
    try:
        current = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception as error:  # no table yet: the schema was never migrated
        db.session.rollback()
        return {"ok": False, "database": None, "code": code_head(), "error": type(error).__name__}
    head = code_head()
    return {"ok": current is not None and current == head, "database": current, "code": head}


def _check_rate_limit_storage() -> dict[str, Any]:
    try:
        return {"ok": bool(limiter.storage.check())}
    except Exception as error:  # noqa: BLE001 - an unreachable Redis raises its own kinds
        return {"ok": False, "error": type(error).__name__}


@bp.get("/metrics")
def metrics():
    """Prometheus metrics of every worker, and the database's call-up and outbox gauges."""
    refusal = _metrics_refusal()
    if refusal is not None:
        return refusal
    return Response(exposition([_register_database_gauges]), mimetype=CONTENT_TYPE_LATEST)


def _metrics_refusal() -> Response | None:
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
            return None
        return Response("Send Authorization: Bearer <metrics token>.\n", 401, mimetype="text/plain",
                        headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    if request.remote_addr in LOOPBACK and not any(name in request.headers for name in PROXY_HEADERS):
        return None
    return Response("Not Found\n", 404, mimetype="text/plain")


class DatabaseGauges:
    """Call-ups by status and the outbox backlog, read at scrape time (one grouped query each)."""

    def collect(self):
        up = GaugeMetricFamily("gridmuster_metrics_database_up", "1 when the gauges below could be read.")
        try:
            counts = callup_status_counts()
            now = utcnow()
            backlog = {row.channel: row for row in outbox_backlog(now=now)}
            db.session.rollback()  # end the read transaction: a scrape holds no snapshot or lock
        except Exception as error:  # noqa: BLE001 - a scrape must answer even when the database does not
            db.session.rollback()
            log.warning("metrics: database gauges unavailable: %s", type(error).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        callups = GaugeMetricFamily("gridmuster_callups", "Call-ups by status.", labels=["status"])
        for status in CallUpStatus:
            callups.add_metric([status.value], counts.get(status, 0))
        yield callups
        depth = GaugeMetricFamily("gridmuster_outbox_due_messages",
                                  "Outbox messages due and not yet sent, by channel.", labels=["channel"])
        age = GaugeMetricFamily("gridmuster_outbox_oldest_due_age_seconds",
                                "How long the oldest due, unsent message has waited, by channel (0: none).",
                                labels=["channel"])
        for channel in Channel:
            row = backlog.get(channel)
            depth.add_metric([channel.value], row.due if row else 0)
            age.add_metric([channel.value], max((now - row.oldest_due_at).total_seconds(), 0.0) if row else 0.0)
        yield depth
        yield age


def _register_database_gauges(registry: CollectorRegistry) -> None:
    registry.register(DatabaseGauges())


def _start_request() -> None:
    """First hook of every request: its id (the caller's when sane) and its start time."""
    g.request_id = accept_request_id(request.headers.get(REQUEST_ID_HEADER))
    g.request_token = request_id_var.set(g.request_id)
    g.request_started = time.perf_counter()


def _finish_request(response: Response) -> Response:
    """Echo the request id and count the answer by endpoint and status."""
    request_id = g.get("request_id") or accept_request_id(request.headers.get(REQUEST_ID_HEADER))
    response.headers[REQUEST_ID_HEADER] = request_id
    endpoint = request.url_rule.endpoint if request.url_rule is not None else "unmatched"
    HTTP_REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
    started = g.get("request_started")
    if started is not None:
        HTTP_LATENCY.labels(endpoint, request.method).observe(time.perf_counter() - started)
    return response


def _end_request(_error: BaseException | None) -> None:
    token = g.pop("request_token", None)
    if token is not None:
        try:
            request_id_var.reset(token)
        except ValueError:  # torn down in another context (a copied one): it ends with that context anyway
            request_id_var.set(None)


def _release_session(_error: BaseException | None) -> None:
    """Give the request's connection back before Flask-SQLAlchemy's own teardown does (teardowns run last
    registered first). A connection the server cut after the answer was made (a PostgreSQL restart,
    pg_terminate_backend) fails its closing ROLLBACK: it is thrown away instead of turning the answer into a 500."""
    try:
        db.session.remove()
    except DBAPIError as error:
        log.warning("database connection lost at the end of a request: %s", type(error.orig).__name__)
        try:
            db.session().invalidate()  # the request's Session (the scoped proxy has no invalidate)
        except DBAPIError:
            pass  # the connection is gone already; the pool makes a new one
        db.session.registry.clear()


def register_ops(app: Flask) -> None:
    """The endpoints, and hooks that run before every other (so even a refused request has an id)."""
    app.register_blueprint(bp)
    app.before_request_funcs.setdefault(None, []).insert(0, _start_request)
    app.after_request(_finish_request)
    app.teardown_request(_end_request)
    app.teardown_appcontext(_release_session)
