"""A volunteer on a phone (390×844) and on a desktop (1280×800): registers, completes the profile, is matched;
answers a call-up on /me; an office checks them in from the board. Screenshots land in tests/web/screenshots/."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from accounts.models import Role, User
from accounts.users import create_user
from campaigns import services
from campaigns.models import CallUp, CallUpStatus, Priority
from campaigns.responses import accept_callup
from core.clock import utcnow
from core.kinds import CampaignKind
from core.scope import Scope
from extensions import db
from tests.scheduler.helpers import make_position, sent_callups
from tests.web.test_sign_in import sent_code
from volunteers.models import Volunteer
from volunteers.services import register_volunteer

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).parent / "screenshots"
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}
PASSWORD = "river-stone-42"
TZ = "Asia/Shanghai"


@pytest.fixture(params=sorted(SIZES))
def sized(request, browser, live_server):
    """A page of the given size; the phone one has touch, so taps are real taps."""
    phone = request.param == "phone"
    context = browser.new_context(viewport=SIZES[request.param], locale="zh-CN", has_touch=phone, is_mobile=phone)
    page = context.new_page()
    page.size = request.param
    page.requests_seen = []
    page.on("request", lambda req: page.requests_seen.append(req.url))
    yield page
    context.close()


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    suffix = "-en" if getattr(page, "language", "zh") == "en" else ""
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{page.size}{suffix}.png"), full_page=True)


def _no_sideways_scroll(page) -> None:
    width = SIZES[page.size]["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url


def _in_view(page, selector: str) -> None:
    """The control is on screen without scrolling sideways: its box lies inside the viewport's width."""
    control = page.locator(selector)
    control.evaluate("node => node.scrollIntoView({block: 'center'})")  # wholly on screen, not just peeking in
    box = control.bounding_box()
    size = SIZES[page.size]
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= size["width"], (selector, box)
    assert box["y"] >= 0 and box["y"] + box["height"] <= size["height"], (selector, box)
    assert box["height"] >= 44, (selector, box)  # a finger's width


def _tap(page, selector: str) -> None:
    if page.size == "phone":
        page.tap(selector)
    else:
        page.click(selector)


def _next_saturday_morning() -> tuple[datetime, datetime]:
    """09:00-12:00 Shanghai time on a Saturday at least two days ahead, in UTC."""
    zone = ZoneInfo(TZ)
    day = utcnow().astimezone(zone).date() + timedelta(days=2)
    day += timedelta(days=(5 - day.weekday()) % 7)
    start = datetime.combine(day, time(9), tzinfo=zone).astimezone(timezone.utc)
    return start, start + timedelta(hours=3)


# What the registration and profile pages say in each language (the browser's Accept-Language chooses it).
SAYS = {
    "zh": {"step": "第 1 步，共 4 步", "callable": "您可以被召集参加", "other": "You can be called for",
           "skill": "宣传（3 级）", "hours": "周六 08:00–18:00", "channel": "短信"},
    "en": {"step": "Step 1 of 4", "callable": "You can be called for", "other": "您可以被召集参加",
           "skill": "(level 3)", "hours": "Sat 08:00–18:00", "channel": "SMS"},
}


@pytest.mark.parametrize("language", sorted(SAYS))
def test_self_service_new_volunteer_registers_completes_profile_and_is_matched(sized, live_server, tree, language):
    page = sized
    page.language = language
    says = SAYS[language]
    mobile = "13912345678"
    # Two neighbours the matcher must pass over: one with the skill but no weekly hours (a self-registration
    # before this page), one free on Saturday morning without the skill.
    register_volunteer({"name": "无时间", "mobile": "13900000001", "home_grid_id": tree.grid_a1.id,
                        "skills": [{"code": "publicity", "level": 5}]}, scope=Scope.system("test"), now=utcnow())
    register_volunteer({"name": "无技能", "mobile": "13900000002", "home_grid_id": tree.grid_a1.id,
                        "availability": [{"weekday": 5, "start": "08:00", "end": "12:00"}]},
                       scope=Scope.system("test"), now=utcnow())
    grid_id, publicity = tree.grid_a1.id, tree.skills["publicity"].id
    db.session.commit()

    page.goto(live_server + f"/register?lang={language}")
    assert page.locator("html").get_attribute("lang") == ("en" if language == "en" else "zh-CN")
    page.fill("#mobile", mobile)
    _tap(page, "#code-submit")
    page.wait_for_selector("#code-sent")
    page.fill("#code", sent_code(mobile))
    db.session.rollback()
    page.fill("#name", "陈静")
    assert page.locator("#home_grid_id").input_value() == ""  # nothing chosen for the person
    page.fill("#grid-search", "江南 第一")
    page.wait_for_selector(".grid-match")
    assert page.locator(".grid-match").all_inner_texts() == ["西兴街道 › 江南社区 › 江南第一网格"]
    _tap(page, ".grid-match")
    assert page.locator("#home_grid_id").input_value() == str(grid_id)
    assert "江南第一网格" in page.locator("#grid-status").inner_text()
    page.fill("#password", PASSWORD)
    page.fill("#confirm", PASSWORD)
    page.check("#consent")
    _no_sideways_scroll(page)
    _shot(page, "register")
    _tap(page, "#register-submit")

    page.wait_for_url(live_server + "/me/profile/skills?setup=1")
    assert says["step"] in page.locator("#step-count").inner_text()
    page.select_option(f"#skill_{publicity}", "3")
    _no_sideways_scroll(page)
    _shot(page, "profile-skills")
    _tap(page, "#save-step")

    page.wait_for_url(live_server + "/me/profile/availability?setup=1")
    page.check("#slot-5-morning")
    page.check("#slot-5-afternoon")
    _no_sideways_scroll(page)
    _shot(page, "profile-availability")
    _tap(page, "#save-step")

    page.wait_for_url(live_server + "/me/profile/channels?setup=1")
    page.check("input[name=consented_channels][value=sms]")
    _shot(page, "profile-channels")
    _tap(page, "#save-step")

    page.wait_for_url(live_server + "/me/profile/emergency?setup=1")
    page.check("input[name=emergency_calls][value=any_hour]")
    _tap(page, "#save-step")

    page.wait_for_url(live_server + "/me/profile?done=1")
    summary = page.locator("#callable-summary").inner_text()
    assert says["callable"] in summary and says["other"] not in summary
    assert says["skill"] in page.locator("#summary-skills").inner_text()
    assert says["hours"] in page.locator("#summary-hours").inner_text()
    assert says["channel"] in page.locator("#summary-channels").inner_text()
    _no_sideways_scroll(page)
    _shot(page, "profile-summary")
    assert all(url.startswith(live_server) for url in page.requests_seen), page.requests_seen

    # The defect this fixes: the matcher now picks the new volunteer for work needing their skill at their time.
    db.session.rollback()
    me = db.session.scalar(select(Volunteer).where(Volunteer.mobile == mobile))
    assert me.language == language  # messages reach them in the language they registered in
    start, end = _next_saturday_morning()
    campaign = services.draft_campaign({
        "title": "垃圾分类宣传", "kind": CampaignKind.GARBAGE_SORTING, "priority": Priority.ROUTINE,
        "office_grid_id": tree.community_a.id, "policy": {},
        "shifts": [{"start": start, "end": end, "grid_id": grid_id,
                    "positions": [{"role": "宣传员", "headcount": 2, "min_party_members": 0,
                                   "required_skills": [{"code": "publicity", "min_level": 2}],
                                   "preferred_skills": [], "required_identities": []}]}]},
        scope=Scope.system("test"), now=utcnow())
    plan = services.match_campaign(campaign.id, now=utcnow(), timezone_name=TZ)
    assert [p.volunteer_id for pos in plan.positions for p in pos.proposals] == [me.id]
    services.publish_campaign(campaign.id, actor="test", now=utcnow(), timezone_name=TZ)
    assert db.session.scalars(select(CallUp.volunteer_id)).all() == [me.id]


def _sign_in(page, live_server, login: str) -> None:
    page.goto(live_server + "/login")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_load_state()


def test_self_service_me_answer_buttons_are_in_reach_and_tappable(sized, live_server, tree):
    page = sized
    now = utcnow()
    position = make_position(now=now, headcount=2, office_grid_id=tree.community_a.id, title="燃气安全入户宣传")
    first, = sent_callups(position, 1, now=now)
    second = make_position(now=now, headcount=1, office_grid_id=tree.community_a.id, title="周末敬老院探访")
    later = CallUp(position_id=second.id, volunteer_id=first.volunteer_id, status=CallUpStatus.SENT,
                   send_at=now, sent_at=now, expires_at=now + timedelta(hours=1))
    db.session.add(later)
    user = create_user(login="13912340000", display_name="陈静", password=PASSWORD, role=Role.VOLUNTEER,
                       actor="test", now=now, volunteer_id=first.volunteer_id)
    db.session.commit()
    callup_ids, login = (first.id, later.id), user.login
    db.session.rollback()  # the server's threads write: this test holds no SQLite lock while they do

    _sign_in(page, live_server, login)
    page.wait_for_url(live_server + "/me")
    _no_sideways_scroll(page)
    for callup_id in callup_ids:
        _in_view(page, f"#accept-{callup_id}")
        _in_view(page, f"#decline-{callup_id}")
    page.locator("#my-callups").scroll_into_view_if_needed()
    _shot(page, "me-callups")
    _tap(page, f"#accept-{callup_ids[0]}")
    page.wait_for_selector(f'#callup-{callup_ids[0]}[data-status="accepted"]')
    _tap(page, f"#decline-{callup_ids[1]}")
    page.wait_for_selector(f'#callup-{callup_ids[1]}[data-status="declined"]')
    db.session.expire_all()
    assert [db.session.get(CallUp, i).status for i in callup_ids] == [CallUpStatus.ACCEPTED, CallUpStatus.DECLINED]


def _board_fits(page, position_id: int):
    """The board neither scrolls sideways nor has its positions table scroll inside its box (on a phone each
    position is a card), and the position's accepted figure is on the screen; returns that figure's cell."""
    _no_sideways_scroll(page)
    assert page.locator("#positions").evaluate("t => t.parentElement.scrollWidth <= t.parentElement.clientWidth")
    accepted_cell = page.locator(f"#position-{position_id} td.accepted")
    accepted_cell.scroll_into_view_if_needed()
    box = accepted_cell.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= SIZES[page.size]["width"], box
    return accepted_cell


def test_self_service_board_check_in_is_in_reach_on_a_phone(sized, live_server, tree):
    page = sized
    now = utcnow()
    position = make_position(now=now, headcount=2, starts_in=timedelta(minutes=-30),
                             office_grid_id=tree.community_a.id, title="防汛沙袋转运")
    accepted, _ = sent_callups(position, 2, now=now - timedelta(minutes=5))
    accept_callup(accepted.id, actor="v", now=now - timedelta(minutes=1))
    office = create_user(login="wang", display_name="王主任", password=PASSWORD, role=Role.OFFICE, actor="test",
                         now=now, grid_id=tree.community_a.id)
    db.session.commit()
    campaign_id, callup_id, login = position.shift.campaign_id, accepted.id, office.login
    position_id = position.id
    db.session.rollback()  # the server's threads write: this test holds no SQLite lock while they do

    _sign_in(page, live_server, login)
    page.goto(f"{live_server}/office/campaigns/{campaign_id}")
    accepted_cell = _board_fits(page, position_id)
    assert accepted_cell.inner_text().split()[-1] == "1"  # one accepted; on a phone its label stands above it
    page.locator("#positions").scroll_into_view_if_needed()
    _shot(page, "board-positions")
    _in_view(page, f"#mark-attended-{callup_id}")
    _in_view(page, f"#mark-no_show-{callup_id}")
    page.locator("#roster").scroll_into_view_if_needed()
    _shot(page, "board-roster")
    _tap(page, f"#mark-attended-{callup_id}")
    page.wait_for_selector(f'#roster-{callup_id}[data-status="attended"]')
    db.session.expire_all()
    assert db.session.get(CallUp, callup_id).status is CallUpStatus.ATTENDED
    assert db.session.scalar(select(User).where(User.login == "wang")) is not None
    db.session.rollback()

    # The same board in English: longer labels, still one card per position and nothing off the screen.
    page.goto(f"{live_server}/office/campaigns/{campaign_id}?lang=en")
    page.language = "en"
    page.locator("#positions").scroll_into_view_if_needed()
    _shot(page, "board-positions")
    assert _board_fits(page, position_id).get_attribute("data-label") == "Accepted"
