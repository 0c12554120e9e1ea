"""A volunteer on a phone and on a desktop, in Chinese and in English, finds an activity near home that takes
sign-ups and takes a place with one tap; the place is theirs on /me. Screenshots land in tests/web/screenshots/."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from accounts.models import Role
from accounts.users import create_user
from campaigns.models import CallUp, CallUpStatus, CampaignStatus
from core.clock import utcnow
from extensions import db
from tests.factories import VolunteerFactory
from tests.scheduler.helpers import make_position
from tests.web.test_office_pages import ALWAYS
from tests.web.test_self_service_browser import SCREENSHOTS, SIZES

pytestmark = pytest.mark.browser
PASSWORD = "river-stone-42"
TEXTS = {"zh": {"locale": "zh-CN", "title": "附近的活动", "signed_up": "您已报名“社区清洁日”", "nearness": "在您的社区"},
         "en": {"locale": "en-GB", "title": "Activities near me", "signed_up": "You are signed up for 社区清洁日",
                "nearness": "In your community"}}


@pytest.fixture(params=[(size, lang) for size in sorted(SIZES) for lang in sorted(TEXTS)], ids=lambda p: "-".join(p))
def sized(request, browser, live_server):
    size, lang = request.param
    phone = size == "phone"
    context = browser.new_context(viewport=SIZES[size], locale=TEXTS[lang]["locale"], has_touch=phone,
                                  is_mobile=phone)
    page = context.new_page()
    page.size, page.lang = size, lang
    yield page
    context.close()


def test_a_volunteer_signs_up_for_an_activity_near_home(sized, live_server, tree):
    page, texts = sized, TEXTS[sized.lang]
    now = utcnow()
    position = make_position(now=now, headcount=3, starts_in=timedelta(days=2), office_grid_id=tree.community_a.id,
                             title="社区清洁日", status=CampaignStatus.PUBLISHED, published_at=now,
                             policy={"sign_ups": True})
    position.shift.grid_id = tree.grid_a2.id
    person = VolunteerFactory(home_grid_id=tree.grid_a1.id, availability_mask=ALWAYS)
    user = create_user(login="qingjie", display_name="陈静", password=PASSWORD, role=Role.VOLUNTEER, actor="test",
                       now=now, volunteer_id=person.id)
    db.session.commit()
    position_id, person_id = position.id, person.id
    assert user.id
    db.session.rollback()  # no read transaction left open on SQLite while the server writes

    page.goto(live_server + "/login")
    page.fill("#login", "qingjie")
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_load_state()
    page.goto(live_server + "/me/activities")
    assert page.locator("h1").inner_text() == texts["title"]
    assert page.locator("html").get_attribute("lang") == ("en" if page.lang == "en" else "zh-CN")
    card = page.locator(f"#opening-{position_id}")
    assert texts["nearness"] in card.inner_text()
    button = page.locator(f"#sign-up-{position_id}")
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    assert box["height"] >= 44 and box["x"] + box["width"] <= SIZES[page.size]["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[page.size]["width"]
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"activities-near-me-{page.lang}-{page.size}.png"), full_page=True)
    if page.size == "phone":
        button.tap()
    else:
        button.click()
    page.wait_for_url(f"{live_server}/me#callup-*")
    assert texts["signed_up"] in page.locator("#flashes").inner_text()
    db.session.rollback()
    callup = db.session.scalar(select(CallUp).where(CallUp.position_id == position_id,
                                                    CallUp.volunteer_id == person_id))
    assert callup.status is CallUpStatus.ACCEPTED
    assert page.locator(f"#callup-{callup.id}").get_attribute("data-status") == "accepted"
