"""Issue #11 on the pages: registration tells nothing before the code, sign-out everywhere, closed answer links."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from accounts.models import ApiToken, Role
from accounts.services import authenticate, create_token
from notices.links import _issue_link
from notices.models import Notification
from campaigns.models import CallUp, CallUpStatus, Position
from campaigns.responses import accept_callup
from campaigns.services import cancel_campaign
from core.clock import utcnow
from extensions import db
from tests.conftest import form_csrf_token
from tests.factories import VolunteerFactory
from tests.scheduler.helpers import make_position, sent_callups
from tests.web.test_sign_in import request_code, sent_code


def _normalised(page: str) -> str:
    """The page without what differs per request anyway: the CSRF token and the masked number."""
    page = re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "", page)
    return re.sub(r"1\d{2}\*{4}\d{4}|1[3-9]\d{9}", "<mobile>", page)


def test_hardening_register_code_step_is_the_same_for_known_and_new_numbers(page_client, tree):
    VolunteerFactory(mobile="13911112222", home_grid_id=tree.grid_b1.id)
    db.session.commit()
    known = request_code(page_client, "13911112222")
    new = request_code(page_client, "13933334444")
    assert known.status_code == new.status_code == 200
    assert _normalised(known.get_data(as_text=True)) == _normalised(new.get_data(as_text=True))
    assert 'id="mobile-error"' not in known.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 2  # both got an SMS


def test_hardening_register_with_a_wrong_code_reveals_nothing_and_creates_nothing(page_client, tree):
    VolunteerFactory(mobile="13911112222", home_grid_id=tree.grid_b1.id)
    db.session.commit()
    page = request_code(page_client, "13911112222")
    code = sent_code("13911112222")
    wrong = "000000" if code != "000000" else "111111"
    response = page_client.post("/register", data={
        "csrf_token": form_csrf_token(page), "code": wrong, "name": "冒名", "mobile": "13911112222",
        "home_grid_id": str(tree.grid_a1.id), "password": "river-stone-42", "confirm": "river-stone-42",
        "consent": "y"})
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="code-error"' in text and 'id="mobile-error"' not in text


def test_hardening_sign_out_everywhere_from_me_revokes_app_tokens(login_as):
    client = login_as("office")
    _, plain = create_token(name="app", role=Role.OFFICE, now=utcnow(), grid_id=client.user.grid_id,
                            user_id=client.user.id)
    me = client.get("/me")
    assert 'id="logout-everywhere"' in me.get_data(as_text=True)
    response = client.post("/logout", data={"csrf_token": form_csrf_token(me), "everywhere": "y"})
    assert response.status_code == 302 and client.get("/me").status_code == 302
    assert authenticate(plain, now=utcnow()) is None
    assert db.session.scalar(select(ApiToken.revoked_at)) is not None


def test_hardening_plain_sign_out_leaves_app_tokens_working(login_as):
    client = login_as("office")
    _, plain = create_token(name="app", role=Role.OFFICE, now=utcnow(), grid_id=client.user.grid_id,
                            user_id=client.user.id)
    client.post("/logout", data={"csrf_token": form_csrf_token(client.get("/me"))})
    assert client.get("/me").status_code == 302
    assert authenticate(plain, now=utcnow()) is not None


def test_hardening_link_decline_after_cancellation_is_409_and_changes_nothing(client):
    now = utcnow()
    position = make_position(now=now, headcount=2)
    [callup] = sent_callups(position, 1, now=now)
    token = _issue_link(callup.id, expires_at=callup.expires_at, now=now)
    db.session.commit()
    accept_callup(callup.id, actor="test", now=now)
    cancel_campaign(position.shift.campaign_id, reason="大雨", actor="test", now=now)
    before = db.session.scalar(select(func.count()).select_from(Notification))
    response = client.post(f"/r/{token}", data={"action": "decline"})
    assert response.status_code == 409 and 'id="conflict"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(CallUp, callup.id).status is CallUpStatus.ACCEPTED
    assert db.session.get(Position, position.id).accepted_count == 1
    assert db.session.scalar(select(func.count()).select_from(Notification)) == before


def test_hardening_seen_endpoint_refuses_bad_links_and_is_not_a_get(client):
    assert client.post("/r/not-a-real-token/seen").status_code == 404
    assert client.get("/r/not-a-real-token/seen").status_code in (404, 405)
