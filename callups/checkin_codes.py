"""A shift's check-in code: a signed, expiring token in the QR code shown on the board and the printed sheet.

Scanning it opens /check-in/<token>; the signed-in person is checked in (or out) on their own call-up of that
shift. The token names the shift and when it stops working (two hours after the shift ends, so that check-out
works too); it is signed with the app's secret, so nobody can make one for another shift or stretch its life.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from notices.links import LinkExpired
from campaigns.attendance import CHECK_OUT_CLOSES
from campaigns.models import Shift
from core.errors import NotFound
from core.i18n import _l

SALT = "gridmuster.shift-check-in"
PATH_PREFIX = "/check-in/"


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=SALT)


def code_expires_at(shift: Shift) -> datetime:
    """When a shift's code stops working: two hours after the shift ends (the last check-out)."""
    return shift.end_at + CHECK_OUT_CLOSES


def shift_code(shift: Shift, *, secret_key: str) -> str:
    """The signed token for ``shift``'s QR code."""
    return _serializer(secret_key).dumps([shift.id, int(code_expires_at(shift).timestamp())])


def check_in_url(public_url: str, token: str) -> str:
    """The address the QR code holds."""
    return f"{public_url.rstrip('/')}{PATH_PREFIX}{token}"


def shift_check_in_url(shift: Shift) -> str:
    """The address a shift's QR code holds, on the service's public address (GRIDMUSTER_PUBLIC_URL), as in messages."""
    token = shift_code(shift, secret_key=current_app.config["SECRET_KEY"])
    return check_in_url(current_app.config["PUBLIC_URL"], token)


def read_shift_code(token: str, *, now: datetime, secret_key: str) -> int:
    """The shift id a code names; NotFound for a forged or garbled code, LinkExpired once it has run out."""
    if not token or len(token) > 200:
        raise NotFound(_l("This check-in code is not valid."))
    try:
        shift_id, expires = _serializer(secret_key).loads(token)
    except (BadSignature, ValueError, TypeError):
        raise NotFound(_l("This check-in code is not valid.")) from None
    if not isinstance(shift_id, int) or not isinstance(expires, int):
        raise NotFound(_l("This check-in code is not valid."))
    if datetime.fromtimestamp(expires, tz=timezone.utc) <= now:
        raise LinkExpired(_l("This check-in code has expired: the shift is over."))
    return shift_id
