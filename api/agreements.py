"""/api/v1/enterprises/{id}/agreements: a partner enterprise's pairing agreements (共建协议)."""
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask.views import MethodView

from api import Blueprint
from api.auth import current_scope
from api.schemas.agreements import AgreementCreateSchema, AgreementSchema
from core.clock import utcnow
from volunteers.agreements import agreements_of, record_agreement

blp = Blueprint("agreements", __name__, url_prefix="/api/v1",
                description="Partner enterprises' pairing agreements with street offices and communities.")


def _today(now: datetime):
    return now.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).date()


@blp.route("/enterprises/<int:enterprise_id>/agreements")
class EnterpriseAgreements(MethodView):
    @blp.response(200, AgreementSchema(many=True))
    @blp.alt_response(404, description="Not found")
    def get(self, enterprise_id):
        """List the enterprise's agreements, newest first, with whether each is in force today."""
        return agreements_of(enterprise_id, today=_today(utcnow()))



@blp.route("/pairing-agreements")
class PairingAgreements(MethodView):
    @blp.arguments(AgreementCreateSchema)
    @blp.response(201, AgreementSchema)
    @blp.alt_response(404, description="No such enterprise")
    @blp.alt_response(409, description="Not approved yet, or the same agreement recorded already")
    @blp.alt_response(422, description="A grid outside the caller's area or not a street office or community; "
                                       "an end before the signing")
    def post(self, data):
        """Record an agreement the caller's street office or community signed with an enterprise.

        The enterprise is named in the body: any office may sign with any partner; the grid must be its own."""
        now = utcnow()
        agreement = record_agreement(data["enterprise_id"], data, scope=current_scope(), now=now)
        return next(s for s in agreements_of(agreement.enterprise_id, today=_today(now))
                    if s.agreement.id == agreement.id)
