"""POST /callups/{id}/accept|decline, the SMS reply hook, the outbox and the inbox over HTTP."""
from __future__ import annotations

from callups.dispatch import dispatch_outbox, send_due_callups
from notices.channels import build_channels
from campaigns.models import CallUp
from core.clock import utcnow
from extensions import db
from tests.scheduler.helpers import make_callups, make_position


def _open_callups(count=1, headcount=1, **volunteer):
    """Call-ups sent on the wall clock (the API answers with utcnow())."""
    now = utcnow()
    position = make_position(now=now, headcount=headcount)
    callups = make_callups(position, count, now=now, **volunteer)
    send_due_callups(now=now)
    return position, [c.id for c in callups]


def test_accept_answers_200_with_the_callup_and_again_the_same(api):
    _, [callup_id] = _open_callups()
    first = api.post(f"/callups/{callup_id}/accept", json={"eta_minutes": 15})
    assert first.status_code == 200
    body = first.get_json()
    assert (body["status"], body["id"], body["eta_minutes"], body["standby_at"]) == ("accepted", callup_id, 15, None)
    assert body["answered_by"].startswith("token:")
    again = api.post(f"/callups/{callup_id}/accept", json={})
    assert again.status_code == 200 and again.get_json() == body


def test_accept_full_position_answers_409_and_records_standby(api):
    _, [a, b] = _open_callups(count=2, headcount=1)
    assert api.post(f"/callups/{a}/accept", json={}).status_code == 200
    full = api.post(f"/callups/{b}/accept", json={})
    assert full.status_code == 409
    assert "position_id" in full.get_json()["errors"]["json"]
    db.session.expire_all()
    assert db.session.get(CallUp, b).standby_at is not None
    shown = api.get(f"/callups/{b}").get_json()
    assert (shown["status"], shown["standby_at"] is not None) == ("sent", True)


def test_answer_after_decline_answers_409(api):
    _, [callup_id] = _open_callups()
    declined = api.post(f"/callups/{callup_id}/decline", json={"reason": "生病"})
    assert declined.status_code == 200 and declined.get_json()["reason"] == "生病"
    conflict = api.post(f"/callups/{callup_id}/accept", json={})
    assert conflict.status_code == 409 and conflict.get_json()["errors"]["json"]["status"] == ["Is declined."]


def test_accept_rejects_a_bad_eta(api):
    _, [callup_id] = _open_callups()
    response = api.post(f"/callups/{callup_id}/accept", json={"eta_minutes": 7})
    assert response.status_code == 422 and "eta_minutes" in response.get_json()["errors"]["json"]


def test_accept_unknown_callup_answers_404(api):
    assert api.post("/callups/987654/accept", json={}).status_code == 404


def test_sms_reply_one_accepts_the_senders_open_callup(api):
    _, [callup_id] = _open_callups(mobile="13812345678")
    response = api.post("/sms/inbound", json={"from": "13812345678", "text": " 1 "})
    assert response.status_code == 200 and response.get_json()["status"] == "accepted"
    assert response.get_json()["answered_by"].startswith("sms:")


def test_sms_reply_two_declines(api):
    _, [callup_id] = _open_callups(mobile="13812345670")
    response = api.post("/sms/inbound", json={"from": "13812345670", "text": "2"})
    assert response.status_code == 200 and response.get_json()["status"] == "declined"


def test_sms_reply_without_or_with_several_open_callups_is_a_clear_4xx(api):
    none = api.post("/sms/inbound", json={"from": "13800000001", "text": "1"})
    assert none.status_code == 404
    now = utcnow()
    first = make_position(now=now)
    second = make_position(now=now)
    [one] = make_callups(first, 1, now=now, mobile="13800000002")
    db.session.add(CallUp(position_id=second.id, volunteer_id=one.volunteer_id, status=one.status, send_at=now))
    db.session.commit()
    send_due_callups(now=now)
    several = api.post("/sms/inbound", json={"from": "13800000002", "text": "1"})
    assert several.status_code == 409 and "text" in several.get_json()["errors"]["json"]
    garbage = api.post("/sms/inbound", json={"from": "13800000002", "text": "yes"})
    assert garbage.status_code == 422 and "text" in garbage.get_json()["errors"]["json"]


def test_inbox_lists_delivered_inapp_messages(app, api):
    _, [callup_id] = _open_callups()
    volunteer_id = db.session.get(CallUp, callup_id).volunteer_id
    assert api.get(f"/volunteers/{volunteer_id}/inbox").get_json() == []
    dispatch_outbox(now=utcnow(), channels=build_channels(app.config))
    [message] = api.get(f"/volunteers/{volunteer_id}/inbox").get_json()
    assert message["callup_id"] == callup_id and message["kind"] == "callup"
    assert "社区邀请您参加" in message["text"] and "/r/" not in message["text"]


def test_campaign_notifications_list_filters_by_status(api):
    position, [callup_id] = _open_callups()
    campaign_id = position.shift.campaign_id
    listed = api.get(f"/campaigns/{campaign_id}/notifications").get_json()
    assert [(n["callup_id"], n["status"]) for n in listed] == [(callup_id, "pending")]
    assert api.get(f"/campaigns/{campaign_id}/notifications?status=failed").get_json() == []
    assert api.get("/campaigns/987654/notifications").status_code == 404


def test_campaign_notifications_filter_by_kind_shows_the_office_notices(api):
    position, [a, b] = _open_callups(count=2, headcount=2)
    campaign_id = position.shift.campaign_id
    assert api.post(f"/callups/{a}/accept", json={}).status_code == 200
    assert api.post(f"/callups/{b}/decline", json={}).status_code == 200
    notices = api.get(f"/campaigns/{campaign_id}/notifications?kind=coordinator")
    assert notices.status_code == 200
    body = notices.get_json()
    assert [(n["callup_id"], n["kind"], n["channel"], n["volunteer_id"]) for n in body] == [
        (b, "coordinator", "inapp", None), (a, "coordinator", "inapp", None)]
    assert "拒绝了" in body[0]["text"] and body[0]["text"].endswith("(1/2)")
    everything = api.get(f"/campaigns/{campaign_id}/notifications").get_json()
    assert {n["kind"] for n in everything} >= {"coordinator", "confirmation", "callup"}
    assert all(n["text"] is None for n in everything if n["kind"] != "coordinator")
    assert api.get(f"/campaigns/{campaign_id}/notifications?kind=nope").status_code == 422
