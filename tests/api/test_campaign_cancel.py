"""POST /campaigns/{id}/cancel as outside clients call it."""
from notices.models import Notification, NotificationKind
from campaigns.models import CallUp, CallUpStatus
from extensions import db
from tests.api.test_campaigns import campaign_body
from tests.api.test_match_publish import _people


def test_cancel_answers_cancelled_campaign_and_withdraws_callups(api, tree):
    _people(api, tree, 3)
    campaign = api.post("/campaigns", json=campaign_body(tree)).get_json()
    api.post(f"/campaigns/{campaign['id']}/publish")
    response = api.post(f"/campaigns/{campaign['id']}/cancel", json={"reason": "  台风预警  "})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["cancel_reason"]) == ("cancelled", "台风预警") and body["cancelled_at"]
    callups = api.get(f"/campaigns/{campaign['id']}/callups").get_json()
    assert len(callups) == 3 and {c["status"] for c in callups} == {"withdrawn"}
    again = api.post(f"/campaigns/{campaign['id']}/cancel", json={"reason": "再次"})
    assert again.status_code == 409 and "status" in again.get_json()["errors"]["json"]


def test_cancel_tells_the_accepted_person(api, tree):
    _people(api, tree, 1)
    campaign = api.post("/campaigns", json=campaign_body(tree)).get_json()
    api.post(f"/campaigns/{campaign['id']}/publish")
    [callup] = db.session.scalars(db.select(CallUp)).all()
    # Accepted by phone before the cancel (set directly: the send path is tested elsewhere).
    db.session.execute(db.update(CallUp).where(CallUp.id == callup.id).values(status=CallUpStatus.ACCEPTED))
    db.session.commit()
    assert api.post(f"/campaigns/{campaign['id']}/cancel", json={"reason": "取消"}).status_code == 200
    kinds = db.session.scalars(db.select(Notification.kind).where(Notification.callup_id == callup.id)).all()
    assert kinds == [NotificationKind.CANCELLATION]


def test_cancel_validates_the_reason_and_the_id(api, tree):
    campaign = api.post("/campaigns", json=campaign_body(tree)).get_json()
    url = f"/campaigns/{campaign['id']}/cancel"
    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 501}, {"reason": 5}):
        response = api.post(url, json=body)
        assert response.status_code == 422, body
        assert "reason" in response.get_json()["errors"]["json"], body
    assert api.post("/campaigns/4242/cancel", json={"reason": "x"}).status_code == 404
    assert api.get(f"/campaigns/{campaign['id']}").get_json()["status"] == "draft"
    assert api.post(url, json={"reason": "x" * 500}).status_code == 200
