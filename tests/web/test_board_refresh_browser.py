"""The staffing board updates itself: a clerk watching it sees an answer arrive without reloading, and what
they were typing in a form on the board is not lost when it does."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from accounts.users import create_user
from campaigns.models import CampaignStatus
from campaigns.responses import accept_callup
from core.clock import utcnow
from extensions import db
from tests.scheduler.helpers import make_position, sent_callups

pytestmark = pytest.mark.browser
PASSWORD = "river-stone-42"


def test_board_shows_an_answer_without_a_reload_and_keeps_what_is_typed(page, live_server, tree, app, monkeypatch):
    monkeypatch.setitem(app.config, "BOARD_REFRESH_SECONDS", 1)
    now = utcnow()
    create_user(login="wang", display_name="王主任", password=PASSWORD, role=Role.OFFICE, actor="test", now=now,
                grid_id=tree.community_a.id)
    position = make_position(now=now, headcount=2, office_grid_id=tree.community_a.id, title="防汛沙袋转运",
                             status=CampaignStatus.PUBLISHED, published_at=now, starts_in=timedelta(hours=5))
    callup, = sent_callups(position, 1, now=now)
    campaign_id, callup_id = position.shift.campaign_id, callup.id
    db.session.commit()
    db.session.rollback()  # the server's threads write: this test holds no SQLite lock while they do

    page.goto(live_server + f"/login?next=/office/campaigns/{campaign_id}")
    page.fill("#login", "wang")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(live_server + f"/office/campaigns/{campaign_id}")
    assert page.locator("#fill").inner_text().startswith("0 / 2")
    page.fill("#reason", "暴雨预警，活动延期")  # the clerk is typing in the cancel form meanwhile
    loads = []
    page.on("load", lambda _: loads.append(1))

    accept_callup(callup_id, actor="volunteer:1", now=utcnow())
    db.session.rollback()

    expect(page.locator("#fill")).to_have_text(re.compile(r"^\s*1 / 2"), timeout=10_000)
    assert "已发送 → 已确认" in page.locator("#history").inner_text()
    assert "已更新" in page.locator("#board-updated").inner_text()
    assert page.locator("#reason").input_value() == "暴雨预警，活动延期"
    assert loads == []  # no reload: the figures were swapped in place
