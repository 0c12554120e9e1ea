"""/api/v1/grids: the grid tree."""
from flask.views import MethodView

from api import Blueprint
from api.auth import current_scope
from api.pagination import SelectPage
from api.schemas.grids import GridCreateSchema, GridQuerySchema, GridSchema, GridUpdateSchema
from grids import services

blp = Blueprint("grids", __name__, url_prefix="/api/v1/grids", description="The district's grid tree.")


@blp.route("")
class Grids(MethodView):
    @blp.arguments(GridQuerySchema, location="query")
    @blp.response(200, GridSchema(many=True))
    @blp.alt_response(404, description="Unknown grid in under")
    @blp.paginate(SelectPage)
    def get(self, query):
        """List grids by parent, level, subtree or name."""
        return services.list_grids(scope=current_scope(), **query)

    @blp.arguments(GridCreateSchema)
    @blp.response(201, GridSchema)
    @blp.alt_response(409, description="Duplicate code")
    @blp.alt_response(422, description="Invalid input")
    def post(self, data):
        """Add a grid under its parent."""
        return services.create_grid(data, scope=current_scope())


@blp.route("/<int:grid_id>")
class GridById(MethodView):
    @blp.response(200, GridSchema)
    @blp.alt_response(404, description="Not found")
    def get(self, grid_id):
        """Show one grid."""
        return services.get_grid(grid_id)

    @blp.arguments(GridUpdateSchema)
    @blp.response(200, GridSchema)
    @blp.alt_response(404, description="Not found")
    def patch(self, data, grid_id):
        """Rename a grid or set its centroid."""
        return services.update_grid(grid_id, data)

    @blp.response(204)
    @blp.alt_response(404, description="Not found")
    @blp.alt_response(409, description="Still in use")
    def delete(self, grid_id):
        """Delete an unused grid."""
        services.delete_grid(grid_id)
