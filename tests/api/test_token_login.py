"""POST /api/v1/auth/token: a password buys a 12-hour bearer token; failures are 401 and 429."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from accounts.models import ApiToken, AuditEvent, Role
from accounts.users import create_user, register_volunteer_account
from accounts.verification import request_mobile_code
from core.clock import utcnow
from extensions import db

PASSWORD = "river-stone-42"
MOBILE = "13912345678"
URL = "/api/v1/auth/token"


@pytest.fixture
def volunteer_user(tree):
    now = utcnow()
    return register_volunteer_account({"name": "陈静", "mobile": MOBILE, "home_grid_id": tree.grid_a1.id},
                                      code=request_mobile_code(MOBILE, now=now), password=PASSWORD, consent=True,
                                      now=now)


def _post(client, login, password, **kwargs):
    return client.post(URL, json={"login": login, "password": password}, **kwargs)


def test_token_login_gives_a_12_hour_token_with_the_accounts_scope(client, volunteer_user):
    response = _post(client, MOBILE, PASSWORD)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["role"] == "volunteer"
    assert body["volunteer_id"] == volunteer_user.volunteer_id and "password" not in body
    token = db.session.scalar(select(ApiToken))
    assert token.role is Role.VOLUNTEER and token.volunteer_id == volunteer_user.volunteer_id
    assert timedelta(hours=11, minutes=59) < token.expires_at - token.created_at <= timedelta(hours=12)
    assert MOBILE not in token.name
    headers = {"Authorization": f"Bearer {body['token']}"}
    own = client.get(f"/api/v1/volunteers/{volunteer_user.volunteer_id}", headers=headers)
    assert own.status_code == 200 and own.get_json()["id"] == volunteer_user.volunteer_id
    assert client.get("/api/v1/volunteers", headers=headers).status_code == 403


def test_token_login_office_token_is_bound_to_the_grid(client, tree):
    create_user(login="wang", display_name="王主任", password=PASSWORD, role=Role.OFFICE, actor="t",
                now=utcnow(), grid_id=tree.community_a.id)
    body = _post(client, "wang", PASSWORD).get_json()
    assert body["role"] == "office" and body["grid_id"] == tree.community_a.id
    headers = {"Authorization": f"Bearer {body['token']}"}
    assert client.get(f"/api/v1/grids/{tree.grid_a1.id}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/grids/{tree.grid_b1.id}", headers=headers).status_code == 404


def test_token_login_wrong_password_is_401_with_a_clear_message_and_audited(client, volunteer_user):
    response = _post(client, MOBILE, "not-the-password")
    body = response.get_json()
    assert response.status_code == 401 and body["code"] == 401 and "Wrong login or password" in body["message"]
    unknown = _post(client, "13800000000", "not-the-password")
    assert unknown.status_code == 401 and unknown.get_json()["message"] == body["message"]
    events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "auth.login.api")))
    assert [e.outcome for e in events] == ["failure", "failure"]
    assert all(MOBILE not in (e.detail or "") + e.actor for e in events)
    assert db.session.scalar(select(ApiToken)) is None


def test_token_login_failures_make_this_address_wait_with_429(app, client, volunteer_user, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES", 3)
    codes = [_post(client, MOBILE, f"guess-number-{i}").status_code for i in range(3)]
    assert codes == [401, 401, 401]
    waiting = _post(client, MOBILE, PASSWORD)
    assert waiting.status_code == 429 and "try again in 1 s" in waiting.get_json()["message"]
    assert int(waiting.headers["Retry-After"]) >= 1  # Flask-Limiter may raise it to its own window's reset
    # Another address (the owner's phone) signs in at once: there is no account lock.
    assert _post(client, MOBILE, PASSWORD, environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 201


def test_token_login_is_rate_limited_per_login_and_ip(app, client, volunteer_user, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES", 100)  # only the rate limit answers here
    codes = [_post(client, MOBILE, "wrong-password-x").status_code for _ in range(11)]
    assert codes == [401] * 10 + [429]
    limited = _post(client, MOBILE, PASSWORD)
    assert limited.status_code == 429 and limited.get_json()["code"] == 429
    # Another login from the same address, or the same login from another address, has its own count.
    assert _post(client, "someone-else", "wrong-password-x").status_code == 401
    other_ip = _post(client, MOBILE, PASSWORD, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other_ip.status_code == 201


@pytest.mark.parametrize("body", [{}, {"login": MOBILE}, {"login": MOBILE, "password": PASSWORD, "role": "admin"},
                                  {"login": "", "password": "x"}])
def test_token_login_bad_body_is_422_naming_the_field(client, body):
    response = client.post(URL, json=body)
    assert response.status_code == 422
    assert response.get_json()["errors"]["json"]


def test_token_login_needs_no_bearer_and_is_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/auth/token"]["post"]
    assert operation["security"] == [] and "401" in operation["responses"] and "429" in operation["responses"]


ROOT = Path(__file__).resolve().parents[2]
SHARED_REDIS = "redis://127.0.0.1:6379/15"
# One "gunicorn worker": its own app, engine and limiter on a shared database and limiter storage.
WORKER = """
import json, sys
from flask_migrate import upgrade
from app import create_app
from config import Config

class WorkerConfig(Config):
    TESTING = True
    SECRET_KEY = "worker-secret-key-that-is-long-enough-0123456789"
    SQLALCHEMY_DATABASE_URI = sys.argv[1]
    RATELIMIT_STORAGE_URI = sys.argv[2]
    LOGIN_MAX_FAILURES = 1000

app = create_app(WorkerConfig)
if sys.argv[3] == "setup":
    from accounts.models import Role
    from accounts.users import create_user
    from core.clock import utcnow
    with app.app_context():
        upgrade()
        create_user(login="wang", display_name="wang", password="river-stone-42", role=Role.ADMIN, actor="t",
                    now=utcnow())
client = app.test_client()
codes = [client.post("/api/v1/auth/token", json={"login": "wang", "password": "wrong-password-x"}).status_code
         for _ in range(int(sys.argv[4]))]
print(json.dumps(codes))
"""


def _worker(database_url: str, storage: str, mode: str, attempts: int) -> list[int]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GRIDMUSTER_")}
    done = subprocess.run([sys.executable, "-c", WORKER, database_url, storage, mode, str(attempts)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def redis_db15():
    import redis

    connection = redis.Redis.from_url(SHARED_REDIS)
    connection.flushdb()
    yield connection
    connection.flushdb()


@pytest.mark.slow
def test_token_login_limit_is_shared_by_two_workers_through_redis(tmp_path, redis_db15):
    database = f"sqlite:///{tmp_path / 'workers.db'}"
    first = _worker(database, SHARED_REDIS, "setup", 6)
    second = _worker(database, SHARED_REDIS, "attempt", 5)
    assert first == [401] * 6
    assert second == [401] * 4 + [429]  # the 11th attempt in the minute, counted across both workers
    assert redis_db15.dbsize() > 0


@pytest.mark.slow
def test_token_login_limit_in_memory_is_per_worker(tmp_path):
    """The control: with memory storage each worker counts alone, which is why production sets Redis."""
    database = f"sqlite:///{tmp_path / 'workers.db'}"
    assert _worker(database, "memory://", "setup", 6) == [401] * 6
    assert _worker(database, "memory://", "attempt", 5) == [401] * 5


def test_deactivating_an_account_ends_its_sign_in_tokens_at_once(client, tree):
    from accounts.users import deactivate_user

    create_user(login="li", display_name="李干事", password=PASSWORD, role=Role.OFFICE, actor="t",
                now=utcnow(), grid_id=tree.community_a.id)
    headers = {"Authorization": f"Bearer {_post(client, 'li', PASSWORD).get_json()['token']}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    deactivate_user("li", actor="admin", now=utcnow())
    refused = client.get("/api/v1/me", headers=headers)
    assert refused.status_code == 401 and refused.get_json()["code"] == 401
    db.session.expire_all()
    assert db.session.scalar(select(ApiToken)).revoked_at is not None


def test_a_token_of_a_closed_account_is_refused_even_if_not_revoked(client, tree):
    """Defence in depth: the account's state is checked on every request, not only at deactivation."""
    from accounts.models import User

    user = create_user(login="zhao", display_name="赵干事", password=PASSWORD, role=Role.OFFICE, actor="t",
                       now=utcnow(), grid_id=tree.community_a.id)
    headers = {"Authorization": f"Bearer {_post(client, 'zhao', PASSWORD).get_json()['token']}"}
    db.session.get(User, user.id).active = False
    db.session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert db.session.scalar(select(ApiToken)).revoked_at is None
