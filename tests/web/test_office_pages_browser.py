"""Office staff sign in, open the console, and cancel a campaign from its board, in headless Chromium under the CSP."""
from __future__ import annotations

from datetime import timedelta

import pytest

from accounts.models import Role
from accounts.users import create_user
from campaigns.models import Campaign, CampaignStatus
from core.clock import utcnow
from extensions import db
from tests.conftest import LOGIN_PASSWORD
from tests.factories import CampaignFactory, PositionFactory, ShiftFactory

pytestmark = pytest.mark.browser


def _console(page) -> list[str]:
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    page.on("pageerror", lambda error: messages.append(str(error)))
    return messages


def _csp_violations(messages: list[str]) -> list[str]:
    return [text for text in messages if "Content Security Policy" in text or "Refused to" in text]


def test_office_staff_cancel_a_published_campaign_from_its_board(page, live_server, tree):
    create_user(login="wang", display_name="王主任", password=LOGIN_PASSWORD, role=Role.OFFICE, actor="test",
                now=utcnow(), grid_id=tree.community_a.id)
    campaign = CampaignFactory(office_grid_id=tree.community_a.id, title="江南垃圾分类周末",
                               status=CampaignStatus.PUBLISHED, published_at=utcnow())
    PositionFactory(shift=ShiftFactory(campaign=campaign, start_at=utcnow() + timedelta(days=2)), headcount=3)
    CampaignFactory(office_grid_id=tree.community_b.id, title="湘湖巡逻")
    campaign_id = campaign.id
    db.session.commit()  # the server's threads write: this test holds no SQLite lock while they do
    messages = _console(page)

    page.goto(live_server + "/login?next=/office/campaigns")
    page.fill("#login", "wang")
    page.fill("#password", LOGIN_PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(live_server + "/office/campaigns")
    row = page.locator(f"#campaign-{campaign_id}")
    assert "已发布" in row.locator(".status").inner_text()
    assert "湘湖巡逻" not in page.locator("body").inner_text()

    row.locator("a").click()
    page.wait_for_url(live_server + f"/office/campaigns/{campaign_id}")
    assert page.locator("#campaign-status").get_attribute("data-status") == "published"
    # The stylesheet is in force: the cancel button is drawn red.
    colour = page.eval_on_selector("#cancel", "node => getComputedStyle(node).backgroundColor")
    assert colour == "rgb(179, 38, 30)"

    page.fill("#reason", "暴雨预警，活动延期")
    page.check("#cancel-confirm")
    page.click("#cancel")
    page.wait_for_selector("#flashes")
    assert "活动已取消" in page.locator("#flashes").inner_text()
    assert page.locator("#campaign-status").get_attribute("data-status") == "cancelled"
    assert page.locator("#cancel-reason").inner_text() == "暴雨预警，活动延期"
    assert page.locator("#cancel-form").count() == 0
    db.session.expire_all()
    assert db.session.get(Campaign, campaign_id).status is CampaignStatus.CANCELLED
    db.session.rollback()

    page.click("#back-to-list")
    page.wait_for_url(live_server + "/office/campaigns")
    assert page.locator(f"#campaign-{campaign_id}").get_attribute("data-status") == "cancelled"
    assert _csp_violations(messages) == [], messages
    assert all(url.startswith(live_server) for url in page.requests_seen), page.requests_seen
