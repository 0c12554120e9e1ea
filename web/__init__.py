"""Server-rendered pages (the health, readiness and metrics endpoints are in web/ops.py)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Flask, render_template, request, url_for
from flask_login import current_user

from core.i18n import _l, language

bp = Blueprint("web", __name__)


@bp.get("/")
def index():
    """What the service is, the district's numbers and where the API lives."""
    from web.overview import district_overview

    return render_template("index.html", overview=district_overview())


# The bar on every page: each role's own pages, in the order they use them (endpoint, label).
STAFF_NAV = (("office.campaigns", _l("Campaigns")), ("roster.volunteers", _l("Volunteers")),
             ("grid.whistle_list", _l("Whistles")), ("grid.rounds", _l("Visits")),
             ("cockpit.cockpit", _l("Cockpit")), ("roster.grids", _l("Grids")),
             ("party.orgs", _l("Party service")), ("partners.review_list", _l("Partners")))
SITE_NAV = {
    "admin": STAFF_NAV,
    "office": STAFF_NAV,
    "volunteer": (("auth.me", _l("My call-ups")), ("openings.activities", _l("Activities near me")),
                  ("profile.summary", _l("My profile")), ("grid.my_visits", _l("My visits"))),
    "enterprise": (("enterprise.portal", _l("Enterprise")),),
    "party_org": (("party.ours", _l("Our members' community service")),),
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


def language_switch() -> tuple[str, str]:
    """The other language and this page's address in it (a GET of the same page; the choice then sticks)."""
    other = "en" if language() == "zh" else "zh"
    args = {**request.args.to_dict(), "lang": other}
    if request.method == "GET" and request.endpoint and request.url_rule is not None:
        return other, url_for(request.endpoint, **(request.view_args or {}), **args)
    return other, url_for("web.index", lang=other)


def register_web(app: Flask) -> None:
    from web.sessions import register_sessions

    register_sessions(app)
    app.jinja_env.globals.update(site_nav=site_nav, language_switch=language_switch)
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
    from web.openings import bp as openings_bp; app.register_blueprint(openings_bp)  # noqa: E702
    from web.enterprise import register_enterprise_pages; register_enterprise_pages(app)  # noqa: E702
