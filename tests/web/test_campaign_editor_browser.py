"""A clerk drafts a two-shift weekly campaign in Chromium (desktop and phone, Chinese and English), fixes a mistake
in shift 2 that the form names, and lands on the board; then moves the published shift there. Screenshots in
screenshots/."""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from accounts.models import Role
from accounts.users import create_user
from campaigns.models import Campaign, CampaignStatus
from core.clock import utcnow
from extensions import db
from tests.factories import VolunteerFactory
from tests.web.test_office_pages import ALWAYS

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).parent / "screenshots"
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
PASSWORD = "river-stone-42"
HAN = re.compile(r"[\u3400-\u9fff]")
# What each language's pages say at each step (the browser's language chooses; nothing else differs).
SAYS = {"zh": {"locale": "zh-CN", "shift_error": "结束时间（班次 2）：结束时间须晚于开始时间。",
               "created": "已创建活动草稿", "told": "已通知本班次", "match": "试匹配（不做更改）"},
        "en": {"locale": "en-GB", "shift_error": "End time (shift 2): Must be after start.",
               "created": 'Draft campaign "江南燃气安全周" created',
               "told": "Everyone accepted or invited on this shift has been told.", "match": "Dry run (changes nothing)"}}


@pytest.mark.parametrize("lang", sorted(SAYS))
@pytest.mark.parametrize("size", sorted(SIZES))
def test_campaign_editor_two_shifts_weekly_then_a_published_shift_moved(browser, live_server, tree, size, lang):
    says = SAYS[lang]
    create_user(login="wang", display_name="王主任", password=PASSWORD, role=Role.OFFICE, actor="test",
                now=utcnow(), grid_id=tree.community_a.id)
    grid_a1, grid_a2 = tree.grid_a1.id, tree.grid_a2.id
    for name, grid in (("李娜", tree.grid_a1), ("赵磊", tree.grid_a2)):
        VolunteerFactory(home_grid_id=grid.id, availability_mask=ALWAYS, name=name)
    day = (utcnow() + timedelta(days=10)).date()
    db.session.commit()
    db.session.rollback()  # the server's threads write: this test holds no SQLite lock while they do
    phone = size == "phone"
    context = browser.new_context(viewport=SIZES[size], locale=says["locale"], is_mobile=phone, has_touch=phone)
    page = context.new_page()
    try:
        page.goto(live_server + "/login?next=/office/campaigns/new")
        page.fill("#login", "wang")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_url(live_server + "/office/campaigns/new")
        page.fill("#title", "江南燃气安全周")
        page.select_option("#kind", "gas_safety")
        page.fill("#date", day.isoformat())
        page.fill("#start", "09:00")
        page.fill("#end", "12:00")
        page.select_option("#shift_grid_id", str(grid_a1))
        page.fill("#role-1", "入户宣传员")
        page.fill("#headcount-1", "4")
        page.click("#add-shift")
        page.wait_for_selector("#shift-fields-2")
        assert page.locator("#title").input_value() == "江南燃气安全周"  # nothing typed is lost
        assert page.locator("#s2-date").input_value() == day.isoformat()
        page.fill("#s2-start", "14:00")
        page.fill("#s2-end", "13:00")  # a slip: ends before it starts
        page.select_option("#s2-shift_grid_id", str(grid_a2))
        page.fill("#s2-role-1", "巡查员")
        page.fill("#s2-headcount-1", "2")
        page.select_option("#repeat", "weekly")
        page.click("#create-campaign")
        page.wait_for_selector("#s2-end-error")
        assert page.locator("#s2-end-error").inner_text() == says["shift_error"]
        if lang == "en":  # the form's own words (labels, legends, hints, buttons) in English; data is as typed
            words = page.locator("#new-campaign-form :is(label, legend, small, button, .hint)").all_inner_texts()
            assert len(words) > 20 and not [text for text in words if HAN.search(text)]
        assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"]
        page.fill("#s2-end", "17:00")
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"campaign-editor-{size}-{lang}.png"), full_page=True)
        page.click("#create-campaign")
        page.wait_for_selector("#campaign-title")
        assert says["created"] in page.locator("#flashes").inner_text()
        assert page.locator("#match").inner_text() == says["match"]
        page.click("#match")  # the dry run, with names and score terms
        page.wait_for_selector(".preview-position")
        assert "李娜" in page.locator("table.board").first.inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"]
        page.screenshot(path=str(SCREENSHOTS / f"campaign-preview-{size}-{lang}.png"), full_page=True)

        db.session.rollback()
        campaign = db.session.scalars(select(Campaign)).one()
        assert len(campaign.shifts) == 2 and campaign.recurrence_cron is not None
        campaign.status, campaign.published_at = CampaignStatus.PUBLISHED, utcnow()
        first = min(campaign.shifts, key=lambda s: s.start_at)
        campaign_id, shift_id = campaign.id, first.id
        db.session.commit()
        db.session.rollback()

        page.goto(f"{live_server}/office/campaigns/{campaign_id}")
        page.click(f"#shift-{shift_id} summary")
        page.fill(f"#shift-{shift_id}-place", "江南社区广场")
        page.fill(f"#shift-{shift_id}-note", "改到广场集合")
        page.click(f"#shift-save-{shift_id}")
        page.wait_for_selector("#flashes")
        assert says["told"] in page.locator("#flashes").inner_text()
        assert "江南社区广场" in page.locator(f"#shift-{shift_id}").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"]
        page.screenshot(path=str(SCREENSHOTS / f"campaign-shift-changed-{size}-{lang}.png"), full_page=True)
    finally:
        context.close()
