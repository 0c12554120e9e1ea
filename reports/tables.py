"""Reports as tables: the data behind each chart on the cockpit and the sheets of the XLSX and CSV exports."""
from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook

from reports.services import Report
from volunteers.roster import MIMETYPES, _neutralise

# column key -> (Chinese, English)
LABELS = {
    "name": ("名称", "Name"), "campaigns": ("活动数", "Campaigns"), "places": ("需求名额", "Places needed"),
    "called": ("已召集", "Called"), "accepted": ("已接受", "Accepted"), "attended": ("已到岗", "Attended"),
    "hours": ("服务时长（小时）", "Hours"), "fill_rate": ("到位率", "Fill rate"),
    "time_to_fill_minutes": ("满员用时中位数（分钟）", "Median time to fill (min)"),
    "response_minutes": ("响应时间中位数（分钟）", "Median response (min)"),
    "emergencies": ("应急活动数", "Emergencies"), "places_in_hour": ("一小时内到岗名额", "Places manned within 1 h"),
    "share_in_hour": ("一小时到岗率", "Share within 1 h"), "people": ("人数", "People"),
    "party_members": ("党员", "Party members"), "active": ("期间活跃", "Active in period"),
    "dormant": ("180 天沉睡", "Dormant 180 days"), "shifts_served": ("服务人次", "Person-shifts"),
    "teams": ("队伍数", "Teams"), "month": ("月份", "Month"), "code": ("代码", "Code"),
    "name_en": ("英文名", "English name"),
}
# report -> [(sheet key, title zh, title en, columns)]
SHEETS = {
    "campaigns": [("rows", "活动与召集", "Campaigns", ("name", "campaigns", "places", "called", "accepted", "attended",
                                                  "fill_rate", "hours", "time_to_fill_minutes", "response_minutes"))],
    "emergencies": [("rows", "应急一小时到岗", "Emergencies", ("name", "emergencies", "places", "places_in_hour",
                                                       "share_in_hour"))],
    "people": [("rows", "按网格", "By grid", ("name", "people", "party_members")),
               ("by_skill", "按技能", "By skill", ("name", "name_en", "people")),
               ("by_identity", "按身份", "By identity", ("name", "name_en", "people"))],
    "activity": [("rows", "活跃与沉睡", "Active and dormant", ("name", "people", "active", "dormant"))],
    "hours": [("rows", "按网格", "By grid", ("name", "hours", "shifts_served", "people")),
              ("by_skill", "按技能", "By skill", ("name", "name_en", "hours")),
              ("by_kind", "按类型", "By kind", ("name", "hours")),
              ("by_month", "按月份", "By month", ("month", "hours"))],
    "enterprises": [("rows", "共建单位", "Enterprises", ("name", "teams", "people", "shifts_served", "hours"))],
}
TOTAL_LABEL = "合计 · Total"


@dataclass(frozen=True)
class Sheet:
    key: str
    title: str
    title_en: str
    columns: tuple[str, ...]
    rows: list[list[Any]]
    # Per row: the grid node it stands for (drill-down), None for totals and rows that are no grid.
    grid_ids: list[int | None]

    def header(self, lang: str = "zh") -> list[str]:
        return [LABELS[c][1] if lang == "en" else f"{LABELS[c][0]} · {LABELS[c][1]}" for c in self.columns]


def sheets(report: Report) -> list[Sheet]:
    """The report's tables; grid tables end with the area's total."""
    result = []
    for key, title, title_en, columns in SHEETS[report.name]:
        items = report.data[key]
        rows = [[item.get(c) for c in columns] for item in items]
        grid_ids = [item.get("grid_id") for item in items]
        if key == "rows" and "total" in report.data:
            total = report.data["total"]
            rows.append([TOTAL_LABEL if c == "name" else total.get(c) for c in columns])
            grid_ids.append(None)
        result.append(Sheet(key=key, title=title, title_en=title_en, columns=columns, rows=rows, grid_ids=grid_ids))
    return result


def export_report(report: Report, fmt: str, lang: str = "zh") -> bytes:
    """The report as an XLSX workbook (a sheet per table) or a CSV file (tables one after another)."""
    period_line = [f"{report.area.name} {report.period.first.isoformat()} – {report.period.last.isoformat()}"]
    if fmt == "xlsx":
        workbook = Workbook(write_only=True)
        for sheet in sheets(report):
            out = workbook.create_sheet((sheet.title_en if lang == "en" else sheet.title)[:31])
            out.append(period_line)
            out.append(sheet.header(lang))
            for row in sheet.rows:
                out.append([_neutralise(value) for value in row])
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(period_line)
    for number, sheet in enumerate(sheets(report)):
        if number:
            writer.writerow([])
        writer.writerow([sheet.title_en if lang == "en" else f"{sheet.title} · {sheet.title_en}"])
        writer.writerow(sheet.header(lang))
        writer.writerows([_neutralise(value) for value in row] for row in sheet.rows)
    return codecs.BOM_UTF8 + text.getvalue().encode("utf-8")


def export_filename(report: Report, fmt: str) -> str:
    return f"report-{report.name}-{report.area.code}-{report.period.first:%Y%m%d}-{report.period.last:%Y%m%d}.{fmt}"


EXPORT_MIMETYPES = MIMETYPES
