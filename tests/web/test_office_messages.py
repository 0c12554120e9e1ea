"""Failed messages on the board: the clerk sees who missed which message and why, and sends them again once the
gateway is back; a real HTTP receiver plays the SMS gateway going down and coming back."""
from __future__ import annotations

from sqlalchemy import update

from notices.channels import build_channels, close_channels
from callups.dispatch import dispatch_outbox, send_due_callups
from notices.models import Notification, NotificationStatus
from core.clock import utcnow
from extensions import db
from tests.conftest import form_csrf_token
from tests.scheduler.helpers import make_callups, make_position, outbox
from volunteers.models import Volunteer


def _dispatch(app, now) -> None:
    channels = build_channels(app.config)
    try:
        dispatch_outbox(now=now, channels=channels)
    finally:
        close_channels(channels)


def test_failed_messages_are_listed_by_person_and_sent_again_once_the_gateway_is_back(
        app, login_as, tree, channels_config, http_receiver):
    now = utcnow()
    position = make_position(now=now, office_grid_id=tree.community_a.id, title="燃气安全入户宣传")
    callups = make_callups(position, 2, now=now)
    send_due_callups(now=now)
    # One try, so the outage fails them at once; due now whatever the hour (quiet hours would hold them).
    db.session.execute(update(Notification).values(max_attempts=1, due_at=now))
    db.session.commit()
    http_receiver.status = 503  # the gateway is down
    _dispatch(app, now)
    failed = outbox(status=NotificationStatus.FAILED)
    assert len(failed) >= 2
    campaign_id = position.shift.campaign_id
    office = login_as("office", grid_id=tree.community_a.id)

    board = office.get(f"/office/campaigns/{campaign_id}").get_data(as_text=True)
    assert f'class="alert">{len(failed)}' in board and "查看并重发" in board
    page = office.get(f"/office/campaigns/{campaign_id}/messages")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and f"共 {len(failed)} 条" in text
    assert text.count('data-status="failed"') == len(failed)
    for callup in callups:
        assert db.session.get(Volunteer, callup.volunteer_id).name in text
    assert "<td data-label=\"状态\">失败</td>" in text and "Failed" not in text and "503" in text
    assert "all" in office.get(f"/office/campaigns/{campaign_id}/messages?status=all").get_data(as_text=True)
    assert office.get(f"/office/campaigns/{campaign_id}/messages?status=lost").status_code == 400

    http_receiver.status = 200  # back
    token = form_csrf_token(page)
    response = office.post(f"/office/campaigns/{campaign_id}/messages/retry", data={"csrf_token": token})
    assert response.status_code == 302
    assert f"已重新发送 {len(failed)} 条" in office.get(response.headers["Location"]).get_data(as_text=True)
    again = office.post(f"/office/campaigns/{campaign_id}/messages/retry", data={"csrf_token": token})
    assert "已重新发送 0 条" in office.get(again.headers["Location"]).get_data(as_text=True)  # never twice
    _dispatch(app, utcnow())
    assert outbox(status=NotificationStatus.FAILED) == []
    delivered = [r for r in http_receiver.requests if r["status"] == 200]
    assert len(delivered) == len(failed)
    assert len({r["key"] for r in delivered}) == len(failed)  # each message once, by its idempotency key

    stranger = login_as("office", grid_id=tree.community_b.id)
    assert stranger.get(f"/office/campaigns/{campaign_id}/messages").status_code == 404
    assert stranger.post(f"/office/campaigns/{campaign_id}/messages/retry",
                         data={"csrf_token": form_csrf_token(stranger.get("/office/campaigns"))}).status_code == 404
