"""/me for office staff: where their coordinator notices go, set from a form checked by the same service as PATCH /me."""
from __future__ import annotations

import pytest

from accounts.models import User
from extensions import db
from tests.conftest import form_csrf_token


def _user(user_id):
    db.session.expire_all()
    return db.session.get(User, user_id)


def test_staff_choose_email_and_sms_on_me_and_see_them_kept(login_as):
    office = login_as("office")
    page = office.get("/me")
    assert page.status_code == 200 and 'id="contact-form"' in page.get_data(as_text=True)
    response = office.post("/me/contact", data={"csrf_token": form_csrf_token(page), "email": "wang@jn.example.cn",
                                                "mobile": "13912340000", "wecom_id": "",
                                                "notify_channels": ["email", "sms"]})
    assert response.status_code == 302
    user = _user(office.user.id)
    assert (user.email, user.mobile, user.wecom_id, user.notify_channel_list) == (
        "wang@jn.example.cn", "13912340000", None, ["sms", "email"])
    again = office.get("/me").get_data(as_text=True)
    assert "已保存通知方式" in again and 'value="wang@jn.example.cn"' in again
    boxes = {value: again[again.rfind("<input", 0, again.find(f'value="{value}"')):
                          again.find(">", again.find(f'value="{value}"'))] for value in ("sms", "email", "wecom")}
    assert ["checked" in box for box in boxes.values()] == [True, True, False], boxes


@pytest.mark.parametrize(("changes", "field"), [
    ({"email": "not-an-address"}, "email"),
    ({"mobile": "12345"}, "mobile"),
    ({"notify_channels": ["wecom"]}, "wecom_id"),  # WeCom chosen, but no WeCom id given
    ({"notify_channels": ["fax"]}, "notify_channels"),
])
def test_a_bad_contact_field_is_named_and_nothing_is_saved(login_as, changes, field):
    office = login_as("office")
    token = form_csrf_token(office.get("/me"))
    body = {"csrf_token": token, "email": "", "mobile": "", "wecom_id": "", "notify_channels": []} | changes
    response = office.post("/me/contact", data=body)
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    user = _user(office.user.id)
    assert (user.email, user.mobile, user.notify_channel_list) == (None, None, [])


def test_volunteers_have_no_contact_form_and_cannot_post_one(login_as):
    volunteer = login_as("volunteer")
    page = volunteer.get("/me")
    assert 'id="contact-form"' not in page.get_data(as_text=True)
    assert volunteer.post("/me/contact", data={"csrf_token": form_csrf_token(page), "email": "a@b.cn"}).status_code == 403
    office = login_as("office")
    assert office.post("/me/contact", data={"email": "a@b.cn"}).status_code == 400  # no CSRF token
