"""Accounts: creation rules, sign-in with throttling and audit, self-registration with consent, and the CLI."""
from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher, Type
from sqlalchemy import func, select

from accounts.models import ApiToken, AuditEvent, Consent, Role, User
from accounts.users import (CONSENT_VERSION, LoginFailed, SignInThrottled, authenticate_password, create_user,
                            deactivate_user, end_sessions, register_volunteer_account)
from accounts.verification import request_mobile_code
from core.errors import Conflict, ValidationFailed
from extensions import db
from volunteers.models import Volunteer

PASSWORD = "river-stone-42"
MOBILE = "13912345678"


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _events(action_prefix: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action.like(action_prefix + "%"))
                                   .order_by(AuditEvent.id)))


def _login(login, password, now, **kwargs):
    kwargs.setdefault("max_failures", 3)
    kwargs.setdefault("max_delay_seconds", 900)
    return authenticate_password(login, password, now=now, ip="10.0.0.9", **kwargs)


def _register(data, now, **kwargs):
    """Self-registration as the page does it: a code to the mobile first, then the form with it."""
    code = request_mobile_code(data["mobile"], now=now, ip="10.0.0.1")
    return register_volunteer_account(data, code=code, now=now, **kwargs)


@pytest.fixture
def office(tree, now):
    return create_user(login="Wang.Office", display_name="王主任", password=PASSWORD, role=Role.OFFICE,
                       actor="test", now=now, grid_id=tree.community_a.id)


def test_users_create_office_needs_a_grid_and_stores_only_a_hash(tree, now):
    with pytest.raises(ValidationFailed) as caught:
        create_user(login="li", display_name="李", password=PASSWORD, role=Role.OFFICE, actor="t", now=now)
    assert "grid_id" in caught.value.errors
    user = create_user(login=" Li ", display_name="李", password=PASSWORD, role=Role.OFFICE, actor="t", now=now,
                       grid_id=tree.street.id)
    assert user.login == "li" and user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    with pytest.raises(Conflict) as taken:
        create_user(login="LI", display_name="李二", password=PASSWORD, role=Role.ADMIN, actor="t", now=now)
    assert "login" in taken.value.errors
    assert _count(User) == 1


def test_users_create_refuses_common_password_and_gateway_role(now):
    with pytest.raises(ValidationFailed) as common:
        create_user(login="admin", display_name="管理员", password="password123", role=Role.ADMIN, actor="t", now=now)
    assert "password" in common.value.errors
    with pytest.raises(ValidationFailed) as gateway:
        create_user(login="gw", display_name="gw", password=PASSWORD, role=Role.GATEWAY, actor="t", now=now)
    assert "role" in gateway.value.errors
    assert _count(User) == 0


def test_users_sign_in_success_resets_failures_and_is_audited(office, now):
    with pytest.raises(LoginFailed):
        _login("wang.office", "wrong-password", now)
    user = _login("  WANG.office ", PASSWORD, now)
    assert user.id == office.id and user.failed_logins == 0 and user.last_login_at == now
    outcomes = [(e.outcome, e.actor, e.ip) for e in _events("auth.login")]
    assert outcomes == [("failure", f"user:{office.id}", "10.0.0.9"), ("success", f"user:{office.id}", "10.0.0.9")]


def test_users_unknown_login_fails_like_a_wrong_password_without_logging_the_login(office, now):
    with pytest.raises(LoginFailed) as unknown:
        _login(MOBILE, "whatever-secret", now)
    with pytest.raises(LoginFailed) as wrong:
        _login("wang.office", "whatever-secret", now)
    assert unknown.value.message == wrong.value.message
    for event in _events("auth.login"):
        text = " ".join(str(v) for v in (event.actor, event.detail, event.object_id))
        assert MOBILE not in text and "whatever-secret" not in text and "wang.office" not in text


def test_users_failures_make_that_address_wait_but_never_lock_the_account(office, now):
    for _ in range(3):
        with pytest.raises(LoginFailed):
            _login("wang.office", "bad-guess-1", now)  # the third failure makes this address wait 1 s
    with pytest.raises(SignInThrottled) as throttled:
        _login("wang.office", PASSWORD, now)  # even the right password waits, from this address
    assert throttled.value.status_code == 429 and throttled.value.retry_after == 1
    # The owner's own address was never affected, and the account has no lock.
    assert authenticate_password("wang.office", PASSWORD, now=now, ip="10.0.0.77", max_failures=3,
                                 max_delay_seconds=900).id == office.id
    assert _login("wang.office", PASSWORD, now + timedelta(seconds=1)).id == office.id
    assert [e.outcome for e in _events("auth.login")] == ["failure", "failure", "failure", "throttled", "success",
                                                          "success"]


def test_users_old_hash_is_upgraded_on_sign_in(office, now):
    office.password_hash = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=2, type=Type.ID).hash(PASSWORD)
    db.session.commit()
    _login("wang.office", PASSWORD, now)
    db.session.expire_all()
    assert db.session.get(User, office.id).password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_users_deactivated_account_cannot_sign_in_and_sessions_end(office, now):
    version = office.session_version
    user = deactivate_user("WANG.OFFICE", actor="cli", now=now)
    assert not user.active and user.session_version == version + 1
    with pytest.raises(LoginFailed):
        _login("wang.office", PASSWORD, now)
    assert _events("user.deactivate")[0].object_id == str(office.id)


def test_users_end_sessions_moves_the_session_version(office, now):
    assert end_sessions(office.id, now=now).session_version == office.session_version
    db.session.expire_all()
    assert db.session.get(User, office.id).session_version == 2


def test_users_register_volunteer_account_creates_volunteer_user_and_consent(tree, now):
    user = _register({"name": "陈静", "mobile": MOBILE, "home_grid_id": tree.grid_a1.id}, now,
                     password=PASSWORD, consent=True, ip="10.0.0.1")
    volunteer = db.session.get(Volunteer, user.volunteer_id)
    assert (user.login, user.role, volunteer.mobile, volunteer.home_grid_id) == (
        MOBILE, Role.VOLUNTEER, MOBILE, tree.grid_a1.id)
    assert volunteer.created_by == "self-registration" and volunteer.consent_at == now
    consent = db.session.scalar(select(Consent))
    assert (consent.volunteer_id, consent.purpose, consent.version, consent.granted_at) == (
        volunteer.id, "service", CONSENT_VERSION, now)
    assert _login(MOBILE, PASSWORD, now).id == user.id


def test_users_register_without_consent_names_the_field_and_creates_nothing(tree, now):
    with pytest.raises(ValidationFailed) as caught:
        _register({"name": "陈静", "mobile": MOBILE, "home_grid_id": tree.grid_a1.id}, now,
                  password=PASSWORD, consent=False)
    assert "consent" in caught.value.errors
    assert (_count(Volunteer), _count(User), _count(Consent)) == (0, 0, 0)


def test_users_register_is_one_transaction_when_the_password_is_refused(tree, now):
    with pytest.raises(ValidationFailed):
        _register({"name": "陈静", "mobile": MOBILE, "home_grid_id": tree.grid_a1.id}, now,
                  password="12345678", consent=True)
    db.session.rollback()
    assert (_count(Volunteer), _count(User), _count(Consent)) == (0, 0, 0)


def test_users_register_twice_with_one_mobile_is_a_conflict_on_mobile(tree, now):
    data = {"name": "陈静", "mobile": MOBILE, "home_grid_id": tree.grid_a1.id}
    _register(data, now, password=PASSWORD, consent=True)
    with pytest.raises(Conflict) as caught:
        _register(data, now, password=PASSWORD, consent=True)
    assert "mobile" in caught.value.errors
    db.session.rollback()
    assert (_count(Volunteer), _count(User)) == (1, 1)


def test_users_register_with_unknown_grid_names_the_field(tree, now):
    with pytest.raises(ValidationFailed) as caught:
        _register({"name": "陈静", "mobile": MOBILE, "home_grid_id": 99999}, now,
                  password=PASSWORD, consent=True)
    assert "home_grid_id" in caught.value.errors
    db.session.rollback()
    assert _count(Volunteer) == 0


def test_users_cli_create_prompts_twice_and_deactivate(runner, tree):
    result = runner.invoke(args=["users", "create", "--role", "office", "--login", "zhao", "--name", "赵干事",
                                 "--grid-code", "CA"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    user = db.session.scalar(select(User).where(User.login == "zhao"))
    assert user.role is Role.OFFICE and user.grid_id == tree.community_a.id
    mismatch = runner.invoke(args=["users", "create", "--role", "admin", "--login", "root", "--name", "管理员"],
                             input=f"{PASSWORD}\nsomething-else\n{PASSWORD}\n{PASSWORD}\n")
    assert mismatch.exit_code == 0 and "do not match" in mismatch.output
    bad_grid = runner.invoke(args=["users", "create", "--role", "office", "--login", "x", "--name", "x",
                                   "--grid-code", "NOPE"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert bad_grid.exit_code != 0 and "NOPE" in bad_grid.output
    common = runner.invoke(args=["users", "create", "--role", "admin", "--login", "weak", "--name", "w"],
                           input="12345678\n12345678\n")
    assert common.exit_code != 0 and "password" in common.output
    assert runner.invoke(args=["users", "deactivate", "zhao"]).exit_code == 0
    db.session.expire_all()
    assert db.session.get(User, user.id).active is False
    assert _count(User) == 2


def test_tokens_cli_list_and_revoke(runner):
    created = runner.invoke(args=["tokens", "create", "--admin", "--name", "ops"])
    plain = created.output.strip().splitlines()[-1]
    token = db.session.scalar(select(ApiToken))
    listed = runner.invoke(args=["tokens", "list"])
    assert listed.exit_code == 0 and f"{token.id}\tadmin\tops" in listed.output and "live" in listed.output
    assert plain not in listed.output
    assert runner.invoke(args=["tokens", "revoke", str(token.id)]).exit_code == 0
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is not None
    assert "revoked" in runner.invoke(args=["tokens", "list"]).output
    missing = runner.invoke(args=["tokens", "revoke", "999"])
    assert missing.exit_code != 0 and "not found" in missing.output
