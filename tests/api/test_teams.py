"""Enterprise and co-building team endpoints."""
import pytest

from extensions import db
from tests.factories import VolunteerFactory


@pytest.fixture
def enterprise(api):
    return api.post("/enterprises", json={"name": "国网滨江供电公司", "contact_name": "赵经理",
                                          "contact_mobile": "13711112222"}).get_json()


def test_enterprises_register_and_duplicate(api, enterprise):
    assert enterprise["name"] == "国网滨江供电公司" and enterprise["team_count"] == 0
    again = api.post("/enterprises", json={"name": "国网滨江供电公司"})
    assert again.status_code == 409 and "name" in again.get_json()["errors"]["json"]


@pytest.mark.parametrize("body, field", [
    ({}, "name"), ({"name": ""}, "name"), ({"name": "x", "contact_mobile": "123"}, "contact_mobile"),
    ({"name": "x", "credit_code": "short"}, "credit_code"), ({"name": "x", "website": "y"}, "website"),
])
def test_enterprises_bad_input(api, body, field):
    response = api.post("/enterprises", json=body)
    assert response.status_code == 422 and field in response.get_json()["errors"]["json"]


def test_teams_create_with_members_and_pairings(api, enterprise, tree):
    members = [VolunteerFactory(home_grid_id=tree.grid_a1.id) for _ in range(3)]
    body = {"name": "电力抢修志愿队", "member_ids": [m.id for m in members],
            "paired_grid_ids": [tree.community_a.id, tree.community_b.id], "leader_id": members[0].id}
    response = api.post(f"/enterprises/{enterprise['id']}/teams", json=body)
    assert response.status_code == 201
    team = response.get_json()
    assert team["member_ids"] == sorted(m.id for m in members)
    assert team["paired_grid_ids"] == sorted([tree.community_a.id, tree.community_b.id])
    assert team["leader_id"] == members[0].id
    listed = api.get(f"/enterprises/{enterprise['id']}/teams").get_json()
    assert [t["id"] for t in listed] == [team["id"]]
    assert api.get(f"/enterprises/{enterprise['id']}").get_json()["team_count"] == 1


def test_teams_bad_references(api, enterprise, tree):
    member = VolunteerFactory(home_grid_id=tree.grid_a1.id)
    db.session.commit()
    url = f"/enterprises/{enterprise['id']}/teams"
    cases = [({"name": "t", "member_ids": [member.id, 99999]}, "member_ids"),
             ({"name": "t", "paired_grid_ids": [tree.district.id]}, "paired_grid_ids"),
             ({"name": "t", "paired_grid_ids": [88888]}, "paired_grid_ids"),
             ({"name": "t", "member_ids": [member.id], "leader_id": 77777}, "leader_id"),
             ({"name": "t", "member_ids": ["a"]}, "member_ids")]
    for body, field in cases:
        response = api.post(url, json=body)
        assert response.status_code == 422, body
        assert field in response.get_json()["errors"]["json"], body
    assert api.get(url).get_json() == []
    assert api.post("/enterprises/4242/teams", json={"name": "t"}).status_code == 404


def test_teams_update_and_delete(api, enterprise, tree):
    team = api.post(f"/enterprises/{enterprise['id']}/teams", json={"name": "A队"}).get_json()
    member = VolunteerFactory(home_grid_id=tree.grid_a1.id)
    updated = api.patch(f"/teams/{team['id']}", json={"member_ids": [member.id], "name": "B队"}).get_json()
    assert updated["member_ids"] == [member.id] and updated["name"] == "B队"
    assert api.delete(f"/teams/{team['id']}").status_code == 204
    assert api.get(f"/teams/{team['id']}").status_code == 404
