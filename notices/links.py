"""One-tap response links: a short random token, stored as its sha256, valid until the deadline."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select

from notices.models import ResponseLink
from core.errors import DomainError, NotFound
from core.i18n import _l
from extensions import db

# 16 random bytes = 128 bits (RELIABILITY SR-4) in 22 URL-safe characters: "/r/" + token is 25
# characters, under the 40 the issue allows; fit_sms shortens the title so the SMS stays within 70.
TOKEN_BYTES = 16
PATH_PREFIX = "/r/"


class LinkExpired(DomainError):
    """The link existed but its answer deadline has passed."""

    status_code = 410
    code = "link_expired"


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _issue_link(callup_id: int, *, expires_at: datetime, now: datetime) -> str:
    """Add a link row to the caller's transaction and return the plain token (never stored)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    db.session.add(ResponseLink(token_hash=hash_token(token), callup_id=callup_id,
                                expires_at=expires_at, created_at=now))
    return token


def link_url(public_url: str, token: str) -> str:
    """The full address printed in a message."""
    return f"{public_url.rstrip('/')}{PATH_PREFIX}{token}"


def resolve_link(token: str, *, now: datetime) -> int:
    """The call-up id a token answers; NotFound for unknown tokens, LinkExpired after the deadline."""
    if not token or len(token) > 64:
        raise NotFound(_l("This link is not valid."))
    link = db.session.execute(select(ResponseLink.callup_id, ResponseLink.expires_at)
                              .where(ResponseLink.token_hash == hash_token(token))).first()
    if link is None:
        raise NotFound(_l("This link is not valid."))
    if link.expires_at <= now:
        raise LinkExpired(_l("This link has expired: the time to answer is over."))
    return link.callup_id
