"""/api/v1/skills: the skills catalogue."""
from flask.views import MethodView

from api import Blueprint
from api.pagination import SelectPage
from api.schemas.grids import SkillCreateSchema, SkillSchema, SkillUpdateSchema
from volunteers import services

blp = Blueprint("skills", __name__, url_prefix="/api/v1/skills", description="The skills catalogue.")


@blp.route("")
class Skills(MethodView):
    @blp.response(200, SkillSchema(many=True))
    @blp.paginate(SelectPage)
    def get(self):
        """List the skills catalogue."""
        return services.list_skills()

    @blp.arguments(SkillCreateSchema)
    @blp.response(201, SkillSchema)
    @blp.alt_response(409, description="Duplicate code")
    def post(self, data):
        """Add a skill to the catalogue."""
        return services.create_skill(data)


@blp.route("/<int:skill_id>")
class SkillById(MethodView):
    @blp.response(200, SkillSchema)
    @blp.alt_response(404, description="Not found")
    def get(self, skill_id):
        """Show one skill."""
        return services.get_skill(skill_id)

    @blp.arguments(SkillUpdateSchema)
    @blp.response(200, SkillSchema)
    @blp.alt_response(404, description="Not found")
    def patch(self, data, skill_id):
        """Rename a skill."""
        return services.update_skill(skill_id, data)
