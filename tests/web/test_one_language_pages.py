"""A volunteer's pages and the public pages speak one language at a time: wholly Chinese by default, wholly English
with ?lang=en (the only other script on a page is the data people entered: names, titles, places)."""
from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import select

from accounts.models import User
from callups import checkin_codes
from campaigns.models import Campaign, CampaignStatus, Position, ServiceCertificate, Shift
from core.clock import utcnow
from extensions import db
from grids.models import Grid
from notices.links import _issue_link
from tests.scheduler.helpers import make_position, sent_callups
from tests.web.reading import HAN, read_aloud
from tests.web.test_check_in_pages import _served
from volunteers.models import Skill, Volunteer

WORD = re.compile(r"[A-Za-z]{3,}")
# Names a Chinese page prints as they are.
NAMES = {"Gridmuster", "API", "OpenAPI", "PDF", "JSON", "SMS", "WeCom", "English"}






def _data_words() -> set[str]:
    """What people entered (grid, person, campaign, skill and account names, titles, places) and codes issued."""
    values = set()
    for column in (Grid.name, Volunteer.name, Campaign.title, Campaign.contact_name, Position.role, Shift.place,
                   Skill.name, User.display_name, ServiceCertificate.code):
        values.update(v for v in db.session.scalars(select(column)) if v)
    return values


def assert_english(html: str, page: str) -> None:
    assert '<html lang="en">' in html, page
    data = _data_words()
    foreign = [run for run in HAN.findall(read_aloud(html)) if not any(run in value for value in data)]
    assert foreign == [], f"{page}: Chinese outside the data: {foreign[:10]}"


def assert_chinese(html: str, page: str) -> None:
    assert '<html lang="zh-CN">' in html, page
    data = " ".join(_data_words())
    english = [word for word in WORD.findall(read_aloud(html)) if word not in NAMES and word not in data]
    assert english == [], f"{page}: English on the Chinese page: {english[:10]}"
    assert HAN.search(read_aloud(html)), page


def _both(client, path: str) -> None:
    """The page in Chinese (default), in English (?lang=en, which sticks), and in Chinese again (?lang=zh)."""
    chinese = client.get(path)
    assert chinese.status_code < 500
    assert_chinese(chinese.get_data(as_text=True), path)
    english = client.get(path + ("&" if "?" in path else "?") + "lang=en")
    assert english.status_code == chinese.status_code
    assert_english(english.get_data(as_text=True), path)
    client.get("/login?lang=zh")


def test_the_helpers_catch_the_other_language(client, tree):
    assert_chinese('<html lang="zh-CN"><p>登录</p></html>', "x")
    with pytest.raises(AssertionError):
        assert_chinese('<html lang="zh-CN"><p>登录 · Sign in</p></html>', "x")
    with pytest.raises(AssertionError):
        assert_english('<html lang="en"><p>Sign in <span aria-label="登录">x</span></p></html>', "x")


def test_public_pages_speak_one_language(page_client, tree):
    for path in ("/", "/login", "/register", "/verify/12345678", "/no-such-page"):
        _both(page_client, path)


def test_registration_step_two_speaks_one_language(page_client, tree):
    from tests.web.test_sign_in import request_code

    assert_chinese(request_code(page_client).get_data(as_text=True), "/register/code")
    page_client.get("/login?lang=en")
    assert_english(request_code(page_client).get_data(as_text=True), "/register/code")


def test_a_volunteers_pages_speak_one_language(login_as, tree):
    served = _served(tree)
    now = utcnow()
    emergency = make_position(now=now, headcount=1, office_grid_id=tree.community_a.id,
                              status=CampaignStatus.PUBLISHED, title="爆管抢修")
    me = login_as("volunteer", volunteer_id=served.volunteer_id)
    [open_callup] = sent_callups(emergency, 1, now=now)
    open_callup.volunteer_id = served.volunteer_id
    db.session.commit()
    for path in ("/me", "/me/profile", "/me/profile/skills", "/me/profile/availability?setup=1",
                 "/me/profile/channels", "/me/profile/emergency", "/me/erasure"):
        _both(me, path)
    code = db.session.scalar(select(ServiceCertificate.code))
    if code is None:
        me.get("/me/certificate.pdf")
        code = db.session.scalar(select(ServiceCertificate.code))
    _both(me, f"/verify/{code}")


def test_check_in_page_speaks_one_language(login_as, tree, app):
    served = _served(tree)
    me = login_as("volunteer", volunteer_id=served.volunteer_id)
    shift = db.session.get(Position, served.position_id).shift
    token = checkin_codes.shift_code(shift, secret_key=app.config["SECRET_KEY"])
    _both(me, f"/check-in/{token}")


def test_answer_link_speaks_the_persons_language_unless_the_reader_chooses(page_client, tree):
    now = utcnow()
    position = make_position(now=now, headcount=1)
    [callup] = sent_callups(position, 1, now=now)
    token = _issue_link(callup.id, expires_at=callup.expires_at, now=now)
    db.session.commit()
    assert_chinese(page_client.get(f"/r/{token}").get_data(as_text=True), "/r/")
    db.session.get(Volunteer, callup.volunteer_id).language = "en"
    db.session.commit()
    english = page_client.get(f"/r/{token}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert_english(english, "/r/ (stored English)")
    assert ">I'll come<" in unescape(english)
    chosen = page_client.get(f"/r/{token}?lang=zh").get_data(as_text=True)
    assert_chinese(chosen, "/r/?lang=zh")
    assert ">我参加<" in chosen
    assert_chinese(page_client.get("/r/not-a-token").get_data(as_text=True), "/r/ unknown")


def test_registration_stores_the_page_language_for_messages(page_client, tree):
    from tests.web.test_sign_in import _register

    page_client.get("/login?lang=en")
    response = _register(page_client, tree)
    assert response.status_code == 302
    person = db.session.scalar(select(Volunteer).order_by(Volunteer.id.desc()))
    assert person.language == "en"
    channels = page_client.get("/me/profile/channels").get_data(as_text=True)
    assert re.search(r'<option (?=[^>]*selected)(?=[^>]*value="en")[^>]*lang="en"[^>]*>English</option>', channels)
    assert re.search(r'<option (?![^>]*selected)(?=[^>]*value="zh")[^>]*lang="zh-CN"[^>]*>中文</option>', channels)


def test_the_sms_code_speaks_the_language_of_the_page_that_asked(page_client, tree):
    from notices.models import Notification
    from tests.web.test_sign_in import request_code

    page_client.get("/login?lang=en")
    request_code(page_client)
    payload = db.session.scalars(select(Notification)).all()[-1].payload
    assert payload["language"] == "en" and "valid for 10 minutes" in payload["text"] and not HAN.search(payload["text"])


def test_me_keeps_the_answer_buttons_in_both_languages(login_as, tree):
    now = utcnow()
    position = make_position(now=now + timedelta(days=1), headcount=1)
    me = login_as("volunteer")
    [callup] = sent_callups(position, 1, now=now)
    callup.volunteer_id = me.user.volunteer_id
    db.session.commit()
    chinese = me.get("/me").get_data(as_text=True)
    row = re.search(rf'<tr id="callup-{callup.id}".*?</tr>', chinese, re.S).group(0)
    assert 'data-label="活动"' in row and ">我参加<" in row and ">我不参加<" in row
    english = me.get("/me?lang=en").get_data(as_text=True)
    row = unescape(re.search(rf'<tr id="callup-{callup.id}".*?</tr>', english, re.S).group(0))
    assert 'data-label="Activity"' in row and ">I'll come<" in row and ">I can't<" in row
