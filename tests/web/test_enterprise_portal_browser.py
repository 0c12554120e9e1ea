"""An enterprise's party-building officer signs up, the street office approves, and the officer forms a team, adds
an employee and answers the team's call-up, all in headless Chromium: in Chinese and in English, the officer on a
phone and the office on a desktop, and the other way round. Screenshots land in tests/web/screenshots/."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from accounts.models import Role
from accounts.users import create_user
from campaigns.models import CallUp, CallUpStatus
from core.clock import utcnow
from extensions import db
from tests.conftest import LOGIN_PASSWORD
from tests.factories import VolunteerFactory
from tests.web.conftest import CHROMIUM_ARGS  # noqa: F401  (the fixtures launch Chromium with these)
from tests.web.test_enterprise_portal import ALWAYS, PASSWORD, _team_callup
from volunteers.models import Enterprise, EnterpriseStatus, Team, Volunteer

pytestmark = pytest.mark.browser
SCREENSHOTS = Path(__file__).parent / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
# What each step says, by the language the browser asks for (its locale sends Accept-Language).
LANGUAGES = {
    "zh": {"locale": "zh-CN", "html": "zh-CN", "mobile": "11位手机号", "waiting": "等待", "approved": "已通过",
           "formed": "已组建队伍", "added": "已添加成员 周强", "sent": "已派出 2 人"},
    "en": {"locale": "en-US", "html": "en", "mobile": "11-digit mobile number", "waiting": "Awaiting review",
           "approved": "Approved", "formed": "formed: add its members", "added": "Added 周强.",
           "sent": "2 people sent"},
}


def _shot(page, name: str, lang: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    size = page.viewport_size
    page.screenshot(path=str(SCREENSHOTS / f"enterprise-{name}-{lang}-{size['width']}.png"), full_page=True)


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"the page is {width} px wide"


def _in_reach(page, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"], box
    assert box["height"] >= 44 or box["width"] >= 44, box  # a finger can hit it


def _sign_in(page, base: str, login: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#login", login)
    page.fill("#password", password)
    page.click("#login-submit")


@pytest.mark.parametrize("officer_on_phone", [True, False], ids=["officer-phone", "officer-desktop"])
@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_enterprise_signs_up_and_runs_its_team_after_approval(browser, live_server, tree, lang, officer_on_phone):
    words = LANGUAGES[lang]
    street = create_user(login="xixing-office", display_name="西兴街道办", password=LOGIN_PASSWORD,
                         role=Role.OFFICE, actor="test", now=utcnow(), grid_id=tree.street.id)
    street_id, street_login, grid_a1, grid_a2 = tree.street.id, street.login, tree.grid_a1.id, tree.grid_a2.id
    db.session.rollback()  # the server's threads write: this test holds no SQLite lock while they do
    phone = browser.new_context(locale=words["locale"], viewport=PHONE, is_mobile=True, has_touch=True)
    desktop = browser.new_context(locale=words["locale"], viewport=DESKTOP)
    officer_context, office_context = (phone, desktop) if officer_on_phone else (desktop, phone)
    try:
        page = officer_context.new_page()
        page.goto(f"{live_server}/partners/signup")
        page.fill("#name", "澜湾燃气有限公司")
        page.fill("#contact_name", "陈经理")
        page.fill("#contact_mobile", "138111")  # a typo first: the field says what is wrong
        page.select_option("#requested_grid_id", str(street_id))
        page.fill("#login", "lanwan-gas")
        page.fill("#password", PASSWORD)
        page.click("#signup-submit")
        assert page.locator("html").get_attribute("lang") == words["html"]
        assert words["mobile"] in page.locator("#contact_mobile-error").inner_text()
        _no_sideways_scroll(page)
        _shot(page, "signup-error", lang)
        page.fill("#contact_mobile", "13811112222")
        page.fill("#password", PASSWORD)
        page.click("#signup-submit")
        page.wait_for_selector("#review-state")
        assert words["waiting"] in page.locator("#review-state").inner_text()
        assert page.locator("#team-form").count() == 0
        _no_sideways_scroll(page)
        _shot(page, "pending", lang)

        db.session.rollback()
        enterprise_id = db.session.scalars(select(Enterprise.id)).one()
        db.session.rollback()
        office = office_context.new_page()
        _sign_in(office, live_server, street_login, LOGIN_PASSWORD)
        office.goto(f"{live_server}/partners/review")
        assert "澜湾燃气有限公司" in office.locator(f"#enterprise-{enterprise_id}").inner_text()
        _no_sideways_scroll(office)
        _shot(office, "review", lang)
        office.click(f"#approve-{enterprise_id}")
        assert words["approved"] in office.locator("#flashes").inner_text()
        db.session.rollback()
        assert db.session.get(Enterprise, enterprise_id).status == EnterpriseStatus.APPROVED.value
        db.session.rollback()

        page.reload()
        assert page.locator("#enterprise-status").inner_text() == words["approved"]
        page.fill("#team-name", "燃气安全服务队")
        page.click("#team-submit")
        assert words["formed"] in page.locator("#flashes").inner_text()
        db.session.rollback()
        team_id = db.session.scalars(select(Team.id)).one()
        db.session.rollback()
        page.fill(f"#name-{team_id}", "周强")
        page.fill(f"#mobile-{team_id}", "13900001111")
        page.select_option(f"#home-{team_id}", str(grid_a1))
        page.click(f"#add-member-submit-{team_id}")
        assert words["added"] in page.locator("#flashes").inner_text()
        db.session.rollback()
        employee = db.session.scalars(select(Volunteer).where(Volunteer.mobile == "13900001111")).one()
        employee.availability_mask = ALWAYS
        colleague = VolunteerFactory(home_grid_id=grid_a2, name="吴敏", availability_mask=ALWAYS)
        team = db.session.get(Team, team_id)
        team.members.append(colleague)
        db.session.commit()
        callup = _team_callup(tree, team, places=2)
        callup_id, employee_id, colleague_id = callup.id, employee.id, colleague.id
        db.session.rollback()

        page.reload()
        card = f"#callup-{callup_id}"
        assert "入户检查员" in page.locator(card).inner_text()
        _in_reach(page, f"#send-{callup_id}")
        _in_reach(page, f"#decline-{callup_id}")
        _in_reach(page, f"label[for=c{callup_id}-m{employee_id}]")  # the whole row is the target
        _no_sideways_scroll(page)
        _shot(page, "callup", lang)
        page.check(f"#c{callup_id}-m{employee_id}")
        page.check(f"#c{callup_id}-m{colleague_id}")
        page.click(f"#send-{callup_id}")
        assert words["sent"] in page.locator("#flashes").inner_text()
        assert page.locator(card).count() == 0
        _shot(page, "answered", lang)
        db.session.rollback()
        assert db.session.get(CallUp, callup_id).status is CallUpStatus.ACCEPTED
        sent = db.session.scalars(select(CallUp.volunteer_id).where(
            CallUp.team_id == team_id, CallUp.volunteer_id.is_not(None))).all()
        assert sorted(sent) == sorted([employee_id, colleague_id])
    finally:
        phone.close()
        desktop.close()
