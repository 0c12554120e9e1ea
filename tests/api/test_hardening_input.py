"""Out-of-range input (issue #11): ids past any column in URLs, times in year 1 or 9999, JSON nested
100,000 deep, numbers of thousands of digits. Each is a 4xx naming the field, for every operation."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from campaigns.models import Campaign
from extensions import db
from tests.api.test_campaigns import campaign_body
from tests.conftest import volunteer_body

HUGE_IDS = ("2147483648", "99999999999999999999", "9" * 5000)
OUT_OF_RANGE_TIMES = ("0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-10:00", "1999-12-31T23:59:59Z")


def _int_routes(app):
    """Every route with an ``<int:…>`` part, pages and API alike."""
    return [rule for rule in app.url_map.iter_rules() if "<int:" in rule.rule]


def test_every_route_answers_404_for_ids_past_the_id_columns(app, client, admin_token):
    rules = _int_routes(app)
    assert len(rules) > 20  # the API's and the pages' id routes
    auth = {"Authorization": f"Bearer {admin_token}"}
    for rule in rules:
        for huge in HUGE_IDS:
            path = re.sub(r"<int:[^>]+>", huge, rule.rule)
            path = re.sub(r"<(?:string:)?[^>]+>", "x", path)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = client.open(path, method=method, headers=auth)
                assert response.status_code == 404, (method, path[:80], response.status_code)
                if path.startswith("/api/"):
                    assert response.get_json()["code"] == 404


def test_get_volunteer_with_a_twenty_digit_id_is_404_and_the_largest_id_is_looked_up(api):
    response = api.get("/volunteers/99999999999999999999")
    assert response.status_code == 404 and response.get_json()["status"] == "Not Found"
    response = api.get(f"/volunteers/{2**31 - 1}")
    assert response.status_code == 404 and "not found" in response.get_json()["message"]


def test_the_document_states_the_id_bounds_of_path_parameters(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    [parameter] = spec["paths"]["/api/v1/volunteers/{volunteer_id}"]["parameters"]
    assert parameter["schema"] == {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}


def _nest(path: list[str], value):
    if not path:
        return value
    head, rest = path[0], path[1:]
    if head == "0":
        return [_nest(rest, value)]
    return {head: _nest(rest, value)}


def _datetime_inputs(spec):
    """(method, path, location, field path) of every date-time the document lets a client send."""
    components = spec["components"]["schemas"]

    def walk(schema, trail, seen=()):
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if name not in seen:
                yield from walk(components[name], trail, (*seen, name))
            return
        if schema.get("format") == "date-time":
            yield trail
        for key, inner in (schema.get("properties") or {}).items():
            yield from walk(inner, [*trail, key], seen)
        if "items" in schema:
            yield from walk(schema["items"], [*trail, "0"], seen)

    for url, operations in spec["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("schema", {}).get("format") == "date-time":
                    yield method, url, "query", [parameter["name"]]
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                for trail in walk(body["schema"], []):
                    yield method, url, "json", trail


def _errors_at(errors, trail):
    for key in trail:
        errors = errors.get(int(key) if key.isdigit() else key, errors.get(key)) if isinstance(errors, dict) else None
    return errors


def test_every_datetime_input_outside_2000_to_2100_is_a_422_naming_the_field(client, api):
    spec = client.get("/api/v1/openapi.json").get_json()
    inputs = list(_datetime_inputs(spec))
    # The shifts' start and end, send_at, consent_at, a token's expiry, the audit window.
    assert len(inputs) >= 10
    for method, url, location, trail in inputs:
        path = re.sub(r"\{[^}]+\}", "1", url).removeprefix("/api/v1")
        for when in OUT_OF_RANGE_TIMES:
            if location == "query":
                response = api.request(method.upper(), path, query_string={trail[0]: when})
            else:
                response = api.request(method.upper(), path, json=_nest(trail, when))
            assert response.status_code == 422, (method, url, trail, when, response.get_json())
            messages = _errors_at(response.get_json()["errors"][location], trail)
            assert messages == ["Must be between 2000 and 2100."], (method, url, trail, when, messages)


@pytest.mark.parametrize("year", [1, 9999])
def test_campaign_with_a_shift_in_year_1_or_9999_is_refused_and_not_stored(api, tree, year):
    body = campaign_body(tree)
    body["shifts"][0].update(start=f"{year:04d}-12-05T09:00:00+08:00", end=f"{year:04d}-12-05T12:00:00+08:00")
    response = api.post("/campaigns", json=body)
    assert response.status_code == 422
    assert set(response.get_json()["errors"]["json"]["shifts"]["0"]) == {"start", "end"}
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_json_nested_100000_deep_is_a_400(api):
    for body in ("[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000):
        response = api.request("POST", "/volunteers", data=body, content_type="application/json")
        assert response.status_code == 400
        assert response.get_json()["errors"] == {"json": ["Invalid JSON body."]}


def test_json_deeper_than_the_bound_is_a_400_even_where_python_could_parse_it(api, tree):
    body = volunteer_body(tree.grid_a1.id, note=_nest(["x"] * 40, 1))
    response = api.post("/volunteers", json=body)
    assert response.status_code == 400


def test_sign_in_body_nested_too_deep_is_a_400_not_a_500(client):
    # request.get_json (the sign-in rate key) reads through the app's JSON provider, not webargs.
    response = client.post("/api/v1/auth/token", data="[" * 100_000 + "]" * 100_000,
                           content_type="application/json")
    assert response.status_code == 400 and response.get_json()["code"] == 400


@pytest.mark.parametrize("field", ["max_callups_per_month", "home_grid_id", "name"])
def test_a_5000_digit_number_is_a_422_naming_the_field(api, tree, field):
    body = volunteer_body(tree.grid_a1.id)
    raw = f'"{field}": {"9" * 5000}'
    text = re.sub(rf'"{field}": [^,}}]+', lambda _: raw, __import__("json").dumps(body, ensure_ascii=False))
    response = api.request("POST", "/volunteers", data=text.encode(), content_type="application/json")
    assert response.status_code == 422, response.get_json()
    assert list(response.get_json()["errors"]["json"]) == [field]


def test_a_number_past_64_bits_is_a_422_naming_the_field(api, tree):
    body = volunteer_body(tree.grid_a1.id, home_grid_id=2**64 + 1)
    response = api.post("/volunteers", json=body)
    assert response.status_code == 422 and list(response.get_json()["errors"]["json"]) == ["home_grid_id"]
