"""Does the roster carry certificate numbers and expiry dates per skill, in and out, in both header languages?"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from extensions import db
from tests.api.test_roster import _read_export, catalogue, csv_bytes, upload, xlsx_bytes  # noqa: F401
from volunteers.models import Volunteer

HEADER = ["姓名", "手机号", "网格编码", "技能", "证书编号", "证书有效期"]


def skills_of(mobile):
    volunteer = db.session.scalar(select(Volunteer).where(Volunteer.mobile == mobile))
    return {vs.skill.code: (vs.level, vs.certificate_no, vs.certificate_expires_on) for vs in volunteer.skills}


def test_roster_certificates_import_numbers_and_expiry_per_skill(api, catalogue):
    rows = [["张三", "13912345678", "G0101", "燃气安全检查:3; 急救:2", "燃气安全检查:RQ-2025-0012; first_aid:JJ88",
             "燃气安全检查:2027-06-30; 急救:2026/12/31"]]
    response = upload(api, csv_bytes(rows, header=HEADER))
    assert response.status_code == 200, response.get_json()
    assert skills_of("13912345678") == {"gas_check": (3, "RQ-2025-0012", date(2027, 6, 30)),
                                        "first_aid": (2, "JJ88", date(2026, 12, 31))}


def test_roster_certificates_english_headers_and_xlsx(api, catalogue):
    header = ["name", "mobile", "grid_code", "skills", "certificate_numbers", "certificate_expiry"]
    rows = [["李四", "13812345678", "G0101", "gas_check:2", "Gas check:RQ-1", "gas_check:2028-01-15"]]
    response = upload(api, xlsx_bytes(rows, header), "roster.xlsx")
    assert response.status_code == 200, response.get_json()
    assert skills_of("13812345678") == {"gas_check": (2, "RQ-1", date(2028, 1, 15))}


def test_roster_certificates_bad_entries_name_the_column(api, catalogue):
    rows = [["张三", "13912345678", "G0101", "燃气安全检查:3", "急救:JJ88", "燃气安全检查:明年"]]
    response = upload(api, csv_bytes(rows, header=HEADER))
    assert response.status_code == 422
    errors = {(e["column"], e["message"]) for e in response.get_json()["errors"]["json"]["rows"]}
    assert ("证书编号", "first_aid: list the skill in the skills column too.") in errors
    assert ("证书有效期", "gas_check: 明年 is not a date; write e.g. 2027-06-30.") in errors


def test_roster_certificates_export_and_import_back(api, catalogue):
    rows = [["张三", "13912345678", "G0101", "燃气安全检查:3; 急救:2", "燃气安全检查:RQ-2025-0012",
             "燃气安全检查:2027-06-30"]]
    assert upload(api, csv_bytes(rows, header=HEADER)).status_code == 200
    exported = _read_export(api.get("/volunteers/export"))
    header, row = exported[0], exported[1]
    assert header[5:8] == ["技能", "证书编号", "证书有效期"]
    assert row[5:8] == ["燃气安全检查:3; 急救:2", "燃气安全检查:RQ-2025-0012", "燃气安全检查:2027-06-30"]
    english = _read_export(api.get("/volunteers/export?lang=en"))
    assert english[0][5:8] == ["skills", "certificate_numbers", "certificate_expiry"]
    assert english[1][6:8] == ["gas_check:RQ-2025-0012", "gas_check:2027-06-30"]
