"""双报到 for the workplace party organisation itself: its contact signs in (page or API) and reads the quarterly
report of every member who reported to a community anywhere in the district, and nothing else — not another
organisation's report, not the list of organisations, not an office page. In Chromium on a phone and a desktop,
in Chinese and in English."""
from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select

from accounts.models import ApiToken, AuditEvent, Role, User
from accounts.services import create_token
from accounts.users import create_user
from campaigns import hours
from core.clock import utcnow
from core.errors import ValidationFailed
from extensions import db
from tests.conftest import LOGIN_PASSWORD, ApiClient
from tests.factories import VolunteerFactory
from tests.web.test_party_report import PARTY, SHIFT_AT, TZ, _serve
from volunteers.models import PartyOrganisation, Volunteer
from volunteers.party_orgs import set_party_org

HEALTH, WATER = "区卫健局机关党委", "区水务集团党委"
SCREENSHOTS = Path(__file__).parent / "screenshots"
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 800}}


def _members(tree) -> dict[str, int]:
    """Three health-bureau members in two communities (two served in 2026Q4) and one water-group member."""
    people = {"赵敏": tree.grid_a1, "钱进": tree.grid_a2, "孙立": tree.grid_b1, "李娜": tree.grid_b1}
    made = {name: VolunteerFactory(name=name, home_grid_id=grid.id, identity_flags=PARTY) for name, grid in
            people.items()}
    for name, person in made.items():
        set_party_org(person.id, WATER if name == "李娜" else HEALTH, now=SHIFT_AT - timedelta(days=60))
    db.session.execute(Volunteer.__table__.update().values(created_at=SHIFT_AT - timedelta(days=60)))
    db.session.commit()
    _serve(made["赵敏"], came=True)
    _serve(made["孙立"], came=True)
    _serve(made["李娜"], came=True)
    hours.book_ended_shifts(now=SHIFT_AT + timedelta(days=1), timezone_name=TZ)
    return {name: db.session.scalar(select(PartyOrganisation.id).where(PartyOrganisation.name == name))
            for name in (HEALTH, WATER)}


def test_an_account_of_the_contact_is_bound_to_exactly_one_existing_organisation(tree):
    org = _members(tree)[HEALTH]
    cases = [({}, "party_org_id"), ({"party_org_id": 99999}, "party_org_id"),
             ({"party_org_id": org, "grid_id": tree.community_a.id}, "grid_id")]
    for binding, field in cases:
        with pytest.raises(ValidationFailed) as refused:
            create_user(login="dangwei", display_name="党委联络员", password=LOGIN_PASSWORD, role=Role.PARTY_ORG,
                        actor="test", now=utcnow(), **binding)
        assert list(refused.value.errors) == [field], binding
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
    # Nor may an office account carry an organisation.
    with pytest.raises(ValidationFailed) as refused:
        create_user(login="wang", display_name="王主任", password=LOGIN_PASSWORD, role=Role.OFFICE, actor="test",
                    now=utcnow(), grid_id=tree.community_a.id, party_org_id=org)
    assert list(refused.value.errors) == ["party_org_id"]


def test_the_contact_lands_on_their_report_with_members_from_every_community(tree, login_as):
    orgs = _members(tree)
    contact = login_as("party_org", party_org_id=orgs[HEALTH])
    landing = contact.get("/me")
    assert landing.status_code == 302 and landing.headers["Location"].endswith("/office/party-orgs/ours")
    ours = contact.get("/office/party-orgs/ours?quarter=2026Q4")
    assert ours.status_code == 302 and ours.headers["Location"].endswith(f"/office/party-orgs/{orgs[HEALTH]}"
                                                                          "?quarter=2026Q4")
    page = contact.get(ours.headers["Location"]).get_data(as_text=True)
    # Both communities' members (an office of community A sees only 赵敏 and 钱进), not the other organisation's.
    assert all(name in page for name in ("赵敏", "钱进", "孙立")) and "李娜" not in page
    assert 'id="report-intro"' in page and 'href="/office/party-orgs"' not in page
    assert "3 名党员：召集 2 次，接受 2 次，到岗 2 次，服务 6.0 小时" in page
    sheet = load_workbook(io.BytesIO(contact.get(f"/office/party-orgs/{orgs[HEALTH]}/report.xlsx?quarter=2026Q4")
                                     .data)).active
    names = [row[0] for row in sheet.iter_rows(min_row=3, values_only=True)][:-1]
    assert sorted(names) == sorted(["赵敏", "钱进", "孙立"])
    pdf = contact.get(f"/office/party-orgs/{orgs[HEALTH]}/report.pdf?quarter=2026Q4")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.headers["Content-Disposition"] == f'attachment; filename="party-org-{orgs[HEALTH]}-2026Q4.pdf"'
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert all(name in text for name in ("区卫健局机关党委", "赵敏", "钱进", "孙立", "合计")) and "李娜" not in text
    exports = db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "party_report.export")
                                 .order_by(AuditEvent.id)).all()
    assert exports == ["2026Q4, 3 members, xlsx", "2026Q4, 3 members, pdf"]

    office = login_as("office", grid_id=tree.community_a.id).get(f"/office/party-orgs/{orgs[HEALTH]}?quarter=2026Q4")
    assert "孙立" not in office.get_data(as_text=True)  # the office's view stays its own area


def test_the_report_pdf_without_its_font_is_a_503_page(tree, login_as, app, monkeypatch):
    orgs = _members(tree)
    contact = login_as("party_org", party_org_id=orgs[HEALTH])
    monkeypatch.setitem(app.config, "CERTIFICATE_FONT", "/nonexistent/font.ttc")
    response = contact.get(f"/office/party-orgs/{orgs[HEALTH]}/report.pdf?quarter=2026Q4")
    assert response.status_code == 503 and response.mimetype == "text/html"
    assert 'id="error-text"' in response.get_data(as_text=True) and response.headers["Retry-After"]
    db.session.rollback()
    assert not db.session.scalars(select(AuditEvent).where(AuditEvent.action == "party_report.export")).all()


def test_the_contact_reads_nothing_else(tree, login_as):
    orgs = _members(tree)
    contact = login_as("party_org", party_org_id=orgs[HEALTH])
    assert contact.get(f"/office/party-orgs/{orgs[WATER]}").status_code == 404
    assert contact.get(f"/office/party-orgs/{orgs[WATER]}/report.xlsx").status_code == 404
    assert contact.get(f"/office/party-orgs/{orgs[WATER]}/report.pdf").status_code == 404
    assert contact.get(f"/office/party-orgs/{orgs[HEALTH]}/report.pdf?quarter=2026Q9").status_code == 422
    assert contact.get("/office/party-orgs/4242").status_code == 404
    for path in ("/office/party-orgs", "/office/campaigns", "/office/volunteers", "/cockpit", "/grid/whistles",
                 "/me/profile", "/enterprise"):
        assert contact.get(path).status_code == 403, path
    # A volunteer and an enterprise cannot reach the contact's landing page either.
    assert login_as("volunteer").get("/office/party-orgs/ours").status_code == 403


def test_the_contact_signs_in_through_the_api_and_reads_the_same_report(client, tree):
    orgs = _members(tree)
    create_user(login="dangwei", display_name="党委联络员", password=LOGIN_PASSWORD, role=Role.PARTY_ORG,
                actor="test", now=utcnow(), party_org_id=orgs[HEALTH])
    signed = client.post("/api/v1/auth/token", json={"login": "dangwei", "password": LOGIN_PASSWORD})
    assert signed.status_code == 201, signed.get_json()
    body = signed.get_json()
    assert (body["role"], body["party_org_id"]) == ("party_org", orgs[HEALTH])
    api = ApiClient(client, body["token"])
    me = api.get("/me").get_json()
    assert (me["role"], me["party_org_id"], me["party_org_name"]) == ("party_org", orgs[HEALTH], HEALTH)
    report = api.get("/party-organisations/report", query_string={"org_id": orgs[HEALTH], "quarter": "2026Q4"})
    assert report.status_code == 200, report.get_json()
    assert sorted(m["name"] for m in report.get_json()["members"]) == sorted(["赵敏", "钱进", "孙立"])
    other = api.get("/party-organisations/report", query_string={"org_id": orgs[WATER], "quarter": "2026Q4"})
    assert other.status_code == 404
    assert api.get("/party-organisations").status_code == 403
    assert api.get("/volunteers").status_code == 403


def test_an_admin_issues_a_contact_token_only_with_its_organisation(client, tree):
    orgs = _members(tree)
    admin = ApiClient(client, create_token(name="admin", role=Role.ADMIN, now=utcnow())[1])
    refused = admin.post("/tokens", json={"name": "党委", "role": "party_org"})
    assert refused.status_code == 422 and "party_org_id" in refused.get_json()["errors"]["json"]
    unknown = admin.post("/tokens", json={"name": "党委", "role": "party_org", "party_org_id": 99999})
    assert unknown.status_code == 422 and "party_org_id" in unknown.get_json()["errors"]["json"]
    made = admin.post("/tokens", json={"name": "党委", "role": "party_org", "party_org_id": orgs[WATER]})
    assert made.status_code == 201 and made.get_json()["party_org_id"] == orgs[WATER]
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 2
    water = ApiClient(client, made.get_json()["token"])
    names = [m["name"] for m in water.get("/party-organisations/report",
                                          query_string={"org_id": orgs[WATER], "quarter": "2026Q4"})
             .get_json()["members"]]
    assert names == ["李娜"]


def test_flask_users_create_makes_a_contact_account(app, tree):
    org = _members(tree)[HEALTH]
    runner = app.test_cli_runner()
    made = runner.invoke(args=["users", "create", "--role", "party_org", "--login", "weijian-dw", "--name",
                               "卫健局党委", "--party-org-id", str(org), "--password", LOGIN_PASSWORD])
    assert made.exit_code == 0, made.output
    assert "Created party_org account" in made.output
    user = db.session.scalar(select(User).where(User.login == "weijian-dw"))
    assert (user.role, user.party_org_id) == (Role.PARTY_ORG, org)
    missing = runner.invoke(args=["users", "create", "--role", "party_org", "--login", "x-dw", "--name", "x",
                                  "--password", LOGIN_PASSWORD])
    assert missing.exit_code != 0 and "party_org_id" in missing.output


SAYS = {"zh-CN": {"lang": "zh-CN", "nav": "本单位党员社区服务", "title": "社区服务"},
        "en-GB": {"lang": "en", "nav": "Our members' community service", "title": "Community service"}}


@pytest.mark.browser
@pytest.mark.parametrize("locale", sorted(SAYS))
def test_the_contact_reads_and_downloads_the_report_on_a_phone_and_a_desktop(browser, live_server, tree, locale):
    orgs = _members(tree)
    create_user(login="dangwei", display_name="卫健局党委联络员", password=LOGIN_PASSWORD, role=Role.PARTY_ORG,
                actor="test", now=utcnow(), party_org_id=orgs[HEALTH])
    db.session.commit()
    db.session.rollback()  # the server's threads write: this test holds no SQLite lock while they do
    says, axe = SAYS[locale], Axe()
    for size, viewport in SIZES.items():
        phone = size == "phone"
        context = browser.new_context(viewport=viewport, locale=locale, is_mobile=phone, has_touch=phone,
                                      accept_downloads=True)
        try:
            page = context.new_page()
            page.goto(f"{live_server}/login")
            page.fill("#login", "dangwei")
            page.fill("#password", LOGIN_PASSWORD)
            page.click("#login-submit")
            page.wait_for_url(f"**/office/party-orgs/{orgs[HEALTH]}")
            assert page.get_attribute("html", "lang") == says["lang"]
            assert says["nav"] in page.inner_text("nav") and says["title"] in page.inner_text("#report-title")
            # The quarter picker: the fourth quarter of 2026, where the service was.
            page.select_option("#quarter", "2026Q4")
            page.click("#quarter-submit")
            page.wait_for_url("**quarter=2026Q4")
            rows = page.locator("#party-report tbody tr")
            assert rows.count() == 3 and "李娜" not in page.inner_text("#party-report")
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
            box = page.locator("#report-xlsx").bounding_box()
            assert box["height"] >= 44 and box["x"] + box["width"] <= viewport["width"]
            pdf_box = page.locator("#report-pdf").bounding_box()
            assert pdf_box["height"] >= 44 and pdf_box["x"] + pdf_box["width"] <= viewport["width"]
            with page.expect_download() as download:
                page.click("#report-xlsx")
            assert download.value.suggested_filename == f"party-org-{orgs[HEALTH]}-2026Q4.xlsx"
            sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
            assert sheet.max_row == 6  # title, header, three members, total
            blocking = [v["id"] for v in Axe.run(axe, page).response["violations"]
                        if v["impact"] in ("serious", "critical")]
            assert blocking == [], blocking
            SCREENSHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"party-contact-{locale}-{viewport['width']}.png"),
                            full_page=True)
        finally:
            context.close()
