"""API errors speak the client's language: English without Accept-Language (the contract's), Chinese with
``Accept-Language: zh``; the code, status and shape never change with it."""
from __future__ import annotations

import re

import pytest

from tests.api.test_campaigns import campaign_body
from tests.conftest import ApiClient, new_page_client, volunteer_body

HAN = re.compile(r"[\u3400-\u9fff]")
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


@pytest.fixture
def api(app, admin_token) -> ApiClient:
    """The API client with each request in its own app context, as in production (the language is chosen per
    request; the shared test context would keep the first one's)."""
    return ApiClient(new_page_client(app), admin_token)


def _both(api, method: str, path: str, **kwargs):
    english = api.request(method, path, **kwargs)
    chinese = api.request(method, path, headers=dict(ZH), **kwargs)
    assert english.status_code == chinese.status_code
    english, chinese = english.get_json(), chinese.get_json()
    assert (english["code"], english["status"]) == (chinese["code"], chinese["status"])
    return english, chinese


def _texts(body: dict) -> list[str]:
    def walk(value):
        if isinstance(value, dict):
            for inner in value.values():
                yield from walk(inner)
        elif isinstance(value, list):
            for inner in value:
                yield from walk(inner)
        elif isinstance(value, str):
            yield value

    return [*walk(body.get("message", [])), *walk(body.get("errors", {}))]


def test_a_404_names_the_missing_object_in_either_language(api):
    english, chinese = _both(api, "GET", "/campaigns/424242")
    assert english["code"] == 404
    assert english["message"] == "campaign 424242 not found"
    assert chinese["message"] == "活动 424242 不存在"


def test_a_409_and_its_field_message_in_either_language(api, tree):
    api.post("/volunteers", json=volunteer_body(tree.grid_a1.id))
    english, chinese = _both(api, "POST", "/volunteers", json=volunteer_body(tree.grid_b1.id, name="李娜"))
    assert english["code"] == 409
    assert english["message"] == "this mobile number is already registered"
    assert english["errors"]["json"] == {"mobile": ["Already registered."]}
    assert chinese["message"] == "此手机号已登记"
    assert chinese["errors"]["json"] == {"mobile": ["已登记。"]}


def test_a_422_says_each_field_message_in_either_language(api, tree):
    body = volunteer_body(tree.grid_a1.id, mobile="1391234")
    del body["name"]
    english, chinese = _both(api, "POST", "/volunteers", json=body)
    assert english["code"] == 422
    assert english["errors"]["json"]["mobile"] == ["Not a valid mobile number."]
    assert english["errors"]["json"]["name"] == ["Missing data for required field."]
    assert chinese["errors"]["json"]["mobile"] == ["手机号格式不对。"]
    assert chinese["errors"]["json"]["name"] == ["必填。"]
    assert _texts(english) and not any(HAN.search(text) for text in _texts(english))
    assert _texts(chinese) and all(HAN.search(text) for text in _texts(chinese)), chinese


def test_a_state_refusal_names_the_state_in_the_readers_words(api, tree):
    campaign = api.post("/campaigns", json=campaign_body(tree)).get_json()
    assert api.post(f"/campaigns/{campaign['id']}/cancel", json={"reason": "x"}).status_code == 200
    english, chinese = _both(api, "POST", f"/campaigns/{campaign['id']}/cancel", json={"reason": "x"})
    assert english["code"] == 409
    assert english["message"] == "cannot cancel a campaign in state cancelled"
    assert english["errors"]["json"] == {"status": ["Is cancelled."]}
    assert chinese["message"] == "活动为“已取消”状态，不能取消"
    assert chinese["errors"]["json"] == {"status": ["当前为“已取消”。"]}


def test_errors_read_outside_a_request_are_english(app, tree):
    from core.errors import Conflict, NotFound

    assert str(NotFound.of("campaign", 7)) == "campaign 7 not found"
    refused = Conflict.wrong_state("whistle", "closed", "close")
    assert (refused.message, refused.errors) == ("cannot close a whistle in state closed", {"status": ["Is closed."]})
    with app.test_request_context("/api/v1/x", headers=ZH):
        assert refused.message == "吹哨为“已销号”状态，不能销号"
