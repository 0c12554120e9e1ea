"""REST API under /api/v1: smorest blueprints, schemas, auth and errors."""
from __future__ import annotations

from flask import Flask
from flask_smorest import Blueprint as SmorestBlueprint

from api.openapi import PAGINATION_HEADER, register_openapi
from extensions import api, csrf


class Blueprint(SmorestBlueprint):
    """Our pagination defaults: 50 a page, at most 500; the X-Pagination header documented as JSON."""

    DEFAULT_PAGINATION_PARAMETERS = {"page": 1, "page_size": 50, "max_page_size": 500}

    def _document_pagination_metadata(self, spec, resp_doc):
        # smorest's documented hook for the header's description (api.openapi registers the component).
        resp_doc.setdefault("headers", {})[self.PAGINATION_HEADER_NAME] = PAGINATION_HEADER


def register_api(app: Flask) -> None:
    """Register every API blueprint, the bearer scheme and the auth hook."""
    from api import accounts, callups, campaigns, grids, sessions, shifts, skills, teams, volunteers
    from api.auth import register_auth

    register_openapi(api)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "flask tokens create"})
    for module in (grids, skills, volunteers, teams, campaigns, callups, sessions, shifts, accounts):
        api.register_blueprint(module.blp)
        csrf.exempt(module.blp)  # bearer tokens, no cookies: nothing for a forged form to ride on
    register_auth(app)
