"""The grid-practice API: units, whistles, targets, rounds, visits and reports, each scoped to the caller."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from accounts.models import AuditEvent, Role
from accounts.services import create_token
from core.clock import utcnow
from extensions import db
from tests.conftest import ApiClient
from tests.factories import VolunteerFactory
from volunteers.models import Identity


@pytest.fixture
def offices(client, tree):
    def token(**spec):
        return ApiClient(client, create_token(name="t", now=utcnow(), **spec)[1])
    return {"a": token(role=Role.OFFICE, grid_id=tree.community_a.id),
            "b": token(role=Role.OFFICE, grid_id=tree.community_b.id),
            "street": token(role=Role.OFFICE, grid_id=tree.street.id), "token": token}


def _unit(api, tree, name="街道城管科", kinds=("sanitation", "water_power")):
    duty = VolunteerFactory(home_grid_id=tree.grid_a1.id)
    db.session.commit()
    response = api.post("/units", json={"name": name, "office_grid_id": tree.street.id, "kinds": list(kinds),
                                        "grid_ids": [tree.street.id], "member_ids": [duty.id], "unit_type": "section"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_units_are_registered_by_the_street_and_read_by_its_communities(offices, tree):
    unit = _unit(offices["street"], tree)
    assert unit["kinds"] == ["sanitation", "water_power"] and unit["duty_volunteer_id"] == unit["member_ids"][0]
    assert [u["id"] for u in offices["a"].get("/units").get_json()] == [unit["id"]]
    assert offices["a"].get(f"/units/{unit['id']}").status_code == 200
    # A community may not register a unit for the street office, nor change the street's unit.
    bad = offices["a"].post("/units", json={"name": "x", "office_grid_id": tree.street.id, "kinds": ["other"],
                                            "grid_ids": [tree.community_a.id]})
    assert bad.status_code == 422 and "office_grid_id" in bad.get_json()["errors"]["json"]
    assert offices["a"].patch(f"/units/{unit['id']}", json={"active": False}).status_code == 404
    wrong_kind = offices["street"].post("/units", json={"name": "y", "office_grid_id": tree.street.id,
                                                        "kinds": ["floods"], "grid_ids": [tree.street.id]})
    assert wrong_kind.status_code == 422 and "kinds" in wrong_kind.get_json()["errors"]["json"]


def test_whistle_lifecycle_through_the_api(offices, tree):
    unit = _unit(offices["street"], tree)
    api = offices["a"]
    bad = api.post("/whistles", json={"grid_id": tree.grid_a1.id, "title": "x", "address": "y", "kind": "floods"})
    assert bad.status_code == 422 and "kind" in bad.get_json()["errors"]["json"]
    response = api.post("/whistles", json={"grid_id": tree.grid_a1.id, "title": "垃圾堆积", "address": "2幢",
                                           "kind": "sanitation", "grade": "emergency"})
    assert response.status_code == 201
    whistle = response.get_json()
    assert [s["unit_id"] for s in whistle["summons"]] == [unit["id"]] and whistle["grade"] == "emergency"
    assert whistle["ack_due_at"].endswith("+08:00")
    answered = api.post(f"/whistles/{whistle['id']}/answers", json={"unit_id": unit["id"], "action": "arrive"})
    assert answered.status_code == 200 and answered.get_json()["summons"][0]["arrived_at"]
    assert api.post(f"/whistles/{whistle['id']}/answers",
                    json={"unit_id": 99999, "action": "ack"}).status_code == 422
    assert api.post(f"/whistles/{whistle['id']}/close", json={"note": ""}).status_code == 422
    closed = api.post(f"/whistles/{whistle['id']}/close", json={"note": "已清运"})
    assert closed.get_json()["status"] == "closed"
    assert api.post(f"/whistles/{whistle['id']}/close", json={"note": "again"}).status_code == 409
    assert api.post(f"/whistles/{whistle['id']}/reopen", json={"note": "又堆了"}).get_json()["reopened_count"] == 1
    events = [e["action"] for e in api.get(f"/whistles/{whistle['id']}/events").get_json()]
    assert events == ["raised", "summoned", "arrive", "closed", "reopened"]
    # Community B sees none of it.
    assert offices["b"].get(f"/whistles/{whistle['id']}").status_code == 404
    assert offices["b"].get("/whistles").get_json() == []
    raised_elsewhere = offices["b"].post("/whistles", json={"grid_id": tree.grid_a1.id, "title": "x", "address": "y",
                                                            "kind": "other"})
    assert raised_elsewhere.status_code == 422 and "grid_id" in raised_elsewhere.get_json()["errors"]["json"]


def test_targets_rounds_visits_and_reports(offices, tree, client):
    api = offices["a"]
    visitor = VolunteerFactory(home_grid_id=tree.grid_a1.id, identity_flags=Identity.to_mask(["grid_worker"]))
    db.session.commit()
    created = api.post("/visit-targets", json={"targets": [
        {"grid_id": tree.grid_a1.id, "label": f"1幢{k}", "priority": "hardship" if k == 1 else None}
        for k in range(1, 5)]})
    assert created.status_code == 201 and len(created.get_json()) == 4
    assert offices["b"].post("/visit-targets", json={"targets": [{"grid_id": tree.grid_a1.id, "label": "z"}]}
                             ).status_code == 422
    listed = api.get("/visit-targets", query_string={"priority_only": "true"}).get_json()
    assert [t["label"] for t in listed] == ["1幢1"] and listed[0]["priority"] == "hardship"
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "GET gridwork.VisitTargets")).all()
    assert len(audit) == 1 and "count=1" in audit[0].detail
    assert offices["b"].get("/visit-targets").get_json() == []
    round_ = api.post("/visit-rounds", json={"grid_id": tree.community_a.id, "title": "十二月走访",
                                             "due_at": (utcnow() + timedelta(days=20)).isoformat()})
    assert round_.status_code == 201, round_.get_json()
    round_id = round_.get_json()["id"]
    me = offices["token"](role=Role.VOLUNTEER, volunteer_id=visitor.id)
    mine = me.get("/me/visits").get_json()
    assert len(mine) == 4 and {v["visitor_id"] for v in mine} == {visitor.id}
    recorded = me.post(f"/visits/{mine[0]['id']}", json={"outcome": "problem", "note": "楼道堆物",
                                                         "whistle": {"title": "楼道堆物", "kind": "fire_safety"}})
    assert recorded.status_code == 200 and recorded.get_json()["whistle_id"]
    assert me.post(f"/visits/{mine[1]['id']}", json={"outcome": "maybe"}).status_code == 422
    coverage = api.get(f"/visit-rounds/{round_id}/coverage").get_json()
    assert (coverage["targets"], coverage["visited"]) == (4, 1)
    assert offices["b"].get(f"/visit-rounds/{round_id}/coverage").status_code == 404
    by_kind = api.get("/reports/whistles", query_string={"group_by": "kind"}).get_json()
    assert [(r["group"], r["whistles"]) for r in by_kind] == [("fire_safety", 1)]
    assert offices["b"].get("/reports/whistles").get_json() == []
    assert api.get("/reports/whistles", query_string={"group_by": "colour"}).status_code == 422
    assert [r["visited"] for r in api.get("/reports/visits").get_json()] == [1]


def test_whistle_turns_into_a_draft_staffing_campaign_once(offices, tree):
    api = offices["a"]
    whistle = api.post("/whistles", json={"grid_id": tree.grid_a1.id, "title": "积水清理", "address": "地下车库",
                                          "kind": "water_power", "grade": "urgent"}).get_json()
    start = utcnow() + timedelta(hours=2)
    body = {"start": start.isoformat(), "end": (start + timedelta(hours=3)).isoformat(), "role": "排水志愿者",
            "headcount": 6}
    assert api.post(f"/whistles/{whistle['id']}/campaign", json=body | {"end": start.isoformat()}).status_code == 422
    response = api.post(f"/whistles/{whistle['id']}/campaign", json=body)
    assert response.status_code == 201, response.get_json()
    campaign = response.get_json()
    assert (campaign["status"], campaign["priority"], campaign["office_grid_id"]) == ("draft", "urgent",
                                                                                      tree.community_a.id)
    assert campaign["shifts"][0]["positions"][0]["headcount"] == 6
    assert api.get(f"/whistles/{whistle['id']}").get_json()["campaign_id"] == campaign["id"]
    assert api.post(f"/whistles/{whistle['id']}/campaign", json=body).status_code == 409
