"""Server-rendered pages (the health, readiness and metrics endpoints are in web/ops.py)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Flask, render_template
from flask_login import current_user

bp = Blueprint("web", __name__)


@bp.get("/")
def index():
    """What the service is, the district's numbers and where the API lives."""
    from web.overview import district_overview

    return render_template("index.html", overview=district_overview())


# The bar on every page: each role's own pages, in the order they use them (endpoint, label).
STAFF_NAV = (("office.campaigns", "活动 · Campaigns"), ("roster.volunteers", "志愿者 · Volunteers"),
             ("grid.whistle_list", "吹哨 · Whistles"), ("grid.rounds", "走访 · Visits"),
             ("cockpit.cockpit", "驾驶舱 · Cockpit"), ("roster.grids", "网格 · Grids"),
             ("party.orgs", "双报到 · Party service"), ("partners.review_list", "共建单位 · Partners"))
SITE_NAV = {
    "admin": STAFF_NAV,
    "office": STAFF_NAV,
    "volunteer": (("auth.me", "我的召集 · My call-ups"), ("profile.summary", "我的资料 · My profile"),
                  ("grid.my_visits", "我的走访 · My visits")),
    "enterprise": (("enterprise.portal", "企业 · Enterprise"),),
}


@dataclass(frozen=True)
class SiteNav:
    name: str
    links: tuple[tuple[str, str], ...]


def site_nav() -> SiteNav | None:
    """The signed-in person's bar, or None for visitors (their pages carry their own links)."""
    if not current_user.is_authenticated:
        return None
    user = current_user.user
    return SiteNav(name=user.display_name, links=SITE_NAV.get(user.role.value, ()))


def register_web(app: Flask) -> None:
    from web.sessions import register_sessions

    register_sessions(app)
    app.jinja_env.globals["site_nav"] = site_nav
    app.register_blueprint(bp)
    from web.auth import bp as auth_bp; app.register_blueprint(auth_bp)  # noqa: E702
    from web.responses import bp as responses_bp; app.register_blueprint(responses_bp)  # noqa: E702
    from web.office import bp as office_bp; app.register_blueprint(office_bp)  # noqa: E702
    from web.roster import bp as roster_bp; app.register_blueprint(roster_bp)  # noqa: E702
    from web.alerts import bp as alerts_bp; app.register_blueprint(alerts_bp)  # noqa: E702
    from web.grid import bp as grid_bp; app.register_blueprint(grid_bp)  # noqa: E702
    from web.whistle_links import bp as whistle_links_bp; app.register_blueprint(whistle_links_bp)  # noqa: E702
    from web.profile import bp as profile_bp; app.register_blueprint(profile_bp)  # noqa: E702
    from web.cockpit import bp as cockpit_bp; app.register_blueprint(cockpit_bp)  # noqa: E702
    from web.hours import bp as hours_bp; app.register_blueprint(hours_bp)  # noqa: E702
    from web.party import bp as party_bp; app.register_blueprint(party_bp)  # noqa: E702
    from web.enterprise import register_enterprise_pages; register_enterprise_pages(app)  # noqa: E702
