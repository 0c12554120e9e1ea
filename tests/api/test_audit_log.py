"""The audit log: personal-data views, exports and erasure are recorded without personal values; the admin reads it."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from accounts.models import AuditEvent, Role
from accounts.services import create_token
from core.clock import utcnow
from core.masking import mask_mobile
from extensions import db
from tests.conftest import ApiClient
from tests.db.test_erasure import EMAIL_A, MOBILE_A, MOBILE_B, People, build_people

OFFICE_IP = "10.20.30.40"
HOME_IP = "192.0.2.7"


@pytest.fixture
def people(tree) -> People:
    return build_people(tree)


def _office(client, tree) -> tuple[ApiClient, int]:
    row, plain = create_token(name="江南社区办公室", role=Role.OFFICE, grid_id=tree.community_a.id, now=utcnow())
    return ApiClient(client, plain), row.id


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_detail_view_export_and_erasure_are_audited_with_actor_and_ip(client, tree, people):
    office, office_token_id = _office(client, tree)
    assert office.get(f"/volunteers/{people.a.id}", environ_base={"REMOTE_ADDR": OFFICE_IP}).status_code == 200
    assert office.get("/volunteers/export", environ_base={"REMOTE_ADDR": OFFICE_IP}).status_code == 200
    me = ApiClient(client, people.token_a)
    assert me.get("/me/data", environ_base={"REMOTE_ADDR": HOME_IP}).status_code == 200
    assert me.post("/me/erasure", json={"confirm": True}, environ_base={"REMOTE_ADDR": HOME_IP}).status_code == 200

    [view] = _events("GET volunteers.VolunteerById")
    assert (view.actor == f"token:{office_token_id}", view.role, view.ip) == (True, "office", OFFICE_IP)
    assert (view.object_type, view.object_id, view.outcome) == ("volunteer", str(people.a.id), "200")
    [export] = _events("GET volunteers.VolunteerExport")
    assert (export.role, export.ip, export.outcome) == ("office", OFFICE_IP, "200")
    [download] = _events("GET accounts.MyData")
    assert (download.actor == f"token:{people.token_a_row.id}", download.ip) == (True, HOME_IP)
    [request] = _events("POST accounts.MyErasure")
    assert (request.role, request.ip, request.outcome) == ("volunteer", HOME_IP, "200")
    [erased] = _events("volunteer.erased")
    assert (erased.object_type, erased.object_id, erased.outcome) == ("volunteer", str(people.a.id), "ok")
    assert erased.actor == request.actor


def test_audit_log_never_holds_a_mobile_number_or_other_personal_value(client, tree, people):
    """Scans every column of every audit row after views, a search by number, an export and an erasure."""
    office, _ = _office(client, tree)
    office.get(f"/volunteers/{people.a.id}")
    office.get(f"/volunteers/{people.b.id}")
    office.get("/volunteers", query_string={"q": MOBILE_B})
    office.get("/volunteers/export", query_string={"q": MOBILE_A})
    office.patch(f"/volunteers/{people.b.id}", json={"mobile": "13700009999"})
    ApiClient(client, people.token_a).post("/me/erasure", json={"confirm": True})
    secrets = [MOBILE_A, MOBILE_B, "13700009999", mask_mobile(MOBILE_A), EMAIL_A, "李娜", "王强", "党支部"]
    rows = db.session.execute(AuditEvent.__table__.select()).mappings().all()
    assert len(rows) >= 6
    leaks = [f"{row['id']}.{column}={value}" for row in rows for column, value in row.items()
             if value is not None and any(secret in str(value) for secret in secrets)]
    assert leaks == []


def test_admin_reads_audit_events_with_filters(api, client, tree, people):
    office, office_token_id = _office(client, tree)
    office.get(f"/volunteers/{people.a.id}")
    office.get(f"/volunteers/{people.b.id}")
    ApiClient(client, people.token_a).get("/me/data")

    everything = api.get("/audit-events")
    assert everything.status_code == 200 and "X-Pagination" in everything.headers
    views = api.get("/audit-events", query_string={"action": "GET volunteers.VolunteerById"}).get_json()
    assert [e["object_id"] for e in views] == [str(people.b.id), str(people.a.id)]  # newest first
    assert all(e["ip"] == "127.0.0.1" and e["role"] == "office" for e in views)
    one = api.get("/audit-events", query_string={"object_type": "volunteer", "object_id": str(people.b.id)}).get_json()
    assert [e["action"] for e in one] == ["GET volunteers.VolunteerById"]
    by_actor = api.get("/audit-events", query_string={"actor": f"token:{office_token_id}"}).get_json()
    assert len(by_actor) == 2
    paged = api.get("/audit-events", query_string={"action": "GET ", "page_size": 1})
    assert len(paged.get_json()) == 1 and '"total": 3' in paged.headers["X-Pagination"]
    later = (utcnow() + timedelta(minutes=5)).isoformat()
    assert api.get("/audit-events", query_string={"since": later}).get_json() == []
    assert len(api.get("/audit-events", query_string={"until": later, "action": "GET accounts."}).get_json()) == 1


def test_audit_events_refused_to_office_and_volunteer_and_the_refusal_is_audited(client, tree, people):
    office, office_token_id = _office(client, tree)
    for caller in (office, ApiClient(client, people.token_a)):
        response = caller.get("/audit-events")
        assert response.status_code == 403
    refused = _events("GET accounts.AuditEvents")
    assert [(e.role, e.outcome) for e in refused] == [("office", "refused"), ("volunteer", "refused")]


@pytest.mark.parametrize("query, field", [
    ({"since": "yesterday"}, "since"),
    ({"since": "2026-11-02T00:00:00+08:00", "until": "2026-11-01T00:00:00+08:00"}, "until"),
    ({"actor": "x" * 101}, "actor"),
])
def test_audit_events_bad_filters_name_the_field(api, query, field):
    response = api.get("/audit-events", query_string=query)
    assert response.status_code == 422 and field in response.get_json()["errors"]["query"]
