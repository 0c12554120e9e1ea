"""Accounts that sign in with a password: creating them, checking passwords with throttling, ending sessions."""
from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, exists, select, update
from sqlalchemy.exc import IntegrityError

from accounts.audit import record_event
from accounts.models import ApiToken, Consent, LoginThrottle, Role, User
from accounts.services import check_binding
from accounts.staff import staff_contact_values
from accounts.passwords import burn_verify_time, check_password_rules, hash_password, needs_rehash, verify_password
from accounts.verification import _attach_code_messages, _spend_mobile_code
from campaigns.models import CallUp
from core.errors import Conflict, DomainError, NotFound, ValidationFailed
from core.i18n import _, _l
from core.scope import Scope
from extensions import db
from volunteers.models import Volunteer
from volunteers.services import _mobile_conflict, _register_volunteer
from volunteers.teams import apply_for_partnership

# The purpose a self-registering volunteer consents to, and the version of its text (bump when the text changes).
CONSENT_PURPOSE = "service"
CONSENT_VERSION = "2026-11"
CONSENT_TEXT = _l("I agree that the community office uses my name, mobile number and home grid to organise volunteer "
                  "service (call-ups, reminders, attendance). I can withdraw at any time.")
BAD_CREDENTIALS = _l("Wrong login or password.")


class LoginFailed(DomainError):
    """Unknown login, wrong password or a disabled account: one answer for all, so nothing leaks."""

    status_code = 401
    code = "login_failed"


class SignInThrottled(DomainError):
    """Too many wrong passwords for this login from this address: this address waits ``retry_after`` seconds.

    The same for known and unknown logins; other addresses (the owner's own) are not affected.
    """

    status_code = 429
    code = "sign_in_throttled"

    def __init__(self, retry_after: int) -> None:
        super().__init__(_l("Too many failed sign-ins from this address; try again in %(seconds)s s.",
                            seconds=retry_after))
        self.retry_after = retry_after


# A run of failures is forgotten after a quiet day, so old mistakes never make a later typo wait.
THROTTLE_MEMORY = timedelta(days=1)


def normalise_login(login: str) -> str:
    """Logins compare without surrounding spaces and without case."""
    return (login or "").strip().lower()


def find_user(login: str) -> User | None:
    """The account with this login, or None."""
    return db.session.scalar(select(User).where(User.login == normalise_login(login)))


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound.of("user", user_id)
    return user


def _add_user(*, login: str, display_name: str, password: str, role: Role, now: datetime,
              grid_id: int | None = None, volunteer_id: int | None = None,
              enterprise_id: int | None = None, party_org_id: int | None = None) -> User:
    """Validate and add an account to the caller's transaction."""
    login = normalise_login(login)
    display_name = (display_name or "").strip()
    if not login or len(login) > 64:
        raise ValidationFailed.field("login", _l("Give a login of 1 to 64 characters."))
    if not display_name or len(display_name) > 100:
        raise ValidationFailed.field("name", _l("Give a name of 1 to 100 characters."))
    check_password_rules(password)
    if role is Role.GATEWAY:
        raise ValidationFailed.field("role", _l("A gateway signs in with a token, not a password."))
    check_binding(role, grid_id=grid_id, volunteer_id=volunteer_id, enterprise_id=enterprise_id,
                  party_org_id=party_org_id, holder="account")
    if db.session.scalar(select(exists().where(User.login == login))):
        raise Conflict(_l("this login is taken"), {"login": [_l("Already registered.")]})
    user = User(login=login, display_name=display_name, password_hash=hash_password(password), role=role,
                grid_id=grid_id, volunteer_id=volunteer_id, enterprise_id=enterprise_id, party_org_id=party_org_id,
                active=True,
                session_version=1, failed_logins=0, created_at=now)
    db.session.add(user)
    db.session.flush()
    return user


def create_user(*, login: str, display_name: str, password: str, role: Role, actor: str, now: datetime,
                grid_id: int | None = None, volunteer_id: int | None = None,
                enterprise_id: int | None = None, party_org_id: int | None = None,
                contact: Mapping[str, Any] | None = None) -> User:
    """Create an account (district admin, office staff, volunteer, enterprise or party organisation contact) and
    audit it.

    ``contact``: a staff account's email, mobile, wecom_id and notify_channels (see ``accounts.staff``)."""
    values = staff_contact_values(role, contact or {})
    user = _add_user(login=login, display_name=display_name, password=password, role=role, now=now,
                     grid_id=grid_id, volunteer_id=volunteer_id, enterprise_id=enterprise_id,
                     party_org_id=party_org_id)
    for name, value in values.items():
        setattr(user, name, value)
    db.session.commit()
    record_event(actor=actor, role=None, action="user.create", now=now, outcome="ok", object_type="user",
                 object_id=user.id, detail=f"role={role.value}")
    return user


def register_volunteer_account(data: dict[str, Any], *, code: str, password: str, consent: bool, now: datetime,
                               ip: str | None = None) -> User:
    """Self-service: the volunteer record, the account (login = mobile) and the consent, in one transaction.

    ``data`` holds name, mobile and home_grid_id; ``code`` is the one-time code sent to that mobile
    (``accounts.verification.request_mobile_code``). Nothing about the number (registered or not) is
    told before the code proves it is the person's own, so nobody can register, or be called up on, a
    number they do not hold. The volunteer is created by the same service the office uses; the consent
    row records the purpose, its text version and the time.
    """
    errors: dict[str, list[str]] = {}
    if not consent:
        errors["consent"] = [_l("Consent to the stated purpose is needed to register.")]
    try:
        check_password_rules(password)
    except ValidationFailed as refused:
        errors.update(refused.errors)
    if errors:
        raise ValidationFailed(errors)
    _spend_mobile_code(data["mobile"], code, now=now)
    if find_user(data["mobile"]) is not None:
        raise _mobile_conflict()
    fields = {"name": data["name"], "mobile": data["mobile"], "home_grid_id": data["home_grid_id"],
              "language": data.get("language", "zh"), "consent_at": now}
    volunteer = _register_volunteer(fields, scope=Scope.system("self-registration"), now=now)
    _attach_code_messages(data["mobile"], volunteer.id)
    user = _add_user(login=data["mobile"], display_name=data["name"], password=password, role=Role.VOLUNTEER,
                     now=now, volunteer_id=volunteer.id)
    db.session.add(Consent(volunteer_id=volunteer.id, purpose=CONSENT_PURPOSE, version=CONSENT_VERSION,
                           granted_at=now))
    db.session.commit()
    record_event(actor=f"user:{user.id}", role=Role.VOLUNTEER.value, action="user.register", now=now, outcome="ok",
                 object_type="volunteer", object_id=volunteer.id, ip=ip,
                 detail=f"consent {CONSENT_PURPOSE} v{CONSENT_VERSION}")
    return user


def register_enterprise_account(data: dict[str, Any], *, login: str, password: str, now: datetime,
                                ip: str | None = None) -> User:
    """Self-service for partner enterprises: the enterprise (pending until its street office, community
    office or the district approves it) and its account, in one transaction. ``data`` holds name,
    credit_code, address, contact_name, contact_mobile and requested_grid_id."""
    check_password_rules(password)
    enterprise = apply_for_partnership(data)
    user = _add_user(login=login, display_name=data["name"], password=password, role=Role.ENTERPRISE, now=now,
                     enterprise_id=enterprise.id)
    db.session.commit()
    record_event(actor=f"user:{user.id}", role=Role.ENTERPRISE.value, action="enterprise.apply", now=now,
                 outcome="ok", object_type="enterprise", object_id=enterprise.id, ip=ip,
                 detail=f"asks to pair with grid {enterprise.requested_grid_id}")
    return user


def _throttle_key(login: str, ip: str | None) -> str:
    return hashlib.sha256(f"{normalise_login(login)}\0{ip or ''}".encode("utf-8")).hexdigest()


def _throttle_wait(key: str, now: datetime) -> int:
    """Seconds this login must still wait at this address (0: go ahead)."""
    blocked_until = db.session.scalar(select(LoginThrottle.blocked_until).where(LoginThrottle.key_hash == key))
    if blocked_until is None or blocked_until <= now:
        return 0
    return max(1, int((blocked_until - now).total_seconds() + 0.999))


def _note_failure(key: str, now: datetime, *, max_failures: int, max_delay_seconds: int) -> None:
    """Count a wrong password for this login and address; from the ``max_failures``-th on, make it wait
    1, 2, 4 … seconds (doubling, at most ``max_delay_seconds``). Part of the caller's transaction."""
    row = db.session.get(LoginThrottle, key, with_for_update=True)
    if row is None:
        row = LoginThrottle(key_hash=key, failures=0, last_failure_at=now)
        db.session.add(row)
    elif now - row.last_failure_at > THROTTLE_MEMORY:
        row.failures = 0
    row.failures += 1
    row.last_failure_at = now
    if row.failures >= max_failures:
        exponent = min(row.failures - max_failures, 30)
        row.blocked_until = now + timedelta(seconds=min(2 ** exponent, max_delay_seconds))


def authenticate_password(login: str, password: str, *, now: datetime, max_failures: int, max_delay_seconds: int,
                          ip: str | None = None, via: str = "web") -> User:
    """The account for ``login`` if ``password`` is right; otherwise LoginFailed (401) or SignInThrottled (429).

    Failures are counted per login *and* address: after ``max_failures`` that address waits a growing
    delay for that login, while the owner signs in from their own address as usual (no account lock to
    abuse). An unknown login is answered exactly as a known one with a wrong password: the same error,
    the same throttling, and a verification against a dummy hash so it takes as long. Every attempt is
    audited, without the password or the login typed in. A hash with old parameters is upgraded.
    """
    action = f"auth.login.{via}"
    key = _throttle_key(login, ip)
    user = find_user(login)
    actor, role, object_id = ("anonymous", None, None) if user is None else (f"user:{user.id}", user.role.value, user.id)
    wait = _throttle_wait(key, now)
    if wait:
        record_event(actor=actor, role=role, action=action, now=now, outcome="throttled", ip=ip,
                     object_type=user and "user", object_id=object_id)
        raise SignInThrottled(wait)
    if user is None:
        burn_verify_time(password)
        reason = "unknown login"
    elif not verify_password(user.password_hash, password):
        reason = "bad password"
    elif not user.active:
        reason = "inactive account"
    else:
        reason = None
    if reason is not None:
        try:
            _note_failure(key, now, max_failures=max_failures, max_delay_seconds=max_delay_seconds)
            db.session.commit()
        except IntegrityError:  # a racing first failure inserted the row: count on it
            db.session.rollback()
            _note_failure(key, now, max_failures=max_failures, max_delay_seconds=max_delay_seconds)
            db.session.commit()
        record_event(actor=actor, role=role, action=action, now=now, outcome="failure", ip=ip,
                     object_type=user and "user", object_id=object_id, detail=reason)
        raise LoginFailed(BAD_CREDENTIALS)
    db.session.query(LoginThrottle).filter(LoginThrottle.key_hash == key).delete(synchronize_session=False)
    user.last_login_at = now
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    db.session.commit()
    record_event(actor=actor, role=role, action=action, now=now, outcome="success",
                 object_type="user", object_id=user.id, ip=ip)
    return user


def end_sessions(user_id: int, *, now: datetime, ip: str | None = None, everywhere: bool = False) -> User:
    """Sign out: every web session of the account stops working (its session version moves on).

    ``everywhere`` also revokes the account's sign-in tokens (the mobile app's, from POST /auth/token).
    """
    user = get_user(user_id)
    user.session_version += 1
    revoked = 0
    if everywhere:
        revoked = db.session.execute(
            update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .values(revoked_at=now).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    record_event(actor=f"user:{user.id}", role=user.role.value, action="auth.logout" + (".everywhere" * everywhere),
                 now=now, outcome="ok", object_type="user", object_id=user.id, ip=ip,
                 detail=f"tokens revoked={revoked}" if everywhere else None)
    return user


def deactivate_user(login: str, *, actor: str, now: datetime) -> User:
    """Disable an account: it can no longer sign in, its open sessions end and its sign-in tokens are revoked."""
    user = find_user(login)
    if user is None:
        raise NotFound(_l("no account with this login"))
    user.active = False
    user.session_version += 1
    db.session.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                       .values(revoked_at=now).execution_options(synchronize_session=False))
    db.session.commit()
    record_event(actor=actor, role=None, action="user.deactivate", now=now, outcome="ok", object_type="user",
                 object_id=user.id)
    return user


def list_own_callups(volunteer_id: int) -> Select:
    """A volunteer's call-ups that reached them (not mere proposals), newest first."""
    return (select(CallUp).where(CallUp.volunteer_id == volunteer_id, CallUp.sent_at.is_not(None))
            .order_by(CallUp.sent_at.desc(), CallUp.id.desc()))


# Actors that are not a person: what the call-up history says instead of the raw label.
MACHINE_ACTORS = {"scheduler": _l("Automatic"), "system": _l("System"), "cli": _l("Command line"),
                  "anonymous": _l("Answer link"), "sms": _l("SMS reply")}


def _actor_ref(actor: str) -> tuple[str, int] | None:
    """("user", 3) for "user:3" and "enterprise:1:user:3", ("volunteer", 5) for "volunteer:5", else None."""
    head, _, last = actor.rpartition(":")
    if not last.isdigit():
        return None
    if head == "user" or head.endswith(":user"):
        return "user", int(last)
    return ("volunteer", int(last)) if head == "volunteer" else None


def actor_names(actors: set[str]) -> dict[str, str]:
    """Each stored actor label ("user:3", "volunteer:5", "token:2", "enterprise:1:user:4", "scheduler") in
    words and names people read; two queries at most, whatever the number of labels."""
    refs = {actor: _actor_ref(actor) for actor in actors}
    user_ids = {ref[1] for ref in refs.values() if ref and ref[0] == "user"}
    volunteer_ids = {ref[1] for ref in refs.values() if ref and ref[0] == "volunteer"}
    users = dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(user_ids))).all()) \
        if user_ids else {}
    people = dict(db.session.execute(select(Volunteer.id, Volunteer.name).where(Volunteer.id.in_(volunteer_ids)))
                  .all()) if volunteer_ids else {}
    names = {}
    for actor, ref in refs.items():
        if ref and ref[0] == "volunteer":
            names[actor] = _("%(name)s (in person)", name=people.get(ref[1], "—"))
        elif ref:
            who = users.get(ref[1], "—")
            names[actor] = _("%(name)s (enterprise)", name=who) if actor.startswith("enterprise:") else who
        elif actor.startswith("token:"):
            names[actor] = _("App")
        else:
            names[actor] = str(MACHINE_ACTORS.get(actor, actor))
    return names
