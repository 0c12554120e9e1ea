"""Shared fixtures: one app per session on a real database, emptied after each test; real SMTP and HTTP receivers."""
from __future__ import annotations

import functools
import json
import os
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import text

from config import Config, normalise_database_url


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789"
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        os.environ.get("TEST_DATABASE_URL")
        or "sqlite:///" + os.path.join(tempfile.mkdtemp(prefix="gridmuster-test-"), "test.db"))


def _reset_postgres_schema(engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


@functools.cache
def session_app():
    """The session's one app, built on first use: a test module may read its OpenAPI document at collection time."""
    from app import create_app

    return create_app(TestConfig)


@pytest.fixture(scope="session")
def app():
    """The app on a schema built by the Alembic migrations (which tests them too)."""
    from flask_migrate import upgrade

    from extensions import db

    application = session_app()
    with application.app_context():
        if db.engine.dialect.name == "postgresql":
            _reset_postgres_schema(db.engine)
        upgrade()
    yield application


@pytest.fixture(scope="session")
def is_postgres(app) -> bool:
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


@pytest.fixture(autouse=True)
def _app_context(app):
    """Each test runs in an app context and leaves every table empty behind it."""
    with app.app_context():
        yield
        empty_tables()


def empty_tables() -> None:
    """Every table emptied (ids restart), real commits and all; for tests that build several worlds."""
    from extensions import db

    db.session.rollback()
    db.session.remove()
    tables = [t.name for t in db.metadata.sorted_tables]
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(tables) + " RESTART IDENTITY CASCADE"))
        else:
            # The grid tree refers to itself; check foreign keys once, at commit.
            conn.execute(text("PRAGMA defer_foreign_keys=ON"))
            for name in reversed(tables):
                conn.execute(text(f"DELETE FROM {name}"))
            conn.execute(text("DELETE FROM sqlite_sequence")) if _has_sqlite_sequence(conn) else None


def _has_sqlite_sequence(conn) -> bool:
    return bool(conn.execute(text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first())


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)


class ApiClient:
    """The test client with a bearer token; checks that errors use the shared shape."""

    def __init__(self, client, token: str) -> None:
        self.client = client
        self.token = token

    def request(self, method: str, path: str, **kwargs):
        headers = kwargs.pop("headers", {})
        headers.setdefault("Authorization", f"Bearer {self.token}")
        response = self.client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)
        if response.status_code >= 400 and response.is_json:
            body = response.get_json()
            assert body["code"] == response.status_code, body
            assert "status" in body, body
        assert response.status_code < 500, response.get_data(as_text=True)
        return response

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def patch(self, path, **kwargs):
        return self.request("PATCH", path, **kwargs)

    def put(self, path, **kwargs):
        return self.request("PUT", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)


@pytest.fixture
def admin_token(app) -> str:
    from accounts.models import Role
    from accounts.services import create_token
    from core.clock import utcnow

    _, plain = create_token(name="test admin", role=Role.ADMIN, now=utcnow())
    return plain


@pytest.fixture
def api(client, admin_token) -> ApiClient:
    return ApiClient(client, admin_token)


class Tree:
    """A small district: one street office, two communities with two grids each, three skills."""

    def __init__(self) -> None:
        from core.scope import Scope
        from grids.services import create_grid
        from volunteers.services import create_skill

        def add(data):
            return create_grid(data, scope=Scope.system("test"))

        self.district = add({"code": "D", "name": "滨江区", "level": 0})
        self.street = add({"code": "S", "name": "西兴街道", "level": 1, "parent_id": self.district.id})
        self.community_a = add({"code": "CA", "name": "江南社区", "level": 2, "parent_id": self.street.id})
        self.community_b = add({"code": "CB", "name": "湘湖社区", "level": 2, "parent_id": self.street.id})
        self.grid_a1 = add({"code": "CA1", "name": "江南第一网格", "level": 3, "parent_id": self.community_a.id})
        self.grid_a2 = add({"code": "CA2", "name": "江南第二网格", "level": 3, "parent_id": self.community_a.id})
        self.grid_b1 = add({"code": "CB1", "name": "湘湖第一网格", "level": 3, "parent_id": self.community_b.id})
        self.skills = {code: create_skill({"code": code, "name": name, "certified": code == "gas_check"})
                       for code, name in [("gas_check", "燃气安全检查"), ("first_aid", "急救"), ("publicity", "宣传")]}


@pytest.fixture
def tree() -> Tree:
    return Tree()


def volunteer_body(grid_id: int, mobile: str = "13912345678", **extra) -> dict:
    """A valid POST /volunteers body."""
    body = {"name": "张伟", "mobile": mobile, "home_grid_id": grid_id,
            "skills": [{"code": "gas_check", "level": 3, "certificate_expires_on": "2099-06-30"}],
            "identities": ["party_member", "building_leader"], "party_branch": "江南社区第一党支部",
            "availability": [{"weekday": 5, "start": "09:00", "end": "12:00"}],
            "max_callups_per_month": 4}
    body.update(extra)
    return body


@pytest.fixture(autouse=True)
def _fresh_rate_limits(app):
    """Each test starts with empty rate-limit counters (the session's app keeps them in memory)."""
    from extensions import limiter

    limiter.reset()
    yield


def _page_client_class():
    from flask.testing import FlaskClient

    from extensions import db

    class _PageClient(FlaskClient):
        """A browser for the pages: each request in its own app context, as in production, so no ``g``
        (the cached user, the CSRF token) carries over; the test's session commits first, holding no SQLite lock."""

        def open(self, *args, **kwargs):
            db.session.commit()
            with self.application.app_context():
                return super().open(*args, **kwargs)

    return _PageClient


def new_page_client(app):
    """A fresh page client with its own cookie jar (a second browser)."""
    return _page_client_class()(app, app.response_class, use_cookies=True)


def form_csrf_token(response) -> str:
    """The CSRF token of the first form on a page."""
    import re

    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', response.get_data(as_text=True))
    assert match, response.get_data(as_text=True)[:500]
    return match.group(1)


LOGIN_PASSWORD = "river-stone-42"


@pytest.fixture
def page_client(app):
    return new_page_client(app)


@pytest.fixture
def login_as(app, tree):
    """``login_as("office", grid_id=…)`` → a page client signed in through /login as a new account of that role."""
    from accounts.models import Role
    from accounts.users import create_user
    from core.clock import utcnow
    from tests.factories import EnterpriseFactory, VolunteerFactory

    counter = iter(range(1, 1000))

    def sign_in(role: str = "office", **binding):
        role = Role(role)
        if role is Role.OFFICE:
            binding.setdefault("grid_id", tree.community_a.id)
        elif role is Role.VOLUNTEER and "volunteer_id" not in binding:
            binding["volunteer_id"] = VolunteerFactory(home_grid_id=tree.grid_a1.id).id
        elif role is Role.ENTERPRISE and "enterprise_id" not in binding:
            binding["enterprise_id"] = EnterpriseFactory().id
        user = create_user(login=f"{role.value}-{next(counter)}", display_name=f"{role.value} user",
                           password=LOGIN_PASSWORD, role=role, actor="test", now=utcnow(), **binding)
        client = new_page_client(app)
        token = form_csrf_token(client.get("/login"))
        response = client.post("/login", data={"csrf_token": token, "login": user.login, "password": LOGIN_PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        client.user = user
        return client

    return sign_in


# --- A real SMTP server (aiosmtpd) and a real HTTP receiver on 127.0.0.1, free ports. ---


class Receiver:
    """Records every POST: path, JSON body, Idempotency-Key and arrival time; answers ``status``."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.status = 200
        self.body = b'{"errcode": 0}'
        self.delay = 0.0
        self.fail_first: dict[str, int] = {}
        self.url = ""

    def keys(self) -> list[str]:
        with self.lock:
            return [r["key"] for r in self.requests]

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.keys()) >= count:
                return True
            time.sleep(0.02)
        return False


@pytest.fixture
def http_receiver():
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as real gateways do
        disable_nagle_algorithm = True  # headers and body go in two writes; avoid 40 ms delayed-ACK stalls

        def do_POST(self):  # noqa: N802
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {}
            key = self.headers.get("Idempotency-Key") or body.get("idempotency_key") or ""
            if receiver.delay:
                time.sleep(receiver.delay)
            status = receiver.status
            with receiver.lock:
                if receiver.fail_first.get(key, 0) > 0:
                    receiver.fail_first[key] -= 1
                    status = 503
                receiver.requests.append({"path": self.path, "body": body, "key": key, "status": status,
                                          "at": time.time()})
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(receiver.body)))
            self.end_headers()
            self.wfile.write(receiver.body)

        def log_message(self, *args):
            return None

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request, client_address):
            # A sender killed with kill -9 mid-request resets its connection: expected in the fault tests.
            if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
                super().handle_error(request, client_address)

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_port}"
    yield receiver
    server.shutdown()
    server.server_close()


class Mailbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        from email import message_from_bytes

        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    mailbox.url = f"smtp://127.0.0.1:{port}"
    yield mailbox
    controller.stop()


@pytest.fixture
def channels_config(app, monkeypatch, http_receiver, smtp_server):
    """Every channel pointed at the local receivers for the duration of a test."""
    monkeypatch.setitem(app.config, "SMTP_URL", smtp_server.url)
    monkeypatch.setitem(app.config, "WEBHOOK_URL", http_receiver.url + "/hook")
    monkeypatch.setitem(app.config, "WECOM_WEBHOOK_URL", http_receiver.url + "/wecom")
    monkeypatch.setitem(app.config, "SMS_GATEWAY_URL", http_receiver.url + "/sms")
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://gm.example.cn")
    return app.config
