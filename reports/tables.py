"""Reports as tables: the data behind each chart on the cockpit and the sheets of the XLSX and CSV exports."""
from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook

from core.i18n import _l, in_language
from reports.services import Report
from volunteers.roster import MIMETYPES, _neutralise

# column key -> its heading, in the language being spoken
LABELS = {
    "name": _l("Name"), "campaigns": _l("Number of campaigns"), "places": _l("Places needed"), "called": _l("Called"),
    "accepted": _l("Accepted"), "attended": _l("Attended"), "hours": _l("Hours"), "fill_rate": _l("Fill rate"),
    "time_to_fill_minutes": _l("Median time to fill (min)"), "response_minutes": _l("Median response (min)"),
    "emergencies": _l("Emergency campaigns"), "places_in_hour": _l("Places manned within 1 h"),
    "share_in_hour": _l("Share within 1 h"), "people": _l("People"), "party_members": _l("Party members"),
    "active": _l("Active in period"), "dormant": _l("Dormant 180 days"), "shifts_served": _l("Person-shifts"),
    "teams": _l("Teams"), "month": _l("Month"), "code": _l("Code"), "name_en": _l("English name"),
}
# report -> [(sheet key, title, columns)]
SHEETS = {
    "campaigns": [("rows", _l("Campaigns and call-ups"), ("name", "campaigns", "places", "called", "accepted",
                                                        "attended", "fill_rate", "hours", "time_to_fill_minutes",
                                                        "response_minutes"))],
    "emergencies": [("rows", _l("Emergencies"), ("name", "emergencies", "places", "places_in_hour",
                                                 "share_in_hour"))],
    "people": [("rows", _l("By grid"), ("name", "people", "party_members")),
               ("by_skill", _l("By skill"), ("name", "name_en", "people")),
               ("by_identity", _l("By identity"), ("name", "name_en", "people"))],
    "activity": [("rows", _l("Active and dormant"), ("name", "people", "active", "dormant"))],
    "hours": [("rows", _l("By grid"), ("name", "hours", "shifts_served", "people")),
              ("by_skill", _l("By skill"), ("name", "name_en", "hours")),
              ("by_kind", _l("By kind"), ("name", "hours")),
              ("by_month", _l("By month"), ("month", "hours"))],
    "enterprises": [("rows", _l("Enterprises"), ("name", "teams", "people", "shifts_served", "hours"))],
}
TOTAL_LABEL = _l("Total")


@dataclass(frozen=True)
class Sheet:
    key: str
    title: str
    columns: tuple[str, ...]
    rows: list[list[Any]]
    # Per row: the grid node it stands for (drill-down), None for totals and rows that are no grid.
    grid_ids: list[int | None]

    def header(self) -> list[str]:
        return [str(LABELS[c]) for c in self.columns]


def sheets(report: Report) -> list[Sheet]:
    """The report's tables, titled in the language being spoken; grid tables end with the area's total."""
    result = []
    for key, title, columns in SHEETS[report.name]:
        items = report.data[key]
        rows = [[item.get(c) for c in columns] for item in items]
        grid_ids = [item.get("grid_id") for item in items]
        if key == "rows" and "total" in report.data:
            total = report.data["total"]
            rows.append([str(TOTAL_LABEL) if c == "name" else total.get(c) for c in columns])
            grid_ids.append(None)
        result.append(Sheet(key=key, title=str(title), columns=columns, rows=rows, grid_ids=grid_ids))
    return result


def export_report(report: Report, fmt: str, lang: str | None = None) -> bytes:
    """The report as an XLSX workbook (a sheet per table) or a CSV file (tables one after another), in ``lang``
    when the caller names one (the API's ``lang`` query), else in the language being spoken."""
    if lang is None:
        return _export(report, fmt)
    with in_language(lang):
        return _export(report, fmt)


def _export(report: Report, fmt: str) -> bytes:
    period_line = [f"{report.area.name} {report.period.first.isoformat()} – {report.period.last.isoformat()}"]
    if fmt == "xlsx":
        workbook = Workbook(write_only=True)
        for sheet in sheets(report):
            out = workbook.create_sheet(sheet.title[:31])
            out.append(period_line)
            out.append(sheet.header())
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
        writer.writerow([sheet.title])
        writer.writerow(sheet.header())
        writer.writerows([_neutralise(value) for value in row] for row in sheet.rows)
    return codecs.BOM_UTF8 + text.getvalue().encode("utf-8")


def export_filename(report: Report, fmt: str) -> str:
    return f"report-{report.name}-{report.area.code}-{report.period.first:%Y%m%d}-{report.period.last:%Y%m%d}.{fmt}"


EXPORT_MIMETYPES = MIMETYPES
