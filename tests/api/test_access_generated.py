"""Access control of every operation in the OpenAPI document, generated, not hand-listed.

For each caller kind the test walks every path and method of /api/v1/openapi.json, fills the path
ids with objects the caller must not touch (the other community's, another person's, the other
enterprise's) and checks the answer: 401 without a token, 403 or 404 outside the caller's scope,
and lists that leave out what the caller may not see. A new endpoint is covered the moment it is in
the document; one that is not in the document fails the url_map check below.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import pytest

from accounts import access
from accounts.services import create_token
from api import auth
from core.clock import utcnow
from core.masking import mask_mobile
from core.scope import Role
from tests.api.access_world import World, build_world

METHODS = ("get", "post", "put", "patch", "delete")
ID_KEYS = {"grid_id", "home_grid_id", "office_grid_id", "parent_id", "volunteer_id", "campaign_id", "callup_id",
           "enterprise_id", "team_id", "leader_id"}
# Body fields that point at a grid: filled with a grid outside the caller's subtree.
GRID_FIELDS = re.compile(r"(^|_)(grid_id|parent_id)$")


@dataclass
class Operation:
    path: str       # the template, /api/v1/campaigns/{campaign_id}
    method: str     # upper case
    spec: dict
    params: list[str]
    endpoint: str | None = None

    @property
    def name(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class Caller:
    """Who calls, which ids are foreign to them, and which strings they must never be shown."""

    token: str
    role: Role
    ids: dict[str, int]
    markers: set[str]
    foreign_ids: dict[str, set[int]]
    foreign_grid: int
    failures: list[str] = field(default_factory=list)


def _operations(app, spec) -> list[Operation]:
    adapter = app.url_map.bind("localhost")
    found = []
    for path, item in spec["paths"].items():
        shared = item.get("parameters", [])
        for method in METHODS:
            if method not in item:
                continue
            op = item[method]
            params = [p["name"] for p in shared + op.get("parameters", []) if p["in"] == "path"]
            concrete = re.sub(r"\{[^}]+\}", "1", path)
            try:
                endpoint, _ = adapter.match(concrete, method=method.upper())
            except Exception:  # noqa: BLE001 - an operation the app does not route is reported below
                endpoint = None
            found.append(Operation(path, method.upper(), op, params, endpoint))
    return found


def _order(operation: Operation) -> tuple:
    """Reads first, then writes, deletes last: a write that wrongly succeeds cannot hide a later check."""
    return ({"GET": 0, "POST": 1, "PUT": 1, "PATCH": 2, "DELETE": 3}[operation.method], operation.path)


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _sample(spec: dict, schema: dict, name: str, caller: Caller, depth: int = 0):
    """A plausible value for a required field; grid references point outside the caller's subtree."""
    schema = _resolve(spec, schema)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return _body(spec, schema, caller, depth + 1)
    if kind == "array":
        return [_sample(spec, schema.get("items", {}), name, caller, depth + 1)] if schema.get("minItems") else []
    if kind == "integer":
        return caller.foreign_grid if GRID_FIELDS.search(name) else 1
    if kind == "number":
        return 1
    if kind == "boolean":
        return True
    fmt = schema.get("format")
    if fmt == "date-time":
        return "2030-01-05T09:00:00+08:00"
    if fmt == "date":
        return "2030-01-05"
    if name in ("from", "sender", "mobile"):
        return "13900009999"
    return "测试"


def _body(spec: dict, schema: dict, caller: Caller, depth: int = 0) -> dict:
    schema = _resolve(spec, schema)
    if depth > 4:
        return {}
    properties = schema.get("properties", {})
    return {name: _sample(spec, properties.get(name, {}), name, caller, depth)
            for name in schema.get("required", [])}


def _request_kwargs(spec: dict, operation: Operation, caller: Caller | None) -> dict:
    content = operation.spec.get("requestBody", {}).get("content", {})
    if "multipart/form-data" in content:
        return {"data": {}, "content_type": "multipart/form-data"}
    if "application/json" in content:
        if caller is None:
            return {"json": {}}
        return {"json": _body(spec, content["application/json"].get("schema", {}), caller)}
    return {}


def _query(operation: Operation) -> dict:
    return {p["name"]: "1" for p in operation.spec.get("parameters", [])
            if p["in"] == "query" and p.get("required")}


def _is_public(path: str) -> bool:
    """Public as the auth hook means it, but a prefix covers only itself and what lies below it
    (so a new /api/v1/docsets would be expected to need a token)."""
    return path in auth.PUBLIC_PATHS or any(path == prefix or path.startswith(prefix.rstrip("/") + "/")
                                            for prefix in auth.PUBLIC_PREFIXES)


def _concrete(operation: Operation, ids: dict[str, int]) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: str(ids[m.group(1)]), operation.path)


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def _typed_ids(value, found: list[tuple[str, int]]) -> list[tuple[str, int]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ID_KEYS and isinstance(item, int):
                found.append((key, item))
            _typed_ids(item, found)
    elif isinstance(value, list):
        for item in value:
            _typed_ids(item, found)
    return found


def _leaks(response, caller: Caller) -> list[str]:
    """Foreign names, mobiles, codes and typed ids found in a successful answer."""
    if response.is_json:
        body = response.get_json()
        leaked = sorted(set(_strings(body)) & caller.markers)
        grids = caller.foreign_ids["grid_id"]
        for key, value in _typed_ids(body, []):
            kind = "grid_id" if key.endswith("grid_id") or key == "parent_id" else key
            kind = "volunteer_id" if kind == "leader_id" else kind
            if value in caller.foreign_ids.get(kind, set()) or (kind == "grid_id" and value in grids):
                leaked.append(f"{key}={value}")
        return leaked
    text = response.get_data(as_text=True)
    return sorted(marker for marker in caller.markers if len(marker) >= 4 and marker in text)


def _owner_shared_for_reading(name: str, value: int) -> bool:
    """Objects every office may read (partner enterprises and their teams), per the layer's owner rules."""
    find_owner = access.OWNERS.get(name)
    owner = find_owner(value) if find_owner else None
    return bool(owner and owner.any_office_reads)


def _check(client, spec, operation: Operation, caller: Caller, token: str | None = None) -> str:
    """Make one request as ``caller``; record a failure when the answer breaks the rules. Returns the kind."""
    method, params = operation.method, operation.params
    path = _concrete(operation, caller.ids)
    kwargs = _request_kwargs(spec, operation, caller)
    response = client.open(path, method=method, query_string=_query(operation),
                           headers={"Authorization": f"Bearer {token or caller.token}"}, **kwargs)
    status = response.status_code
    label = f"{operation.name} -> {status}"
    if status >= 500:
        caller.failures.append(f"{label}: {response.get_data(as_text=True)[:200]}")
        return "broken"
    if _is_public(path):
        return "public"  # outside the layer (a login answers 401 to a wrong password): only no crash
    if status == 401:
        caller.failures.append(f"{label}: a live token was refused as unauthenticated")
        return "broken"
    allowed = access.may_call(caller.role, operation.endpoint, method)
    guarded = [p for p in params if p not in access.PUBLIC_ARGS]
    shared = (caller.role is Role.OFFICE and method == "GET"
              and all(_owner_shared_for_reading(p, caller.ids[p]) for p in guarded))
    if not allowed or (guarded and not shared):
        if status not in (403, 404):
            caller.failures.append(f"{label}: expected 403 or 404, body {response.get_data(as_text=True)[:200]}")
        return "refused"
    # The role may call it and nothing in the URL is foreign: a list, the catalogue, shared reads or the caller's own.
    if 200 <= status < 300:
        leaked = _leaks(response, caller)
        if leaked:
            caller.failures.append(f"{label}: shows objects outside the caller's scope: {leaked[:5]}")
        if method != "GET" and kwargs.get("json") and any(
                GRID_FIELDS.search(key) for key in kwargs["json"]):
            caller.failures.append(f"{label}: accepted a body that names a grid outside the caller's subtree")
    elif method == "GET" and status not in (403, 404):
        caller.failures.append(f"{label}: a read the role may make answered neither 2xx, 403 nor 404")
    return "filtered" if method == "GET" else "own-write"


def _callers(world: World) -> dict[str, Caller]:
    a, b, tree = world.a, world.b, world.tree
    everyone_a, everyone_b = a.url_ids(), b.url_ids()
    extra = {"skill_id": tree.skills["gas_check"].id, "token_id": world.token_rows["admin"].id}
    above = {tree.district.code, tree.district.name, tree.street.code, tree.street.name}

    def grid_side(side):
        """What an office must not see of the other community: partner enterprises and teams are district-wide."""
        return {kind: ids for kind, ids in side.ids().items() if kind not in ("enterprise_id", "team_id")}

    members = {side.volunteers[0].name for side in (a, b)} | {a.grid.name, b.grid.name}
    member_ids = {a.volunteers[0].id, b.volunteers[0].id}

    def both_sides(exempt):
        sides = a.ids(), b.ids()
        return {kind: (sides[0][kind] | sides[1][kind]) - exempt.get(kind, set()) for kind in sides[0]}

    def people(side, skip=()):
        return {m for i, person in enumerate(side.volunteers) if i not in skip
                for m in (person.name, person.mobile, mask_mobile(person.mobile))}

    return {
        "office_a": Caller(world.tokens["office_a"], Role.OFFICE, {**everyone_b, **extra},
                           (b.markers() - {b.enterprise.name, b.team.name}) | above, grid_side(b), b.grid.id),
        "office_b": Caller(world.tokens["office_b"], Role.OFFICE, {**everyone_a, **extra},
                           (a.markers() - {a.enterprise.name, a.team.name}) | above, grid_side(a), a.grid.id),
        # Another person in the same community: the closest thing that is still not theirs.
        "volunteer_a": Caller(world.tokens["volunteer_a"], Role.VOLUNTEER,
                              {**everyone_a, "volunteer_id": a.volunteers[1].id, "callup_id": a.callups[1].id, **extra},
                              b.markers() | people(a, skip={0}) | {a.draft.title, a.enterprise.name, a.team.name},
                              {**b.ids(), "volunteer_id": {v.id for v in a.volunteers[1:]},
                               "callup_id": {a.callups[1].id}}, b.grid.id),
        "enterprise_a": Caller(world.tokens["enterprise_a"], Role.ENTERPRISE, {**everyone_b, **extra},
                               b.markers() | people(a, skip={2}) | {a.campaign.title, a.draft.title},
                               b.ids(), b.grid.id),
        "gateway": Caller(world.tokens["gateway"], Role.GATEWAY, {**everyone_b, **extra},
                          b.markers() | a.markers(), b.ids(), b.grid.id),
        # A workplace party organisation's contact reads its report: its two members (one per side), by name and
        # home grid, and nothing else of either side.
        "party_org": Caller(world.tokens["party_org"], Role.PARTY_ORG, {**everyone_b, **extra},
                            (a.markers() | b.markers()) - members, both_sides(exempt={"volunteer_id": member_ids}),
                            b.grid.id),
    }


@pytest.fixture
def spec(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


def _assert_ids_exist(client, world: World, spec, operations: list[Operation], ids: dict[str, int]) -> None:
    """The admin reads every object the caller is refused: the refusals are not just 'no such id'."""
    admin = {"Authorization": f"Bearer {world.tokens['admin']}"}
    for operation in operations:
        if (operation.method == "GET" and operation.params and not _is_public(operation.path)
                and set(operation.params) <= set(ids)):
            response = client.get(_concrete(operation, ids), headers=admin, query_string=_query(operation))
            assert response.status_code == 200, (operation.name, response.get_json())


@pytest.mark.parametrize("caller_name", ["office_a", "office_b", "volunteer_a", "enterprise_a", "gateway",
                                         "party_org"])
def test_every_operation_refuses_callers_outside_their_scope(app, client, tree, spec, caller_name):
    world = build_world(tree)
    caller = _callers(world)[caller_name]
    operations = _operations(app, spec)
    unmapped = {p for op in operations for p in op.params if p not in caller.ids}
    assert not unmapped & set(access.OWNERS), f"give the access world an object for {unmapped}"
    for name in unmapped:
        caller.ids[name] = 1  # no owner rule: the layer refuses every role but the admin
    _assert_ids_exist(client, world, spec, operations, {k: v for k, v in caller.ids.items() if k not in unmapped})
    # The caller's own writes without ids (erasing oneself, an SMS reply) go last, each with a fresh token of
    # the same holder: they may change the world or end the caller's tokens.
    own_writes = [op for op in operations if op.method != "GET" and not op.params
                  and access.may_call(caller.role, op.endpoint, op.method)]
    ordered = sorted((op for op in operations if op not in own_writes), key=_order)
    kinds = {}
    for operation in ordered:
        kinds[operation.name] = _check(client, spec, operation, caller)
    holder = world.token_rows[caller_name]
    for operation in own_writes:
        _, fresh = create_token(name=f"{caller_name} again", role=holder.role, now=utcnow(), grid_id=holder.grid_id,
                                volunteer_id=holder.volunteer_id, enterprise_id=holder.enterprise_id)
        kinds[operation.name] = _check(client, spec, operation, caller, token=fresh)
    print(f"{caller_name}: {len(kinds)} operations, "
          + ", ".join(f"{k} {list(kinds.values()).count(k)}" for k in sorted(set(kinds.values()))))
    assert not caller.failures, "\n".join(caller.failures)
    assert len(kinds) == len(operations) > 30


def test_every_operation_without_token_is_401(app, client, spec):
    operations = _operations(app, spec)
    checked = 0
    failures = []
    for operation in operations:
        path = _concrete(operation, {name: 1 for name in operation.params})
        response = client.open(path, method=operation.method, **_request_kwargs(spec, operation, None))
        checked += 1
        if _is_public(path):
            if response.status_code >= 500:
                failures.append(f"{operation.name} -> {response.status_code}")
        elif response.status_code != 401 or response.get_json()["code"] != 401:
            failures.append(f"{operation.name} -> {response.status_code}, expected 401")
    print(f"without token: {checked} operations")
    assert not failures, "\n".join(failures)
    assert checked == len(operations) > 30


def test_every_api_route_is_in_the_document_and_ruled(app, spec):
    """Each /api/v1 route is in the OpenAPI document (so the generated tests reach it) and in PERMISSIONS."""
    documented = {(op.endpoint, op.method) for op in _operations(app, spec)}
    assert None not in {endpoint for endpoint, _ in documented}, "an operation in the document is not routed"
    missing_doc, missing_rule = [], []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(auth.API_PREFIX) or _is_public(rule.rule):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if (rule.endpoint, method) not in documented:
                missing_doc.append(f"{method} {rule.rule}")
            if method not in access.PERMISSIONS.get(rule.endpoint, {}):
                missing_rule.append(f"{rule.endpoint} {method}")
    assert not missing_doc, f"routes missing from the OpenAPI document: {missing_doc}"
    assert not missing_rule, f"routes without a PERMISSIONS entry (use frozenset() for admin only): {missing_rule}"


def test_permissions_table_has_no_stale_entries(app):
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        routes.setdefault(rule.endpoint, set()).update(rule.methods)
    stale = [f"{endpoint} {method}" for endpoint, methods in access.PERMISSIONS.items() for method in methods
             if method not in routes.get(endpoint, set())]
    assert not stale, f"PERMISSIONS names endpoints or methods that do not exist: {stale}"
    for endpoint, methods in access.PERMISSIONS.items():
        for roles in methods.values():
            assert Role.ADMIN not in roles, f"{endpoint}: the admin is implied, do not list it"
            assert isinstance(roles, frozenset), endpoint


def test_admin_reads_every_staff_collection(app, client, tree, spec):
    """The admin is the control: every list the offices may read answers 200 with both communities."""
    world = build_world(tree)
    admin = {"Authorization": f"Bearer {world.tokens['admin']}"}
    lists = [op for op in _operations(app, spec) if op.method == "GET" and not op.params
             and access.may_call(Role.OFFICE, op.endpoint, "GET")]
    assert len(lists) >= 4
    for operation in lists:
        response = client.get(operation.path, headers=admin, query_string=_query(operation))
        assert response.status_code == 200, (operation.name, response.get_data(as_text=True)[:200])
    assert json.dumps(client.get("/api/v1/volunteers", headers=admin).get_json(), ensure_ascii=False).count(
        "志愿者") == 6
