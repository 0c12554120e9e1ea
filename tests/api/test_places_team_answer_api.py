"""POST /callups/{id}/team-answer refuses a member who fails a gate with 422 naming the member and the gate."""
from extensions import db
from tests.api.test_shifts_and_team_offers import as_volunteer, published_campaign
from tests.conftest import volunteer_body
from tests.factories import TeamFactory
from volunteers.models import Volunteer, VolunteerStatus


def test_places_team_answer_naming_a_paused_member_is_422_naming_member_and_gate(api, client, tree):
    campaign, _ = published_campaign(api, tree)
    position_id = campaign["shifts"][0]["positions"][0]["id"]
    leader, member = [api.post("/volunteers", json=volunteer_body(tree.grid_b1.id, mobile=f"1370000000{i}"))
                      .get_json() for i in range(2)]
    paused = db.session.get(Volunteer, member["id"])
    paused.status = VolunteerStatus.PAUSED
    team = TeamFactory(leader_id=leader["id"], members=[paused])
    db.session.commit()
    offered = api.post(f"/campaigns/{campaign['id']}/positions/{position_id}/team-offers",
                       json={"team_id": team.id, "places": 1}).get_json()
    refused = as_volunteer(client, leader["id"]).post(f"/callups/{offered['id']}/team-answer",
                                                      json={"member_ids": [member["id"]]})
    assert refused.status_code == 422
    assert refused.get_json()["errors"]["json"]["member_ids"] == [f"{paused.name} (#{member['id']}): not active."]
