"""POST /campaigns/{id}/match and /publish as outside clients call them."""
from campaigns.models import CallUp
from extensions import db
from tests.api.test_campaigns import campaign_body
from tests.conftest import volunteer_body

SATURDAY = [{"weekday": 5, "start": "08:00", "end": "13:00"}]


def _people(api, tree, count):
    return [api.post("/volunteers", json=volunteer_body(tree.grid_a1.id, f"1390000{i:04d}", name=f"人{i}",
                                                         availability=SATURDAY)).get_json()["id"]
            for i in range(count)]


def test_match_answers_contract_shape(api, tree):
    ids = _people(api, tree, 3)
    campaign = api.post("/campaigns", json=campaign_body(tree)).get_json()
    response = api.post(f"/campaigns/{campaign['id']}/match")
    assert response.status_code == 200
    body = response.get_json()
    first, second = body["positions"]
    assert first["position_id"] == campaign["shifts"][0]["positions"][0]["id"]
    proposals = first["proposals"] + second["proposals"]
    assert sorted(p["volunteer_id"] for p in proposals) == sorted(ids)
    assert all({"volunteer_id", "score", "breakdown"} <= set(p) for p in proposals)
    # Six places, three people: at least cost, the cheaper 宣传员 places fill first.
    assert (len(first["proposals"]), len(second["proposals"])) == (1, 2)
    assert first["unfilled"] == 3
    taken = [r for r in first["reasons"] if r["code"] == "taken"]
    assert taken and set(taken[0]) == {"code", "params", "text"}
    assert "assigned to other positions" in taken[0]["text"]  # English by default
    with api.client.application.app_context():  # a request of its own (the language is kept per context)
        in_chinese = api.post(f"/campaigns/{campaign['id']}/match", headers={"Accept-Language": "zh-CN"}).get_json()
    said = [r["text"] for r in in_chinese["positions"][0]["reasons"] if r["code"] == "taken"]
    assert said and "其他岗位" in said[0]
    assert body["total_cost"] == round(sum(p["cost"] for pos in body["positions"] for p in pos["proposals"]), 4)
    assert api.get(f"/campaigns/{campaign['id']}").get_json()["status"] == "draft"


def test_publish_creates_scheduled_callups(api, tree):
    _people(api, tree, 5)
    campaign = api.post("/campaigns", json=campaign_body(tree)).get_json()
    response = api.post(f"/campaigns/{campaign['id']}/publish")
    assert response.status_code == 200 and response.get_json()["status"] == "published"
    callups = api.get(f"/campaigns/{campaign['id']}/callups").get_json()
    assert len(callups) == 5 and {c["status"] for c in callups} == {"scheduled"}
    staffing = api.get(f"/campaigns/{campaign['id']}/staffing").get_json()
    assert [p["pending"] for p in staffing["positions"]] == [3, 2]
    again = api.post(f"/campaigns/{campaign['id']}/publish")
    assert again.status_code == 409
    assert db.session.query(CallUp).count() == 5


def test_match_and_publish_unknown_or_started(api, tree):
    assert api.post("/campaigns/4242/match").status_code == 404
    assert api.post("/campaigns/4242/publish").status_code == 404
    body = campaign_body(tree)
    body["shifts"][0].update(start="2020-01-04T09:00:00+08:00", end="2020-01-04T12:00:00+08:00")
    old = api.post("/campaigns", json=body).get_json()
    response = api.post(f"/campaigns/{old['id']}/publish")
    assert response.status_code == 422 and "shifts" in response.get_json()["errors"]["json"]
