"""Roster uploads that cost more to read than their size says (issue #11): zip bombs, lying zip
directories, endless cells and blank rows. Each is a 422 on ``file``, refused before it costs much."""
from __future__ import annotations

import io
import struct
import time
import tracemalloc
import zipfile

import pytest

from tests.api.test_roster import ZH_HEADER, catalogue, csv_bytes, upload, volunteer_count, xlsx_bytes  # noqa: F401

MIB = 1024 * 1024
SHEET = "xl/worksheets/sheet1.xml"


def _bomb(inflated_mib: int) -> bytes:
    """A real workbook whose sheet is replaced by one that inflates to ``inflated_mib`` MiB (about 1 MB on disk)."""
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes([["张伟", "13912345678", "G0101"]], ZH_HEADER[:3])))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as bomb:
        for info in source.infolist():
            if info.filename != SHEET:
                bomb.writestr(info.filename, source.read(info.filename))
        with bomb.open(SHEET, "w", force_zip64=True) as sheet:
            sheet.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
            padding = b" " * MIB
            for _ in range(inflated_mib):
                sheet.write(padding)
            sheet.write(b"</sheetData></worksheet>")
    return buffer.getvalue()


def _understate(content: bytes, member: str, size: int) -> bytes:
    """``content`` with ``member``'s uncompressed size in the central directory (and local header) set to ``size``."""
    data = bytearray(content)
    name = member.encode()
    for signature, size_at, name_length_at, name_at in ((b"PK\x01\x02", 24, 28, 46), (b"PK\x03\x04", 22, 26, 30)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            (length,) = struct.unpack_from("<H", data, start + name_length_at)
            if bytes(data[start + name_at:start + name_at + length]) == name:
                struct.pack_into("<I", data, start + size_at, size)
            start += 4
    return bytes(data)


def _refused_cheaply(api, content: bytes):
    """The upload's answer, with the seconds and the peak Python memory (bytes) it took."""
    tracemalloc.start()
    try:
        started = time.perf_counter()
        response = api.post("/volunteers/import", data={"file": (io.BytesIO(content), "roster.xlsx")},
                            content_type="multipart/form-data")
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return response, seconds, peak


@pytest.mark.parametrize(("inflated_mib", "reason"), [(300, "unpacks to more than 128 MiB"),
                                                     (100, f"compressed more than 100 to 1 ({SHEET})")])
def test_xlsx_inflating_to_hundreds_of_mib_is_refused_fast_without_inflating(api, catalogue, inflated_mib, reason):
    bomb = _bomb(inflated_mib)
    assert len(bomb) < 2 * MIB
    response, seconds, peak = _refused_cheaply(api, bomb)
    assert response.status_code == 422
    [message] = response.get_json()["errors"]["json"]["file"]
    assert reason in message
    # Generous bounds: the request itself (a 1.3 MB upload, copied a few times) is most of it.
    assert seconds < 3 and peak < 24 * MIB, (seconds, peak)
    assert volunteer_count() == 0


def test_xlsx_whose_directory_understates_the_sheet_is_refused_fast(api, catalogue):
    # The directory claims 2 MiB (no bomb by ratio); the data really inflates to 300 MiB.
    liar = _understate(_bomb(300), SHEET, 2 * MIB)
    assert zipfile.ZipFile(io.BytesIO(liar)).getinfo(SHEET).file_size == 2 * MIB
    response, seconds, peak = _refused_cheaply(api, liar)
    assert response.status_code == 422 and "file" in response.get_json()["errors"]["json"]
    assert seconds < 3 and peak < 32 * MIB, (seconds, peak)
    assert volunteer_count() == 0


def test_xlsx_unpacking_past_the_configured_total_is_refused(api, catalogue, app):
    rows = [[f"张{i}", f"139{i:08d}", "G0101", "", "", "", "", "", "", "", "x" * 50] for i in range(3000)]
    content = xlsx_bytes(rows, ZH_HEADER)
    assert sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(content)).infolist()) > MIB
    limit = app.config["IMPORT_MAX_UNZIPPED_BYTES"]
    app.config["IMPORT_MAX_UNZIPPED_BYTES"] = MIB
    try:
        response = upload(api, content, "roster.xlsx")
    finally:
        app.config["IMPORT_MAX_UNZIPPED_BYTES"] = limit
    assert response.status_code == 422
    assert "unpacks to more than 1 MiB" in response.get_json()["errors"]["json"]["file"][0]
    assert volunteer_count() == 0


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_cell_longer_than_the_limit_is_refused_naming_the_row(api, catalogue, fmt):
    rows = [["张伟", "13912345678", "G0101", "", "", "", "", "", "", "", "长" * 2001]]
    content = csv_bytes(rows) if fmt == "csv" else xlsx_bytes(rows, ZH_HEADER)
    response = upload(api, content, f"roster.{fmt}")
    assert response.status_code == 422
    assert response.get_json()["errors"]["json"]["file"] == ["Row 2 has a cell longer than 2000 characters."]
    assert volunteer_count() == 0


def test_a_sheet_of_blank_rows_is_refused_once_past_the_bound(api, catalogue, app):
    limit = app.config["IMPORT_MAX_ROWS"]
    app.config["IMPORT_MAX_ROWS"] = 10
    try:
        response = upload(api, csv_bytes([[""] * 11] * 1100 + [["张伟", "13912345678", "G0101"] + [""] * 8]))
    finally:
        app.config["IMPORT_MAX_ROWS"] = limit
    assert response.status_code == 422
    assert "more than 1020 rows (blank ones included)" in response.get_json()["errors"]["json"]["file"][0]
    assert volunteer_count() == 0


def test_a_row_wider_than_a_roster_is_refused(api, catalogue):
    response = upload(api, csv_bytes([["张伟", "13912345678", "G0101"] + ["x"] * 70]))
    assert response.status_code == 422
    assert response.get_json()["errors"]["json"]["file"] == ["Row 2 has more than 64 columns."]


def test_an_ordinary_xlsx_still_imports(api, catalogue):
    response = upload(api, xlsx_bytes([["张伟", "13912345678", "G0101"]], ZH_HEADER[:3]), "roster.xlsx")
    assert response.status_code == 200 and response.get_json()["imported"] == 1
