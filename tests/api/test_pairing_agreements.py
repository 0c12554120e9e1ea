"""Pairing agreements: the office that signed records them, the enterprise and every office read them, with
whether each is in force; bad input names the field and writes nothing."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from accounts.models import Role
from accounts.services import create_token
from core.clock import utcnow
from extensions import db
from tests.conftest import ApiClient
from tests.factories import EnterpriseFactory
from volunteers.models import PairingAgreement


def _client(client, role: Role, **binding) -> ApiClient:
    return ApiClient(client, create_token(name=f"test {role.value}", role=role, now=utcnow(), **binding)[1])


def test_an_office_records_an_agreement_and_the_enterprise_reads_its_state(client, tree):
    enterprise = EnterpriseFactory()
    office = _client(client, Role.OFFICE, grid_id=tree.community_a.id)
    today = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date()  # the office's day, as the service counts
    old = office.post("/pairing-agreements", json={
        "enterprise_id": enterprise.id, "grid_id": tree.community_a.id, "signed_on": str(today - timedelta(days=400)),
        "valid_until": str(today + timedelta(days=10)), "note": "2025 共建协议"})
    assert old.status_code == 201, old.get_json()
    assert old.get_json()["state"] == "ending" and old.get_json()["days_left"] == 10
    renewed = office.post("/pairing-agreements", json={
        "enterprise_id": enterprise.id, "grid_id": tree.community_a.id, "signed_on": str(today),
        "valid_until": str(today + timedelta(days=365))})
    assert renewed.status_code == 201 and renewed.get_json()["state"] == "valid"

    mine = _client(client, Role.ENTERPRISE, enterprise_id=enterprise.id)
    listed = mine.get(f"/enterprises/{enterprise.id}/agreements").get_json()
    assert [(row["grid_name"], row["state"]) for row in listed] == [("江南社区", "valid"), ("江南社区", "superseded")]
    other_office = _client(client, Role.OFFICE, grid_id=tree.community_b.id)
    assert len(other_office.get(f"/enterprises/{enterprise.id}/agreements").get_json()) == 2
    stranger = _client(client, Role.ENTERPRISE, enterprise_id=EnterpriseFactory().id)
    assert stranger.get(f"/enterprises/{enterprise.id}/agreements").status_code == 404


def test_bad_agreements_name_the_field_and_write_nothing(client, tree):
    enterprise = EnterpriseFactory()
    office = _client(client, Role.OFFICE, grid_id=tree.community_a.id)
    body = {"enterprise_id": enterprise.id, "grid_id": tree.community_a.id, "signed_on": "2026-01-01",
            "valid_until": "2026-12-31"}
    cases = [({"grid_id": tree.community_b.id}, 422, "grid_id"), ({"grid_id": tree.grid_a1.id}, 422, "grid_id"),
             ({"valid_until": "2025-12-31"}, 422, "valid_until"), ({"signed_on": "2026-13-01"}, 422, "signed_on"),
             ({"enterprise_id": 99999}, 404, None), ({"grid_id": None}, 422, "grid_id")]
    for change, status, field in cases:
        answer = office.post("/pairing-agreements", json={**body, **change})
        assert answer.status_code == status, (change, answer.get_json())
        if field:
            assert field in answer.get_json()["errors"]["json"], (change, answer.get_json())
    assert office.post("/pairing-agreements", json=body).status_code == 201
    again = office.post("/pairing-agreements", json=body)
    assert again.status_code == 409 and "signed_on" in again.get_json()["errors"]["json"]
    pending = EnterpriseFactory(status="pending")
    assert office.post("/pairing-agreements", json={**body, "enterprise_id": pending.id}).status_code == 409
    assert db.session.scalar(select(func.count()).select_from(PairingAgreement)) == 1
    volunteer = _client(client, Role.ENTERPRISE, enterprise_id=enterprise.id)
    assert volunteer.post("/pairing-agreements", json=body).status_code == 403
