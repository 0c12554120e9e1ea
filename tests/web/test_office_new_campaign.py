"""A new campaign from the office console: the API's schema and service behind a form, scope and CSRF kept."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from campaigns.models import Campaign, CampaignStatus, Priority
from core.kinds import CampaignKind
from extensions import db
from tests.calendar_ahead import local_at, saturday_ahead
from tests.conftest import form_csrf_token

# The shift the forms fill in: a Saturday some weeks ahead of whatever day the suite runs.
SATURDAY = saturday_ahead(weeks=4)


def _body(tree, token: str, **changes) -> dict:
    """What the browser sends for a filled-in form: strings only."""
    body = {"csrf_token": token, "title": "江南垃圾分类周末", "kind": "garbage_sorting", "priority": "urgent",
            "office_grid_id": str(tree.community_a.id), "description": "小区门口宣传", "contact_name": "王芳",
            "contact_phone": "0571-8888 1234", "date": str(SATURDAY), "start": "09:00", "end": "12:30",
            "place": "江南小区3幢", "shift_grid_id": str(tree.grid_a1.id),
            "role-1": "分类指导员", "headcount-1": "4", "skill-1": "publicity", "min_level-1": "2",
            "min_party_members-1": "1",
            "role-2": "", "headcount-2": "", "skill-2": "", "min_level-2": "1", "min_party_members-2": "0",
            "role-3": "巡查员", "headcount-3": "2", "skill-3": "", "min_level-3": "1", "min_party_members-3": "0"}
    body.update(changes)
    return body


def _campaigns() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Campaign))


def _select(page: str, name: str) -> str:
    """The options of one select on the page."""
    start = page.find(f'<select name="{name}"')
    assert start >= 0, page[:500]
    return page[start:page.find("</select>", start)]


def _field_error(page: str, field: str) -> str:
    marker = f'id="{field}-error">'
    start = page.find(marker)
    assert start >= 0, f"no error on {field}: " + page[page.find('id="form-errors"'):][:800]
    return page[start + len(marker):page.find("</span>", start)]


@pytest.fixture
def office(login_as, tree):
    return login_as("office", grid_id=tree.community_a.id)


def test_office_creates_a_one_shift_campaign_and_lands_on_its_board(office, tree):
    listing = office.get("/office/campaigns").get_data(as_text=True)
    assert 'href="/office/campaigns/new"' in listing
    form = office.get("/office/campaigns/new")
    assert form.status_code == 200 and form.headers["Cache-Control"] == "no-store"

    response = office.post("/office/campaigns/new", data=_body(tree, form_csrf_token(form)))

    assert response.status_code == 302
    campaign = db.session.scalar(select(Campaign))
    assert response.headers["Location"].endswith(f"/office/campaigns/{campaign.id}")
    assert (campaign.title, campaign.kind, campaign.priority, campaign.status) == (
        "江南垃圾分类周末", CampaignKind.GARBAGE_SORTING, Priority.URGENT, CampaignStatus.DRAFT)
    assert (campaign.office_grid_id, campaign.contact_name, campaign.contact_phone) == (
        tree.community_a.id, "王芳", "0571-8888 1234")
    assert campaign.created_by == f"user:{office.user.id}"
    [shift] = campaign.shifts
    # 09:00-12:30 in Asia/Shanghai is 01:00-04:30 UTC.
    assert shift.start_at == local_at(SATURDAY, 9)
    assert shift.end_at == local_at(SATURDAY, 12, 30)
    assert (shift.grid_id, shift.place) == (tree.grid_a1.id, "江南小区3幢")
    first, second = sorted(shift.positions, key=lambda p: p.id)
    assert (first.role, first.headcount, first.min_party_members) == ("分类指导员", 4, 1)
    assert [(s.skill_id, s.min_level, s.preferred) for s in first.skills] == [(tree.skills["publicity"].id, 2, False)]
    assert (second.role, second.headcount, second.skills) == ("巡查员", 2, [])

    board = office.get(response.headers["Location"]).get_data(as_text=True)
    assert "江南垃圾分类周末" in board and "已创建活动草稿" in board


def test_the_form_offers_the_offices_own_grids_kinds_and_skills(office, tree):
    page = office.get("/office/campaigns/new").get_data(as_text=True)
    offices = _select(page, "office_grid_id")
    assert f'value="{tree.community_a.id}" selected' in offices
    for foreign in (tree.community_b, tree.street, tree.district, tree.grid_a1):
        assert f'value="{foreign.id}"' not in offices
    places = _select(page, "shift_grid_id")
    assert f'value="{tree.grid_a1.id}"' in places and f'value="{tree.grid_b1.id}"' not in places
    assert "垃圾分类宣传" in page and "燃气安全检查" in page
    assert "style=" not in page and "<script" not in page


@pytest.mark.parametrize(("changes", "field", "words"), [
    ({"title": "  "}, "title", "标题：必填。"),
    ({"end": "08:00"}, "end", "结束时间：结束时间须晚于开始时间。"),
    ({"headcount-1": "0"}, "headcount-1", "人数（岗位 1）：超出允许范围。"),
    ({"headcount-3": "many"}, "headcount-3", "请输入整数。"),
    ({"min_party_members-1": "5"}, "min_party_members-1", "不能多于人数。"),
    ({"contact_phone": "call me"}, "contact_phone", "联系电话：电话号码格式不对。"),
    ({"date": ""}, "date", "日期：请填写日期。"),
    ({"skill-1": "juggling"}, "skill-1", "所需技能（岗位 1）：技能不存在。"),
    ({"role-1": "", "headcount-1": "", "role-3": "", "headcount-3": ""}, "positions", "岗位："),
])
def test_a_bad_field_is_named_next_to_the_form_and_nothing_is_written(office, tree, changes, field, words):
    token = form_csrf_token(office.get("/office/campaigns/new"))
    response = office.post("/office/campaigns/new", data=_body(tree, token, **changes))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert words in _field_error(page, field)
    assert 'id="form-errors"' in page
    assert 'value="江南垃圾分类周末"' in page or field == "title"  # what was typed is kept
    assert _campaigns() == 0


def test_office_cannot_use_another_communitys_grid(office, tree):
    page = office.get("/office/campaigns/new")
    text = page.get_data(as_text=True)
    assert f'value="{tree.community_b.id}"' not in _select(text, "office_grid_id")
    assert f'value="{tree.grid_b1.id}"' not in _select(text, "shift_grid_id")
    token = form_csrf_token(page)

    forged = office.post("/office/campaigns/new", data=_body(tree, token, office_grid_id=str(tree.community_b.id),
                                                             shift_grid_id=str(tree.grid_b1.id)))
    assert forged.status_code == 422
    assert f"办公网格：网格 {tree.community_b.id} 不存在或不在您的管辖范围内。" in _field_error(
        forged.get_data(as_text=True), "office_grid_id")

    elsewhere = office.post("/office/campaigns/new", data=_body(tree, token, shift_grid_id=str(tree.grid_b1.id)))
    assert elsewhere.status_code == 422
    assert "班次网格：不在办公网格之内。" in _field_error(elsewhere.get_data(as_text=True), "shift_grid_id")
    assert _campaigns() == 0


def test_a_street_office_may_run_a_campaign_for_one_of_its_communities(login_as, tree):
    street = login_as("office", grid_id=tree.street.id)
    page = street.get("/office/campaigns/new")
    offices = _select(page.get_data(as_text=True), "office_grid_id")
    for grid in (tree.street, tree.community_a, tree.community_b):
        assert f'value="{grid.id}"' in offices
    assert f'value="{tree.district.id}"' not in offices and f'value="{tree.grid_b1.id}"' not in offices
    response = street.post("/office/campaigns/new", data=_body(
        tree, form_csrf_token(page), office_grid_id=str(tree.community_b.id), shift_grid_id=str(tree.grid_b1.id)))
    assert response.status_code == 302
    assert db.session.scalar(select(Campaign.office_grid_id)) == tree.community_b.id


def test_volunteers_are_refused_and_a_post_needs_the_csrf_token(login_as, office, tree):
    volunteer = login_as("volunteer")
    assert volunteer.get("/office/campaigns/new").status_code == 403
    assert volunteer.post("/office/campaigns/new", data=_body(tree, "x")).status_code in (400, 403)
    assert login_as("enterprise").get("/office/campaigns/new").status_code == 403

    office.get("/office/campaigns/new")
    body = _body(tree, "")
    del body["csrf_token"]
    assert office.post("/office/campaigns/new", data=body).status_code == 400
    assert office.post("/office/campaigns/new", data=_body(tree, "forged")).status_code == 400
    assert _campaigns() == 0


def test_the_admin_may_pick_any_office_including_the_district(login_as, tree):
    admin = login_as("admin")
    page = admin.get("/office/campaigns/new")
    assert page.status_code == 200
    offices = _select(page.get_data(as_text=True), "office_grid_id")
    for grid in (tree.district, tree.street, tree.community_a, tree.community_b):
        assert f'value="{grid.id}"' in offices
    assert f'value="{tree.grid_a1.id}"' not in offices


@pytest.mark.browser
def test_in_a_browser_the_form_drafts_a_campaign_under_the_csp(page, live_server, tree):
    from accounts.models import Role
    from accounts.users import create_user
    from core.clock import utcnow
    from tests.conftest import LOGIN_PASSWORD

    create_user(login="wang", display_name="王主任", password=LOGIN_PASSWORD, role=Role.OFFICE, actor="test",
                now=utcnow(), grid_id=tree.community_a.id)
    grid_id, skill_id = tree.grid_a2.id, tree.skills["gas_check"].id
    db.session.commit()  # the server's threads write: this test holds no SQLite lock while they do
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    page.goto(live_server + "/login?next=/office/campaigns")
    page.fill("#login", "wang")
    page.fill("#password", LOGIN_PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(live_server + "/office/campaigns")
    page.click("#new-campaign-link")
    page.wait_for_url(live_server + "/office/campaigns/new")

    page.fill("#title", "江南燃气入户")
    page.select_option("#kind", "gas_safety")
    page.fill("#date", str(SATURDAY))
    page.fill("#start", "14:00")
    page.fill("#end", "17:00")
    page.select_option("#shift_grid_id", str(grid_id))
    page.fill("#role-1", "入户检查员")
    page.fill("#headcount-1", "3")
    page.select_option("#skill-1", "gas_check")
    page.select_option("#min_level-1", "3")
    page.click("#create-campaign")
    page.wait_for_selector("#campaign-title")

    assert "江南燃气入户" in page.locator("#campaign-title").inner_text()
    assert "已创建活动草稿" in page.locator("#flashes").inner_text()
    assert [m for m in messages if "Content Security Policy" in m or "Refused to" in m] == []
    db.session.expire_all()
    campaign = db.session.scalar(select(Campaign))
    assert campaign.shifts[0].start_at == local_at(SATURDAY, 14)
    assert [(s.min_level, s.skill_id) for s in campaign.shifts[0].positions[0].skills] == [(3, skill_id)]
