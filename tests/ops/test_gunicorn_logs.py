"""What gunicorn really writes with GRIDMUSTER_LOG_FORMAT=json: one JSON object a line, request ids, and never a
mobile number, a password or a token, whatever the requests carried."""
from __future__ import annotations

import json
import re
import signal
from datetime import timedelta

import httpx
import pytest

from accounts.models import AuditEvent, Role
from accounts.services import create_token
from accounts.users import create_user
from bench.stampede import free_port, start_gunicorn
from notices.links import _issue_link
from campaigns.models import CallUpStatus
from core.clock import utcnow
from core.logs import redact
from extensions import db
from tests.conftest import Tree
from tests.scheduler.helpers import make_callups, make_position
from volunteers.models import Volunteer

PASSWORD = "plum-orchard-7731"
WRONG_PASSWORD = "wrong-pass-99812"
NEW_MOBILE = "13987654321"


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_redact_cuts_every_kind_of_secret():
    line = ('GET /r/AbC123_-xyz?q=13912345678&password=hunter2-long&token=tok_42&key=wecom-robot-key '
            'Authorization: Bearer abc.def '
            '{"password": "s3cret!", "login": "+86 13800138000"} DETAIL: Key (mobile)=(15012345678) already exists')
    cleaned = redact(line)
    for secret in ("AbC123_-xyz", "13912345678", "hunter2-long", "tok_42", "wecom-robot-key", "abc.def", "s3cret!",
                   "13800138000", "15012345678"):
        assert secret not in cleaned, (secret, cleaned)
    assert "/r/…" in cleaned and "[mobile]" in cleaned and "Bearer [redacted]" in cleaned
    # Ids, times and amounts are left alone.
    assert redact("callup 123456 at 2026-12-04T09:00:00 took 1234567890123 ns") == \
        "callup 123456 at 2026-12-04T09:00:00 took 1234567890123 ns"


@pytest.mark.slow
def test_json_logs_carry_request_ids_and_no_personal_data_or_secrets(app):
    tree = Tree()
    now = utcnow()
    _, admin_token = create_token(name="ops admin", role=Role.ADMIN, now=now)
    person = Volunteer(name="李娜", mobile="13711112222", home_grid_id=tree.grid_a1.id)
    db.session.add(person)
    db.session.flush()
    create_user(login=person.mobile, display_name="李娜", password=PASSWORD, role=Role.VOLUNTEER, actor="test",
                now=now, volunteer_id=person.id)
    position = make_position(now=now, headcount=2)
    [callup] = make_callups(position, 1, now=now, status=CallUpStatus.SENT, expires_at=now + timedelta(hours=1))
    answer_token = _issue_link(callup.id, expires_at=now + timedelta(hours=1), now=now)
    callup_mobile = db.session.get(Volunteer, callup.volunteer_id).mobile
    account_mobile, grid_id = person.mobile, tree.grid_a1.id
    db.session.commit()
    db.session.rollback()  # hold no SQLite lock while the workers write: plain values only from here

    port = free_port()
    server = start_gunicorn(app.config["SQLALCHEMY_DATABASE_URI"], port, workers=2, threads=2, log=True,
                            settings={"GRIDMUSTER_LOG_FORMAT": "json", "GRIDMUSTER_LOG_LEVEL": "debug"})
    base = f"http://127.0.0.1:{port}"
    admin = {"Authorization": f"Bearer {admin_token}"}
    try:
        with httpx.Client(base_url=base, timeout=30) as web:
            created = web.post("/api/v1/volunteers", headers={**admin, "X-Request-Id": "trace-create-0001"}, json={
                "name": "王芳", "mobile": NEW_MOBILE, "home_grid_id": grid_id, "skills": [],
                "identities": [], "availability": []})
            assert created.status_code == 201, created.text
            assert created.headers["X-Request-Id"] == "trace-create-0001"
            again = web.post("/api/v1/volunteers", headers=admin, json={
                "name": "王芳", "mobile": NEW_MOBILE, "home_grid_id": grid_id})
            assert again.status_code == 409
            assert web.get("/api/v1/volunteers", params={"q": NEW_MOBILE}, headers=admin).status_code == 200
            assert web.get("/api/v1/volunteers", headers={"Authorization": "Bearer not-a-real-token-x9"}
                           ).status_code == 401
            # The mobile app's sign-in: a wrong password, then the right one, and the token it gives.
            assert web.post("/api/v1/auth/token", json={"login": account_mobile, "password": WRONG_PASSWORD}
                            ).status_code == 401
            issued = web.post("/api/v1/auth/token", json={"login": account_mobile, "password": PASSWORD})
            assert issued.status_code == 201, issued.text
            login_token = issued.json()["token"]
            assert web.get("/api/v1/me", headers={"Authorization": f"Bearer {login_token}"}).status_code == 200
            # The sign-in page, with its CSRF token and session cookie.
            form = _csrf(web.get("/login").text)
            signed_in = web.post("/login", data={"csrf_token": form, "login": account_mobile, "password": PASSWORD})
            assert signed_in.status_code == 302, signed_in.text[:300]
            assert web.get("/me").status_code == 200
            # An answer link: the page, then the answer.
            assert web.get(f"/r/{answer_token}").status_code == 200
            assert web.post(f"/r/{answer_token}", data={"action": "accept"}).status_code == 200
            assert web.get(f"/r/{answer_token}-forged").status_code in (404, 410)
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=60)

    lines = [line for line in output.splitlines() if line.strip()]
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            pytest.fail(f"not a JSON object: {line!r}")
    assert all(isinstance(record, dict) and {"time", "level", "logger", "message"} <= record.keys()
               for record in records)
    secrets = {"new mobile": NEW_MOBILE, "account mobile": account_mobile, "callup mobile": callup_mobile,
               "password": PASSWORD, "wrong password": WRONG_PASSWORD, "admin token": admin_token,
               "login token": login_token, "answer token": answer_token, "csrf token": form}
    leaked = {name: [line for line in lines if value in line] for name, value in secrets.items()}
    assert not {name: found for name, found in leaked.items() if found}, leaked
    access = [record for record in records if record["logger"] == "gunicorn.access"]
    assert len(access) >= 12
    assert {"request_id", "method", "path", "status", "duration_ms"} <= access[0].keys()
    assert all(re.fullmatch(r"[0-9a-f]{32}|[A-Za-z0-9._:-]{8,64}", record["request_id"]) for record in access)
    [created_line] = [record for record in access if record["request_id"] == "trace-create-0001"]
    assert created_line["path"] == "/api/v1/volunteers" and created_line["status"] == "201"
    assert any(record["path"] == "/r/…" for record in access)
    # The audit row of that request carries the same id.
    db.session.expire_all()
    assert db.session.scalars(db.select(AuditEvent.request_id).where(
        AuditEvent.action == "POST volunteers.Volunteers", AuditEvent.outcome == "201")).all() == ["trace-create-0001"]
