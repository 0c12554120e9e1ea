"""/api/v1/me, /api/v1/audit-events and /api/v1/tokens: the caller's own data, the audit log and API tokens."""
from flask import current_app
from flask.views import MethodView

from accounts import privacy, services, staff
from accounts.audit import list_audit_events
from accounts.users import list_own_callups
from api import Blueprint
from api.auth import current_actor, current_scope, own_volunteer_id
from api.pagination import SelectPage
from api.schemas.accounts import (AuditEventQuerySchema, AuditEventSchema, ErasureResultSchema, ErasureSchema,
                                  MeSchema, MeUpdateSchema, MyCallUpSchema, MyDataSchema, ApiTokenCreatedSchema,
                                  ApiTokenCreateSchema, ApiTokenSchema)
from core.clock import utcnow

blp = Blueprint("accounts", __name__, url_prefix="/api/v1",
                description="The caller's own data (access, export, erasure), the audit log and API tokens.")
# Answers that carry a person's data or a token value stay out of browser and proxy caches.
NO_STORE = {"Cache-Control": "no-store"}



@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeSchema)
    def get(self):
        """Show who the token belongs to: role, grid, person or enterprise, and the signed-in account."""
        return privacy.caller_profile(current_scope())

    @blp.arguments(MeUpdateSchema)
    @blp.response(200, MeSchema)
    @blp.alt_response(404, description="The token does not belong to a signed-in account")
    @blp.alt_response(422, description="Invalid input, or a channel chosen without its address")
    def patch(self, data):
        """Change the caller's own e-mail, mobile, WeCom id and coordinator-notice channels (staff)."""
        staff.update_own_contact(current_scope(), data)
        return privacy.caller_profile(current_scope())


@blp.route("/me/callups")
class MyCallUps(MethodView):
    @blp.response(200, MyCallUpSchema(many=True))
    @blp.alt_response(404, description="The token is not a volunteer's")
    @blp.paginate(SelectPage)
    def get(self):
        """List the caller's call-ups, newest first."""
        return list_own_callups(own_volunteer_id())


@blp.route("/me/data")
class MyData(MethodView):
    @blp.response(200, MyDataSchema, headers={"Content-Disposition": {"schema": {"type": "string"}}})
    @blp.alt_response(404, description="The token is not a volunteer's")
    def get(self):
        """Download everything held about the caller (audited)."""
        data = privacy.personal_data(own_volunteer_id())
        return data, 200, {**NO_STORE, "Content-Disposition": 'attachment; filename="my-data.json"'}


@blp.route("/me/erasure")
class MyErasure(MethodView):
    @blp.arguments(ErasureSchema)
    @blp.response(200, ErasureResultSchema)
    @blp.alt_response(404, description="The token is not a volunteer's")
    def post(self, data):
        """Erase the caller: anonymise the person and end their tokens; service hours stay in the statistics."""
        return privacy.erase_volunteer(own_volunteer_id(), now=utcnow(), actor=current_actor())


@blp.route("/audit-events")
class AuditEvents(MethodView):
    @blp.arguments(AuditEventQuerySchema, location="query")
    @blp.response(200, AuditEventSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, query):
        """List audit events (views and exports of personal data, changes, refusals), newest first."""
        return list_audit_events(**query)


@blp.route("/tokens")
class Tokens(MethodView):
    @blp.response(200, ApiTokenSchema(many=True))
    def get(self):
        """List every API token (never its value)."""
        return services.list_tokens()

    @blp.arguments(ApiTokenCreateSchema)
    @blp.response(201, ApiTokenCreatedSchema)
    @blp.alt_response(422, description="Invalid input, or a binding that does not fit the role or does not exist")
    def post(self, data):
        """Issue a token scoped to a role and its grid, person or enterprise (90 days unless told); its value is shown once."""
        token, plain = services.issue_token(now=utcnow(), default_days=current_app.config["INTEGRATION_TOKEN_DAYS"],
                                            **data)
        token.token = plain  # dumped once with the answer; ApiToken has no such column
        return token, 201, NO_STORE


@blp.route("/tokens/<int:token_id>")
class TokenById(MethodView):
    @blp.response(200, ApiTokenSchema)
    @blp.alt_response(404, description="Not found")
    def delete(self, token_id):
        """Revoke a token (again: no change)."""
        return services.revoke_token(token_id, now=utcnow())
