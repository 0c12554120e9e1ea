"""A community clerk finds a person on the roster, reveals the number to phone them, and edits a skill, in headless
Chromium at desktop and phone sizes, in Chinese and in English; screenshots under tests/web/screenshots/."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from accounts.models import AuditEvent, Role
from accounts.users import create_user
from api.schemas.volunteers import VolunteerCreateSchema
from core.clock import utcnow
from core.scope import Scope
from extensions import db
from tests.conftest import LOGIN_PASSWORD
from volunteers.models import Volunteer
from volunteers.services import register_volunteer

pytestmark = pytest.mark.browser

SHOTS = Path(__file__).parent / "screenshots"
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
# What the pages say at each step, by the language the browser asks for (its locale sends Accept-Language).
LANGUAGES = {
    "zh": {"locale": "zh-CN", "html": "zh-CN", "volunteers": "志愿者", "grids": "网格", "saved": "已保存 张伟 的资料。",
           "error": "超出允许范围"},
    "en": {"locale": "en-US", "html": "en", "volunteers": "Volunteers", "grids": "Grids",
           "saved": "Saved the record of 张伟.", "error": "less than or equal to 100."},
}


def _register(tree, name: str, mobile: str, grid, **extra) -> int:
    body = {"name": name, "mobile": mobile, "home_grid_id": grid.id,
            "availability": [{"weekday": 5, "start": "09:00", "end": "12:00"}]}
    body.update(extra)
    return register_volunteer(VolunteerCreateSchema().load(body), scope=Scope.system("test"), now=utcnow()).id


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
@pytest.mark.parametrize("size", sorted(SIZES))
def test_clerk_finds_a_person_reveals_the_number_and_edits_a_skill(browser, live_server, tree, size, lang):
    words = LANGUAGES[lang]
    create_user(login="wang", display_name="王主任", password=LOGIN_PASSWORD, role=Role.OFFICE, actor="test",
                now=utcnow(), grid_id=tree.community_a.id)
    target = _register(tree, "张伟", "13912345678", tree.grid_a1, skills=[{"code": "first_aid", "level": 2}],
                       identities=["party_member"], party_branch="江南社区第一党支部")
    for n in range(8):
        _register(tree, f"居民{n}", f"1380000000{n}", tree.grid_a2)
    _register(tree, "王强", "13711112222", tree.grid_b1)
    db.session.commit()
    # Ids read now: touching an expired object later would open a transaction (and hold SQLite's lock).
    community, first_grid, second_grid = tree.community_a.id, tree.grid_a1.id, tree.grid_a2.id
    db.session.rollback()  # the server's threads write: this test holds no SQLite lock while they do
    SHOTS.mkdir(exist_ok=True)
    context = browser.new_context(locale=words["locale"], viewport=SIZES[size])
    page = context.new_page()
    errors: list[str] = []
    # Script errors and CSP refusals (the 422 of the refused edit and a favicon's 404 are expected resource errors).
    page.on("console", lambda message: errors.append(message.text) if "Refused to" in message.text else None)
    page.on("pageerror", lambda error: errors.append(str(error)))

    page.goto(live_server + "/login?next=/office/volunteers")
    page.fill("#login", "wang")
    page.fill("#password", LOGIN_PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(live_server + "/office/volunteers")
    assert page.locator("html").get_attribute("lang") == words["html"]
    assert page.locator("#site-nav a[aria-current=page]").inner_text() == words["volunteers"]
    assert page.locator("h1").inner_text().startswith(words["volunteers"])
    assert page.locator("#roster tbody tr").count() == 9  # not the other community's 王强
    page.screenshot(path=str(SHOTS / f"roster-list-{lang}-{size}.png"), full_page=True)

    page.fill("#q", "5678")
    page.click("#filter-submit")
    page.wait_for_url("**/office/volunteers?q=5678*")
    assert page.locator("#roster tbody tr").count() == 1
    assert page.locator(f"#volunteer-{target} .mobile").inner_text() == "139****5678"
    page.locator(f"#volunteer-{target} a").click()
    page.wait_for_url(live_server + f"/office/volunteers/{target}")
    assert page.locator("#masked-mobile").inner_text() == "139****5678"
    assert page.locator("#call-link").count() == 0

    page.click("#reveal-mobile")
    page.wait_for_selector("#call-link")
    assert page.locator("#call-link").get_attribute("href") == "tel:13912345678"
    box = page.locator("#call-link").bounding_box()
    assert box["height"] >= 44 and box["x"] + box["width"] <= SIZES[size]["width"]
    page.screenshot(path=str(SHOTS / f"roster-detail-{lang}-{size}.png"), full_page=True)
    assert db.session.scalars(select(AuditEvent.object_id).where(
        AuditEvent.action == "POST roster.reveal_mobile", AuditEvent.outcome == "200")).all() == [str(target)]
    db.session.rollback()

    page.click("#edit-link")
    page.wait_for_url(live_server + f"/office/volunteers/{target}/edit")
    page.select_option("#skill-first_aid-level", "4")
    page.select_option("#skill-gas_check-level", "3")
    page.fill("#skill-gas_check-no", "RQ-2025-0012")
    page.fill("#skill-gas_check-expires", "2027-06-30")
    page.fill("#max_callups_per_month", "500")
    page.click("#save")
    page.wait_for_selector("#form-errors")
    assert "max_callups_per_month-error" in page.locator("#max_callups_per_month").get_attribute("aria-describedby")
    assert words["error"] in page.locator("#max_callups_per_month-error").inner_text()
    page.screenshot(path=str(SHOTS / f"roster-edit-error-{lang}-{size}.png"), full_page=True)
    db.session.expire_all()
    assert [row.level for row in db.session.get(Volunteer, target).skills] == [2]  # nothing half-written
    db.session.rollback()

    assert page.locator("#skill-gas_check-no").input_value() == "RQ-2025-0012"  # what was typed is kept
    page.fill("#max_callups_per_month", "6")
    page.click("#save")
    page.wait_for_url(live_server + f"/office/volunteers/{target}")
    assert words["saved"] in page.locator("#flashes").inner_text()
    assert page.locator("#skill-first_aid .level").inner_text() == "4"
    assert page.locator("#skill-gas_check").inner_text().count("RQ-2025-0012") == 1
    page.screenshot(path=str(SHOTS / f"roster-saved-{lang}-{size}.png"), full_page=True)

    page.click(f"#site-nav >> text={words['grids']}")
    page.wait_for_url(live_server + "/office/grids")
    assert page.locator(f"#grid-{community} > summary .volunteers").get_attribute("data-count") == "9"
    # <details>: the office's node and the level below start open; a click on a summary folds it (no script).
    assert page.locator(f"#grid-{second_grid}").get_attribute("open") is not None
    page.locator(f"#grid-{first_grid} > summary").click()
    assert page.locator(f"#grid-{first_grid}").get_attribute("open") is None
    page.click(f"#roster-of-{second_grid}")
    page.wait_for_url(f"**/office/volunteers?grid_id={second_grid}*")
    assert page.locator("#roster tbody tr").count() == 8
    page.goto(live_server + "/office/grids")
    page.screenshot(path=str(SHOTS / f"roster-grids-{lang}-{size}.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= SIZES[size]["width"], width
    assert errors == [], errors
    context.close()
