"""/api/v1/enterprises and /api/v1/teams: partner enterprises and co-building teams."""
from flask.views import MethodView

from api import Blueprint
from api.auth import current_scope
from api.pagination import SelectPage
from api.schemas.common import for_update
from api.schemas.teams import (EnterpriseCreateSchema, EnterpriseQuerySchema, EnterpriseSchema,
                               EnterpriseSummarySchema, EnterpriseUpdateSchema,
                               TeamCreateSchema, TeamSchema, TeamUpdateSchema)
from volunteers import teams

blp = Blueprint("teams", __name__, url_prefix="/api/v1",
                description="Partner enterprises and their co-building teams.")


@blp.route("/enterprises")
class Enterprises(MethodView):
    @blp.arguments(EnterpriseQuerySchema, location="query")
    @blp.response(200, EnterpriseSummarySchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, query):
        """List partner enterprises."""
        return teams.list_enterprises(scope=current_scope(), **query)

    @blp.arguments(EnterpriseCreateSchema)
    @blp.response(201, EnterpriseSchema)
    @blp.alt_response(409, description="Duplicate name")
    def post(self, data):
        """Register a partner enterprise."""
        return teams.register_enterprise(data)


@blp.route("/enterprises/<int:enterprise_id>")
class EnterpriseById(MethodView):
    @blp.response(200, EnterpriseSchema)
    @blp.alt_response(404, description="Not found")
    def get(self, enterprise_id):
        """Show one enterprise."""
        return teams.get_enterprise(enterprise_id)

    @blp.arguments(for_update(EnterpriseUpdateSchema))
    @blp.response(200, EnterpriseSchema)
    @blp.alt_response(404, description="Not found")
    def patch(self, data, enterprise_id):
        """Change an enterprise's details."""
        return teams.update_enterprise(enterprise_id, data)


@blp.route("/enterprises/<int:enterprise_id>/teams")
class EnterpriseTeams(MethodView):
    @blp.response(200, TeamSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self, enterprise_id):
        """List an enterprise's teams."""
        return teams.list_teams(enterprise_id=enterprise_id)

    @blp.arguments(TeamCreateSchema)
    @blp.response(201, TeamSchema)
    @blp.alt_response(404, description="Enterprise not found")
    @blp.alt_response(409, description="Duplicate team name")
    def post(self, data, enterprise_id):
        """Register a co-building team."""
        return teams.create_team(enterprise_id, data, scope=current_scope())


@blp.route("/teams/<int:team_id>")
class TeamById(MethodView):
    @blp.response(200, TeamSchema)
    @blp.alt_response(404, description="Not found")
    def get(self, team_id):
        """Show one team."""
        return teams.get_team(team_id)

    @blp.arguments(for_update(TeamUpdateSchema))
    @blp.response(200, TeamSchema)
    @blp.alt_response(404, description="Not found")
    def patch(self, data, team_id):
        """Change a team's members, pairings or leader."""
        return teams.update_team(team_id, data, scope=current_scope())

    @blp.response(204)
    @blp.alt_response(404, description="Not found")
    def delete(self, team_id):
        """Dissolve a team."""
        teams.delete_team(team_id)
