"""Server-rendered pages (the health, readiness and metrics endpoints are in web/ops.py)."""
from __future__ import annotations

from flask import Blueprint, Flask, render_template

bp = Blueprint("web", __name__)


@bp.get("/")
def index():
    """What the service is, the district's numbers and where the API lives."""
    from web.overview import district_overview

    return render_template("index.html", overview=district_overview())


def register_web(app: Flask) -> None:
    from web.sessions import register_sessions

    register_sessions(app)
    app.register_blueprint(bp)
    from web.auth import bp as auth_bp; app.register_blueprint(auth_bp)  # noqa: E702
    from web.responses import bp as responses_bp; app.register_blueprint(responses_bp)  # noqa: E702
    from web.office import bp as office_bp; app.register_blueprint(office_bp)  # noqa: E702
    from web.alerts import bp as alerts_bp; app.register_blueprint(alerts_bp)  # noqa: E702
    from web.profile import bp as profile_bp; app.register_blueprint(profile_bp)  # noqa: E702
    from web.enterprise import register_enterprise_pages; register_enterprise_pages(app)  # noqa: E702
