"""Sign-in pages with the Flask test client: CSRF, throttling, rate limit, session end and timeouts, cookie flags."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from accounts.models import Consent, Role, User
from notices.models import Notification
from accounts.users import create_user, deactivate_user
from core.clock import utcnow
from extensions import db
from tests.conftest import TestConfig, form_csrf_token, new_page_client
from volunteers.models import Volunteer

PASSWORD = "river-stone-42"
MOBILE = "13912345678"


csrf_token = form_csrf_token


def sign_in(client, login, password=PASSWORD, **kwargs):
    token = csrf_token(client.get("/login"))
    return client.post("/login", data={"csrf_token": token, "login": login, "password": password}, **kwargs)


def sign_out(client):
    token = csrf_token(client.get("/me"))
    return client.post("/logout", data={"csrf_token": token})


new_browser = new_page_client


@pytest.fixture
def client(page_client):
    return page_client


@pytest.fixture
def office(tree):
    return create_user(login="wang", display_name="王主任", password=PASSWORD, role=Role.OFFICE, actor="t",
                       now=utcnow(), grid_id=tree.community_a.id)


class Clock:
    """A controllable wall clock for the session timeouts."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    fake = Clock(datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc))
    monkeypatch.setattr("web.sessions.utcnow", fake)
    return fake


def test_sign_in_page_renders_a_csrf_token_and_no_inline_script(client):
    response = client.get("/login")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and csrf_token(response)
    assert "<script" not in page and "style=" not in page
    assert "登录" in page and "Sign in" not in page


def test_sign_in_post_without_csrf_token_is_400_and_signs_nobody_in(client, office):
    response = client.post("/login", data={"login": "wang", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/me").status_code == 302
    assert db.session.get(User, office.id).last_login_at is None


def test_sign_in_then_me_shows_who_and_a_fresh_session(client, office):
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    response = sign_in(client, "WANG")
    assert response.status_code == 302 and response.headers["Location"].endswith("/office/campaigns")  # staff land on the console
    with client.session_transaction() as session:
        assert "planted" not in session and session["_user_id"] == f"{office.id}:1"
    me = client.get("/me")
    assert me.status_code == 200 and 'id="signed-in-as">王主任<' in me.get_data(as_text=True)
    assert me.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("target, lands_on", [
    ("//evil.example/x", "/office/campaigns"), ("/\\evil.example", "/office/campaigns"),
    ("https://evil.example/", "/office/campaigns"), ("/me?lang=en", "/me?lang=en")])
def test_sign_in_next_only_goes_to_a_path_on_this_site(client, office, target, lands_on):
    token = csrf_token(client.get("/login"))
    response = client.post("/login", query_string={"next": target},
                           data={"csrf_token": token, "login": "wang", "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == lands_on


def test_sign_in_wrong_password_answers_401_then_this_address_waits_with_429(app, client, office, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES", 3)
    first = sign_in(client, "wang", "not-the-password")
    assert first.status_code == 401 and "账号或密码错误" in first.get_data(as_text=True)
    assert sign_in(client, "wang", "not-the-password").status_code == 401
    assert sign_in(client, "wang", "not-the-password").status_code == 401
    waiting = sign_in(client, "wang")
    assert waiting.status_code == 429 and "请稍后再试" in waiting.get_data(as_text=True)
    assert client.get("/me").status_code == 302
    # No lock on the account: the owner's own address signs in.
    assert sign_in(new_browser(app), "wang", environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 302


def test_sign_in_is_rate_limited_per_login_and_ip(app, client, office, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES", 100)
    codes = [sign_in(client, "wang", "not-the-password").status_code for _ in range(11)]
    assert codes == [401] * 10 + [429]
    assert sign_in(client, "wang").status_code == 429
    assert sign_in(client, "wang", environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 302


def test_sign_in_and_the_token_endpoint_share_the_login_counter(app, client, office, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES", 100)
    for _ in range(10):
        client.post("/api/v1/auth/token", json={"login": "wang", "password": "not-the-password"})
    assert sign_in(client, "wang").status_code == 429


def test_sign_out_ends_every_session_of_the_account(client, app, office):
    other_browser = new_browser(app)
    sign_in(client, "wang")
    sign_in(other_browser, "wang")
    assert other_browser.get("/me").status_code == 200
    response = sign_out(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert client.get("/me").status_code == 302
    assert other_browser.get("/me").status_code == 302  # session_version moved on
    assert db.session.get(User, office.id).session_version == 2


def test_sign_out_without_csrf_token_is_refused(client, office):
    sign_in(client, "wang")
    assert client.post("/logout").status_code == 400
    assert client.get("/me").status_code == 200


def test_sign_in_deactivation_ends_open_sessions(client, office):
    sign_in(client, "wang")
    assert client.get("/me").status_code == 200
    deactivate_user("wang", actor="test", now=utcnow())
    response = client.get("/me")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_sign_in_idle_timeout_after_30_minutes(client, office, clock):
    sign_in(client, "wang")
    clock.advance(minutes=29)
    assert client.get("/me").status_code == 200  # use refreshes the idle timer
    clock.advance(minutes=29)
    assert client.get("/me").status_code == 200
    clock.advance(minutes=30, seconds=1)
    expired = client.get("/me")
    assert expired.status_code == 302 and "expired=1" in expired.headers["Location"]
    assert "登录已超时" in client.get(expired.headers["Location"]).get_data(as_text=True)
    assert client.get("/me").status_code == 302  # the session is gone, not only refused once


def test_sign_in_absolute_lifetime_of_12_hours_even_when_busy(client, office, clock):
    sign_in(client, "wang")
    for _ in range(35):  # every 20 minutes for 11 h 40 min
        clock.advance(minutes=20)
        assert client.get("/me").status_code == 200
    clock.advance(minutes=20, seconds=1)
    assert client.get("/me").status_code == 302


def test_sign_in_session_without_timestamps_is_not_accepted(client, office):
    sign_in(client, "wang")
    with client.session_transaction() as session:
        del session["started_at"]
    assert client.get("/me").status_code == 302


class SecureConfig(TestConfig):
    SECURE_COOKIES = True


@pytest.fixture(scope="module")
def secure_app(app):
    from app import create_app

    return create_app(SecureConfig)


def test_sign_in_secure_cookie_flags_and_host_prefix(secure_app, office):
    client = new_browser(secure_app)
    token = csrf_token(client.get("/login", base_url="https://localhost"))
    response = client.post("/login", data={"csrf_token": token, "login": "wang", "password": PASSWORD},
                           headers={"Referer": "https://localhost/login"}, base_url="https://localhost")
    assert response.status_code == 302
    cookie = next(value for value in response.headers.getlist("Set-Cookie") if value.startswith("__Host-gridmuster="))
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert {"secure", "httponly", "samesite=lax", "path=/"} <= flags
    assert not any(flag.startswith("domain=") for flag in flags)


def sent_code(mobile: str = MOBILE) -> str:
    """The six digits in the newest code SMS the outbox holds for ``mobile``."""
    rows = db.session.scalars(select(Notification).where(Notification.idempotency_key.like("mobile-code:%"))
                              .order_by(Notification.id.desc())).all()
    text = next(row.payload["text"] for row in rows if row.payload["recipient"] == mobile)
    return re.search(r"\d{6}", text).group()


def request_code(client, mobile: str = MOBILE, **kwargs):
    token = csrf_token(client.get("/register"))
    return client.post("/register/code", data={"csrf_token": token, "mobile": mobile}, **kwargs)


def _register(client, tree, **overrides):
    page = request_code(client, overrides.get("mobile") or MOBILE)
    assert page.status_code == 200, page.status_code
    data = {"csrf_token": csrf_token(page), "code": sent_code(overrides.get("mobile") or MOBILE), "name": "陈静",
            "mobile": MOBILE, "home_grid_id": str(tree.grid_a1.id),
            "password": PASSWORD, "confirm": PASSWORD, "consent": "y"}
    data.update(overrides)
    return client.post("/register", data={k: v for k, v in data.items() if v is not None})


def test_register_without_consent_names_the_field_and_creates_nothing(client, tree):
    response = _register(client, tree, consent=None)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="consent-error"' in page
    assert db.session.scalar(select(func.count()).select_from(Volunteer)) == 0


def test_register_refuses_a_common_password_under_the_field(client, tree):
    response = _register(client, tree, password="woaini1314", confirm="woaini1314")
    assert response.status_code == 422 and 'id="password-error"' in response.get_data(as_text=True)


def test_register_offers_communities_and_grids_only(client, tree):
    page = request_code(client).get_data(as_text=True)
    assert f'value="{tree.grid_a1.id}"' in page and f'value="{tree.community_b.id}"' in page
    assert f'value="{tree.street.id}"' not in page and f'value="{tree.district.id}"' not in page
    assert "组织志愿服务" in page and "volunteer service" not in page


def test_register_signs_in_and_records_consent(client, tree):
    response = _register(client, tree)
    assert response.status_code == 302 and response.headers["Location"].endswith("/me/profile/skills?setup=1")
    me = client.get("/me").get_data(as_text=True)
    assert 'id="no-callups"' in me
    consent = db.session.scalar(select(Consent))
    assert consent.purpose == "service" and consent.granted_at is not None
    again = _register(app_client := new_browser(client.application), tree)
    assert again.status_code == 409 and 'id="mobile-error"' in again.get_data(as_text=True)
    assert app_client.get("/me").status_code == 302


def test_me_lists_own_callups_and_answers_them_with_csrf(client, app):
    from campaigns.models import CallUp, CallUpStatus
    from tests.scheduler.helpers import make_position, sent_callups

    now = utcnow()
    position = make_position(now=now, headcount=1)
    mine, other = sent_callups(position, 2, now=now)
    user = create_user(login=MOBILE, display_name="陈静", password=PASSWORD, role=Role.VOLUNTEER, actor="t",
                       now=now, volunteer_id=mine.volunteer_id)
    sign_in(client, user.login)
    page = client.get("/me")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and f'id="callup-{mine.id}" data-status="sent"' in html
    assert f'id="callup-{other.id}"' not in html and "宣传员" in html
    token = csrf_token(page)
    assert client.post(f"/me/call-ups/{mine.id}", data={"action": "accept"}).status_code == 400
    # Someone else's call-up is not found, even with a valid form.
    assert client.post(f"/me/call-ups/{other.id}", data={"csrf_token": token, "action": "accept"}).status_code == 404
    answered = client.post(f"/me/call-ups/{mine.id}", data={"csrf_token": token, "action": "accept"})
    assert answered.status_code == 302
    db.session.expire_all()
    assert db.session.get(CallUp, mine.id).status is CallUpStatus.ACCEPTED
    assert db.session.get(CallUp, mine.id).answered_by == f"user:{user.id}"
    assert db.session.get(CallUp, other.id).status is CallUpStatus.SENT
    assert 'data-status="accepted"' in client.get("/me").get_data(as_text=True)


def test_me_answering_is_for_volunteers_only(client, office):
    sign_in(client, "wang")
    token = csrf_token(client.get("/me"))
    assert client.post("/me/call-ups/1", data={"csrf_token": token, "action": "accept"}).status_code == 403


@pytest.mark.parametrize("role", ["office", "volunteer", "enterprise", "admin"])
def test_login_as_fixture_signs_each_role_in(login_as, role):
    browser = login_as(role)
    me = browser.get("/me")
    if role == "enterprise":  # an enterprise's own page is its portal
        assert me.status_code == 302 and me.headers["Location"].endswith("/enterprise")
        me = browser.get("/enterprise")
        assert me.status_code == 200 and 'id="teams"' in me.get_data(as_text=True)
        return
    assert me.status_code == 200 and f"({role})" in me.get_data(as_text=True)
    assert ('id="no-callups"' in me.get_data(as_text=True)) == (role == "volunteer")


def test_answer_link_posts_are_limited_to_20_a_minute_per_ip(client):
    codes = [client.post("/r/not-a-real-token", data={"action": "accept"}).status_code for _ in range(21)]
    assert codes == [404] * 20 + [429]
    other_ip = client.post("/r/not-a-real-token", data={"action": "accept"}, environ_base={"REMOTE_ADDR": "10.7.7.7"})
    assert other_ip.status_code == 404
    assert client.get("/r/not-a-real-token").status_code == 404  # reading the page is not limited


def test_register_shows_every_refusal_at_once(client, tree):
    page = _register(client, tree, consent=None, password="12345678", confirm="12345678").get_data(as_text=True)
    assert 'id="consent-error"' in page and 'id="password-error"' in page
