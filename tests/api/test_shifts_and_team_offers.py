"""PATCH /shifts/{id}, POST …/team-offers and POST /callups/{id}/team-answer over HTTP, with their access rules."""
from datetime import timedelta

from accounts.models import Role
from accounts.services import create_token
from campaigns.models import CallUp
from core.clock import utcnow
from extensions import db
from tests.conftest import ApiClient, volunteer_body
from tests.factories import TeamFactory
from volunteers.models import Volunteer


def published_campaign(api, tree):
    start = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    body = {"title": "垃圾分类督导", "kind": "garbage_sorting", "office_grid_id": tree.community_a.id,
            "shifts": [{"start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat(),
                        "grid_id": tree.grid_a1.id, "positions": [{"role": "督导员", "headcount": 3}]}]}
    campaign = api.post("/campaigns", json=body).get_json()
    assert api.post(f"/campaigns/{campaign['id']}/publish", json={}).status_code == 200
    return campaign, start


def as_volunteer(client, volunteer_id):
    _, plain = create_token(name=f"v{volunteer_id}", role=Role.VOLUNTEER, volunteer_id=volunteer_id, now=utcnow())
    return ApiClient(client, plain)


def test_patch_shift_moves_a_published_shift_and_refuses_volunteers(api, client, tree):
    campaign, start = published_campaign(api, tree)
    shift_id = campaign["shifts"][0]["id"]
    moved = api.patch(f"/shifts/{shift_id}", json={"start": (start + timedelta(days=1)).isoformat(),
                                                    "note": "顺延"})
    assert moved.status_code == 200, moved.get_json()
    body = moved.get_json()
    assert body["changed_at"] is not None and body["id"] == shift_id and body["campaign_id"] == campaign["id"]
    person = api.post("/volunteers", json=volunteer_body(tree.grid_a1.id)).get_json()
    refused = as_volunteer(client, person["id"]).patch(f"/shifts/{shift_id}", json={"note": "x"})
    assert refused.status_code == 403
    bad = api.patch(f"/shifts/{shift_id}", json={"end": "yesterday"})
    assert bad.status_code == 422 and "end" in bad.get_json()["errors"]["json"]


def test_patch_shift_of_a_draft_is_409(api, tree):
    from tests.api.test_campaigns import campaign_body

    draft = api.post("/campaigns", json=campaign_body(tree)).get_json()
    response = api.patch(f"/shifts/{draft['shifts'][0]['id']}", json={"note": "x"})
    assert response.status_code == 409


def test_team_offer_and_the_leaders_answer_with_the_leaders_token(api, client, tree):
    campaign, _ = published_campaign(api, tree)
    position_id = campaign["shifts"][0]["positions"][0]["id"]
    # Members pass the matcher's gates: free whenever the shift falls.
    always = [{"weekday": day, "start": "00:00", "end": "24:00"} for day in range(7)]
    people = [api.post("/volunteers", json=volunteer_body(tree.grid_b1.id, mobile=f"1370000000{i}",
                                                          availability=always)).get_json()
              for i in range(4)]
    team = TeamFactory(leader_id=people[0]["id"])
    team.members = [db.session.get(Volunteer, p["id"]) for p in people[1:]]
    db.session.commit()
    offered = api.post(f"/campaigns/{campaign['id']}/positions/{position_id}/team-offers",
                       json={"team_id": team.id, "places": 2})
    assert offered.status_code == 201, offered.get_json()
    callup = offered.get_json()
    assert (callup["team_id"], callup["volunteer_id"], callup["places"], callup["status"]) == (
        team.id, None, 2, "sent")
    stranger = as_volunteer(client, people[1]["id"])
    assert stranger.post(f"/callups/{callup['id']}/team-answer", json={"member_ids": []}).status_code == 404
    leader = as_volunteer(client, people[0]["id"])
    answered = leader.post(f"/callups/{callup['id']}/team-answer",
                           json={"member_ids": [people[1]["id"], people[2]["id"]]})
    assert answered.status_code == 200, answered.get_json()
    body = answered.get_json()
    assert body["team_callup"]["status"] == "accepted"
    assert sorted(c["volunteer_id"] for c in body["callups"]) == sorted([people[1]["id"], people[2]["id"]])
    assert leader.get(f"/callups/{callup['id']}").status_code == 200
    db.session.expire_all()
    assert db.session.query(CallUp).filter(CallUp.team_id == team.id).count() == 3


def test_team_offer_for_a_position_of_another_campaign_is_404(api, tree):
    first, _ = published_campaign(api, tree)
    second, _ = published_campaign(api, tree)
    team = TeamFactory()
    db.session.commit()
    response = api.post(f"/campaigns/{second['id']}/positions/{first['shifts'][0]['positions'][0]['id']}/team-offers",
                        json={"team_id": team.id, "places": 1})
    assert response.status_code == 404


def test_another_office_gets_404_for_shifts_positions_and_team_call_ups_outside_its_subtree(api, client, tree):
    campaign, _ = published_campaign(api, tree)
    shift = campaign["shifts"][0]
    leader = api.post("/volunteers", json=volunteer_body(tree.grid_a1.id)).get_json()
    team = TeamFactory(leader_id=leader["id"])
    db.session.commit()
    offered = api.post(f"/campaigns/{campaign['id']}/positions/{shift['positions'][0]['id']}/team-offers",
                       json={"team_id": team.id, "places": 1}).get_json()
    _, plain = create_token(name="office b", role=Role.OFFICE, grid_id=tree.community_b.id, now=utcnow())
    office_b = ApiClient(client, plain)
    assert office_b.patch(f"/shifts/{shift['id']}", json={"note": "x"}).status_code == 404
    assert office_b.post(f"/campaigns/{campaign['id']}/positions/{shift['positions'][0]['id']}/team-offers",
                         json={"team_id": team.id, "places": 1}).status_code == 404
    assert office_b.post(f"/callups/{offered['id']}/team-answer", json={"member_ids": []}).status_code == 404
    _, plain_a = create_token(name="office a", role=Role.OFFICE, grid_id=tree.community_a.id, now=utcnow())
    declined = ApiClient(client, plain_a).post(f"/callups/{offered['id']}/team-answer", json={"member_ids": []})
    assert declined.status_code == 200 and declined.get_json()["team_callup"]["status"] == "declined"
