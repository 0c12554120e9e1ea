"""Grid practice and the cockpit speak one language at a time: Chinese by default, English with ``?lang=en``.

Each page is read as a person reads it (text and the attributes people hear, not markup or scripts); the
data the test seeded (names of grids, units, people, places) is taken out first, since data is as written.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from core.clock import utcnow
from core.scope import Scope
from extensions import db
from grids.models import Grid
from gridwork import units, whistles
from gridwork.models import RoundKind, Visit, VisitOutcome, VisitPriority, VisitRound, VisitTarget, VisitTargetKind
from tests import reports_world as world
from tests.conftest import form_csrf_token
from tests.factories import VolunteerFactory
from tests.web.reading import HAN, read_aloud

# Words a Chinese page may show as they are: names of things and formats, and the switch to English.
NAMES = re.compile(r"\b(Gridmuster|API|OpenAPI|XLSX|CSV|JPEG|PNG|WebP|MB|POST|English)\b|/api/v1/[\w-]+")
ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")
NOVEMBER = {"from": "2026-11-01", "to": "2026-11-30"}






def assert_chinese(html: str, data: tuple[str, ...]) -> None:
    assert '<html lang="zh-CN"' in html
    text = read_aloud(html, data)
    assert HAN.search(text)
    english = ENGLISH_WORD.findall(NAMES.sub(" ", text))
    assert english == [], f"English on the Chinese page: {english[:20]}"


def assert_english(html: str, data: tuple[str, ...]) -> None:
    assert '<html lang="en"' in html
    text = read_aloud(html, data)
    chinese = [line for line in text.splitlines() if HAN.search(line)]
    assert chinese == [], f"Chinese on the English page: {chinese[:20]}"
    assert re.search(r"[A-Za-z]{3,}", text)


def _grid_names() -> list[str]:
    return list(db.session.scalars(select(Grid.name)))


@pytest.fixture
def grid_world(tree):
    """A unit, an open whistle escalated once, a round with a flagged household, as the grid pages show them."""
    now = utcnow()
    duty = VolunteerFactory(home_grid_id=tree.grid_a1.id, name="周值班")
    visitor = VolunteerFactory(home_grid_id=tree.grid_a1.id, name="李走访")
    unit = units.register_unit({"name": "供水抢修站", "office_grid_id": tree.street.id, "kinds": ["water_power"],
                                "grid_ids": [tree.street.id], "member_ids": [duty.id]},
                               scope=Scope.system("test"), now=now)
    whistle = whistles.raise_whistle({"grid_id": tree.grid_a1.id, "title": "水管爆裂", "address": "3幢1单元",
                                      "kind": "water_power", "grade": "urgent", "description": "楼道积水"},
                                     scope=Scope.system("test"), now=now)
    whistle.escalation_level = 1
    round_ = VisitRound(grid_id=tree.community_a.id, kind=RoundKind.MONTHLY, title="十二月走访", period="2026-12",
                        target_kinds="household", due_at=now + timedelta(days=20), created_by="t", created_at=now)
    db.session.add(round_)
    db.session.flush()
    target = VisitTarget(grid_id=tree.grid_a1.id, kind=VisitTargetKind.HOUSEHOLD, label="3幢1单元101", x=0, y=0,
                         active=True, priority=VisitPriority.LIVING_ALONE)
    db.session.add(target)
    db.session.flush()
    db.session.add(Visit(round_id=round_.id, target_id=target.id, visitor_id=visitor.id, outcome=VisitOutcome.PENDING))
    db.session.commit()
    data = (unit.name, duty.name, visitor.name, whistle.title, whistle.address, whistle.description, round_.title,
            target.label, *_grid_names(), "office user", "volunteer user")
    return {"whistle": whistle.id, "round": round_.id, "visitor": visitor.id, "data": data}


def _office_pages(grid_world):
    return ("/grid/whistles", "/grid/whistles/new", f"/grid/whistles/{grid_world['whistle']}", "/grid/units",
            "/grid/rounds", f"/grid/rounds/{grid_world['round']}", "/grid/targets", "/grid/reports?group_by=unit")


def test_grid_office_pages_speak_chinese_by_default_and_english_when_asked(login_as, tree, grid_world):
    office = login_as("office", grid_id=tree.street.id)
    for path in _office_pages(grid_world):
        chinese = office.get(path)
        assert chinese.status_code == 200, path
        assert_chinese(chinese.get_data(as_text=True), grid_world["data"])
        english = office.get(path + ("&" if "?" in path else "?") + "lang=en")
        assert english.status_code == 200, path
        assert_english(english.get_data(as_text=True), grid_world["data"])
        office.get("/grid/whistles?lang=zh")
    whistle_page = office.get(f"/grid/whistles/{grid_world['whistle']}?lang=en").get_data(as_text=True)
    assert "Escalated to the street office" in whistle_page and "Water and power" in whistle_page
    assert "已上报街道" in office.get(f"/grid/whistles/{grid_world['whistle']}?lang=zh").get_data(as_text=True)


def test_the_visitors_list_speaks_one_language(login_as, tree, grid_world):
    visitor = login_as("volunteer", volunteer_id=grid_world["visitor"])
    chinese = visitor.get("/grid/visits").get_data(as_text=True)
    assert_chinese(chinese, grid_world["data"])
    assert "独居" in chinese and "还剩 1 户" in chinese
    english = visitor.get("/grid/visits", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert_english(english, grid_world["data"])
    assert "Lives alone" in english and "1 to go" in english


def test_flashes_and_field_errors_speak_the_page_language(login_as, tree, grid_world):
    street = login_as("office", grid_id=tree.street.id)
    page = street.get("/grid/whistles/new?lang=en")
    data = {"csrf_token": form_csrf_token(page), "grid_id": str(tree.grid_a1.id), "title": "楼道堆物",
            "address": "2幢", "kind": "water_power", "grade": "routine"}
    raised = street.post("/grid/whistles/new", data=data, follow_redirects=True).get_data(as_text=True)
    assert "Whistle raised, 1 unit summoned" in raised and "已吹哨" not in raised
    street.get("/grid/whistles?lang=zh")
    again = street.post("/grid/whistles/new", data=data, follow_redirects=True).get_data(as_text=True)
    assert "已吹哨，已通知 1 个部门" in again and "Whistle raised" not in again


@pytest.fixture
def district(tree):
    return world.build(tree)


def _cockpit_words(html: str) -> str:
    """The cockpit's own words: its rows (names of areas, skills, kinds, enterprises) and the area picker are
    data, so they are left out."""
    main = html.split("<main", 1)[1].split(">", 1)[1]
    return re.sub(r"<tbody>.*?</tbody>|<select.*?</select>|<nav aria-label.*?</nav>|<nav aria-labelledby.*?</nav>",
                  "", main, flags=re.S)


def test_the_cockpit_speaks_one_language_and_so_do_its_exports(login_as, tree, district):
    street = login_as("office", grid_id=tree.street.id)
    data = (*_grid_names(), "office user")
    chinese = street.get("/cockpit", query_string=NOVEMBER).get_data(as_text=True)
    assert '<th scope="col">服务时长（小时）</th>' in chinese and "<caption>每月服务时长</caption>" in chinese
    assert_chinese('<html lang="zh-CN">' + _cockpit_words(chinese), data)
    rows = list(csv.reader(io.StringIO(street.get("/cockpit/export", query_string={
        **NOVEMBER, "report": "campaigns", "format": "csv"}).get_data().decode("utf-8-sig"))))
    assert rows[1] == ["活动与召集"] and rows[2][:3] == ["名称", "活动数", "需求名额"] and rows[-1][0] == "合计"

    english = street.get("/cockpit", query_string={**NOVEMBER, "lang": "en"}).get_data(as_text=True)
    assert '<th scope="col">Hours</th>' in english and "<caption>Hours by month</caption>" in english
    assert "(Street office)" in english
    assert_english('<html lang="en">' + _cockpit_words(english), data)
    workbook = load_workbook(io.BytesIO(street.get("/cockpit/export", query_string={
        **NOVEMBER, "report": "hours", "format": "xlsx"}).get_data()))
    assert workbook.sheetnames == ["By grid", "By skill", "By kind", "By month"]
    sheet = list(workbook["By grid"].iter_rows(values_only=True))
    assert sheet[1] == ("Name", "Hours", "Person-shifts", "People") and sheet[-1][0] == "Total"
