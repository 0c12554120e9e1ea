"""Issuing and checking API tokens."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from accounts.models import ApiToken, Role, User
from core.errors import NotFound, ValidationFailed
from core.i18n import _l
from core.scope import Scope
from extensions import db
from grids.models import Grid
from volunteers.models import Enterprise, PartyOrganisation, Volunteer

# Writing last_used_at on every request would make each GET a write; once a minute is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_token(plain: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(plain.encode()).hexdigest()


def create_token(*, name: str, role: Role, now: datetime, grid_id: int | None = None,
                 volunteer_id: int | None = None, enterprise_id: int | None = None, party_org_id: int | None = None,
                 expires_at: datetime | None = None, user_id: int | None = None) -> tuple[ApiToken, str]:
    """Issue a token; the plain value is returned once and never stored. ``user_id``: a sign-in token's account."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed.field("name", _l("Give a name of 1 to 100 characters."))
    check_binding(role, grid_id=grid_id, volunteer_id=volunteer_id, enterprise_id=enterprise_id,
                  party_org_id=party_org_id, holder="token")
    plain = "gm_" + secrets.token_urlsafe(32)
    token = ApiToken(name=name, role=role, token_hash=hash_token(plain), grid_id=grid_id,
                     volunteer_id=volunteer_id, enterprise_id=enterprise_id, party_org_id=party_org_id,
                     user_id=user_id, created_at=now, expires_at=expires_at)
    db.session.add(token)
    db.session.commit()
    return token, plain


def authenticate(plain: str, *, now: datetime) -> ApiToken | None:
    """The live token for ``plain``, or None when unknown, revoked, expired or its account is closed."""
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(plain)))
    if token is None or token.revoked_at is not None:
        return None
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if token.user_id is not None and not db.session.scalar(select(User.active).where(User.id == token.user_id)):
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        token.last_used_at = now
        db.session.commit()
    return token


def _grid_place(grid_id: int | None) -> tuple[str | None, int | None]:
    if grid_id is None:
        return None, None
    row = db.session.execute(select(Grid.path, Grid.level).where(Grid.id == grid_id)).first()
    return (row.path, row.level) if row else (None, None)


def scope_for(holder: ApiToken | User, *, actor: str) -> Scope:
    """The scope of a token or a signed-in account: its role and its grid, person or enterprise."""
    path, level = _grid_place(holder.grid_id)
    user_id = holder.id if isinstance(holder, User) else holder.user_id
    return Scope(role=holder.role, actor=actor, grid_id=holder.grid_id, grid_path=path, grid_level=level,
                 volunteer_id=holder.volunteer_id, enterprise_id=holder.enterprise_id,
                 party_org_id=holder.party_org_id, user_id=user_id)


def list_tokens() -> list[ApiToken]:
    """Every token, newest first (revoked and expired ones too, so an operator sees their history)."""
    return list(db.session.scalars(select(ApiToken).order_by(ApiToken.id.desc())))


def revoke_token(token_id: int, *, now: datetime) -> ApiToken:
    """Stop a token from working; revoking twice keeps the first time."""
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise NotFound.of("token", token_id)
    if token.revoked_at is None:
        token.revoked_at = now
        db.session.commit()
    return token


# Which binding each role needs; any other binding on a token is refused, so a token never looks wider than it is.
TOKEN_BINDINGS = {Role.ADMIN: None, Role.OFFICE: "grid_id", Role.VOLUNTEER: "volunteer_id",
                  Role.ENTERPRISE: "enterprise_id", Role.GATEWAY: None, Role.PARTY_ORG: "party_org_id"}
BINDING_MODELS = {"grid_id": Grid, "volunteer_id": Volunteer, "enterprise_id": Enterprise,
                  "party_org_id": PartyOrganisation}


def check_binding(role: Role, *, grid_id: int | None, volunteer_id: int | None, enterprise_id: int | None,
                  holder: str, party_org_id: int | None = None) -> None:
    """A token or account is bound to exactly what its role needs (a grid, a person, an enterprise, a party
    organisation), which exists."""
    given = {"grid_id": grid_id, "volunteer_id": volunteer_id, "enterprise_id": enterprise_id,
             "party_org_id": party_org_id}
    needed = TOKEN_BINDINGS[role]
    if needed is not None and given[needed] is None:
        raise ValidationFailed.field(needed, _l("A %(role)s %(holder)s needs the %(needed)s it is bound to.",
                                                role=role.value, holder=holder, needed=needed.removesuffix('_id')))
    for field, value in given.items():
        if value is None:
            continue
        if field != needed:
            raise ValidationFailed.field(field, _l("A %(role)s %(holder)s is not bound to a %(field)s.",
                                                   role=role.value, holder=holder, field=field.removesuffix('_id')))
        if db.session.get(BINDING_MODELS[field], value) is None:
            raise ValidationFailed.field(field, _l("Unknown %(field)s %(value)s.",
                                                   field=field.removesuffix('_id'), value=value))


def issue_token(*, name: str, role: Role, now: datetime, default_days: int, grid_id: int | None = None,
                volunteer_id: int | None = None, enterprise_id: int | None = None, party_org_id: int | None = None,
                expires_at: datetime | None = None,
                expires_in_days: int | None = None) -> tuple[ApiToken, str]:
    """Issue an integration token (admin API, CLI): the bound grid, person or enterprise must exist.

    It expires at ``expires_at``, or after ``expires_in_days``, or else after ``default_days``: no
    integration token lives for ever by default. The expiry must lie ahead.
    """
    if expires_at is None:
        expires_at = now + timedelta(days=expires_in_days or default_days)
    if expires_at <= now:
        raise ValidationFailed.field("expires_at", _l("Must lie in the future."))
    return create_token(name=name, role=role, now=now, grid_id=grid_id, volunteer_id=volunteer_id,
                        enterprise_id=enterprise_id, party_org_id=party_org_id, expires_at=expires_at)
