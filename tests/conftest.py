"""Shared fixtures: one app per session on a real database, emptied after each test."""
from __future__ import annotations

import functools
import os
import tempfile
from datetime import datetime, timezone

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
            "skills": [{"code": "gas_check", "level": 3, "certificate_expires_on": "2027-06-30"}],
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
