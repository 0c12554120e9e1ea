"""Bearer-token authentication and the authorisation check for /api/v1; every request is the token's scope."""
from __future__ import annotations

from flask import Flask, Response, g, request

from accounts.access import authorize
from accounts.audit import record_event
from accounts.services import authenticate, scope_for
from api.errors import _json_error
from core.clock import utcnow
from core.errors import DomainError, NotFound
from core.i18n import _l
from core.scope import Scope

API_PREFIX = "/api/v1/"
PUBLIC_PATHS = {"/api/v1/openapi.json", "/api/v1/auth/token"}
PUBLIC_PREFIXES = ("/api/v1/docs",)
# Endpoints whose answers carry one person's full personal data, or many people's: each call is audited.
# Pages (their POSTs are audited like every POST) count too: one person's record, the roster file.
PERSONAL_DATA_READS = {"volunteers.VolunteerById", "volunteers.VolunteerExport", "accounts.MyData",
                       "roster.volunteer", "roster.export"}
# Lists whose items carry people's names or (masked) mobiles: one audit row per request, with the count returned.
PERSONAL_DATA_LISTS = {"volunteers.Volunteers", "teams.Enterprises", "teams.EnterpriseTeams",
                       "gridwork.VisitTargets", "gridwork.MyVisits", "grid.targets"}
# Query parameters that may carry a name or a number; they are left out of the audit detail.
UNAUDITED_PARAMS = {"q", "sender"}


def _is_public(path: str) -> bool:
    # A prefix covers itself and what lies below it ("/api/v1/docs/…"), never "/api/v1/docsets".
    return path in PUBLIC_PATHS or any(path == prefix or path.startswith(prefix + "/") for prefix in PUBLIC_PREFIXES)


def _client_ip() -> str | None:
    return request.remote_addr


def register_auth(app: Flask) -> None:
    """Refuse API requests without a live token, then check the role and every id in the URL."""

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
        now = utcnow()
        token = authenticate(plain.strip(), now=now)
        if token is None:
            record_event(actor="anonymous", role=None, action="auth.token_refused", now=now, outcome="401",
                         ip=_client_ip(), detail=f"{request.method} {path}")
            return _json_error(401, "The token is unknown, revoked or expired.",
                               headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        # Only the id: a token's name may be a person's ("张三的手机"), and audit rows carry no personal values.
        g.scope = scope_for(token, actor=f"token:{token.id}")
        if request.url_rule is None:
            return None  # routing already failed: the 404 or 405 handler answers
        try:
            authorize(g.scope, request.endpoint, request.method, request.view_args)
        except DomainError:
            g.audit_outcome = "refused"
            raise
        return None

    @app.after_request
    def audit_request(response: Response) -> Response:
        scope: Scope | None = g.get("scope")
        if scope is None or request.url_rule is None:
            return response
        endpoint = request.endpoint or ""
        refused = g.get("audit_outcome") == "refused"
        if request.method == "GET" and endpoint not in PERSONAL_DATA_READS | PERSONAL_DATA_LISTS and not refused:
            return response
        view_args = request.view_args or {}
        object_type, object_id = next(iter(view_args.items()), (None, None))
        params = "&".join(f"{key}={value}" for key, value in request.args.items(multi=True)
                          if key not in UNAUDITED_PARAMS)
        count = _listed_count(response) if endpoint in PERSONAL_DATA_LISTS else None
        detail = "; ".join(part for part in (None if count is None else f"count={count}", g.get("audit_detail"), params)
                           if part)
        record_event(actor=scope.actor, role=scope.role.value, action=f"{request.method} {endpoint}",
                     now=utcnow(), outcome="refused" if refused else str(response.status_code),
                     object_type=object_type and object_type.removesuffix("_id"), object_id=object_id,
                     ip=_client_ip(), detail=detail or None)
        return response


def _listed_count(response: Response) -> int | None:
    """How many items a list answer returned (None for an error answer)."""
    payload = response.get_json(silent=True) if response.status_code == 200 else None
    return len(payload) if isinstance(payload, list) else None


def note_audit(detail: str) -> None:
    """Add facts (counts, never personal values) to the audit row this request writes."""
    g.audit_detail = detail


def current_scope() -> Scope:
    """The scope of this request's caller (set by the auth hook before any view runs)."""
    return g.scope


def own_volunteer_id() -> int:
    """The person behind a volunteer token; other callers (the admin) have no own data here (404)."""
    volunteer_id = current_scope().volunteer_id
    if volunteer_id is None:
        raise NotFound(_l("This token does not belong to a volunteer."))
    return volunteer_id


def current_actor() -> str:
    """A short label of who is acting, for audit columns and call-up events."""
    scope: Scope | None = g.get("scope")
    return scope.actor if scope else "anonymous"
