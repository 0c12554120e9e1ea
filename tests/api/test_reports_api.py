"""The reports over the API and on the cockpit page: figures, scoping (404 outside the caller's area), bad input, exports."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from accounts.models import Role
from accounts.services import create_token
from core.clock import utcnow
from tests.conftest import ApiClient
from tests import reports_world as world

PERIOD = {"from": "2026-11-01", "to": "2026-11-30"}


@pytest.fixture
def district(tree):
    return world.build(tree)


def office_api(client, grid) -> ApiClient:
    _, token = create_token(name=f"office {grid.code}", role=Role.OFFICE, grid_id=grid.id, now=utcnow())
    return ApiClient(client, token)


def test_reports_api_district_figures(api, tree, district):
    body = api.get("/reports/campaigns", query_string=PERIOD).get_json()
    assert (body["total"]["campaigns"], body["total"]["places"], body["total"]["hours"]) == (3, 7, 10.5)
    assert body["area"]["id"] == tree.district.id and body["period"] == PERIOD
    assert {row["name"] for row in body["rows"]} == {tree.street.name, district.street2.name}
    emergencies = api.get("/reports/emergencies", query_string=PERIOD).get_json()["total"]
    assert (emergencies["places"], emergencies["places_in_hour"], emergencies["share_in_hour"]) == (3, 2, 0.667)
    hours = api.get("/reports/hours", query_string=PERIOD).get_json()
    assert hours["by_month"] == [{"month": "2026-11", "hours": 10.5}]
    assert api.get("/reports/people").get_json()["total"] == {"people": 8, "party_members": 2}
    assert api.get("/reports/activity", query_string=PERIOD).get_json()["total"]["dormant"] == 1
    assert api.get("/reports/enterprises", query_string=PERIOD).get_json()["rows"][0]["hours"] == 1.0


def test_reports_api_office_sees_only_its_subtree(client, tree, district):
    street = office_api(client, tree.street)
    body = street.get("/reports/campaigns", query_string=PERIOD).get_json()
    assert (body["area"]["id"], body["total"]["campaigns"], body["total"]["places"]) == (tree.street.id, 2, 6)
    for path in ("campaigns", "hours", "people", "emergencies", "activity", "enterprises"):
        response = street.get(f"/reports/{path}", query_string={**PERIOD, "grid_id": district.street2.id})
        assert response.status_code == 404, path
    assert street.get("/reports/export", query_string={"report": "hours", "grid_id": tree.district.id}).status_code == 404
    community = office_api(client, tree.community_a)
    assert community.get("/reports/hours", query_string={"grid_id": tree.community_b.id}).status_code == 404
    assert community.get("/reports/hours", query_string=PERIOD).get_json()["total"]["hours"] == 3.7


def test_reports_api_refuses_volunteers(client, tree, district):
    _, token = create_token(name="person", role=Role.VOLUNTEER, volunteer_id=district.people.v1.id, now=utcnow())
    assert ApiClient(client, token).get("/reports/campaigns").status_code == 403


@pytest.mark.parametrize("query, field, status", [
    ({"from": "2026-13-01"}, "from", 400), ({"to": "yesterday"}, "to", 400), ({"grid_id": "abc"}, "grid_id", 400),
    ({"grid_id": "0"}, "grid_id", 400),
    # Dates that are dates but make no period: the business rule's 422, naming the field too.
    ({"from": "2026-12-02", "to": "2026-12-01"}, "to", 422), ({"from": "2019-01-01", "to": "2026-12-01"}, "from", 422),
])
def test_reports_api_bad_input_names_the_field(api, tree, query, field, status):
    response = api.get("/reports/campaigns", query_string=query)
    assert response.status_code == status
    errors = response.get_json()["errors"]
    assert field in errors.get("query", errors.get("json", {})), errors


def test_reports_api_exports_csv_and_xlsx(api, tree, district):
    response = api.get("/reports/export", query_string={**PERIOD, "report": "campaigns", "format": "csv"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "report-campaigns-D-20261101-20261130.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    total = next(row for row in rows if row and row[0].startswith("Total"))  # an API client without a language
    assert total[1:6] == ["3", "7", "8", "6", "5"]
    chinese = api.get("/reports/export", query_string={**PERIOD, "report": "campaigns", "format": "csv"},
                      headers={"Accept-Language": "zh-CN"})
    rows = list(csv.reader(io.StringIO(chinese.get_data().decode("utf-8-sig"))))
    assert next(row for row in rows if row and row[0].startswith("合计"))[1:6] == total[1:6]
    response = api.get("/reports/export", query_string={**PERIOD, "report": "hours", "format": "xlsx", "lang": "en"})
    workbook = load_workbook(io.BytesIO(response.get_data()))
    assert workbook.sheetnames == ["By grid", "By skill", "By kind", "By month"]
    month = list(workbook["By month"].iter_rows(values_only=True))
    assert month[1] == ("Month", "Hours") and month[2] == ("2026-11", 10.5)
    assert api.get("/reports/export", query_string={"report": "nope"}).status_code == 400


def test_cockpit_page_figures_drill_down_and_scope(login_as, tree, district):
    street = login_as("office", grid_id=tree.street.id)
    assert 'href="/cockpit" id="cockpit-link"' in street.get("/office/campaigns").get_data(as_text=True)
    page = street.get("/cockpit", query_string=PERIOD)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="kpi-campaigns"><span class="kpi">2</span>' in html
    # Drill-down: the street's communities are links to their own cockpit.
    assert f'/cockpit?grid_id={tree.community_a.id}&amp;from=2026-11-01&amp;to=2026-11-30' in html
    assert district.street2.name not in html
    community = street.get("/cockpit", query_string={**PERIOD, "grid_id": tree.community_a.id})
    assert community.status_code == 200 and 'id="kpi-campaigns"><span class="kpi">2</span>' in community.get_data(as_text=True)
    other = street.get("/cockpit", query_string={"grid_id": district.street2.id})
    assert other.status_code == 404
    assert street.get("/cockpit/export", query_string={"report": "people", "grid_id": district.street2.id}).status_code == 404
    export = street.get("/cockpit/export", query_string={**PERIOD, "report": "campaigns", "format": "xlsx"})
    assert export.status_code == 200 and export.mimetype.endswith("spreadsheetml.sheet")


def test_cockpit_page_bad_dates_and_roles(login_as, tree, district):
    admin = login_as("admin")
    bad = admin.get("/cockpit", query_string={"from": "2026-02-30"})
    assert bad.status_code == 400 and "from" in bad.get_data(as_text=True).split('id="error-fields"')[1]
    backwards = admin.get("/cockpit", query_string={"from": "2026-12-02", "to": "2026-12-01"})
    assert backwards.status_code == 422 and '有误的项：to' in backwards.get_data(as_text=True)
    assert admin.get("/cockpit", query_string=PERIOD).status_code == 200
    assert login_as("volunteer").get("/cockpit").status_code == 403
