"""The leaders' cockpit in headless Chromium, in Chinese and in English: the district admin on a desktop drills
down district › street › community with charts drawn; a street office on a 390x844 phone changes the period with
the form and reads a chart's data table. The charts' labels are the page's, in its language. Screenshots land in
tests/web/screenshots/."""
from __future__ import annotations

from pathlib import Path

import pytest

from accounts.models import Role
from accounts.users import create_user
from core.clock import utcnow
from extensions import db
from tests import reports_world as world
from tests.conftest import LOGIN_PASSWORD
from tests.web.conftest import CHROMIUM_ARGS  # noqa: F401  (the fixtures launch Chromium with these)

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).parent / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
NOVEMBER = "from=2026-11-01&to=2026-11-30"
# The browser's language picks the page's; what the cockpit then says.
SAYS = {
    "zh": {"locale": "zh-CN", "html_lang": "zh-CN", "caption": "每月服务时长", "series": "服务时长（小时）"},
    "en": {"locale": "en-GB", "html_lang": "en", "caption": "Hours by month", "series": "Hours"},
}


def _shot(page, name: str, lang: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"cockpit-{name}-{lang}-{page.viewport_size['width']}.png"),
                    full_page=True)


def _speaks(page, lang: str) -> None:
    """The page, a chart's caption and the chart's series label (read from the table's heading) in ``lang``."""
    says = SAYS[lang]
    assert page.get_attribute("html", "lang") == says["html_lang"]
    assert page.inner_text("#chart-hours-by-month figcaption") == says["caption"]
    assert page.evaluate("""Chart.getChart(document.querySelector('#chart-hours-by-month canvas'))
        .data.datasets[0].label""") == says["series"]


def _sign_in(page, base: str, login: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#login", login)
    page.fill("#password", LOGIN_PASSWORD)
    page.click("#login-submit")


def _charts_drawn(page) -> int:
    """How many canvases hold a Chart.js chart with a visible size."""
    return page.evaluate("""Array.from(document.querySelectorAll('canvas[data-table]'))
        .filter(c => window.Chart && Chart.getChart(c) && c.width > 0 && c.height > 0).length""")


@pytest.mark.parametrize("lang", sorted(SAYS))
def test_cockpit_desktop_drill_down_and_phone_filter(browser, live_server, tree, lang):
    district = world.build(tree)
    admin = create_user(login="district-admin", display_name="区管理员", password=LOGIN_PASSWORD, role=Role.ADMIN,
                        actor="test", now=utcnow())
    street = create_user(login="xixing-office", display_name="西兴街道办", password=LOGIN_PASSWORD, role=Role.OFFICE,
                         actor="test", now=utcnow(), grid_id=tree.street.id)
    names = {"street": tree.street.name, "community": tree.community_a.name, "other": district.street2.name}
    logins, other_street = (admin.login, street.login), district.street2.id
    db.session.commit()
    db.session.rollback()  # the server's threads write: this test holds no SQLite lock while they do
    locale = SAYS[lang]["locale"]
    desktop = browser.new_context(locale=locale, viewport=DESKTOP)
    phone = browser.new_context(locale=locale, viewport=PHONE, is_mobile=True, has_touch=True)
    try:
        page = desktop.new_page()
        seen = []
        page.on("request", lambda request: seen.append(request.url))
        _sign_in(page, live_server, logins[0])
        page.goto(f"{live_server}/cockpit?{NOVEMBER}")
        assert page.inner_text("#kpi-campaigns .kpi") == "3"
        assert page.inner_text("#kpi-emergency .kpi") == "67%"
        assert page.inner_text("#kpi-hours .kpi") == "10.5"
        assert _charts_drawn(page) >= 8
        _speaks(page, lang)
        assert all(url.startswith(live_server) for url in seen), [u for u in seen if not u.startswith(live_server)]
        _shot(page, "district", lang)
        page.click(f"#drill-down a:text('{names['street']}')")
        page.wait_for_selector("#trail strong")
        assert page.inner_text("#trail strong") == names["street"]
        assert page.inner_text("#kpi-campaigns .kpi") == "2"
        page.click(f"#drill-down a:text('{names['community']}')")
        assert page.inner_text("#trail strong") == names["community"]
        assert page.inner_text("#kpi-hours .kpi") == "3.7"
        # Grids are the end of the drill-down; the street's table links its communities.
        assert page.locator("#drill-down").count() == 0 and page.locator("#table-campaigns-rows a.drill").count() == 0
        _shot(page, "community", lang)

        page = phone.new_page()
        _sign_in(page, live_server, logins[1])
        page.goto(f"{live_server}/cockpit")
        page.fill("#from", "2026-11-01")
        page.fill("#to", "2026-11-30")
        box = page.locator("#cockpit-submit").bounding_box()
        assert box["x"] + box["width"] <= PHONE["width"] and box["height"] >= 44
        page.click("#cockpit-submit")
        page.wait_for_url("**from=2026-11-01**")
        assert page.inner_text("#kpi-campaigns .kpi") == "2"
        assert names["other"] not in page.content()
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert _charts_drawn(page) >= 8
        _speaks(page, lang)
        page.click("#chart-hours-by-month summary")
        assert page.locator("#table-hours-by-month tbody tr").first.inner_text().split("\t") == ["2026-11", "6.5"]
        _shot(page, "street", lang)
        page.goto(f"{live_server}/cockpit?grid_id={other_street}")
        assert page.inner_text("#error-code") == "404"
    finally:
        desktop.close()
        phone.close()
