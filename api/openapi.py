"""What the OpenAPI document says beyond smorest's defaults: every error status an operation can answer."""
from __future__ import annotations

from apispec import BasePlugin
from flask_smorest import Api
from flask_smorest.pagination import PaginationMetadataSchema

# X-Pagination carries JSON. smorest documents it with a `schema`, which OpenAPI reads as a
# comma-separated `simple` value; `content` says that the header's value is a JSON document.
PAGINATION_HEADER = "PAGINATION_JSON"


class ErrorResponses(BasePlugin):
    """Adds the answers that no view declares because every view can give them (smorest's component names)."""

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        for operation in (operations or {}).values():
            shared = {503: "SERVICE_UNAVAILABLE"}  # the database is busy (Retry-After)
            if "requestBody" in operation:
                shared[400] = "BAD_REQUEST"  # a body that is not JSON at all
            if operation.get("security") != []:
                shared[401] = "UNAUTHORIZED"  # no token, or a revoked or expired one
                shared[403] = "FORBIDDEN"  # every operation refuses some role (accounts.access.PERMISSIONS)
            if "{" in (path or ""):
                shared[404] = "NOT_FOUND"  # an id that does not exist or lies outside the caller's scope
            responses = operation.setdefault("responses", {})
            documented = {str(code) for code in responses}  # a view's own description wins
            responses.update({code: name for code, name in shared.items() if str(code) not in documented})


def register_openapi(api: Api) -> None:
    """Document each status for what it is: no catch-all "default" answer, which would make any status look
    documented; the shared statuses added to every operation; the pagination header as JSON."""
    api.DEFAULT_ERROR_RESPONSE_NAME = None
    api.spec.components.header(PAGINATION_HEADER, {
        "description": "Pagination metadata (JSON)",
        "content": {"application/json": {"schema": PaginationMetadataSchema}}})
    plugin = ErrorResponses()
    plugin.init_spec(api.spec)
    api.spec.plugins.append(plugin)
