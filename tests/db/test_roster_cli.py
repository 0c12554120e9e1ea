"""`flask volunteers import|export` on real files."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from extensions import db
from tests.factories import GridFactory, SkillFactory
from volunteers.models import Volunteer

HEADER = "姓名,手机号,网格编码,技能,可服务时间\r\n"
GOOD = "张三,13912345678,G0101,燃气安全检查:3,周六 09:00-12:00\r\n李四,13812345678,G0201,,\r\n"
BAD = "王五,1381234567,G0101,,\r\n赵六,13712345678,NOPE,,\r\n"


@pytest.fixture
def grids():
    district = GridFactory(code="D01")
    GridFactory(code="G0101", parent=district)
    GridFactory(code="G0201", parent=district)
    SkillFactory(code="gas_check", name="燃气安全检查")
    db.session.commit()


def volunteer_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Volunteer))


def write(tmp_path, text: str, encoding="gbk", name="roster.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def test_cli_import_success_prints_a_summary(runner, grids, tmp_path):
    result = runner.invoke(args=["volunteers", "import", write(tmp_path, HEADER + GOOD)])
    assert result.exit_code == 0, result.output
    assert "imported 2 of 2 rows, skipped 0" in result.stdout
    assert "checked 2/2 rows" in result.stderr
    assert volunteer_count() == 2
    created_by = db.session.scalar(select(Volunteer.created_by).limit(1))
    assert created_by.startswith("cli:")


def test_cli_import_failure_lists_row_errors_and_exits_1(runner, grids, tmp_path):
    result = runner.invoke(args=["volunteers", "import", write(tmp_path, HEADER + GOOD + BAD)])
    assert result.exit_code == 1
    assert "row 4, 手机号: Not a valid mobile number." in result.stderr
    assert "row 5, 网格编码: Unknown grid code NOPE." in result.stderr
    assert "2 of 4 rows have errors" in result.stderr
    assert volunteer_count() == 0


def test_cli_import_skip_bad_rows_and_dry_run(runner, grids, tmp_path):
    path = write(tmp_path, HEADER + GOOD + BAD)
    dry = runner.invoke(args=["volunteers", "import", path, "--skip-bad-rows", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would import 2 of 4 rows, skipped 2" in dry.stdout
    assert volunteer_count() == 0
    real = runner.invoke(args=["volunteers", "import", path, "--skip-bad-rows"])
    assert real.exit_code == 0
    assert "row 4, 手机号" in real.stderr
    assert volunteer_count() == 2


def test_cli_import_unreadable_file_exits_1(runner, grids, tmp_path):
    path = tmp_path / "roster.xlsx"
    path.write_bytes(b"PK\x03\x04 definitely not a workbook")
    result = runner.invoke(args=["volunteers", "import", str(path)])
    assert result.exit_code == 1
    assert "Not a readable XLSX file" in result.stderr


def test_cli_export_then_import_round_trip(runner, grids, tmp_path):
    runner.invoke(args=["volunteers", "import", write(tmp_path, HEADER + GOOD)])
    out = tmp_path / "out.xlsx"
    result = runner.invoke(args=["volunteers", "export", str(out), "--grid-code", "G0101"])
    assert result.exit_code == 0, result.output
    assert "wrote 1 volunteers" in result.stdout
    rows = list(load_workbook(out, read_only=True).worksheets[0].iter_rows(values_only=True))
    assert rows[0][:3] == ("姓名", "手机号", "网格编码") and rows[1][:3] == ("张三", "13912345678", "G0101")

    csv_out = tmp_path / "all.csv"
    assert runner.invoke(args=["volunteers", "export", str(csv_out), "--lang", "en"]).exit_code == 0
    assert len(list(csv.reader(io.StringIO(csv_out.read_text("utf-8-sig"))))) == 3
    db.session.execute(Volunteer.__table__.delete())
    db.session.commit()
    again = runner.invoke(args=["volunteers", "import", str(csv_out)])
    assert again.exit_code == 0, again.output
    assert volunteer_count() == 2


def test_cli_export_unknown_grid_code_is_a_usage_error(runner, grids, tmp_path):
    result = runner.invoke(args=["volunteers", "export", str(tmp_path / "x.csv"), "--grid-code", "NOPE"])
    assert result.exit_code == 2
    assert "no grid has the code NOPE" in result.output
