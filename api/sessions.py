"""/api/v1/auth/token: exchange a login and password for a bearer token (the mobile app's sign-in)."""
from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import current_app, request
from flask.views import MethodView
from flask_limiter.util import get_remote_address
from flask_smorest import abort

from accounts.services import create_token
from accounts.users import SignInThrottled, authenticate_password
from api import Blueprint
from api.schemas.sessions import TokenRequestSchema, TokenSchema
from core.clock import utcnow
from extensions import limiter

blp = Blueprint("sessions", __name__, url_prefix="/api/v1/auth",
                description="Sign in with a password to get a bearer token (valid 12 hours).")

TOKEN_HOURS = 12
DEFAULT_LOGIN_LIMIT = "10 per minute"


def login_rate_key() -> str:
    """The login sent (hashed: no mobile number in the limiter store) plus the IP; shared with the sign-in page."""
    body = request.get_json(silent=True)
    login = body.get("login") if isinstance(body, dict) else ""
    digest = hashlib.sha256(str(login or "").strip().lower().encode()).hexdigest()[:16]
    return f"{digest}:{get_remote_address()}"


def login_limit() -> str:
    return current_app.config.get("LOGIN_RATE_LIMIT", DEFAULT_LOGIN_LIMIT)


@blp.route("/token")
class Token(MethodView):
    # The scope "login" is the sign-in page's too: one counter per login and IP across both (SR-8).
    decorators = [limiter.shared_limit(login_limit, scope="login", key_func=login_rate_key, methods=["POST"])]

    @blp.doc(security=[])
    @blp.arguments(TokenRequestSchema)
    @blp.response(201, TokenSchema)
    @blp.alt_response(401, description="Wrong login or password (the same answer for an unknown login)")
    @blp.alt_response(429, description="Too many attempts or failures from this address for this login: "
                                       "wait the Retry-After seconds")
    def post(self, data):
        """Sign in: a bearer token for the account's role, grid, person or enterprise."""
        config, now = current_app.config, utcnow()
        try:
            user = authenticate_password(data["login"], data["password"], now=now, ip=request.remote_addr, via="api",
                                         max_failures=config["LOGIN_MAX_FAILURES"],
                                         max_delay_seconds=config["LOGIN_MAX_DELAY_SECONDS"])
        except SignInThrottled as error:
            abort(429, message=error.message, headers={"Retry-After": str(error.retry_after)})
        expires_at = now + timedelta(hours=TOKEN_HOURS)
        _, plain = create_token(name=f"sign-in of user {user.id}", role=user.role, now=now, grid_id=user.grid_id,
                                volunteer_id=user.volunteer_id, enterprise_id=user.enterprise_id,
                                party_org_id=user.party_org_id, expires_at=expires_at, user_id=user.id)
        return {"token": plain, "expires_at": expires_at, "role": user.role, "volunteer_id": user.volunteer_id,
                "enterprise_id": user.enterprise_id, "party_org_id": user.party_org_id, "grid_id": user.grid_id}
