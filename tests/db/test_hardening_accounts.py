"""Issue #11: sign-in throttling instead of lockout, one-time codes proving a mobile, sign-out everywhere, token expiry."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from accounts.models import ApiToken, LoginThrottle, MobileCode, Role, User
from accounts.services import authenticate, create_token, issue_token
from accounts.users import (LoginFailed, SignInThrottled, authenticate_password, create_user, end_sessions,
                            register_volunteer_account)
from accounts.verification import MAX_ATTEMPTS, TooManyCodes, request_mobile_code
from notices.models import Channel, Notification
from core.errors import Conflict, ValidationFailed
from extensions import db
from volunteers.models import Volunteer

PASSWORD = "river-stone-42"
MOBILE = "13912345678"


def _login(login, password, now, ip="10.0.0.9", max_failures=3):
    return authenticate_password(login, password, now=now, ip=ip, max_failures=max_failures, max_delay_seconds=8)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def admin(now):
    return create_user(login="admin", display_name="管理员", password=PASSWORD, role=Role.ADMIN, actor="t", now=now)


def _refusal(login, password, now, ip="10.0.0.9"):
    with pytest.raises((LoginFailed, SignInThrottled)) as caught:
        _login(login, password, now, ip=ip)
    return type(caught.value), caught.value.status_code, caught.value.message


def test_hardening_failures_from_elsewhere_never_lock_the_owner_out(admin, now):
    """Five (here three) wrong passwords from an attacker's address: the admin still signs in from their own."""
    for _ in range(10):
        try:
            _login("admin", "guess", now, ip="203.0.113.5")
        except (LoginFailed, SignInThrottled):
            pass
    assert _login("admin", PASSWORD, now, ip="10.0.0.1").id == admin.id
    assert db.session.get(User, admin.id).locked_until is None


def test_hardening_delay_doubles_per_failure_and_is_capped(admin, now):
    waits = []
    at = now
    for _ in range(7):
        with pytest.raises(LoginFailed):
            _login("admin", "guess", at)
        row = db.session.scalar(select(LoginThrottle))
        if row.blocked_until is not None:
            waits.append(int((row.blocked_until - at).total_seconds()))
            at = row.blocked_until  # wait it out, then fail again
    assert waits == [1, 2, 4, 8, 8]  # from the third failure: 2^0, 2^1 … capped at max_delay_seconds=8
    assert MOBILE not in str(row.key_hash) and "admin" not in row.key_hash


def test_hardening_unknown_login_is_answered_exactly_like_a_wrong_password(admin, now):
    unknown = [_refusal("nobody-here", "guess", now) for _ in range(4)]
    known = [_refusal("admin", "guess", now) for _ in range(4)]
    assert unknown == known
    assert [status for _, status, _ in known] == [401, 401, 401, 429]


def test_hardening_success_clears_the_count_for_that_address(admin, now):
    for _ in range(2):
        with pytest.raises(LoginFailed):
            _login("admin", "guess", now)
    _login("admin", PASSWORD, now)
    assert _count(LoginThrottle) == 0


def test_hardening_code_is_hashed_sent_by_sms_and_expires_in_10_minutes(tree, now):
    code = request_mobile_code(MOBILE, now=now, ip="10.0.0.1")
    row = db.session.scalar(select(MobileCode))
    assert len(code) == 6 and code.isdigit()
    assert code not in row.code_hash and MOBILE not in row.mobile_hash and row.code_hash.startswith("$argon2id$")
    sms = db.session.scalar(select(Notification))
    assert sms.channel is Channel.SMS and sms.payload["recipient"] == MOBILE and code in sms.payload["text"]
    data = {"name": "陈静", "mobile": MOBILE, "home_grid_id": tree.grid_a1.id}
    with pytest.raises(ValidationFailed) as late:
        register_volunteer_account(data, code=code, password=PASSWORD, consent=True,
                                   now=now + timedelta(minutes=10, seconds=1))
    assert "code" in late.value.errors
    db.session.rollback()
    assert _count(Volunteer) == 0


def test_hardening_code_dies_after_five_wrong_tries(tree, now):
    code = request_mobile_code(MOBILE, now=now)
    wrong = "000000" if code != "000000" else "111111"
    data = {"name": "陈静", "mobile": MOBILE, "home_grid_id": tree.grid_a1.id}
    for _ in range(MAX_ATTEMPTS):
        with pytest.raises(ValidationFailed):
            register_volunteer_account(data, code=wrong, password=PASSWORD, consent=True, now=now)
        db.session.rollback()
    with pytest.raises(ValidationFailed):
        register_volunteer_account(data, code=code, password=PASSWORD, consent=True, now=now)
    db.session.rollback()
    assert _count(Volunteer) == 0 and db.session.scalar(select(MobileCode.attempts)) == MAX_ATTEMPTS


def test_hardening_codes_are_limited_per_number_and_per_address(now):
    for _ in range(3):
        request_mobile_code(MOBILE, now=now, ip="10.0.0.1")
    with pytest.raises(TooManyCodes) as per_number:
        request_mobile_code(MOBILE, now=now, ip="10.0.0.2")
    assert per_number.value.status_code == 429
    assert request_mobile_code(MOBILE, now=now + timedelta(hours=1, seconds=1), ip="10.0.0.2")
    for i in range(10):
        request_mobile_code(f"1380000{i:04d}", now=now, ip="10.0.0.3")
    with pytest.raises(TooManyCodes):
        request_mobile_code("13911110000", now=now, ip="10.0.0.3")


def test_hardening_registered_number_is_revealed_only_after_the_code_proves_it(tree, now):
    data = {"name": "陈静", "mobile": MOBILE, "home_grid_id": tree.grid_a1.id}
    register_volunteer_account(data, code=request_mobile_code(MOBILE, now=now), password=PASSWORD, consent=True,
                               now=now)
    request_mobile_code(MOBILE, now=now)  # anyone may ask; the same answer as for a new number
    with pytest.raises(ValidationFailed) as unproven:  # a guess tells nothing about the number
        register_volunteer_account(data, code="12345x", password=PASSWORD, consent=True, now=now)
    assert list(unproven.value.errors) == ["code"]
    db.session.rollback()
    with pytest.raises(Conflict) as proven:
        register_volunteer_account(data, code=request_mobile_code(MOBILE, now=now), password=PASSWORD,
                                   consent=True, now=now)
    assert proven.value.errors == {"mobile": ["Already registered."]}


def test_hardening_sign_out_everywhere_revokes_sign_in_tokens_plain_sign_out_does_not(admin, now):
    _, first = create_token(name="app", role=Role.ADMIN, now=now, user_id=admin.id)
    _, integration = create_token(name="integration", role=Role.ADMIN, now=now)
    end_sessions(admin.id, now=now)
    assert authenticate(first, now=now) is not None
    end_sessions(admin.id, now=now, everywhere=True)
    assert authenticate(first, now=now) is None
    assert authenticate(integration, now=now) is not None  # integration tokens name no one
    assert db.session.get(User, admin.id).session_version == 3


def test_hardening_integration_tokens_expire_after_the_default_days(now):
    token, _ = issue_token(name="gateway", role=Role.GATEWAY, now=now, default_days=90)
    assert token.expires_at == now + timedelta(days=90)
    shorter, _ = issue_token(name="gateway 2", role=Role.GATEWAY, now=now, default_days=90, expires_in_days=7)
    assert shorter.expires_at == now + timedelta(days=7)
    assert _count(ApiToken) == 2
