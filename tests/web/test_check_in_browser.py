"""On a phone (390×844): a volunteer opens the shift's QR link, signs in, checks in and out; another downloads
their certificate of service from /me and the PDF holds their Chinese name. Screenshots in tests/web/screenshots/."""
from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from accounts.models import Role
from accounts.users import create_user
from callups import checkin_codes
from campaigns import attendance, hours
from campaigns.models import CallUp, CallUpStatus, CampaignStatus
from campaigns.responses import accept_callup
from core.clock import utcnow
from extensions import db
from tests.scheduler.helpers import make_position, sent_callups
from volunteers.models import Volunteer

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).parent / "screenshots"
PHONE = {"width": 390, "height": 844}
PASSWORD = "river-stone-42"


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", has_touch=True, is_mobile=True,
                                  accept_downloads=True)
    page = context.new_page()
    yield page
    context.close()


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-phone.png"), full_page=True)


def _fits(page, selector: str) -> None:
    """No sideways scroll, and the control is on screen and a finger tall."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], page.url
    control = page.locator(selector)
    control.scroll_into_view_if_needed()
    box = control.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] and box["height"] >= 44, box


def _person(tree, *, starts_in, title):
    now = utcnow()
    position = make_position(now=now, headcount=1, starts_in=starts_in, office_grid_id=tree.community_a.id,
                             status=CampaignStatus.PUBLISHED, title=title)
    [callup] = sent_callups(position, 1, now=now + starts_in - timedelta(hours=1))
    accept_callup(callup.id, actor="v", now=now + starts_in - timedelta(minutes=50))
    volunteer = db.session.get(Volunteer, callup.volunteer_id)
    volunteer.name = "陈静"
    user = create_user(login=volunteer.mobile, display_name="陈静", password=PASSWORD, role=Role.VOLUNTEER,
                       actor="test", now=now, volunteer_id=volunteer.id)
    db.session.commit()
    return position, callup, user.login


def test_check_in_by_the_qr_link_on_a_phone(phone, live_server, tree, app):
    position, callup, login = _person(tree, starts_in=timedelta(minutes=-10), title="防汛沙袋转运")
    token = checkin_codes.shift_code(position.shift, secret_key=app.config["SECRET_KEY"])
    callup_id = callup.id
    db.session.rollback()  # the server's threads write: this test holds no SQLite lock while they do

    # Scanning the code while signed out: sign in first, then straight back to the check-in page.
    phone.goto(f"{live_server}/check-in/{token}")
    phone.wait_for_selector("#login")
    phone.fill("#login", login)
    phone.fill("#password", PASSWORD)
    phone.tap("#login-submit")
    phone.wait_for_selector("#check-in-button")
    _fits(phone, "#check-in-button")
    _shot(phone, "check-in-qr")
    phone.tap("#check-in-button")
    phone.wait_for_selector('#check-in-state[data-status="attended"]')
    _fits(phone, "#check-out-button")
    _shot(phone, "check-in-done")
    phone.tap("#check-out-button")
    phone.wait_for_selector("text=已签退")
    db.session.expire_all()
    done = db.session.get(CallUp, callup_id)
    assert done.status is CallUpStatus.ATTENDED and done.attended_at and done.checked_out_at
    assert done.checked_out_at < position.shift.end_at  # left early: fewer hours at the shift's end


def test_certificate_download_on_a_phone_holds_the_chinese_name(phone, live_server, tree):
    position, callup, login = _person(tree, starts_in=timedelta(hours=-4), title="敬老院探访")
    attendance.record_attendance(callup.id, attended=True, actor="office", now=position.shift.start_at)
    hours.book_ended_shifts(now=utcnow(), timezone_name="Asia/Shanghai")
    db.session.rollback()

    phone.goto(f"{live_server}/login")
    phone.fill("#login", login)
    phone.fill("#password", PASSWORD)
    phone.tap("#login-submit")
    phone.wait_for_selector("#service-hours")
    _fits(phone, "#certificate-link")
    phone.locator("#service-hours").scroll_into_view_if_needed()
    _shot(phone, "me-hours")
    with phone.expect_download() as download:
        phone.tap("#certificate-link")
    data = Path(download.value.path()).read_bytes()
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    assert "陈静" in text and "敬老院探访" in text and "3 小时" in text
    code = text.split("验证码：")[1].split()[0]
    phone.goto(f"{live_server}/verify/{code}")
    assert phone.inner_text("#verify-name") == "陈*"
    _shot(phone, "verify")


def test_board_shows_the_code_and_everyone_came_can_be_undone_on_a_phone(phone, live_server, tree):
    position, callup, _ = _person(tree, starts_in=timedelta(minutes=-10), title="垃圾分类督导")
    office = create_user(login="wang", display_name="王主任", password=PASSWORD, role=Role.OFFICE, actor="test",
                         now=utcnow(), grid_id=tree.community_a.id)
    db.session.commit()
    campaign_id, shift_id, callup_id, login = position.shift.campaign_id, position.shift_id, callup.id, office.login
    db.session.rollback()

    phone.goto(f"{live_server}/login")
    phone.fill("#login", login)
    phone.fill("#password", PASSWORD)
    phone.tap("#login-submit")
    phone.wait_for_url(f"{live_server}/office/campaigns")
    phone.goto(f"{live_server}/office/campaigns/{campaign_id}")
    assert phone.locator(f"#shift-code-{shift_id} svg").count() == 1
    _fits(phone, f"#everyone-came-{shift_id}")
    phone.locator("#check-in-codes").scroll_into_view_if_needed()
    _shot(phone, "board-check-in-code")
    phone.tap(f"#everyone-came-{shift_id}")
    phone.wait_for_selector(f'#roster-{callup_id}[data-status="attended"]')
    _fits(phone, f"#undo-everyone-{shift_id}")
    phone.tap(f"#undo-everyone-{shift_id}")
    phone.wait_for_selector(f'#roster-{callup_id}[data-status="accepted"]')
    phone.goto(f"{live_server}/office/campaigns/{campaign_id}/shifts/{shift_id}/code")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _shot(phone, "printable-check-in-code")
    db.session.expire_all()
    assert db.session.get(CallUp, callup_id).status is CallUpStatus.ACCEPTED
