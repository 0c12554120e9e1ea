"""Bearer-token authentication for /api/v1; the token becomes the request's actor."""
from __future__ import annotations

from flask import Flask, g, request

from accounts.models import ApiToken, Role
from accounts.services import authenticate
from api.errors import _json_error
from core.clock import utcnow

API_PREFIX = "/api/v1/"
PUBLIC_PATHS = {"/api/v1/openapi.json"}
PUBLIC_PREFIXES = ("/api/v1/docs",)


def _is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def register_auth(app: Flask) -> None:
    """Refuse API requests without a live token; deny roles not yet granted any rights."""

    @app.before_request
    def require_token():
        path = request.path
        if not path.startswith(API_PREFIX) or _is_public(path) or request.method == "OPTIONS":
            return None
        header = request.headers.get("Authorization", "")
        scheme, _, plain = header.partition(" ")
        if scheme.lower() != "bearer" or not plain.strip():
            return _json_error(401, "Send Authorization: Bearer <token>.",
                               headers={"WWW-Authenticate": 'Bearer realm="gridmuster"'})
        token = authenticate(plain.strip(), now=utcnow())
        if token is None:
            return _json_error(401, "The token is unknown, revoked or expired.",
                               headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        if token.role is not Role.ADMIN:
            # Scoped roles arrive with grid-scoped authorisation; until then deny by default.
            return _json_error(403, f"The {token.role.value} role has no API access yet.")
        g.api_token = token
        return None


def current_actor() -> str:
    """A short label of who is acting, for audit columns and call-up events."""
    token: ApiToken | None = g.get("api_token")
    return f"token:{token.id}:{token.name}"[:100] if token else "anonymous"
