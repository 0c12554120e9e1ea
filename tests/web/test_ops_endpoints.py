"""/healthz, /readyz, /metrics and the request id, in process on the session's database."""
from __future__ import annotations

import re
import tempfile
from datetime import timedelta

import pytest
from limits.storage import storage_from_string
from sqlalchemy import text

from accounts.models import AuditEvent
from notices.models import Channel
from campaigns.models import CallUpStatus
from core.clock import utcnow
from extensions import db, limiter
from tests.ops.helpers import sample
from tests.scheduler.helpers import make_callups, make_position, queue_raw
from web.ops import code_head


def test_healthz_says_whether_the_database_answers(app, client):
    from app import create_app

    assert client.get("/healthz").get_json() == {"status": "ok"}
    broken = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite:////nonexistent-dir/none.db", "TESTING": True})
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] == "unavailable" and response.get_json()["failed"] == ["database"]
    ready = broken.test_client().get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json()["failed"] == ["database", "migrations"]


def test_readyz_ok_names_the_revision(client):
    response = client.get("/readyz")
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["migrations"]["ok"] is True
    assert body["checks"]["migrations"]["database"] == body["checks"]["migrations"]["code"] == code_head()
    assert "redis" not in body["checks"]  # rate limits kept in memory: no Redis to ask


def test_readyz_503_when_migrations_are_behind(client):
    head = code_head()
    db.session.execute(text("UPDATE alembic_version SET version_num = '0013'"))
    db.session.commit()
    try:
        response = client.get("/readyz")
    finally:
        db.session.rollback()
        db.session.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
        db.session.commit()
    body = response.get_json()
    assert response.status_code == 503
    assert body["failed"] == ["migrations"]
    assert body["checks"]["migrations"] == {"ok": False, "database": "0013", "code": head}
    assert client.get("/readyz").status_code == 200


@pytest.mark.parametrize("reachable", [True, False])
def test_readyz_asks_redis_when_rate_limits_live_there(app, client, monkeypatch, reachable):
    import redis

    url = "redis://127.0.0.1:6379" if reachable else "redis://127.0.0.1:1"
    if reachable:
        try:
            redis.Redis(socket_connect_timeout=1).ping()
        except redis.RedisError:
            pytest.skip("no Redis on 127.0.0.1:6379 (scripts/test starts one)")
    monkeypatch.setitem(app.config, "RATELIMIT_STORAGE_URI", url)
    monkeypatch.setattr(limiter, "_storage", storage_from_string(url))
    response = client.get("/readyz")
    body = response.get_json()
    assert body["checks"]["redis"]["ok"] is reachable
    assert response.status_code == (200 if reachable else 503)
    assert body.get("failed", []) == ([] if reachable else ["redis"])


def test_request_id_is_echoed_or_made(client):
    given = client.get("/healthz", headers={"X-Request-Id": "edge-4f9a2c1e-77"})
    assert given.headers["X-Request-Id"] == "edge-4f9a2c1e-77"
    for bad in ("short", "has space in it", "x" * 65, "<script>alert(1)</script>", "ok\u00e9accent1"):
        made = client.get("/healthz", headers={"X-Request-Id": bad}).headers["X-Request-Id"]
        assert made != bad and re.fullmatch(r"[0-9a-f]{32}", made)
    one, two = (client.get("/healthz").headers["X-Request-Id"] for _ in range(2))
    assert one != two


def test_audit_rows_carry_the_request_id(api):
    response = api.get("/volunteers", headers={"X-Request-Id": "trace-0001-audit"})
    assert response.status_code == 200
    rows = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == "GET volunteers.Volunteers")).all()
    assert [row.request_id for row in rows] == ["trace-0001-audit"]
    listed = api.get("/audit-events", query_string={"request_id": "trace-0001-audit"}).get_json()
    assert [event["request_id"] for event in listed] == ["trace-0001-audit"]
    # An audit row written outside any request has none.
    from accounts.audit import record_event

    record_event(actor="cli", role=None, action="cli test", now=utcnow(), outcome="ok")
    assert db.session.scalars(db.select(AuditEvent.request_id).where(AuditEvent.action == "cli test")).one() is None


def test_metrics_count_requests_and_read_the_database_gauges(client):
    now = utcnow()
    position = make_position(now=now, headcount=3)
    make_callups(position, 2, now=now, status=CallUpStatus.SENT, expires_at=now + timedelta(hours=1))
    make_callups(position, 1, now=now)
    queue_raw(4, due_at=now - timedelta(minutes=5), channel=Channel.SMS)
    queue_raw(2, due_at=now + timedelta(hours=3), channel=Channel.SMS, prefix="later")  # held: not due
    before = client.get("/metrics").get_data(as_text=True)
    client.get("/healthz")
    client.get("/no-such-page")
    response = client.get("/metrics")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/plain"
    counted = sample(body, "gridmuster_http_requests_total", endpoint="ops.healthz", method="GET", status="200")
    assert counted == sample(before, "gridmuster_http_requests_total", endpoint="ops.healthz", method="GET",
                             status="200") + 1
    assert sample(body, "gridmuster_http_requests_total", endpoint="unmatched", method="GET", status="404") >= 1
    assert sample(body, "gridmuster_http_request_duration_seconds_count", endpoint="ops.healthz", method="GET") >= 1
    assert sample(body, "gridmuster_metrics_database_up", default=None) == 1
    assert sample(body, "gridmuster_callups", status="sent") == 2
    assert sample(body, "gridmuster_callups", status="scheduled") == 1
    assert sample(body, "gridmuster_callups", default=None, status="accepted") == 0
    assert sample(body, "gridmuster_outbox_due_messages", channel="sms") == 4
    assert sample(body, "gridmuster_outbox_due_messages", default=None, channel="email") == 0
    assert 290 <= sample(body, "gridmuster_outbox_oldest_due_age_seconds", channel="sms") <= 400
    assert sample(body, "gridmuster_outbox_oldest_due_age_seconds", channel="email") == 0


def test_metrics_without_a_token_answer_loopback_only_and_not_through_a_proxy(client):
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 404
    relayed = client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"},
                         headers={"X-Forwarded-For": "203.0.113.9"})
    assert relayed.status_code == 404 and "gridmuster_" not in relayed.get_data(as_text=True)


def test_metrics_with_a_token_want_it_from_everyone(app, client, monkeypatch):
    token = "metrics-token-0123456789abcdef"
    monkeypatch.setitem(app.config, "METRICS_TOKEN", token)
    assert client.get("/metrics").status_code == 401  # loopback alone is not enough now
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong-token-0123456789"}).status_code == 401
    remote = client.get("/metrics", headers={"Authorization": f"Bearer {token}"},
                        environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert remote.status_code == 200 and "gridmuster_http_requests_total" in remote.get_data(as_text=True)


def test_metrics_token_setting_is_checked(monkeypatch):
    from config import ConfigError, parse_secret

    assert parse_secret("", "GRIDMUSTER_METRICS_TOKEN") is None
    with pytest.raises(ConfigError, match="GRIDMUSTER_METRICS_TOKEN"):
        parse_secret("short", "GRIDMUSTER_METRICS_TOKEN")


def test_metrics_database_gauges_survive_a_database_outage():
    from app import create_app

    broken = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite:///" + tempfile.mkdtemp() + "/missing/x.db",
                         "TESTING": True})
    response = broken.test_client().get("/metrics")
    assert response.status_code == 200
    assert sample(response.get_data(as_text=True), "gridmuster_metrics_database_up", default=None) == 0
