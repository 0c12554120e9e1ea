"""Issue #11 through the API: lists keep party membership out and are audited, conflicts name no one,
roster checks are limited and audited, token login answers unknown logins like known ones, tokens expire,
answers to cancelled or ended campaigns are refused."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from accounts.models import AuditEvent, Role
from accounts.services import create_token
from accounts.users import create_user
from notices.models import Notification
from campaigns.models import CallUp, CallUpStatus, Position
from campaigns.responses import accept_callup
from campaigns.services import cancel_campaign
from core.clock import utcnow
from extensions import db
from tests.conftest import ApiClient, volunteer_body
from tests.scheduler.helpers import make_position, sent_callups

PASSWORD = "river-stone-42"


def _office(client, grid_id) -> ApiClient:
    _, plain = create_token(name="office", role=Role.OFFICE, now=utcnow(), grid_id=grid_id)
    return ApiClient(client, plain)


def _audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_hardening_volunteer_list_omits_party_membership_for_everyone_and_is_audited(api, tree):
    created = api.post("/volunteers", json=volunteer_body(tree.grid_a1.id)).get_json()
    assert "party_member" in created["identities"] and created["party_branch"]  # the detail view keeps it
    listed = api.get("/volunteers").get_json()
    assert listed[0]["identities"] == ["building_leader"] and "party_branch" not in listed[0]
    assert listed[0]["mobile"] == "139****5678"
    [event] = _audit("GET volunteers.Volunteers")
    assert event.detail.startswith("count=1") and "139" not in event.detail


def test_hardening_enterprise_list_masks_contact_mobiles_even_for_the_admin(api, client, tree):
    enterprise = api.post("/enterprises", json={"name": "钱塘物业", "contact_name": "赵经理",
                                                "contact_mobile": "13700001111"}).get_json()
    assert api.get("/enterprises").get_json()[0]["contact_mobile"] == "137****1111"
    office = _office(client, tree.community_a.id)
    assert office.get("/enterprises").get_json()[0]["contact_mobile"] == "137****1111"
    assert api.get(f"/enterprises/{enterprise['id']}").get_json()["contact_mobile"] == "13700001111"
    assert [e.detail.split(";")[0] for e in _audit("GET teams.Enterprises")] == ["count=1", "count=1"]


def test_hardening_mobile_conflict_outside_scope_names_no_one(api, client, tree):
    outsider = api.post("/volunteers", json=volunteer_body(tree.grid_b1.id, mobile="13911112222")).get_json()
    insider = api.post("/volunteers", json=volunteer_body(tree.grid_a2.id, mobile="13933334444")).get_json()
    office = _office(client, tree.community_a.id)
    outside = office.post("/volunteers", json=volunteer_body(tree.grid_a1.id, mobile="13911112222"))
    inside = office.post("/volunteers", json=volunteer_body(tree.grid_a1.id, mobile="13933334444"))
    assert outside.status_code == inside.status_code == 409
    assert outside.get_json() == inside.get_json()
    text = outside.get_data(as_text=True)
    for secret in ("13911112222", str(outsider["id"]), "张伟", "湘湖", str(tree.grid_b1.id)):
        assert secret not in text
    mine = office.post("/volunteers", json=volunteer_body(tree.grid_a1.id, mobile="13955556666")).get_json()
    patched = office.patch(f"/volunteers/{mine['id']}", json={"mobile": "13911112222"})
    assert patched.status_code == 409 and patched.get_json() == outside.get_json()
    assert insider["id"] not in (None, mine["id"])


def _roster(mobiles) -> dict:
    lines = ["姓名,手机号,网格编码"] + [f"王{i},{m},CA1" for i, m in enumerate(mobiles)]
    return {"file": (io.BytesIO("\n".join(lines).encode("utf-8")), "roster.csv")}


def test_hardening_roster_dry_runs_are_rate_limited_per_caller_and_audited_with_counts(app, api, client, tree,
                                                                                      monkeypatch):
    monkeypatch.setitem(app.config, "ROSTER_CHECK_RATE_LIMIT", "2 per hour")
    api.post("/volunteers", json=volunteer_body(tree.grid_b1.id, mobile="13911112222"))
    office = _office(client, tree.community_a.id)
    codes = [office.post("/volunteers/import?dry_run=true&skip_bad_rows=true",
                         data=_roster(["13911112222", "13900000001", "13900000002"]),
                         content_type="multipart/form-data").status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    events = _audit("POST volunteers.VolunteerImport")
    assert [e.outcome for e in events] == ["200", "200", "429"]
    assert events[0].detail.startswith("rows=3; registered=1; dry_run=true")
    assert all("1391111" not in (e.detail or "") for e in events)
    # Another caller has its own allowance.
    assert api.post("/volunteers/import?dry_run=true", data=_roster(["13900000003"]),
                    content_type="multipart/form-data").status_code == 200


def test_hardening_token_login_unknown_login_is_indistinguishable(app, client, tree, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES", 2)
    create_user(login="admin", display_name="管理员", password=PASSWORD, role=Role.ADMIN, actor="t", now=utcnow())

    def attempts(login):
        answers = [client.post("/api/v1/auth/token", json={"login": login, "password": "guess-guess"})
                   for _ in range(3)]
        return [(r.status_code, r.get_json()) for r in answers]

    assert attempts("admin") == attempts("no-such-login")
    assert [code for code, _ in attempts("admin")][-1] == 429


def test_hardening_post_tokens_defaults_to_90_days_and_shows_it(api):
    before = utcnow()
    created = api.post("/tokens", json={"name": "gateway", "role": "gateway"})
    assert created.status_code == 201
    body = created.get_json()
    assert body["expires_at"] is not None and body["token"]
    from accounts.models import ApiToken
    token = db.session.get(ApiToken, body["id"])
    assert timedelta(days=90) <= token.expires_at - before <= timedelta(days=90, minutes=1)


def test_hardening_cli_token_create_prints_the_expiry(runner):
    result = runner.invoke(args=["tokens", "create", "--name", "gw", "--role", "gateway", "--days", "30"])
    assert result.exit_code == 0, result.output
    assert "expires " in result.output and (utcnow() + timedelta(days=30)).strftime("%Y-%m-%d") in result.output


def _notifications() -> int:
    return db.session.scalar(select(func.count()).select_from(Notification))


def test_hardening_decline_after_cancellation_is_409_and_changes_nothing(api):
    now = utcnow()
    position = make_position(now=now, headcount=2)
    [callup] = sent_callups(position, 1, now=now)
    accept_callup(callup.id, actor="test", now=now)
    cancel_campaign(position.shift.campaign_id, reason="大雨", actor="test", now=now)
    before = _notifications()
    answer = api.post(f"/callups/{callup.id}/decline", json={})
    assert answer.status_code == 409 and answer.get_json()["errors"]["json"] == {"campaign": ["Is cancelled."]}
    db.session.expire_all()
    assert db.session.get(CallUp, callup.id).status is CallUpStatus.ACCEPTED
    assert db.session.get(Position, position.id).accepted_count == 1
    assert _notifications() == before


def test_hardening_answers_after_the_shift_ended_are_409(api):
    now = utcnow()
    position = make_position(now=now - timedelta(hours=5), headcount=1, starts_in=timedelta(hours=1))
    [callup] = sent_callups(position, 1, now=now, window=timedelta(hours=1))  # a stale deadline past the shift
    answer = api.post(f"/callups/{callup.id}/accept", json={})
    assert answer.status_code == 409 and answer.get_json()["errors"]["json"] == {"shift": ["Has ended."]}
    db.session.expire_all()
    assert db.session.get(CallUp, callup.id).status is CallUpStatus.SENT
    assert db.session.get(Position, position.id).accepted_count == 0
