"""The office console's roster pages with the Flask test client: list filters and scope, the detail with its audited
reveal of the mobile number, the edit form's errors, roster import and export, and the grid tree."""
from __future__ import annotations

import csv
import re
import io
from datetime import date

from openpyxl import load_workbook
from sqlalchemy import func, select

from accounts.models import AuditEvent
from api.schemas.volunteers import VolunteerCreateSchema
from campaigns.models import CallUp, CallUpStatus, CampaignStatus
from core.clock import utcnow
from core.scope import Scope
from extensions import db
from tests.conftest import form_csrf_token
from tests.factories import CampaignFactory, PositionFactory, ShiftFactory
from volunteers.models import Volunteer, VolunteerSkill
from volunteers.services import register_volunteer

SYSTEM = Scope.system("test")


def _person(grid, name: str, mobile: str, **extra) -> Volunteer:
    body = {"name": name, "mobile": mobile, "home_grid_id": grid.id,
            "availability": [{"weekday": 5, "start": "09:00", "end": "12:00"}]}
    body.update(extra)
    return register_volunteer(VolunteerCreateSchema().load(body), scope=SYSTEM, now=utcnow())


def _text(response) -> str:
    return response.get_data(as_text=True)


def _rows(page: str) -> list[str]:
    """The volunteer ids listed on a roster page, in order."""
    return re.findall(r'<tr id="volunteer-(\d+)"', page)


def test_roster_lists_only_the_offices_people_masked_with_total(login_as, tree):
    zhang = _person(tree.grid_a1, "张伟", "13912345678")
    li = _person(tree.grid_a2, "李娜", "13987654321")
    other = _person(tree.grid_b1, "王强", "13711112222")
    office = login_as("office", grid_id=tree.community_a.id)

    page = office.get("/office/volunteers")
    text = _text(page)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert set(_rows(text)) == {str(zhang.id), str(li.id)} and str(other.id) not in _rows(text)
    assert "139****5678" in text and "13912345678" not in text
    assert "共 2 人" in text
    assert 'href="/office/volunteers"' in text  # the bar links the roster


def test_roster_filters_search_sort_and_empty_state(login_as, tree):
    zhang = _person(tree.grid_a1, "张伟", "13912345678", identities=["party_member"],
                    skills=[{"code": "first_aid", "level": 4}])
    li = _person(tree.grid_a2, "李娜", "13987654321", emergency_calls="available_hours",
                 skills=[{"code": "first_aid", "level": 2}])
    paused = _person(tree.grid_a2, "陈静", "13811110000", status="paused")
    office = login_as("office", grid_id=tree.community_a.id)

    def ids(query: str) -> list[str]:
        response = office.get(f"/office/volunteers?{query}")
        assert response.status_code == 200
        return _rows(_text(response))

    assert ids(f"grid_id={tree.grid_a2.id}") == [str(li.id), str(paused.id)]
    assert ids("q=5678") == [str(zhang.id)]
    assert ids("q=李") == [str(li.id)]
    assert ids("skill=first_aid") == [str(zhang.id), str(li.id)]
    assert ids("skill=first_aid&min_level=3") == [str(zhang.id)]
    assert ids("identity=party_member") == [str(zhang.id)]
    assert ids("emergency_calls=available_hours") == [str(li.id)]
    assert ids("callable=false") == [str(paused.id)]
    assert ids("callable=true") == [str(zhang.id), str(li.id)]
    assert ids("sort=name") == sorted([str(zhang.id), str(li.id), str(paused.id)],
                                      key=lambda i: {str(zhang.id): "张伟", str(li.id): "李娜", str(paused.id): "陈静"}[i])
    assert ids("sort=grid")[0] == str(zhang.id)
    sorted_page = _text(office.get("/office/volunteers?q=1&sort=name"))
    assert 'href="/office/volunteers?q=1&amp;sort=grid" id="sort-grid"' in sorted_page
    assert ids(f"grid_id={tree.community_a.id}&sort=grid") == [str(zhang.id), str(li.id), str(paused.id)]
    empty = _text(office.get("/office/volunteers?q=nobody"))
    assert 'id="no-volunteers"' in empty and "没有符合条件" in empty and 'id="clear-filters"' in empty
    # A bad value is named next to its control; the other filters still apply.
    bad = _text(office.get("/office/volunteers?min_level=9&q=张"))
    assert 'id="min_level-error"' in bad and _rows(bad) == [str(zhang.id)]
    # A grid outside the office's subtree lists nobody.
    assert ids(f"grid_id={tree.grid_b1.id}") == []


def test_roster_pages_fifty_at_a_time(login_as, tree):
    for n in range(51):
        _person(tree.grid_a1, f"志愿者{n:02d}", f"139000000{n:02d}")
    office = login_as("office", grid_id=tree.community_a.id)
    first = _text(office.get("/office/volunteers"))
    assert len(_rows(first)) == 50 and "共 51 人" in first and 'id="next-page"' in first
    second = _text(office.get("/office/volunteers?page=2&sort=name"))
    assert len(_rows(second)) == 1 and "第 2 / 2 页" in second


def test_roster_pages_refuse_other_roles_and_hide_other_communities(login_as, tree):
    other = _person(tree.grid_b1, "王强", "13711112222")
    volunteer = login_as("volunteer")
    assert volunteer.get("/office/volunteers").status_code == 403
    assert volunteer.get("/office/grids").status_code == 403
    assert login_as("enterprise").get("/office/volunteers").status_code == 403
    office = login_as("office", grid_id=tree.community_a.id)
    assert office.get(f"/office/volunteers/{other.id}").status_code == 404
    assert office.get(f"/office/volunteers/{other.id}/edit").status_code == 404
    assert office.get("/office/volunteers/999999").status_code == 404
    street = login_as("office", grid_id=tree.street.id)
    assert street.get(f"/office/volunteers/{other.id}").status_code == 200


def test_volunteer_detail_shows_record_and_reveal_is_audited(login_as, tree, now):
    zhang = _person(tree.grid_a1, "张伟", "13912345678", identities=["party_member", "building_leader"],
                    party_branch="江南社区第一党支部", consented_channels=["sms"],
                    skills=[{"code": "gas_check", "level": 3, "certificate_no": "RQ-1",
                             "certificate_expires_on": "2020-01-31"}])
    campaign = CampaignFactory(office_grid_id=tree.community_a.id, title="垃圾分类宣传", status=CampaignStatus.DONE)
    position = PositionFactory(shift=ShiftFactory(campaign=campaign), role="宣传员")
    db.session.add(CallUp(position_id=position.id, volunteer_id=zhang.id, status=CallUpStatus.NO_SHOW))
    db.session.commit()
    office = login_as("office", grid_id=tree.community_a.id)

    page = office.get(f"/office/volunteers/{zhang.id}")
    text = _text(page)
    assert page.status_code == 200
    assert "139****5678" in text and "13912345678" not in text and "tel:" not in text
    assert "江南社区第一党支部" in text and "楼栋长" in text and "RQ-1" in text and "已过期" in text
    assert "周六 · Sat</th><td>09:00–12:00" in text and "短信 · SMS" in text
    assert "垃圾分类宣传" in text and "未到" in text
    viewed = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "GET roster.volunteer")).one()
    assert (viewed.object_type, viewed.object_id) == ("volunteer", str(zhang.id))

    before = db.session.scalar(select(func.count()).select_from(AuditEvent)
                               .where(AuditEvent.action == "POST roster.reveal_mobile"))
    assert before == 0
    assert office.post(f"/office/volunteers/{zhang.id}/mobile", data={}).status_code == 400  # no CSRF token
    revealed = office.post(f"/office/volunteers/{zhang.id}/mobile", data={"csrf_token": form_csrf_token(page)})
    shown = _text(revealed)
    assert revealed.status_code == 200 and revealed.headers["Cache-Control"] == "no-store"
    assert 'href="tel:13912345678"' in shown
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "POST roster.reveal_mobile",
                                                        AuditEvent.outcome == "200")).one()
    assert (event.actor, event.object_type, event.object_id, event.outcome) == (
        f"user:{office.user.id}", "volunteer", str(zhang.id), "200")
    assert "13912345678" not in (event.detail or "")


def _edit_form(office, volunteer_id: int, **changes) -> dict:
    page = office.get(f"/office/volunteers/{volunteer_id}/edit")
    assert page.status_code == 200
    grid = re.search(r'<option value="(\d+)" selected>', page.get_data(as_text=True)).group(1)
    data = {"csrf_token": form_csrf_token(page), "name": "张伟", "home_grid_id": grid, "identities": ["party_member"],
            "party_branch": "", "availability": "周六 09:00-12:00", "max_callups_per_month": "4",
            "emergency_calls": "any_hour", "status": "active"}
    data.update(changes)
    return data


def test_edit_saves_skill_levels_certificates_and_week(login_as, tree):
    zhang = _person(tree.grid_a1, "张伟", "13912345678", skills=[{"code": "first_aid", "level": 2}])
    office = login_as("office", grid_id=tree.community_a.id)
    data = _edit_form(office, zhang.id, home_grid_id=str(tree.grid_a2.id), **{
        "skill-first_aid-level": "4", "skill-gas_check-level": "3", "skill-gas_check-no": "RQ-2025-0012",
        "skill-gas_check-expires": "2027-06-30", "availability": "周六 09:00-12:00; 周日 14:00-17:00",
        "max_callups_per_month": "6", "emergency_calls": "available_hours", "party_branch": "第一党支部"})
    response = office.post(f"/office/volunteers/{zhang.id}/edit", data=data)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/office/volunteers/{zhang.id}")
    db.session.expire_all()
    saved = db.session.get(Volunteer, zhang.id)
    levels = {row.skill.code: (row.level, row.certificate_no, row.certificate_expires_on) for row in saved.skills}
    assert levels == {"first_aid": (4, None, None), "gas_check": (3, "RQ-2025-0012", date(2027, 6, 30))}
    assert saved.home_grid_id == tree.grid_a2.id and saved.max_callups_per_month == 6
    assert saved.emergency_calls == "available_hours" and saved.party_branch == "第一党支部"
    assert [(w.weekday, w.start_minute, w.end_minute) for w in saved.availability] == [(5, 540, 720), (6, 840, 1020)]
    assert "已保存" in _text(office.get(f"/office/volunteers/{zhang.id}"))


def test_edit_errors_are_named_by_field_and_nothing_is_written(login_as, tree):
    zhang = _person(tree.grid_a1, "张伟", "13912345678", skills=[{"code": "first_aid", "level": 2}])
    office = login_as("office", grid_id=tree.community_a.id)
    cases = [
        ({"max_callups_per_month": "500", "skill-first_aid-level": "5"}, "max_callups_per_month-error"),
        ({"availability": "someday 9-12", "skill-first_aid-level": "5"}, "availability-error"),
        ({"identities": [], "party_branch": "第一党支部", "skill-first_aid-level": "5"}, "party_branch-error"),
        ({"home_grid_id": str(tree.grid_b1.id), "skill-first_aid-level": "5"}, "home_grid_id-error"),
        ({"skill-first_aid-level": "5", "skill-first_aid-expires": "2027-13-45"}, "skill-first_aid-expires-error"),
        ({"name": "", "skill-first_aid-level": "5"}, "name-error"),
    ]
    for changes, error_id in cases:
        response = office.post(f"/office/volunteers/{zhang.id}/edit", data=_edit_form(office, zhang.id, **changes))
        text = _text(response)
        assert response.status_code == 422, (changes, text[:300])
        listed = re.findall(r"<li><a href=\"#([^\"]+)\">", text)
        assert f'id="{error_id}"' in text and "未保存" in text and len(listed) == 1, (changes, listed)
        db.session.expire_all()
        row = db.session.get(VolunteerSkill, (zhang.id, db.session.get(Volunteer, zhang.id).skills[0].skill_id))
        assert row.level == 2, changes  # the valid change of the same form was not written either
        assert db.session.get(Volunteer, zhang.id).home_grid_id == tree.grid_a1.id


CSV_HEADER = "姓名,手机号,网格编码,技能,可服务时间\n"


def test_import_writes_all_rows_or_shows_every_bad_one(login_as, tree):
    office = login_as("office", grid_id=tree.community_a.id)
    page = office.get("/office/volunteers/import")
    assert page.status_code == 200 and 'id="template-xlsx"' in _text(page)
    token = form_csrf_token(page)
    bad = (CSV_HEADER + "张伟,13912345678,CA1,急救:3,周六 09:00-12:00\n"
           "李娜,1234,CA2,,\n"
           "王强,13711112222,CB1,急救:9,\n").encode()
    response = office.post("/office/volunteers/import", content_type="multipart/form-data",
                           data={"csrf_token": token, "file": (io.BytesIO(bad), "roster.csv")})
    text = _text(response)
    assert response.status_code == 422
    assert 'id="row-errors"' in text and "第 3 行" in text and "第 4 行" in text and "第 2 行" not in text
    assert "手机号格式不对。" in text and "Not a valid mobile number." in text
    assert "网格编码不存在或不在您的管辖范围内。" in text  # CB1 is the other community's
    assert db.session.scalar(select(func.count()).select_from(Volunteer)) == 0
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "POST roster.import_roster")).one()
    assert audit.outcome == "422" and audit.detail.startswith("rows=3; registered=0; dry_run=false")

    good = (CSV_HEADER + "张伟,13912345678,CA1,急救:3,周六 09:00-12:00\n李娜,13987654321,CA2,,\n").encode()
    checked = office.post("/office/volunteers/import", content_type="multipart/form-data",
                          data={"csrf_token": token, "dry_run": "1", "file": (io.BytesIO(good), "roster.csv")})
    assert checked.status_code == 200 and 'id="dry-run-result"' in _text(checked)
    assert db.session.scalar(select(func.count()).select_from(Volunteer)) == 0
    done = office.post("/office/volunteers/import", content_type="multipart/form-data",
                       data={"csrf_token": token, "file": (io.BytesIO(good), "roster.csv")})
    assert done.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Volunteer)) == 2
    assert "已导入 2 人" in _text(office.get("/office/volunteers"))

    unreadable = office.post("/office/volunteers/import", content_type="multipart/form-data",
                             data={"csrf_token": token, "file": (io.BytesIO(b"\xd0\xcf\x11\xe0old"), "old.xls")})
    assert unreadable.status_code == 422 and 'id="file-errors"' in _text(unreadable)


def test_export_has_the_filtered_list_and_template_has_the_columns(login_as, tree):
    _person(tree.grid_a1, "张伟", "13912345678", skills=[{"code": "first_aid", "level": 3}])
    _person(tree.grid_a2, "李娜", "13987654321")
    _person(tree.grid_b1, "王强", "13711112222")
    office = login_as("office", grid_id=tree.community_a.id)

    response = office.get("/office/volunteers/export?format=csv&skill=first_aid")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0][:3] == ["姓名", "手机号", "网格编码"] and [row[:3] for row in rows[1:]] == [
        ["张伟", "13912345678", "CA1"]]
    workbook = load_workbook(io.BytesIO(office.get("/office/volunteers/export?format=xlsx").get_data()))
    names = sorted(row[0] for row in workbook.active.iter_rows(min_row=2, values_only=True))
    assert names == ["张伟", "李娜"]
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "GET roster.export")
                                .order_by(AuditEvent.id)).all()
    assert [e.detail for e in events] == ["count=1; format=csv&skill=first_aid", "count=2; format=xlsx"]

    template = office.get("/office/volunteers/template?format=xlsx")
    sheet = load_workbook(io.BytesIO(template.get_data())).active
    header = next(sheet.iter_rows(values_only=True))
    assert header[:3] == ("姓名", "手机号", "网格编码") and sheet.max_row == 1


def test_grid_tree_counts_people_callable_and_open_campaigns(login_as, tree):
    _person(tree.grid_a1, "张伟", "13912345678")
    _person(tree.grid_a1, "陈静", "13811110000", status="paused")
    _person(tree.grid_a2, "李娜", "13987654321")
    _person(tree.grid_b1, "王强", "13711112222")
    campaign = CampaignFactory(office_grid_id=tree.community_a.id, status=CampaignStatus.PUBLISHED)
    ShiftFactory(campaign=campaign, grid_id=tree.grid_a1.id)
    ShiftFactory(campaign=campaign, grid_id=tree.grid_a2.id)
    CampaignFactory(office_grid_id=tree.community_a.id, status=CampaignStatus.DRAFT)
    db.session.commit()

    office = login_as("office", grid_id=tree.community_a.id)
    text = _text(office.get("/office/grids"))

    def counts(grid) -> tuple[str, ...]:
        start = text.index(f'id="grid-{grid.id}"')
        return tuple(re.findall(r'class="count \w+" data-count="(\d+)"', text[start:])[:3])

    assert counts(tree.community_a) == ("3", "2", "1")
    assert counts(tree.grid_a1) == ("2", "1", "1")
    assert counts(tree.grid_a2) == ("1", "1", "1")
    assert f'id="grid-{tree.community_b.id}"' not in text and f'id="grid-{tree.street.id}"' not in text
    assert f"/office/volunteers?grid_id={tree.grid_a1.id}" in text
    admin = _text(login_as("admin").get("/office/grids"))
    start = admin.index(f'id="grid-{tree.street.id}"')
    assert re.search(r'class="count volunteers" data-count="(\d+)"', admin[start:]).group(1) == "4"


def test_import_is_rate_limited_per_clerk(login_as, tree, app, monkeypatch):
    monkeypatch.setitem(app.config, "ROSTER_CHECK_RATE_LIMIT", "1 per hour")

    def upload(office) -> int:
        token = form_csrf_token(office.get("/office/volunteers/import"))
        return office.post("/office/volunteers/import", content_type="multipart/form-data",
                           data={"csrf_token": token, "file": (io.BytesIO(b"x,y\n1,2\n"), "r.csv")}).status_code

    clerk = login_as("office", grid_id=tree.community_a.id)
    assert [upload(clerk), upload(clerk)] == [422, 429]
    assert upload(login_as("office", grid_id=tree.community_a.id)) == 422  # another clerk has their own count


def test_api_lists_and_exports_with_the_pages_filters(api, tree):
    """The page's filters are the API's: emergency preference, callable, sorting."""
    zhang = _person(tree.grid_a2, "张伟", "13912345678")
    li = _person(tree.grid_a1, "李娜", "13987654321", emergency_calls="available_hours")
    paused = _person(tree.grid_a1, "陈静", "13811110000", status="paused")

    def ids(query: str) -> list[int]:
        response = api.get(f"/volunteers?{query}")
        assert response.status_code == 200, response.get_json()
        return [item["id"] for item in response.get_json()]

    assert ids("callable=false") == [paused.id]
    assert ids("callable=true&emergency_calls=available_hours") == [li.id]
    assert ids("sort=grid") == [li.id, paused.id, zhang.id]  # CA1 before CA2, then by name
    bad = api.get("/volunteers?sort=age")
    assert bad.status_code == 422 and "sort" in bad.get_json()["errors"]["query"]
    export = api.get("/volunteers/export?callable=false")
    lines = export.get_data().decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("陈静,13811110000")
