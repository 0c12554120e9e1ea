"""A volunteer registers with consent, signs in and out, in headless Chromium."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from accounts.models import Consent, User
from extensions import db
from tests.web.test_sign_in import sent_code

pytestmark = pytest.mark.browser

PASSWORD = "river-stone-42"
MOBILE = "13912345678"


def _fill_registration(page, grid_id: int):
    page.fill("#name", "陈静")
    page.select_option("#home_grid_id", str(grid_id))
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)


def test_volunteer_registers_with_consent_signs_in_and_out(page, live_server, tree):
    grid_id = tree.grid_a1.id
    db.session.commit()  # the server's threads write: this test holds no SQLite lock while they do
    page.goto(live_server + "/login")
    page.click("#register-link")
    page.fill("#mobile", MOBILE)
    page.click("#code-submit")  # step 1: a code goes to the number by SMS (here: the outbox)
    page.wait_for_selector("#code-sent")
    assert "139****5678" in page.locator("#code-sent").inner_text()
    assert page.locator("#mobile").input_value() == MOBILE
    assert "组织志愿服务" in page.locator("#consent-text").inner_text()
    page.fill("#code", sent_code(MOBILE))
    db.session.rollback()

    _fill_registration(page, grid_id)
    page.click("#register-submit")
    page.wait_for_selector("#consent-error")
    assert db.session.scalar(select(User)) is None
    db.session.rollback()

    _fill_registration(page, grid_id)  # the form keeps no passwords; fill again and consent this time
    page.check("#consent")
    page.click("#register-submit")
    page.wait_for_url(live_server + "/me/profile/skills?setup=1")  # the profile steps come next
    page.goto(live_server + "/me")
    assert page.locator("#signed-in-as").inner_text() == "陈静"
    assert "暂时没有召集" in page.locator("#no-callups").inner_text()
    assert db.session.scalar(select(Consent)).purpose == "service"
    db.session.rollback()

    page.click("#logout")
    page.wait_for_url(live_server + "/login")
    page.goto(live_server + "/me")
    assert page.url.startswith(live_server + "/login")

    page.fill("#login", MOBILE)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(live_server + "/me")
    assert page.locator("#no-callups").is_visible()
    page.click("#logout")
    page.wait_for_url(live_server + "/login")
    assert "已退出登录" in page.locator("#flashes").inner_text()
    assert all(url.startswith(live_server) for url in page.requests_seen), page.requests_seen
