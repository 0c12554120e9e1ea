"""/api/v1 双报到: workplace party organisations, a party member's choice, and an organisation's quarterly report."""
from flask import current_app
from flask.views import MethodView

from api import Blueprint
from api.auth import current_scope
from api.pagination import SelectPage
from api.schemas.party_orgs import (PartyOrgChoiceSchema, PartyOrgSchema, PartyReportQuerySchema, PartyReportSchema,
                                    VolunteerPartyOrgSchema)
from campaigns.party_report import parse_quarter, party_org_report
from core.clock import utcnow
from volunteers.party_orgs import list_party_orgs, set_party_org

blp = Blueprint("party_orgs", __name__, url_prefix="/api/v1", description="Dual reporting: party members' community service.")


@blp.route("/party-organisations")
class PartyOrgs(MethodView):
    @blp.response(200, PartyOrgSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self):
        """List the workplace party organisations, by name."""
        return list_party_orgs()


@blp.route("/party-organisations/report")
class PartyOrgReport(MethodView):
    @blp.arguments(PartyReportQuerySchema, location="query")
    @blp.response(200, PartyReportSchema)
    @blp.alt_response(404, description="No such organisation")
    @blp.alt_response(422, description="Bad quarter")
    def get(self, query):
        """An organisation's members in your area and their service in a quarter (called, accepted, attended, hours)."""
        zone = current_app.config["TIMEZONE"]
        quarter = parse_quarter(query["quarter"], now=utcnow(), timezone_name=zone)
        return party_org_report(query["org_id"], quarter=quarter, scope=current_scope(), timezone_name=zone)


@blp.route("/volunteers/<int:volunteer_id>/party-organisation")
class VolunteerPartyOrg(MethodView):
    @blp.arguments(PartyOrgChoiceSchema)
    @blp.response(200, VolunteerPartyOrgSchema)
    @blp.alt_response(404, description="Not found")
    @blp.alt_response(422, description="Not a party member, or a bad name")
    def put(self, data, volunteer_id):
        """Record (or clear) a party member's workplace party organisation."""
        return set_party_org(volunteer_id, data["name"], now=utcnow())
