"""One-time codes proving that a mobile number is the person's own: sent by SMS through the outbox, hashed at rest."""
from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from accounts.models import MobileCode
from accounts.passwords import hash_password, verify_password
from notices.models import Channel, Notification, NotificationKind, NotificationStatus
from core.errors import DomainError, ValidationFailed
from core.i18n import _, _l, language
from core.masking import mask_mobile
from extensions import db

log = logging.getLogger(__name__)

CODE_DIGITS = 6
CODE_MINUTES = 10
MAX_ATTEMPTS = 5
# SMS costs money and a flood of codes is harassment: per number and per address, in shared storage (SR-8).
PER_NUMBER_PER_HOUR = 3
PER_ADDRESS_PER_HOUR = 10
# The SMS with the code, in the language of the page that asked for it.
CODE_TEXT = _l("Gridmuster: your code is %(code)s, valid for %(minutes)s minutes. Ignore this if you did not ask "
               "for it.")


class TooManyCodes(DomainError):
    """Codes were requested too often for this number or from this address."""

    status_code = 429
    code = "too_many_codes"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _sent_since(column, value: str, since: datetime) -> int:
    return int(db.session.scalar(select(func.count()).select_from(MobileCode)
                                 .where(column == value, MobileCode.created_at > since)) or 0)


def request_mobile_code(mobile: str, *, now: datetime, ip: str | None = None, log_code: bool = False) -> str:
    """Send a fresh six-digit code to ``mobile`` by SMS; the answer never depends on whether the number is known.

    Returns the plain code for the caller's own use (tests, a CLI); pages never show it. ``log_code``
    writes it to the log as well: for development, where no SMS gateway is configured.
    """
    mobile_hash, ip_hash = _digest(mobile), _digest(ip) if ip else None
    hour_ago = now - timedelta(hours=1)
    if _sent_since(MobileCode.mobile_hash, mobile_hash, hour_ago) >= PER_NUMBER_PER_HOUR:
        raise TooManyCodes(_l("Too many codes for this number; try again in an hour."),
                           {"mobile": [_l("Too many codes requested.")]})
    if ip_hash and _sent_since(MobileCode.ip_hash, ip_hash, hour_ago) >= PER_ADDRESS_PER_HOUR:
        raise TooManyCodes(_l("Too many codes from this address; try again in an hour."),
                           {"mobile": [_l("Too many codes requested.")]})
    code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
    row = MobileCode(mobile_hash=mobile_hash, ip_hash=ip_hash, code_hash=hash_password(code), created_at=now,
                     expires_at=now + timedelta(minutes=CODE_MINUTES), attempts=0)
    db.session.add(row)
    db.session.flush()
    text = str(CODE_TEXT) % {"code": code, "minutes": CODE_MINUTES}
    # A confirmation: it answers what the person just did, so quiet hours and the daily cap never hold it.
    db.session.add(Notification(channel=Channel.SMS, kind=NotificationKind.CONFIRMATION,
                                idempotency_key=f"mobile-code:{row.id}:sms", status=NotificationStatus.PENDING,
                                due_at=now, attempts=0, created_at=now,
                                payload={"recipient": mobile, "subject": _("Verification code"), "text": text,
                                         "language": language()}))
    db.session.commit()
    if log_code:
        log.warning("no SMS gateway: verification code for %s is %s", mask_mobile(mobile), code)
    return code


def _spend_mobile_code(mobile: str, code: str, *, now: datetime) -> None:
    """Mark the number's live code used (in the caller's transaction), or raise ValidationFailed on ``code``.

    A wrong guess is counted and committed at once, so a rollback of the caller cannot give tries back;
    after ``MAX_ATTEMPTS`` wrong guesses the code is dead and a new one must be requested.
    """
    row = db.session.scalar(
        select(MobileCode).where(MobileCode.mobile_hash == _digest(mobile), MobileCode.used_at.is_(None),
                                 MobileCode.expires_at > now, MobileCode.attempts < MAX_ATTEMPTS)
        .order_by(MobileCode.id.desc()).limit(1).with_for_update())
    if row is None:
        raise ValidationFailed.field("code", _l("No valid code for this number: request a new one."))
    if not (code or "").isdigit() or not verify_password(row.code_hash, code):
        row.attempts += 1
        db.session.commit()
        raise ValidationFailed.field("code", _l("Wrong code."))
    row.used_at = now


def _attach_code_messages(mobile: str, volunteer_id: int) -> None:
    """Hand the number's code messages to the person who proved it, so their erasure clears those too."""
    ids = db.session.scalars(select(MobileCode.id).where(MobileCode.mobile_hash == _digest(mobile))).all()
    if ids:
        db.session.execute(update(Notification).where(
            Notification.idempotency_key.in_([f"mobile-code:{code_id}:sms" for code_id in ids]))
            .values(volunteer_id=volunteer_id).execution_options(synchronize_session=False))
