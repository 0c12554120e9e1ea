"""/api/v1/tokens: the admin issues, lists and revokes API tokens; values are shown once and stored hashed."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from accounts.models import ApiToken, Role
from accounts.services import create_token, hash_token
from core.clock import utcnow
from extensions import db
from tests.conftest import ApiClient
from tests.factories import VolunteerFactory


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_tokens_create_returns_the_value_once_and_stores_its_hash(api, tree):
    response = api.post("/tokens", json={"name": "江南社区办公室", "role": "office", "grid_id": tree.community_a.id})
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["token"].startswith("gm_") and (body["role"], body["grid_id"]) == ("office", tree.community_a.id)
    row = db.session.get(ApiToken, body["id"])
    assert row.token_hash == hash_token(body["token"]) != body["token"]
    listed = api.get("/tokens")
    assert body["id"] in {t["id"] for t in listed.get_json()}
    assert body["token"] not in listed.get_data(as_text=True) and row.token_hash not in listed.get_data(as_text=True)
    assert all("token" not in t and "token_hash" not in t for t in listed.get_json())


def test_tokens_created_token_works_in_its_scope_and_records_last_use(api, client, tree):
    body = api.post("/tokens", json={"name": "江南社区", "role": "office", "grid_id": tree.community_a.id}).get_json()
    assert body["last_used_at"] is None
    office = ApiClient(client, body["token"])
    grids = office.get("/grids").get_json()
    assert {g["code"] for g in grids} == {"CA", "CA1", "CA2"}
    assert office.get("/tokens").status_code == 403
    listed = {t["id"]: t for t in api.get("/tokens").get_json()}
    assert listed[body["id"]]["last_used_at"] is not None


def test_tokens_expiry_by_days_or_time(api, tree):
    before = utcnow()
    by_days = api.post("/tokens", json={"name": "短期", "role": "admin", "expires_in_days": 30}).get_json()
    assert timedelta(days=30) <= _at(by_days["expires_at"]) - before < timedelta(days=30, minutes=1)
    when = (before + timedelta(days=2)).replace(microsecond=0)
    by_time = api.post("/tokens", json={"name": "定时", "role": "admin", "expires_at": when.isoformat()}).get_json()
    assert _at(by_time["expires_at"]) == when


@pytest.mark.parametrize("body, field", [
    ({"role": "admin"}, "name"),
    ({"name": "x", "role": "boss"}, "role"),
    ({"name": "x", "role": "office"}, "grid_id"),
    ({"name": "x", "role": "volunteer"}, "volunteer_id"),
    ({"name": "x", "role": "enterprise"}, "enterprise_id"),
    ({"name": "x", "role": "office", "grid_id": 99999}, "grid_id"),
    ({"name": "x", "role": "volunteer", "volunteer_id": 99999}, "volunteer_id"),
    ({"name": "x", "role": "gateway", "grid_id": "GRID"}, "grid_id"),
    ({"name": "x", "role": "admin", "expires_in_days": 0}, "expires_in_days"),
    ({"name": "x", "role": "admin", "expires_in_days": 3, "expires_at": "2030-01-01T00:00:00+08:00"},
     "expires_in_days"),
    ({"name": "x", "role": "admin", "expires_at": "2020-01-01T00:00:00+08:00"}, "expires_at"),
    ({"name": "x", "role": "admin", "token_hash": "abc"}, "token_hash"),
])
def test_tokens_create_bad_input_names_the_field(api, tree, body, field):
    response = api.post("/tokens", json=body)
    assert response.status_code == 422 and field in response.get_json()["errors"]["json"], response.get_json()


def test_tokens_binding_must_fit_the_role(api, tree):
    person = VolunteerFactory(home_grid_id=tree.grid_a1.id)
    db.session.commit()
    wrong = api.post("/tokens", json={"name": "x", "role": "volunteer", "volunteer_id": person.id,
                                      "grid_id": tree.community_a.id})
    assert wrong.status_code == 422 and "grid_id" in wrong.get_json()["errors"]["json"]
    right = api.post("/tokens", json={"name": "张三的手机", "role": "volunteer", "volunteer_id": person.id})
    assert right.status_code == 201 and right.get_json()["volunteer_id"] == person.id
    count = db.session.scalar(select(ApiToken.id).where(ApiToken.volunteer_id == person.id))
    assert count == right.get_json()["id"]


def test_tokens_revoke_is_idempotent_and_ends_the_token(api, client, tree):
    row, plain = create_token(name="integration", role=Role.OFFICE, grid_id=tree.street.id, now=utcnow())
    holder = ApiClient(client, plain)
    assert holder.get("/grids").status_code == 200
    first = api.delete(f"/tokens/{row.id}")
    assert first.status_code == 200 and first.get_json()["revoked_at"] is not None
    assert holder.get("/grids").status_code == 401
    second = api.delete(f"/tokens/{row.id}")
    assert second.status_code == 200 and second.get_json()["revoked_at"] == first.get_json()["revoked_at"]
    listed = {t["id"]: t for t in api.get("/tokens").get_json()}
    assert listed[row.id]["revoked_at"] == first.get_json()["revoked_at"]
    assert api.delete("/tokens/424242").status_code == 404


def test_tokens_api_is_admin_only(client, tree):
    person = VolunteerFactory(home_grid_id=tree.grid_a1.id)
    db.session.commit()
    target, _ = create_token(name="target", role=Role.ADMIN, now=utcnow())
    for role, binding in ((Role.OFFICE, {"grid_id": tree.district.id}), (Role.VOLUNTEER, {"volunteer_id": person.id})):
        caller = ApiClient(client, create_token(name="not admin", role=role, now=utcnow(), **binding)[1])
        assert caller.get("/tokens").status_code == 403
        assert caller.post("/tokens", json={"name": "x", "role": "admin"}).status_code == 403
        assert caller.delete(f"/tokens/{target.id}").status_code == 403
    assert db.session.get(ApiToken, target.id).revoked_at is None
    assert db.session.scalar(select(ApiToken.id).where(ApiToken.name == "x")) is None
