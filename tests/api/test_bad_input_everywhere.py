"""Does every operation in the OpenAPI document answer bad input with a 4xx naming the field?

The operations are read from the live spec, so a new endpoint is covered without
anyone remembering to add it here.
"""
import re

import pytest

from campaigns.models import CallUp
from extensions import db
from tests.api.test_campaigns import campaign_body
from tests.conftest import volunteer_body


@pytest.fixture
def ids(api, tree):
    volunteer = api.post("/volunteers", json=volunteer_body(tree.grid_a1.id)).get_json()
    enterprise = api.post("/enterprises", json={"name": "某燃气公司"}).get_json()
    team = api.post(f"/enterprises/{enterprise['id']}/teams", json={"name": "燃气队"}).get_json()
    campaign = api.post("/campaigns", json=campaign_body(tree)).get_json()
    callup = CallUp(position_id=campaign["shifts"][0]["positions"][0]["id"], volunteer_id=volunteer["id"])
    db.session.add(callup)
    db.session.commit()
    practice = _grid_practice_ids(api, tree, volunteer["id"])
    return practice | {"grid_id": tree.grid_b1.id, "skill_id": tree.skills["publicity"].id, "volunteer_id": volunteer["id"],
            "enterprise_id": enterprise["id"], "team_id": team["id"], "campaign_id": campaign["id"],
            "callup_id": callup.id, "shift_id": campaign["shifts"][0]["id"],
            "position_id": campaign["shifts"][0]["positions"][0]["id"],
            "token_id": api.post("/tokens", json={"name": "bad input", "role": "admin"}).get_json()["id"]}


def _grid_practice_ids(api, tree, volunteer_id: int) -> dict:
    """A unit, a whistle, a visit target, a round over it (the volunteer visits) and its visit."""
    from datetime import timedelta

    from core.clock import utcnow
    from gridwork.models import Visit

    unit = api.post("/units", json={"name": "供水站", "office_grid_id": tree.street.id, "kinds": ["water_power"],
                                    "grid_ids": [tree.street.id], "member_ids": [volunteer_id]}).get_json()
    whistle = api.post("/whistles", json={"grid_id": tree.grid_a1.id, "title": "水管爆裂", "address": "3幢",
                                          "kind": "water_power"}).get_json()
    target = api.post("/visit-targets", json={"targets": [{"grid_id": tree.grid_a1.id, "label": "3幢101"}]}).get_json()
    round_ = api.post("/visit-rounds", json={"grid_id": tree.community_a.id, "title": "走访",
                                             "due_at": (utcnow() + timedelta(days=9)).isoformat()}).get_json()
    visit_id = db.session.scalar(db.select(Visit.id).where(Visit.round_id == round_["id"]))
    return {"unit_id": unit["id"], "whistle_id": whistle["id"], "target_id": target[0]["id"], "round_id": round_["id"],
            "visit_id": visit_id}


def operations(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "patch", "put", "delete"}:
                yield path, method, operation, spec


def fill(path: str, values: dict) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), path).removeprefix("/api/v1")


def json_body_operations(client):
    return [(p, m) for p, m, op, _ in operations(client)
            if "application/json" in op.get("requestBody", {}).get("content", {})]


def test_every_json_body_refuses_unknown_fields(api, client, ids):
    checked = 0
    for path, method in json_body_operations(client):
        response = api.request(method.upper(), fill(path, ids), json={"__bogus__": 1})
        assert response.status_code == 422, (method, path, response.get_json())
        assert "__bogus__" in response.get_json()["errors"]["json"], (method, path)
        checked += 1
    assert checked >= 10


def test_every_json_body_refuses_non_objects_and_broken_json(api, client, ids):
    for path, method in json_body_operations(client):
        url = fill(path, ids)
        as_list = api.request(method.upper(), url, json=[1, 2])
        assert as_list.status_code == 422, (method, path)
        broken = api.request(method.upper(), url, data="{", headers={"Content-Type": "application/json"})
        assert broken.status_code in (400, 422), (method, path)


# The reports answer a query that is not a date or an id with 400 (issue #14: "bad dates → 400 naming the
# field"); every other endpoint with 422. Both name the field under errors.query.
# (The grid-practice reports, /reports/whistles and /reports/visits, answer 422 like the rest: one of the
# inconsistencies left to settle.)
BAD_QUERY_400 = tuple(f"/api/v1/reports/{name}" for name in (
    "campaigns", "emergencies", "people", "activity", "hours", "enterprises", "export"))


def _bad_query_status(path: str) -> int:
    return 400 if path.startswith(BAD_QUERY_400) else 422


def test_every_typed_query_parameter_refuses_garbage(api, client, ids):
    checked = 0
    for path, method, operation, _ in operations(client):
        for parameter in operation.get("parameters", []):
            schema = parameter.get("schema", {})
            if parameter["in"] != "query" or not (schema.get("type") == "integer" or "enum" in schema):
                continue
            response = api.request(method.upper(), fill(path, ids) + f"?{parameter['name']}=%21%21")
            assert response.status_code == _bad_query_status(path), (path, parameter["name"])
            assert parameter["name"] in response.get_json()["errors"]["query"], (path, parameter["name"])
            checked += 1
    assert checked >= 10


def test_every_path_with_an_id_answers_404_for_unknown_ids(api, client, ids):
    missing = {key: 987654 for key in ids}
    for path, method, operation, _ in operations(client):
        if "{" not in path or method not in {"get", "delete", "patch"}:
            continue
        kwargs = {"json": {}} if method == "patch" else {}
        response = api.request(method.upper(), fill(path, missing), **kwargs)
        assert response.status_code == 404, (method, path, response.status_code)


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def test_every_text_field_refuses_the_nul_character(api, client, ids):
    """U+0000 was a 500 on PostgreSQL, which cannot store or compare it (and SQLite kept it silently)."""
    checked = 0
    for path, method, operation, spec in operations(client):
        url = fill(path, ids)
        body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        for name, prop in _resolve(spec, body or {}).get("properties", {}).items():
            if _resolve(spec, prop).get("type") == "string":
                response = api.request(method.upper(), url, json={name: "a\x00b"})
                assert response.status_code == 422, (method, path, name, response.get_json())
                assert name in response.get_json()["errors"]["json"], (method, path, name)
                checked += 1
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query" and parameter.get("schema", {}).get("type") == "string":
                response = api.request(method.upper(), url + f"?{parameter['name']}=a%00b")
                assert response.status_code == _bad_query_status(path), (method, path, parameter["name"])
                assert parameter["name"] in response.get_json()["errors"]["query"], (method, path)
                checked += 1
    assert checked >= 40
