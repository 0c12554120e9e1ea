"""Bearer tokens, the error shape on routing errors, the OpenAPI document and offline docs."""
import json
from datetime import timedelta

from accounts.models import ApiToken, Role
from accounts.services import create_token, hash_token
from core.clock import utcnow
from extensions import db


def test_api_without_token_is_401(client):
    response = client.get("/api/v1/grids")
    assert response.status_code == 401
    assert response.get_json()["code"] == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_api_with_unknown_revoked_or_expired_token_is_401(client):
    assert client.get("/api/v1/grids", headers={"Authorization": "Bearer nope"}).status_code == 401
    revoked, plain_revoked = create_token(name="old", role=Role.ADMIN, now=utcnow())
    revoked.revoked_at = utcnow()
    _, plain_expired = create_token(name="late", role=Role.ADMIN, now=utcnow(),
                                    expires_at=utcnow() - timedelta(minutes=1))
    db.session.commit()
    for plain in (plain_revoked, plain_expired):
        assert client.get("/api/v1/grids", headers={"Authorization": f"Bearer {plain}"}).status_code == 401


def test_tokens_are_stored_hashed_and_last_use_recorded(client, admin_token):
    token = db.session.query(ApiToken).one()
    assert token.token_hash == hash_token(admin_token) and admin_token not in token.token_hash
    assert token.last_used_at is None
    assert client.get("/api/v1/grids", headers={"Authorization": f"Bearer {admin_token}"}).status_code == 200
    db.session.refresh(token)
    assert token.last_used_at is not None


def test_office_token_lists_only_its_subtree(client, tree):
    _, plain = create_token(name="office", role=Role.OFFICE, grid_id=tree.community_a.id, now=utcnow())
    response = client.get("/api/v1/grids", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 200
    assert {grid["code"] for grid in response.json} == {"CA", "CA1", "CA2"}


def test_tokens_cli_prints_token_alone_on_last_line(runner, client):
    result = runner.invoke(args=["tokens", "create", "--admin", "--name", "城市大脑"])
    assert result.exit_code == 0, result.output
    plain = result.output.strip().splitlines()[-1]
    assert plain.startswith("gm_") and " " not in plain
    assert client.get("/api/v1/grids", headers={"Authorization": f"Bearer {plain}"}).status_code == 200


def test_tokens_cli_office_needs_grid(runner):
    result = runner.invoke(args=["tokens", "create", "--role", "office", "--name", "x"])
    assert result.exit_code != 0 and "grid_id" in result.output


def test_unknown_route_and_wrong_method_use_error_shape(api):
    missing = api.get("/no-such-thing")
    assert missing.status_code == 404 and missing.get_json()["status"] == "Not Found"
    wrong = api.request("PUT", "/grids")
    assert wrong.status_code == 405
    assert set(wrong.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_openapi_document_lists_contract_paths(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["info"]["title"] == "Gridmuster"
    for path in ["/api/v1/grids", "/api/v1/grids/{grid_id}", "/api/v1/skills", "/api/v1/volunteers",
                 "/api/v1/volunteers/{volunteer_id}", "/api/v1/enterprises",
                 "/api/v1/enterprises/{enterprise_id}/teams", "/api/v1/campaigns",
                 "/api/v1/campaigns/{campaign_id}", "/api/v1/campaigns/{campaign_id}/staffing",
                 "/api/v1/campaigns/{campaign_id}/callups", "/api/v1/callups/{callup_id}"]:
        assert path in spec["paths"], path
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_openapi_document_lists_each_status_an_operation_can_answer(client):
    """No catch-all "default" answer (it made any status look documented), so each one must be listed."""
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue  # the path's shared "parameters"
            codes = set(operation["responses"])
            assert "default" not in codes and "503" in codes, (method, path)
            if operation.get("security") != []:
                assert {"401", "403"} <= codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            if "requestBody" in operation:
                assert "400" in codes, (method, path)
    for path in ("/api/v1/grids", "/api/v1/volunteers", "/api/v1/campaigns"):  # an unknown grid in a filter
        assert "404" in spec["paths"][path]["get"]["responses"], path


def test_openapi_document_says_the_pagination_header_is_json(api, client):
    spec = client.get("/api/v1/openapi.json").get_json()
    header = spec["paths"]["/api/v1/grids"]["get"]["responses"]["200"]["headers"]["X-Pagination"]
    name = header["$ref"].rsplit("/", 1)[-1]
    assert "schema" not in spec["components"]["headers"][name]
    assert spec["components"]["headers"][name]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PaginationMetadata"}
    assert json.loads(api.get("/grids").headers["X-Pagination"])["total"] == 0


def test_docs_page_loads_assets_locally(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page
    assert "http://" not in page.replace("http://localhost", "") and "https://" not in page
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200


def test_healthz_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}


def test_index_page_shows_district_numbers(client, tree):
    page = client.get("/").get_data(as_text=True)
    assert "滨江区" in page and "/api/v1/docs" in page
