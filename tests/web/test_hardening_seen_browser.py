"""Is a call-up 'seen' only when a person's browser runs the page (not when a link preview fetches it)?"""
from __future__ import annotations

import time
import urllib.request

import pytest

from notices.links import _issue_link
from campaigns.models import CallUp
from core.clock import utcnow
from extensions import db
from tests.scheduler.helpers import make_position, sent_callups

pytestmark = pytest.mark.browser


def _seen_at(callup_id):
    """Read, then end the transaction at once: on SQLite an open one would hold the server's write lock."""
    db.session.expire_all()
    seen = db.session.get(CallUp, callup_id).seen_at
    db.session.rollback()
    return seen


def test_hardening_preview_fetch_does_not_mark_seen_the_page_script_does_once(page, live_server):
    now = utcnow()
    [callup] = sent_callups(make_position(now=now), 1, now=now)
    callup_id = callup.id
    token = _issue_link(callup_id, expires_at=callup.expires_at, now=now)
    db.session.commit()  # the server's threads write: this test holds no SQLite lock while they do
    # What a chat app's link preview does: GET and HEAD, no script.
    for method in ("GET", "HEAD"):
        with urllib.request.urlopen(urllib.request.Request(f"{live_server}/r/{token}", method=method)) as answer:
            assert answer.status == 200
    assert _seen_at(callup_id) is None

    page.goto(f"{live_server}/r/{token}")
    deadline = time.monotonic() + 10
    while _seen_at(callup_id) is None and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    first = _seen_at(callup_id)
    assert first is not None
    page.reload()
    page.wait_for_timeout(500)
    assert _seen_at(callup_id) == first
    seen_posts = [url for url in page.requests_seen if url.endswith("/seen")]
    assert len(seen_posts) == 2  # once per page view; the server keeps the first time
