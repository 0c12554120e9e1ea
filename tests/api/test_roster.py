"""Roster import and export over the API: POST /volunteers/import, GET /volunteers/export."""
from __future__ import annotations

import codecs
import csv
import io
import os
import zipfile

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from extensions import db
from tests.factories import GridFactory, SkillFactory, VolunteerFactory
from volunteers.models import Identity, Volunteer, VolunteerStatus

ZH_HEADER = ["姓名", "手机号", "网格编码", "身份", "党支部", "技能", "可服务时间", "每月上限", "状态", "语言", "备注"]
EXPORT_HEADER = ZH_HEADER[:6] + ["证书编号", "证书有效期"] + ZH_HEADER[6:-1] + ["应急召集", "备注"]


@pytest.fixture
def catalogue():
    district = GridFactory(code="D01")
    grid = GridFactory(code="G0101", parent=district)
    other = GridFactory(code="G0201", parent=district)
    SkillFactory(code="gas_check", name="燃气安全检查", name_en="Gas check")
    SkillFactory(code="first_aid", name="急救")
    db.session.commit()
    return {"district": district, "grid": grid, "other": other}


def csv_bytes(rows, *, encoding="utf-8-sig", header=ZH_HEADER) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows, header) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(api, content: bytes, filename="roster.csv", query="", form=None):
    data = {"file": (io.BytesIO(content), filename), **(form or {})}
    return api.post(f"/volunteers/import{query}", data=data, content_type="multipart/form-data")


def volunteer_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Volunteer))


GOOD_ROWS = [
    ["张三", "13912345678", "G0101", "党员、楼栋长", "第一党支部", "燃气安全检查:3; first_aid:2",
     "周六 09:00-12:00; 周日 14:00-17:00", "6", "在册", "zh", "腿脚不便"],
    ["李四", "13812345678", "G0201", "居民志愿者", "", "", "星期三 18:00-20:00", "", "暂停", "", ""],
]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk", "gb18030"])
def test_import_csv_chinese_headers_in_every_encoding(api, catalogue, encoding):
    response = upload(api, csv_bytes(GOOD_ROWS, encoding=encoding))
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"imported": 2, "valid": 2, "skipped": 0, "dry_run": False,
                                   "error_count": 0, "errors": []}
    zhang = db.session.scalar(select(Volunteer).where(Volunteer.mobile == "13912345678"))
    assert zhang.name == "张三" and zhang.home_grid_id == catalogue["grid"].id
    assert set(zhang.identities) == {Identity.PARTY_MEMBER, Identity.BUILDING_LEADER}
    assert zhang.party_branch == "第一党支部"
    assert {(s.skill.code, s.level) for s in zhang.skills} == {("gas_check", 3), ("first_aid", 2)}
    assert [(w.weekday, w.start_minute, w.end_minute) for w in zhang.availability] == [
        (5, 540, 720), (6, 840, 1020)]
    assert zhang.max_callups_per_month == 6 and zhang.note == "腿脚不便"
    assert zhang.created_by.startswith("token:")
    li = db.session.scalar(select(Volunteer).where(Volunteer.mobile == "13812345678"))
    assert li.status is VolunteerStatus.PAUSED and li.max_callups_per_month == 4
    assert [(w.weekday, w.start_minute) for w in li.availability] == [(2, 1080)]


def test_import_xlsx_english_headers_with_excel_cell_types(api, catalogue):
    header = [" Name ", "MOBILE", "grid_code", "Identities", "skills", "availability",
              "max_callups_per_month", "Status", None]
    rows = [
        ["Wang Wu", 13712345678.0, "G0101", "party_member|doctor", "Gas check:4", "sat 09:00-12:00", 3.0,
         "active", None],
        ["Zhao Liu", 13612345678, "G0201", "resident_volunteer", "first_aid:1", "Sunday 08:00-10:30", 2,
         "left", None],
    ]
    response = upload(api, xlsx_bytes(rows, header), "roster.xlsx")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["imported"] == 2
    wang = db.session.scalar(select(Volunteer).where(Volunteer.mobile == "13712345678"))
    assert [(s.skill.code, s.level) for s in wang.skills] == [("gas_check", 4)]
    assert set(wang.identities) == {Identity.PARTY_MEMBER, Identity.DOCTOR}
    assert wang.max_callups_per_month == 3
    zhao = db.session.scalar(select(Volunteer).where(Volunteer.mobile == "13612345678"))
    assert zhao.status is VolunteerStatus.LEFT


def test_import_bad_rows_lists_every_one_and_writes_nothing(api, catalogue):
    rows = [
        GOOD_ROWS[0],
        ["", "13812345678", "G0101"] + [""] * 8,                                 # row 3: no name
        ["王五", "1381234567", "G0101"] + [""] * 8,                              # row 4: short mobile
        ["赵六", "13712345678", "NOPE"] + [""] * 8,                              # row 5: unknown grid
        ["钱七", "13612345678", "G0101", "党圆", "", "潜水:3", "周八 09:00-10:00", "lots", "在职", "fr", ""],
        ["孙八", "13512345678", "G0101", "居民志愿者", "某支部"] + [""] * 6,     # row 7: branch, no party
        ["周九", "13412345678", "G0101", "", "", "燃气安全检查:9", "周六 12:00-09:00"] + [""] * 4,
    ]
    response = upload(api, csv_bytes(rows))
    assert response.status_code == 422
    body = response.get_json()
    assert "6 of 7 rows have errors" in body["message"]
    found = {(e["row"], e["column"]) for e in body["errors"]["json"]["rows"]}
    assert found == {
        (3, "姓名"), (4, "手机号"), (5, "网格编码"),
        (6, "身份"), (6, "技能"), (6, "可服务时间"), (6, "每月上限"), (6, "状态"), (6, "语言"),
        (7, "党支部"), (8, "技能"), (8, "可服务时间"),
    }
    messages = {(e["row"], e["column"]): e["message"] for e in body["errors"]["json"]["rows"]}
    assert messages[(4, "手机号")] == "Not a valid mobile number."
    assert messages[(5, "网格编码")] == "Unknown grid code NOPE."
    assert messages[(6, "技能")] == "Unknown skill 潜水."
    assert messages[(7, "党支部")] == "Only a party member has a party branch."
    assert messages[(8, "可服务时间")] == "周六 12:00-09:00: end: Must be after start."
    assert volunteer_count() == 0


def test_import_skip_bad_rows_imports_the_good_ones(api, catalogue):
    rows = [GOOD_ROWS[0], ["王五", "1381234567", "G0101"] + [""] * 8, GOOD_ROWS[1]]
    response = upload(api, csv_bytes(rows), query="?skip_bad_rows=true")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["imported"], body["skipped"]) == (2, 1)
    assert body["errors"] == [{"row": 3, "column": "手机号", "message": "Not a valid mobile number."}]
    assert volunteer_count() == 2


def test_import_options_may_come_as_form_fields(api, catalogue):
    rows = [GOOD_ROWS[0], ["王五", "1381234567", "G0101"] + [""] * 8]
    response = upload(api, csv_bytes(rows), form={"skip_bad_rows": "1"})
    assert response.status_code == 200
    assert response.get_json()["imported"] == 1


def test_import_duplicate_mobile_within_file_and_against_database(api, catalogue):
    VolunteerFactory(mobile="13812345678", home_grid_id=catalogue["grid"].id)
    db.session.commit()
    rows = [GOOD_ROWS[0], GOOD_ROWS[1], ["张三二", "13912345678.0", "G0101"] + [""] * 8]
    response = upload(api, csv_bytes(rows))
    assert response.status_code == 422
    assert response.get_json()["errors"]["json"]["rows"] == [
        {"row": 3, "column": "手机号", "message": "Already registered."},
        {"row": 4, "column": "手机号", "message": "Same as row 2."},
    ]
    assert volunteer_count() == 1


def test_import_dry_run_writes_nothing(api, catalogue):
    response = upload(api, csv_bytes(GOOD_ROWS), query="?dry_run=1")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["dry_run"], body["valid"], body["imported"]) == (True, 2, 0)
    assert volunteer_count() == 0


@pytest.mark.parametrize(("header", "fragment"), [
    (ZH_HEADER + ["手 机"], "Unknown columns: 手 机"),
    (["姓名", "网格编码", "备注"], "Missing required columns: 手机号/mobile"),
    (["姓名", "手机号", "mobile", "网格编码"], "Repeated columns: mobile"),
])
def test_import_bad_header_names_the_columns(api, catalogue, header, fragment):
    response = upload(api, csv_bytes([["x"] * len(header)], header=header))
    assert response.status_code == 422
    body = response.get_json()
    assert fragment in body["errors"]["json"]["file"][0]
    assert volunteer_count() == 0


def test_import_ignores_a_column_with_an_empty_header(api, catalogue):
    header = ["姓名", "", "手机号", "网格编码"]
    response = upload(api, csv_bytes([["张三", "whatever", "13912345678", "G0101"]], header=header))
    assert response.status_code == 200
    assert volunteer_count() == 1


def _truncated_xlsx() -> bytes:
    content = xlsx_bytes([GOOD_ROWS[0]], ZH_HEADER)
    return content[: len(content) // 2]


def _xlsx_missing_sheet() -> bytes:
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes([GOOD_ROWS[0]], ZH_HEADER)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for item in source.infolist():
            if "worksheets" not in item.filename:
                target.writestr(item, source.read(item))
    return buffer.getvalue()


@pytest.mark.parametrize(("content", "fragment"), [
    (b"", "empty"),
    (codecs.BOM_UTF8 + b"\r\n\r\n", "empty"),
    ("姓名,手机号,网格编码\r\n".encode(), "no data rows"),
    (bytes(range(256)) * 4, "Not a CSV or XLSX"),
    (b"\x89PNG\r\n\x1a\n" + os.urandom(200), "Not a CSV or XLSX"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), ".xls"),
    (_truncated_xlsx(), "XLSX"),
    (_xlsx_missing_sheet(), "XLSX"),
    (b"PK\x03\x04" + os.urandom(300), "XLSX"),
])
def test_import_unreadable_file_is_a_422_on_file(api, catalogue, content, fragment):
    response = upload(api, content, "roster.xlsx")
    assert response.status_code == 422, response.get_data(as_text=True)
    assert fragment in response.get_json()["errors"]["json"]["file"][0]


def test_import_random_bytes_never_break_the_server(api, catalogue):
    seeds = [os.urandom(size) for size in (1, 7, 64, 1000)]
    seeds += [csv_bytes(GOOD_ROWS)[:n] for n in (5, 40, 90)]
    seeds += [bytes(b ^ 0x5A for b in csv_bytes(GOOD_ROWS))]
    for content in seeds:
        response = upload(api, content)
        assert response.status_code in (200, 422), (content, response.get_data(as_text=True))
    assert volunteer_count() <= 2


def test_import_xlsx_with_formulas_and_dates(api, catalogue):
    """Formula cells without a cached value count as blank; dates are refused by the fields."""
    from datetime import datetime

    header = ["姓名", "手机号", "网格编码", "备注", "每月上限"]
    rows = [["张三", "=\"139\"&\"12345678\"", "G0101", datetime(2026, 1, 2), 4],
            ["李四", datetime(2026, 1, 2), "G0101", "", "=1+1"]]
    response = upload(api, xlsx_bytes(rows, header), "roster.xlsx")
    assert response.status_code == 422
    found = {(e["row"], e["column"]) for e in response.get_json()["errors"]["json"]["rows"]}
    assert found == {(2, "手机号"), (3, "手机号")}


def test_import_too_many_rows_is_refused(api, catalogue, app):
    limit = app.config["IMPORT_MAX_ROWS"]
    app.config["IMPORT_MAX_ROWS"] = 1
    try:
        response = upload(api, csv_bytes(GOOD_ROWS))
    finally:
        app.config["IMPORT_MAX_ROWS"] = limit
    assert response.status_code == 422
    assert "more than 1 rows" in response.get_json()["errors"]["json"]["file"][0]
    assert volunteer_count() == 0


def test_import_without_a_file_is_a_422(api, catalogue):
    response = api.post("/volunteers/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "file" in response.get_json()["errors"]["files"]


def _read_export(response) -> list[list[str]]:
    if response.mimetype == "text/csv":
        assert response.data.startswith(codecs.BOM_UTF8)
        return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    sheet = load_workbook(io.BytesIO(response.data), read_only=True).worksheets[0]
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


def test_export_csv_has_chinese_headers_full_mobiles_and_filters(api, catalogue):
    assert upload(api, csv_bytes(GOOD_ROWS)).status_code == 200
    response = api.get(f"/volunteers/export?grid_id={catalogue['grid'].id}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="volunteers-') and disposition.endswith('.csv"')
    rows = _read_export(response)
    assert rows[0] == EXPORT_HEADER
    assert rows[1:] == [["张三", "13912345678", "G0101", "党员、楼栋长", "第一党支部", "燃气安全检查:3; 急救:2", "", "",
                         "周六 09:00-12:00; 周日 14:00-17:00", "6", "在册", "zh", "任何时间", "腿脚不便"]]


def test_export_xlsx_in_english(api, catalogue):
    assert upload(api, csv_bytes(GOOD_ROWS)).status_code == 200
    response = api.get("/volunteers/export?format=xlsx&lang=en&status=paused")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith('.xlsx"')
    rows = _read_export(response)
    assert rows[0][:3] == ["name", "mobile", "grid_code"]
    assert rows[1:] == [["李四", "13812345678", "G0201", "resident_volunteer", "", "", "", "", "wed 18:00-20:00",
                         "4", "paused", "zh", "any_hour", ""]]


def test_export_rejects_an_unknown_format(api, catalogue):
    response = api.get("/volunteers/export?format=pdf")
    assert response.status_code == 422
    assert "format" in response.get_json()["errors"]["query"]


@pytest.mark.parametrize(("fmt", "lang"), [("csv", "zh"), ("xlsx", "en")])
def test_export_then_import_round_trip(api, catalogue, fmt, lang):
    assert upload(api, csv_bytes(GOOD_ROWS)).status_code == 200
    before = _read_export(api.get("/volunteers/export?lang=zh"))
    exported = api.get(f"/volunteers/export?format={fmt}&lang={lang}").data
    db.session.execute(Volunteer.__table__.delete())
    db.session.commit()
    assert volunteer_count() == 0

    response = upload(api, exported, f"back.{fmt}")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["imported"] == 2
    assert _read_export(api.get("/volunteers/export?lang=zh")) == before


def test_openapi_documents_import_and_export(api):
    spec = api.get("/openapi.json").get_json()
    upload_body = spec["paths"]["/api/v1/volunteers/import"]["post"]["requestBody"]["content"]
    assert upload_body["multipart/form-data"]["schema"]
    export = spec["paths"]["/api/v1/volunteers/export"]["get"]
    assert {"text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"} <= set(
        export["responses"]["200"]["content"])


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_neutralises_formulas_and_round_trips_them(api, catalogue, fmt):
    """Is a note like '=HYPERLINK(…)' shown as text in Excel, and restored on re-import?"""
    assert upload(api, csv_bytes(GOOD_ROWS)).status_code == 200
    volunteer = db.session.scalars(db.select(Volunteer).order_by(Volunteer.id)).first()
    volunteer.note = '=HYPERLINK("http://evil.example","点我")'
    db.session.commit()
    exported = api.get(f"/volunteers/export?format={fmt}").data
    rows = _read_export(api.get(f"/volunteers/export?format={fmt}"))
    assert rows[1][-1] == "'" + volunteer.note
    db.session.execute(Volunteer.__table__.delete())
    db.session.commit()
    assert upload(api, exported, f"back.{fmt}").status_code == 200
    notes = db.session.scalars(db.select(Volunteer.note).order_by(Volunteer.id)).all()
    assert '=HYPERLINK("http://evil.example","点我")' in notes


def test_roster_carries_the_emergency_preference_both_ways(api, catalogue):
    header = "姓名,手机号,网格编码,应急召集\n"
    body = header + "王五,13900001111,G0201,仅空闲时段\n赵六,13900002222,G0201,任何时间\n钱七,13900003333,G0201,有时候\n"
    bad = upload(api, body.encode("utf-8"))
    assert bad.status_code == 422
    row_errors = bad.get_json()["errors"]["json"]["rows"]
    assert [(e["column"], e["row"]) for e in row_errors] == [("应急召集", 4)]
    good = upload(api, body.replace("钱七,13900003333,G0201,有时候\n", "").encode("utf-8"))
    assert good.status_code == 200
    from volunteers.models import Volunteer
    from extensions import db
    chosen = dict(db.session.execute(db.select(Volunteer.mobile, Volunteer.emergency_calls)).all())
    assert chosen == {"13900001111": "available_hours", "13900002222": "any_hour"}
    rows = _read_export(api.get("/volunteers/export?format=xlsx&lang=en"))
    column = rows[0].index("emergency_calls")
    assert sorted(row[column] for row in rows[1:]) == ["any_hour", "available_hours"]
