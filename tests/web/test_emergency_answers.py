"""Emergency answers by link and on /me: when can you be there; the contact's phone; the status in words."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from notices.links import _issue_link
from notices.messages import BODIES, SMS_BODIES, render
from notices.models import Notification
from campaigns.messaging import callup_context
from campaigns.models import CallUp, CallUpEvent, CallUpStatus, Position, Priority
from campaigns.services import staffing
from core.clock import utcnow
from extensions import db
from tests.conftest import form_csrf_token
from tests.scheduler.helpers import make_callups, make_position, sent_callups
from volunteers.models import Volunteer

PHONE = "0571-8888 1234"
ETA_BUTTON = re.compile(r'<button type="submit" name="eta_minutes" value="(\d+)"')


def _link(priority=Priority.EMERGENCY, headcount=1, count=1, **volunteer):
    now = utcnow()
    position = make_position(now=now, headcount=headcount, priority=priority, starts_in=timedelta(hours=2),
                             contact_phone=PHONE)
    callups = make_callups(position, count, now=now, status=CallUpStatus.SENT, expires_at=now + timedelta(hours=1),
                           **volunteer)
    tokens = [_issue_link(c.id, expires_at=c.expires_at, now=now) for c in callups]
    db.session.commit()
    return position, [c.id for c in callups], tokens


def _callup(callup_id) -> CallUp:
    db.session.expire_all()
    return db.session.get(CallUp, callup_id)


def _writes() -> tuple[int, int]:
    """Events and outbox rows: what an answer writes."""
    db.session.expire_all()
    return (db.session.scalar(select(func.count()).select_from(CallUpEvent)),
            db.session.scalar(select(func.count()).select_from(Notification)))


def test_emergency_page_offers_four_arrival_buttons_and_no_plain_accept(client):
    _, [callup_id], [token] = _link()
    page = client.get(f"/r/{token}").get_data(as_text=True)
    assert ETA_BUTTON.findall(page) == ["0", "15", "30", "60"]
    for text in ("已在现场", "15 分钟内", "30 分钟内", "60 分钟内"):
        assert text in page
    assert 'id="accept"' not in page and 'name="action" value="accept" id' not in page
    # The four buttons share one form that says "accept"; decline stays its own button.
    assert page.count('<input type="hidden" name="action" value="accept">') == 1
    assert 'id="decline"' in page
    assert '<p id="status" class="status" data-status="sent">待回复</p>' in page


def test_emergency_tap_within_15_stores_the_eta_and_the_board_counts_it(client):
    position, [callup_id], [token] = _link()
    answered = client.post(f"/r/{token}", data={"action": "accept", "eta_minutes": "15"})
    page = answered.get_data(as_text=True)
    assert answered.status_code == 200 and 'id="done"' in page
    assert '<dd id="eta" data-eta-minutes="15">15 分钟内</dd>' in page
    assert 'data-status="accepted">已接受</p>' in page
    assert not ETA_BUTTON.findall(page)  # answered: no second "yes", only the way back out
    callup = _callup(callup_id)
    assert (callup.status, callup.eta_minutes) == (CallUpStatus.ACCEPTED, 15)
    assert callup.answered_by == f"link:volunteer:{callup.volunteer_id}"
    board = staffing(position.shift.campaign_id)["positions"][0]["eta_board"]
    assert [person["callup_id"] for person in board["within_15"]] == [callup_id]
    assert board["unknown"] == [] and board["on_site"] == []


def test_emergency_on_site_is_zero_minutes_not_unknown(client):
    position, [callup_id], [token] = _link()
    assert client.post(f"/r/{token}", data={"action": "accept", "eta_minutes": "0"}).status_code == 200
    assert _callup(callup_id).eta_minutes == 0
    board = staffing(position.shift.campaign_id)["positions"][0]["eta_board"]
    assert [person["callup_id"] for person in board["on_site"]] == [callup_id]


def test_accepted_emergency_page_shows_the_chosen_time_and_a_second_tap_keeps_it(client):
    _, [callup_id], [token] = _link()
    client.post(f"/r/{token}", data={"action": "accept", "eta_minutes": "30"})
    again = client.post(f"/r/{token}", data={"action": "accept", "eta_minutes": "60"})
    assert again.status_code == 200 and _callup(callup_id).eta_minutes == 30
    page = client.get(f"/r/{token}").get_data(as_text=True)
    assert '<dd id="eta" data-eta-minutes="30">30 分钟内</dd>' in page and 'id="decline"' in page


@pytest.mark.parametrize("eta", ["7", "abc", "99999", "", " 15", "15.0", "-15", "015", "0x0f"])
def test_forged_eta_is_400_and_changes_nothing(client, eta):
    position, [callup_id], [token] = _link()
    client.get(f"/r/{token}")  # 'seen' is written here, before the count
    before = _writes()
    response = client.post(f"/r/{token}", data={"action": "accept", "eta_minutes": eta})
    assert response.status_code == 400
    callup = _callup(callup_id)
    assert (callup.status, callup.eta_minutes, callup.responded_at) == (CallUpStatus.SENT, None, None)
    assert db.session.get(Position, position.id).accepted_count == 0
    assert _writes() == before


def test_two_etas_or_an_eta_with_a_decline_is_400(client):
    _, [callup_id], [token] = _link()
    assert client.post(f"/r/{token}", data={"action": "accept", "eta_minutes": ["15", "30"]}).status_code == 400
    assert client.post(f"/r/{token}", data={"action": "decline", "eta_minutes": "15"}).status_code == 400
    assert _callup(callup_id).status is CallUpStatus.SENT


def test_emergency_accept_without_eta_is_kept_as_unknown(client):
    """A page opened before arrival buttons existed still says yes; the board shows 'did not say'."""
    position, [callup_id], [token] = _link()
    assert client.post(f"/r/{token}", data={"action": "accept"}).status_code == 200
    callup = _callup(callup_id)
    assert (callup.status, callup.eta_minutes) == (CallUpStatus.ACCEPTED, None)
    board = staffing(position.shift.campaign_id)["positions"][0]["eta_board"]
    assert [person["callup_id"] for person in board["unknown"]] == [callup_id]


def test_routine_page_has_one_accept_button_and_refuses_an_eta(client):
    position, [callup_id], [token] = _link(priority=Priority.ROUTINE)
    page = client.get(f"/r/{token}").get_data(as_text=True)
    assert page.count('name="action" value="accept"') == 1 and 'id="accept"' in page
    assert not ETA_BUTTON.findall(page) and "分钟内" not in page
    before = _writes()
    assert client.post(f"/r/{token}", data={"action": "accept", "eta_minutes": "15"}).status_code == 400
    assert _callup(callup_id).status is CallUpStatus.SENT and _writes() == before
    assert client.post(f"/r/{token}", data={"action": "accept"}).status_code == 200
    callup = _callup(callup_id)
    assert (callup.status, callup.eta_minutes) == (CallUpStatus.ACCEPTED, None)
    assert 'id="eta"' not in client.get(f"/r/{token}").get_data(as_text=True)


def test_link_page_shows_the_contact_phone_as_a_tel_link(client):
    _, _, [token] = _link(priority=Priority.ROUTINE)
    page = client.get(f"/r/{token}").get_data(as_text=True)
    contact = re.search(r'<dd id="contact">(.*?)</dd>', page, re.S).group(1)
    assert "王主任" in contact
    assert re.search(r'<a id="contact-phone" class="tel" href="tel:0571-88881234"[^>]*>0571-8888 1234</a>', contact)


def test_link_page_without_a_contact_phone_has_no_tel_link(client):
    now = utcnow()
    position = make_position(now=now, headcount=1)
    [callup] = sent_callups(position, 1, now=now)
    token = _issue_link(callup.id, expires_at=callup.expires_at, now=now)
    db.session.commit()
    page = client.get(f"/r/{token}").get_data(as_text=True)
    assert "王主任" in page and "tel:" not in page


def test_contact_phone_stays_out_of_every_message_text(app):
    position, [callup_id], _ = _link()
    callup = _callup(callup_id)
    context = callup_context(callup, db.session.get(Volunteer, callup.volunteer_id), token="AbCdEfGhIjKlMnOpQrStUv")
    assert context["contact_phone"] == PHONE
    for template in SMS_BODIES:
        for channel in ("sms", "email", "inapp"):
            text = render(template, "zh", context, channel=channel)
            assert "8888" not in text.text and "8888" not in text.subject, (template, channel)
    assert set(SMS_BODIES) <= set(BODIES)


def test_status_is_a_word_in_the_volunteers_language(client):
    _, [zh_id, en_id], [zh_token, en_token] = _link(count=2, headcount=2)
    db.session.get(Volunteer, _callup(en_id).volunteer_id).language = "en"
    db.session.commit()
    english = client.get(f"/r/{en_token}").get_data(as_text=True)
    assert '<p id="status" class="status" data-status="sent">Awaiting your answer</p>' in english
    assert "Within 15 min" in english and "Already on site" in english and "分钟内" not in english
    client.post(f"/r/{en_token}", data={"action": "accept", "eta_minutes": "60"})
    assert 'data-status="accepted">Accepted</p>' in client.get(f"/r/{en_token}").get_data(as_text=True)
    client.post(f"/r/{zh_token}", data={"action": "decline"})
    assert 'data-status="declined">已拒绝</p>' in client.get(f"/r/{zh_token}").get_data(as_text=True)


# --- /me: the same choice for a signed-in volunteer --------------------------------------------


def _mine(login_as, priority=Priority.EMERGENCY):
    position, [callup_id], _ = _link(priority=priority)
    client = login_as("volunteer", volunteer_id=_callup(callup_id).volunteer_id)
    return client, position, callup_id


def test_me_emergency_callup_offers_four_arrival_buttons_and_stores_the_choice(login_as):
    client, position, callup_id = _mine(login_as)
    page = client.get("/me")
    html = page.get_data(as_text=True)
    row = re.search(rf'<tr id="callup-{callup_id}".*?</tr>', html, re.S).group(0)
    assert ETA_BUTTON.findall(row) == ["0", "15", "30", "60"] and "15 分钟内" in row and "Within" not in row
    assert 'value="accept" class="accept"' not in row  # no plain "yes"
    token = form_csrf_token(page)
    answered = client.post(f"/me/call-ups/{callup_id}",
                           data={"csrf_token": token, "action": "accept", "eta_minutes": "30"})
    assert answered.status_code == 302
    callup = _callup(callup_id)
    assert (callup.status, callup.eta_minutes) == (CallUpStatus.ACCEPTED, 30)
    assert callup.answered_by == f"user:{client.user.id}"
    board = staffing(position.shift.campaign_id)["positions"][0]["eta_board"]
    assert [person["callup_id"] for person in board["within_30"]] == [callup_id]
    after = client.get("/me").get_data(as_text=True)
    assert 'data-eta-minutes="30">预计到达：30 分钟内</small>' in after


@pytest.mark.parametrize("eta", ["7", "abc", "99999"])
def test_me_forged_eta_is_400_and_changes_nothing(login_as, eta):
    client, position, callup_id = _mine(login_as)
    token = form_csrf_token(client.get("/me"))
    before = _writes()
    response = client.post(f"/me/call-ups/{callup_id}", data={"csrf_token": token, "action": "accept",
                                                              "eta_minutes": eta})
    assert response.status_code == 400
    assert _callup(callup_id).status is CallUpStatus.SENT and _writes() == before
    assert db.session.get(Position, position.id).accepted_count == 0


def test_me_routine_callup_keeps_one_accept_button_and_refuses_an_eta(login_as):
    client, _, callup_id = _mine(login_as, priority=Priority.ROUTINE)
    page = client.get("/me")
    row = re.search(rf'<tr id="callup-{callup_id}".*?</tr>', page.get_data(as_text=True), re.S).group(0)
    assert 'value="accept" class="accept"' in row and not ETA_BUTTON.findall(row)
    token = form_csrf_token(page)
    refused = client.post(f"/me/call-ups/{callup_id}", data={"csrf_token": token, "action": "accept",
                                                             "eta_minutes": "15"})
    assert refused.status_code == 400 and _callup(callup_id).status is CallUpStatus.SENT
    assert client.post(f"/me/call-ups/{callup_id}", data={"csrf_token": token, "action": "accept"}).status_code == 302
    assert (_callup(callup_id).status, _callup(callup_id).eta_minutes) == (CallUpStatus.ACCEPTED, None)


# --- in a browser on a phone ----------------------------------------------------------------------


@pytest.mark.browser
def test_phone_taps_within_15_minutes_and_sees_the_confirmation(browser, live_server):
    _, [callup_id], [token] = _link()
    db.session.rollback()  # the server's threads write: this test holds no SQLite lock while they do
    context = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 667}, is_mobile=True,
                                  has_touch=True, device_scale_factor=2)
    page = context.new_page()
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    try:
        page.goto(f"{live_server}/r/{token}")
        button = page.get_by_role("button", name="15 分钟内")
        box = button.bounding_box()
        # Big enough for a thumb, and all four fit the phone's width without scrolling sideways.
        assert box["height"] >= 40 and box["x"] + box["width"] <= 375
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        assert page.locator("#contact-phone").get_attribute("href") == "tel:0571-88881234"
        button.tap()
        page.wait_for_selector("#done")
        assert page.locator("#done").inner_text() == "已确认，感谢您参加！"
        assert page.locator("#eta").inner_text() == "15 分钟内"
        assert page.locator("#status").get_attribute("data-status") == "accepted"
        assert page.locator("#status").inner_text() == "已接受"
        assert page.locator("button[name=eta_minutes]").count() == 0
        assert not [text for text in messages if "Content Security Policy" in text or "Refused to" in text]
    finally:
        context.close()
    callup = _callup(callup_id)
    assert (callup.status, callup.eta_minutes) == (CallUpStatus.ACCEPTED, 15)
