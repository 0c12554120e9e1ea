"""Grid tree and skills catalogue endpoints: create, read, list, update, delete and their bad input."""
import json

import pytest


def make_tree(api):
    district = api.post("/grids", json={"code": "D1", "name": "滨江区", "level": 0}).get_json()
    street = api.post("/grids", json={"code": "S1", "name": "西兴街道", "level": 1,
                                      "parent_id": district["id"]}).get_json()
    community = api.post("/grids", json={"code": "C1", "name": "江南社区", "level": 2,
                                         "parent_id": street["id"]}).get_json()
    return district, street, community


def test_grids_create_sets_path_and_level(api):
    district, street, community = make_tree(api)
    assert district["path"] == f"/{district['id']}/"
    assert community["path"] == f"/{district['id']}/{street['id']}/{community['id']}/"
    assert community["level"] == 2 and community["parent_id"] == street["id"]


def test_grids_get_by_id_and_404(api):
    district, _, _ = make_tree(api)
    assert api.get(f"/grids/{district['id']}").get_json()["code"] == "D1"
    missing = api.get("/grids/99999")
    assert missing.status_code == 404
    assert "not found" in missing.get_json()["message"]


def test_grids_list_filters_parent_level_and_subtree(api):
    district, street, community = make_tree(api)
    other_street = api.post("/grids", json={"code": "S2", "name": "长河街道", "level": 1,
                                            "parent_id": district["id"]}).get_json()
    by_parent = api.get(f"/grids?parent_id={district['id']}").get_json()
    assert {g["code"] for g in by_parent} == {"S1", "S2"}
    assert [g["code"] for g in api.get("/grids?level=2").get_json()] == ["C1"]
    subtree = api.get(f"/grids?under={street['id']}").get_json()
    assert {g["code"] for g in subtree} == {"S1", "C1"}
    assert other_street["id"] not in {g["id"] for g in subtree}


def test_grids_list_paginates_with_total(api):
    district, _, _ = make_tree(api)
    for i in range(7):
        api.post("/grids", json={"code": f"SX{i}", "name": f"街道{i}", "level": 1, "parent_id": district["id"]})
    response = api.get("/grids?page=2&page_size=4")
    pagination = json.loads(response.headers["X-Pagination"])
    assert pagination["total"] == 10
    assert pagination["page"] == 2 and len(response.get_json()) == 4


@pytest.mark.parametrize("body, field", [
    ({"name": "x", "level": 0}, "code"),
    ({"code": "A", "level": 0}, "name"),
    ({"code": "A", "name": "x"}, "level"),
    ({"code": "A", "name": "x", "level": "zero"}, "level"),
    ({"code": "A", "name": "x", "level": 5}, "level"),
    ({"code": "A" * 33, "name": "x", "level": 0}, "code"),
    ({"code": "has space", "name": "x", "level": 0}, "code"),
    ({"code": "A", "name": "", "level": 0}, "name"),
    ({"code": "A", "name": "x", "level": 0, "lat": 91}, "lat"),
    ({"code": "A", "name": "x", "level": 0, "colour": "red"}, "colour"),
])
def test_grids_create_bad_input_names_field(api, body, field):
    response = api.post("/grids", json=body)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]["json"]


def test_grids_create_wrong_level_or_parent(api):
    district, street, _ = make_tree(api)
    wrong_level = api.post("/grids", json={"code": "X", "name": "x", "level": 3, "parent_id": district["id"]})
    assert wrong_level.status_code == 422
    assert "level" in wrong_level.get_json()["errors"]["json"]
    orphan = api.post("/grids", json={"code": "Y", "name": "y", "level": 2})
    assert orphan.status_code == 422 and "parent_id" in orphan.get_json()["errors"]["json"]
    unknown = api.post("/grids", json={"code": "Z", "name": "z", "level": 1, "parent_id": 4242})
    assert unknown.status_code == 422 and "parent_id" in unknown.get_json()["errors"]["json"]


def test_grids_create_duplicate_code_is_409(api):
    make_tree(api)
    response = api.post("/grids", json={"code": "D1", "name": "again", "level": 0})
    assert response.status_code == 409
    assert "code" in response.get_json()["errors"]["json"]


def test_grids_update_and_delete_rules(api):
    district, street, community = make_tree(api)
    renamed = api.patch(f"/grids/{community['id']}", json={"name": "江北社区", "lat": 30.2, "lon": 120.2})
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "江北社区"
    in_use = api.delete(f"/grids/{street['id']}")
    assert in_use.status_code == 409 and "grids" in in_use.get_json()["message"]
    assert api.delete(f"/grids/{community['id']}").status_code == 204
    assert api.get(f"/grids/{community['id']}").status_code == 404


def test_grids_malformed_json_is_400(api):
    response = api.post("/grids", data="{not json", headers={"Content-Type": "application/json"})
    assert response.status_code in (400, 422)


def test_grids_list_page_far_past_the_end_is_empty(api):
    make_tree(api)
    response = api.get(f"/grids?page={10**30}")
    assert response.status_code == 200 and response.get_json() == []
    assert json.loads(response.headers["X-Pagination"])["total"] == 3


@pytest.mark.parametrize("certified", [0, 1, "true", "yes", None])
def test_skills_certified_must_be_a_json_boolean(api, certified):
    """Was 0 read as false and "yes" as true? A JSON body takes true or false only, as ids take numbers only."""
    created = api.post("/skills", json={"code": "cpr", "name": "心肺复苏", "certified": certified})
    assert created.status_code == 422 and "certified" in created.get_json()["errors"]["json"]
    skill = api.post("/skills", json={"code": "cpr", "name": "心肺复苏", "certified": True}).get_json()
    changed = api.patch(f"/skills/{skill['id']}", json={"certified": certified})
    assert changed.status_code == 422 and "certified" in changed.get_json()["errors"]["json"]
    assert api.get(f"/skills/{skill['id']}").get_json()["certified"] is True
