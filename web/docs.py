"""/api/v1/docs: the Swagger UI page, with its start-up script in a file so the CSP needs no inline script."""
from __future__ import annotations

from flask import Blueprint, render_template, url_for

bp = Blueprint("docs", __name__)


@bp.get("/api/v1/docs")
def swagger_ui():
    """The interactive API documentation, built from /api/v1/openapi.json."""
    return render_template("api_docs.html", spec_url=url_for("api-docs.openapi_json"))
