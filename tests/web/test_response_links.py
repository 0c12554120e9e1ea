"""The /r/<token> answer pages: GET shows, the page's script records 'seen', only POST answers."""
from __future__ import annotations

from datetime import timedelta

import pytest

from notices.links import PATH_PREFIX, _issue_link
from campaigns.models import CallUp, CallUpStatus, Position
from core.clock import utcnow
from extensions import db
from tests.scheduler.helpers import make_position, sent_callups


def _link(headcount=1, window=timedelta(hours=1), count=1):
    now = utcnow()
    position = make_position(now=now, headcount=headcount)
    callups = sent_callups(position, count, now=now, window=window)
    tokens = [_issue_link(c.id, expires_at=c.expires_at, now=now) for c in callups]
    db.session.commit()
    return position, [c.id for c in callups], tokens


def _callup(callup_id):
    db.session.expire_all()
    return db.session.get(CallUp, callup_id)


def test_link_get_shows_the_callup_and_changes_nothing_then_the_page_script_records_seen(client):
    _, [callup_id], [token] = _link()
    assert len(PATH_PREFIX + token) <= 40
    response = client.get(f"/r/{token}")
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "no-referrer"
    page = response.get_data(as_text=True)
    assert "江南社区服务中心" in page and "王主任" in page and 'value="accept"' in page and 'method="post"' in page
    assert f'data-seen-url="/r/{token}/seen"' in page and "/static/seen.js" in page
    client.head(f"/r/{token}")
    callup = _callup(callup_id)
    assert callup.status is CallUpStatus.SENT and callup.seen_at is None  # a link preview is not a person
    assert client.post(f"/r/{token}/seen").status_code == 204
    first_seen = _callup(callup_id).seen_at
    assert first_seen is not None
    assert client.post(f"/r/{token}/seen").status_code == 204
    assert _callup(callup_id).seen_at == first_seen


def test_link_post_accepts_then_decline_withdraws(client):
    position, [callup_id], [token] = _link()
    accepted = client.post(f"/r/{token}", data={"action": "accept"})
    assert accepted.status_code == 200 and 'id="done"' in accepted.get_data(as_text=True)
    assert _callup(callup_id).status is CallUpStatus.ACCEPTED
    assert _callup(callup_id).answered_by == f"link:volunteer:{_callup(callup_id).volunteer_id}"
    assert client.post(f"/r/{token}", data={"action": "accept"}).status_code == 200
    assert client.post(f"/r/{token}", data={"action": "decline"}).status_code == 200
    assert _callup(callup_id).status is CallUpStatus.DECLINED
    assert db.session.get(Position, position.id).accepted_count == 0


def test_link_post_when_full_answers_409_page(client):
    _, [a, b], [token_a, token_b] = _link(headcount=1, count=2)
    client.post(f"/r/{token_a}", data={"action": "accept"})
    full = client.post(f"/r/{token_b}", data={"action": "accept"})
    assert full.status_code == 409 and 'id="conflict"' in full.get_data(as_text=True)
    assert _callup(b).standby_at is not None


@pytest.mark.parametrize("action", ["", "delete", "ACCEPT"])
def test_link_post_needs_a_known_action(client, action):
    _, [callup_id], [token] = _link()
    assert client.post(f"/r/{token}", data={"action": action}).status_code == 400
    assert _callup(callup_id).status is CallUpStatus.SENT


def test_unknown_link_is_404_and_expired_link_is_410(client):
    assert client.get("/r/not-a-real-token").status_code == 404
    assert client.post("/r/not-a-real-token", data={"action": "accept"}).status_code == 404
    now = utcnow()
    position = make_position(now=now)
    [callup] = sent_callups(position, 1, now=now, window=timedelta(hours=1))
    token = _issue_link(callup.id, expires_at=now - timedelta(seconds=1), now=now)
    db.session.commit()
    gone = client.get(f"/r/{token}")
    assert gone.status_code == 410 and "过期" in gone.get_data(as_text=True)
    assert gone.headers["Referrer-Policy"] == "no-referrer"
    assert client.post(f"/r/{token}", data={"action": "accept"}).status_code == 410
    assert _callup(callup.id).status is CallUpStatus.SENT


@pytest.mark.browser
def test_link_page_in_a_browser_accepts_with_one_tap(page, live_server):
    _, [callup_id], [token] = _link()
    db.session.rollback()
    page.goto(f"{live_server}/r/{token}")
    assert page.locator("#what").inner_text()
    assert _callup(callup_id).status is CallUpStatus.SENT
    db.session.rollback()
    page.click("#accept")
    page.wait_for_selector("#done")
    assert page.locator("#status").get_attribute("data-status") == "accepted"
    assert page.locator("#status").inner_text() == "已接受"
    assert _callup(callup_id).status is CallUpStatus.ACCEPTED


def test_one_tap_reads_the_callup_once(client):
    """The whole request behind a tap: the link, the call-up with its person read once for the page's checks,
    the answer and the page after it, the place, the move with its event, the messages."""
    from tests.db.test_places_accept_queries import counted_statements

    _, [first_id, second_id], [first, second] = _link(headcount=1, count=2)
    db.session.rollback()
    for token, status in ((first, 200), (second, 409)):  # a place taken, then standby on a full position
        with counted_statements() as statements:
            assert client.post(f"/r/{token}", data={"action": "accept"}).status_code == status
        loads = [sql for sql in statements if sql.lstrip().startswith("SELECT") and "JOIN campaigns" in sql]
        assert len(loads) == 1, "\n\n".join(loads)
        assert len(statements) <= 7, "\n\n".join(statements)
    assert _callup(first_id).status is CallUpStatus.ACCEPTED and _callup(second_id).standby_at is not None
