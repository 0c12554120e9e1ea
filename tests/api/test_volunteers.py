"""Volunteer endpoints: register, read, filter, update, delete and their bad input."""
import json

import pytest
from sqlalchemy import func, select

from extensions import db
from tests.conftest import volunteer_body
from volunteers.availability import mask_slots
from volunteers.models import Volunteer


def test_volunteers_register_returns_full_record(api, tree):
    response = api.post("/volunteers", json=volunteer_body(tree.grid_a1.id))
    assert response.status_code == 201
    body = response.get_json()
    assert body["mobile"] == "13912345678"
    assert body["identities"] == ["party_member", "building_leader"]
    assert body["skills"][0] == {"code": "gas_check", "name": "燃气安全检查", "level": 3,
                                 "certificate_expires_on": "2099-06-30", "certificate_no": None}
    assert body["availability"] == [{"weekday": 5, "start": "09:00", "end": "12:00"}]
    stored = db.session.get(Volunteer, body["id"])
    # Saturday 09:00-12:00 is slots 5*48+18 .. 5*48+23
    assert mask_slots(stored.availability_mask) == list(range(258, 264))


def test_volunteers_duplicate_mobile_is_409(api, tree):
    api.post("/volunteers", json=volunteer_body(tree.grid_a1.id))
    again = api.post("/volunteers", json=volunteer_body(tree.grid_b1.id, name="李娜"))
    assert again.status_code == 409
    assert "mobile" in again.get_json()["errors"]["json"]
    assert db.session.scalar(select(func.count()).select_from(Volunteer)) == 1


@pytest.mark.parametrize("change, field", [
    ({"mobile": "12345678901"}, "mobile"),
    ({"mobile": "1391234567"}, "mobile"),
    ({"mobile": 13912345678}, "mobile"),
    ({"name": ""}, "name"),
    ({"name": "x" * 65}, "name"),
    ({"home_grid_id": "a"}, "home_grid_id"),
    ({"home_grid_id": 999999}, "home_grid_id"),
    ({"skills": [{"code": "gas_check", "level": 6}]}, "skills"),
    ({"skills": [{"code": "juggling", "level": 2}]}, "skills"),
    ({"skills": [{"code": "gas_check", "level": 2}, {"code": "gas_check", "level": 3}]}, "skills"),
    ({"identities": ["astronaut"]}, "identities"),
    ({"identities": [], "party_branch": "某支部"}, "party_branch"),
    ({"availability": [{"weekday": 7, "start": "09:00", "end": "10:00"}]}, "availability"),
    ({"availability": [{"weekday": 1, "start": "10:00", "end": "09:00"}]}, "availability"),
    ({"availability": [{"weekday": 1, "start": "9am", "end": "10:00"}]}, "availability"),
    ({"availability": [{"weekday": 1, "start": "09:15", "end": "10:00"}]}, "availability"),
    ({"max_callups_per_month": -1}, "max_callups_per_month"),
    ({"status": "retired"}, "status"),
    ({"language": "fr"}, "language"),
    ({"blackout_dates": ["2026-02-30"]}, "blackout_dates"),
    ({"nickname": "小张"}, "nickname"),
])
def test_volunteers_register_bad_input_names_field(api, tree, change, field):
    response = api.post("/volunteers", json=volunteer_body(tree.grid_a1.id, **change))
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]["json"]
    assert db.session.scalar(select(func.count()).select_from(Volunteer)) == 0


def test_volunteers_missing_required_fields(api, tree):
    response = api.post("/volunteers", json={})
    assert response.status_code == 422
    assert {"name", "mobile", "home_grid_id"} <= set(response.get_json()["errors"]["json"])


def test_volunteers_list_masks_mobile_and_detail_shows_it(api, tree):
    created = api.post("/volunteers", json=volunteer_body(tree.grid_a1.id)).get_json()
    listed = api.get("/volunteers").get_json()
    assert listed[0]["mobile"] == "139****5678"
    assert api.get(f"/volunteers/{created['id']}").get_json()["mobile"] == "13912345678"


def _register_mix(api, tree):
    api.post("/volunteers", json=volunteer_body(tree.grid_a1.id, "13900000001", name="王芳"))
    api.post("/volunteers", json=volunteer_body(tree.grid_a2.id, "13900000002", name="刘洋", identities=["doctor"],
                                                party_branch=None, skills=[{"code": "first_aid", "level": 4}]))
    api.post("/volunteers", json=volunteer_body(tree.grid_b1.id, "13900000003", name="陈静", status="paused",
                                                skills=[{"code": "gas_check", "level": 1}]))


def test_volunteers_filters(api, tree):
    _register_mix(api, tree)

    def names(query):
        return sorted(v["name"] for v in api.get(f"/volunteers?{query}").get_json())

    assert names(f"grid_id={tree.community_a.id}") == ["刘洋", "王芳"]
    assert names(f"grid_id={tree.street.id}") == ["刘洋", "王芳", "陈静"]
    assert names("skill=gas_check") == ["王芳", "陈静"]
    assert names("skill=gas_check&min_level=3") == ["王芳"]
    assert names("identity=doctor") == ["刘洋"]
    assert names("identity=party_member") == ["王芳", "陈静"]
    assert names("status=paused") == ["陈静"]
    assert names("q=刘") == ["刘洋"]
    assert names("q=0000003") == ["陈静"]


def test_volunteers_list_bad_filters_are_422(api, tree):
    for query, field in [("grid_id=x", "grid_id"), ("identity=alien", "identity"), ("status=gone", "status"),
                         ("page_size=501", "page_size"), ("page=0", "page"), ("min_level=9", "min_level")]:
        response = api.get(f"/volunteers?{query}")
        assert response.status_code == 422, query
        assert field in response.get_json()["errors"]["query"], query
    assert api.get("/volunteers?grid_id=424242").status_code == 404


def test_volunteers_pagination_total(api, tree):
    for i in range(12):
        api.post("/volunteers", json=volunteer_body(tree.grid_a1.id, f"1380000{i:04d}"))
    response = api.get("/volunteers?page_size=5&page=3")
    assert len(response.get_json()) == 2
    assert json.loads(response.headers["X-Pagination"])["total"] == 12


def test_volunteers_patch_changes_only_given_fields(api, tree):
    created = api.post("/volunteers", json=volunteer_body(tree.grid_a1.id)).get_json()
    response = api.patch(f"/volunteers/{created['id']}", json={"name": "张伟伟", "status": "paused"})
    body = response.get_json()
    assert response.status_code == 200
    assert body["name"] == "张伟伟" and body["status"] == "paused"
    assert body["skills"] == created["skills"] and body["availability"] == created["availability"]


def test_volunteers_patch_rules(api, tree):
    first = api.post("/volunteers", json=volunteer_body(tree.grid_a1.id)).get_json()
    api.post("/volunteers", json=volunteer_body(tree.grid_a1.id, "13800000000"))
    taken = api.patch(f"/volunteers/{first['id']}", json={"mobile": "13800000000"})
    assert taken.status_code == 409
    no_party = api.patch(f"/volunteers/{first['id']}", json={"identities": ["doctor"]})
    assert no_party.status_code == 422 and "party_branch" in no_party.get_json()["errors"]["json"]
    assert api.get(f"/volunteers/{first['id']}").get_json()["identities"] == ["party_member", "building_leader"]
    assert api.patch("/volunteers/99999", json={"name": "x"}).status_code == 404


def test_volunteers_delete(api, tree):
    created = api.post("/volunteers", json=volunteer_body(tree.grid_a1.id)).get_json()
    assert api.delete(f"/volunteers/{created['id']}").status_code == 204
    assert api.get(f"/volunteers/{created['id']}").status_code == 404
    assert api.delete(f"/volunteers/{created['id']}").status_code == 404


def test_volunteers_patch_checks_each_availability_window_whole(api, tree):
    """Is a window without its start refused in a PATCH? (It was a 500: the partial load reached into it.)"""
    created = api.post("/volunteers", json=volunteer_body(tree.grid_a1.id)).get_json()
    response = api.patch(f"/volunteers/{created['id']}", json={"availability": [{"weekday": 0, "end": "12:00"}]})
    assert response.status_code == 422
    assert "start" in response.get_json()["errors"]["json"]["availability"]["0"]
    assert api.get(f"/volunteers/{created['id']}").get_json()["availability"] == created["availability"]
