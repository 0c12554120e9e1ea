"""A team leader opens the link in headless Chromium, ticks two members and sends them, under the CSP."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from campaigns.models import CallUp, CallUpStatus
from extensions import db
from tests.web.test_team_answer_page import team_offer

pytestmark = pytest.mark.browser


def test_leader_ticks_two_members_and_sends_them(page, live_server):
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    page.on("pageerror", lambda error: messages.append(str(error)))
    position_id, callup_id, token, _, members = team_offer(places=2)
    db.session.rollback()  # the server's threads write: this test holds no SQLite lock while they do

    page.goto(f"{live_server}/r/{token}")
    assert page.locator("#team").inner_text() == "绿源环保突击队"
    assert page.locator("#places").inner_text() == "2"
    assert page.locator("#members label.member").count() == 3
    # The stylesheet is in force: each member is a row of its own.
    assert page.eval_on_selector("label.member", "node => getComputedStyle(node).display") == "block"
    page.check(f"#member-{members[0]}")
    page.check(f"#member-{members[2]}")
    page.click("#send")
    page.wait_for_selector("#done")
    assert "2 人参加" in page.locator("#done").inner_text()
    assert page.locator("#status").get_attribute("data-status") == "accepted"
    assert page.locator("#status").inner_text() == "已接受"
    assert page.locator("#sent-members").inner_text() == "已派出：张建国、王志强"
    assert page.locator("input[type=checkbox]").count() == 0
    assert not [text for text in messages if "Content Security Policy" in text or "Refused to" in text]

    db.session.rollback()
    rows = db.session.scalars(select(CallUp).where(CallUp.position_id == position_id)).all()
    assert {c.id: c.status for c in rows if c.volunteer_id is None} == {callup_id: CallUpStatus.ACCEPTED}
    assert sorted(c.volunteer_id for c in rows if c.volunteer_id) == [members[0], members[2]]
