"""Does every operation in the OpenAPI document survive schemathesis's generated input, in process?

Each operation is one test item per caller (the district admin, so that authorisation hides no handler,
and the office of community CA), run against the "two offices" world of access_world.py. Path ids are
drawn from that world's objects of both communities plus one id that does not exist, so handlers see
real rows, foreign rows and missing rows. Besides schemathesis's checks (no 5xx, status code, content
type, headers and body as documented, schema-valid input accepted and schema-violating input refused,
405 with Allow, ignored auth), three of ours: every error answer has the shared shape and a 422 names the
field, a write that is refused leaves every row as it was (no half-written record), and a path id past the
id columns (drawn past the document's maximum and sent as drawn) is a 404. Times from year 1 to 9999 are
drawn for every date-time the document lets a client send (test_every_datetime_input_…).

The document is read at collection time from the session's app (tests.conftest.session_app): the
per-fixture loader (schemathesis.pytest.from_fixture) does not run on pytest 9.2.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta, timezone

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from api import MAX_ROW_ID
from extensions import db
from tests.api.access_world import World, build_world
from tests.api.test_hardening_input import _datetime_inputs, _errors_at, _nest
from tests.conftest import session_app

MISSING_ID = 987654
# Written on the way to a refusal, on purpose: the audit log records refusals, sign-in counts failures
# (per account and per login and address), and a token's last use is stamped before its scope is checked.
LEGITIMATE_WRITES = {"audit_events": None, "api_tokens": {"last_used_at"}, "login_throttles": None,
                     "users": {"failed_logins", "locked_until", "last_login_at"}}


def _schema(*, max_examples: int, coverage: bool):
    """The document with our settings: ``max_examples`` drawn cases per operation, after (with ``coverage``)
    schemathesis's deterministic boundary cases, which are about four in five calls."""
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", session_app(), config=schemathesis.Config.from_dict({
        # deterministic: hypothesis's derandomize, so every run draws the same cases (a failure reproduces).
        # The bearer token is sent by the test (it is new for each operation), not generated or left out.
        "generation": {"max-examples": max_examples, "deterministic": True, "database": "none",
                       "with-security-parameters": False},
        "phases": {"coverage": {"enabled": coverage}},
        "checks": {
            # Rules the document cannot state (a parent one level up, a time in the future, a known team, a
            # cron string) are refused with a 422 naming the field; anything else must accept valid input.
            "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "409", "422", "423",
                                                               "429"]},
        },
    }))


admin_schema = _schema(max_examples=20, coverage=True)
# The office's boundary cases would repeat the admin's (input is checked the same way for both): drawn cases only.
office_schema = _schema(max_examples=30, coverage=False)


# Body fields that hold ids, and the kind of world object each one names.
BODY_ID_KINDS = {"grid_id": "grid_id", "home_grid_id": "grid_id", "office_grid_id": "grid_id", "parent_id": "grid_id",
                 "paired_grid_ids": "grid_id", "volunteer_id": "volunteer_id", "leader_id": "volunteer_id",
                 "member_ids": "volunteer_id", "team_id": "team_id", "enterprise_id": "enterprise_id"}


def _known_ids(world: World) -> dict[str, list[int]]:
    """Ids of each kind in the world (both communities, the street and the district), plus one missing id."""
    ids: dict[str, set[int]] = {}
    for side in (world.a, world.b):
        for name, values in side.ids().items():
            ids.setdefault(name, set()).update(values)
    ids["grid_id"] |= {world.tree.district.id, world.tree.street.id, world.tree.grid_a2.id}
    ids["token_id"] = {row.id for row in world.token_rows.values()}
    ids["skill_id"] = {skill.id for skill in world.tree.skills.values()}
    return {name: sorted(values) + [MISSING_ID] for name, values in ids.items()}


def _pick(value, choices: list[int]):
    """A generated id turned into one of ``choices``; anything but a non-negative int is left as it is."""
    return choices[value % len(choices)] if type(value) is int and value >= 0 else value


def _pick_path_id(value, choices: list[int]):
    """A generated path id turned into one of ``choices``, unless it lies past the id columns (the document's
    maximum): such an id (2**31, twenty digits, thousands) is sent as drawn and must be a 404, not a 500."""
    return value if type(value) is int and value > MAX_ROW_ID else _pick(value, choices)


def _body_with_world_ids(value, ids: dict[str, list[int]]):
    if isinstance(value, list):
        return [_body_with_world_ids(item, ids) for item in value]
    if not isinstance(value, dict):
        return value
    mapped = {}
    for key, item in value.items():
        kind = BODY_ID_KINDS.get(key)
        if kind is None:
            mapped[key] = _body_with_world_ids(item, ids)
        else:
            mapped[key] = [_pick(v, ids[kind]) for v in item] if isinstance(item, list) else _pick(item, ids[kind])
    return mapped


def _use_world_ids(case, ids: dict[str, list[int]]) -> None:
    """Point generated ids at world objects, so handlers get past "unknown id" to their real work.

    Path ids are mapped when in range (their schema is 0..MAX_ROW_ID, so a negative case stays negative and
    one past the maximum stays past it); body ids only in positive cases, where every generated id is in range.
    """
    for name, value in (case.path_parameters or {}).items():
        if name in ids:
            case.path_parameters[name] = _pick_path_id(value, ids[name])
    if case.meta is not None and case.meta.generation.mode.is_positive and isinstance(case.body, dict):
        case.body = _body_with_world_ids(case.body, ids)


def _rows() -> dict[str, list[tuple]]:
    """Every committed row of every table (read on a connection of its own), less the legitimate writes."""
    rows = {}
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            skip = LEGITIMATE_WRITES.get(table.name, set())
            if skip is None:
                continue
            columns = [column for column in table.columns if column.name not in skip]
            rows[table.name] = sorted(map(tuple, conn.execute(select(*columns))), key=repr)
    return rows


def ids_past_the_columns_are_not_found(ctx, response, case) -> None:
    """A path id past every id column names nothing: 404 (or the 401/403 of a caller who may not ask at all)."""
    if any(type(value) is int and value > MAX_ROW_ID for value in (case.path_parameters or {}).values()):
        assert response.status_code in (401, 403, 404, 405), \
            f"{case.method} {case.formatted_path} answered {response.status_code}"


def error_answers_share_one_shape(ctx, response, case) -> None:
    """An error answer uses the shared shape; a 422 names at least one field under a location."""
    if response.status_code < 400:
        return
    body = response.json()
    assert body["code"] == response.status_code and body["status"], body
    if response.status_code == 422:
        errors = body.get("errors")
        assert isinstance(errors, dict) and errors, f"a 422 that names no field: {body}"
        assert all(isinstance(fields, dict) and fields for fields in errors.values()), body


@dataclass
class Arena:
    """One operation's world: its objects, their ids for URLs and bodies, and its rows after the last write."""

    world: World
    ids: dict[str, list[int]]
    rows: dict[str, list[tuple]]


@pytest.fixture
def arena(tree) -> Arena:
    """Built once per operation; the examples of one operation share it and what they add."""
    world = build_world(tree)
    ids = _known_ids(world)
    db.session.commit()  # end the test's transaction: on SQLite it would hold the one write lock
    return Arena(world, ids, _rows())


def _fuzz(case, app, arena: Arena, caller: str) -> None:
    _use_world_ids(case, arena.ids)
    writes = case.method.upper() != "GET"
    try:
        # A request of its own, as in production: its session ends with it and cannot hide a missing commit.
        with app.app_context():
            response = case.call_and_validate(headers={"Authorization": f"Bearer {arena.world.tokens[caller]}"},
                                              additional_checks=[error_answers_share_one_shape,
                                                                 ids_past_the_columns_are_not_found])
    finally:
        # Reads change no row that is compared, so the last write's snapshot is the "before" of the next one.
        before, arena.rows = arena.rows, _rows() if writes else arena.rows
    if writes and response.status_code >= 400:
        assert arena.rows == before, f"{case.method} {case.formatted_path} answered {response.status_code} " \
                                     "but changed rows"


# The arena fixture is built once per operation and shared by its examples, on purpose.
FUZZ_SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                               HealthCheck.too_slow, HealthCheck.filter_too_much])


@admin_schema.parametrize()
@FUZZ_SETTINGS
def test_every_operation_as_admin(case, app, arena):
    _fuzz(case, app, arena, "admin")


@office_schema.parametrize()
@FUZZ_SETTINGS
def test_every_operation_as_community_office(case, app, arena):
    _fuzz(case, app, arena, "office_a")


DATETIME_INPUTS = list(_datetime_inputs(session_app().test_client().get("/api/v1/openapi.json").get_json()))


@pytest.mark.parametrize(("method", "url", "location", "trail"), DATETIME_INPUTS,
                         ids=[f"{m.upper()} {u} {'.'.join(t)}" for m, u, _, t in DATETIME_INPUTS])
@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(when=st.datetimes(timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=8)),
                                                     timezone(timedelta(hours=-12)),
                                                     timezone(timedelta(hours=14))])))
def test_every_datetime_input_takes_any_year_without_a_500(api, method, url, location, trail, when):
    """Any year from 1 to 9999 in any offset: outside 2000-2100 a 422 naming the field, never a 500."""
    path = re.sub(r"\{[^}]+\}", str(MISSING_ID), url).removeprefix("/api/v1")
    text = when.isoformat()
    if location == "query":
        response = api.request(method.upper(), path, query_string={trail[0]: text})
    else:
        response = api.request(method.upper(), path, json=_nest(trail, text))
    assert response.status_code < 500
    if not 2000 <= when.year <= 2100:
        assert response.status_code == 422
        assert _errors_at(response.get_json()["errors"][location], trail) == ["Must be between 2000 and 2100."]
