"""Roster files (居民底册): CSV/XLSX import and export of volunteers, all rows or none."""
from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from marshmallow import Schema, ValidationError
from openpyxl import Workbook
from openpyxl.reader.excel import ExcelReader
from sqlalchemy import Select, insert, inspect, select

from core.errors import ValidationFailed
from core.i18n import _, _l, gettext, in_language, say
from core.scope import Scope
from extensions import db
from grids.models import Grid
from volunteers.availability import format_hhmm
from volunteers.models import (AvailabilityWindow, BlackoutDate, Identity, Skill, Volunteer,
                               VolunteerSkill, VolunteerStatus)
from volunteers.services import _apply_volunteer, skills_by_code

MAX_REPORTED_ERRORS = 500
LOOKUP_CHUNK = 900  # below SQLite's bound-parameter limit on old builds
PROGRESS_EVERY = 5000

# Field → (Chinese header, English header, other accepted spellings). Export writes the first two.
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "name"),  # i18n: as written
    "mobile": ("手机号", "mobile", "手机", "手机号码"),  # i18n: as written
    "grid_code": ("网格编码", "grid_code"),  # i18n: as written
    "identities": ("身份", "identities", "identity"),  # i18n: as written
    "party_branch": ("党支部", "party_branch"),  # i18n: as written
    "skills": ("技能", "skills"),  # i18n: as written
    # Per skill, in the skills column's "skill:value" form: 燃气安全检查:RQ-2025-0012; 急救:2027-06-30.
    "certificate_numbers": ("证书编号", "certificate_numbers", "certificate_no", "证书号"),  # i18n: as written
    "certificate_expiry": ("证书有效期", "certificate_expiry", "certificate_expires_on", "证书到期日"),  # i18n: as written
    "availability": ("可服务时间", "availability"),  # i18n: as written
    "max_callups_per_month": ("每月上限", "max_callups_per_month"),  # i18n: as written
    "status": ("状态", "status"),  # i18n: as written
    "language": ("语言", "language"),  # i18n: as written
    "emergency_calls": ("应急召集", "emergency_calls"),  # i18n: as written
    "note": ("备注", "note"),  # i18n: as written
}
REQUIRED_COLUMNS = ("name", "mobile", "grid_code")
# Schema field names that differ from the column they come from, and back.
FIELD_COLUMN = {"home_grid_id": "grid_code"}
COLUMN_FIELD = {column: name for name, column in FIELD_COLUMN.items()}

# The words a Chinese roster file writes (export) and a clerk types (import) for statuses and identities: file
# conventions read back on import, so they stay as written whatever the language of the page.
STATUS_LABELS = {VolunteerStatus.ACTIVE: "在册", VolunteerStatus.PAUSED: "暂停",  # i18n: as written
                 VolunteerStatus.LEFT: "离开"}  # i18n: as written
IDENTITY_WORDS_ZH = {
    Identity.PARTY_MEMBER: "党员", Identity.RESIDENT_VOLUNTEER: "居民志愿者",  # i18n: as written
    Identity.SUNK_DOWN_CADRE: "机关下沉干部", Identity.LAW_ENFORCEMENT: "执法人员",  # i18n: as written
    Identity.POLICE: "片警", Identity.DOCTOR: "片医", Identity.BUILDING_LEADER: "楼栋长",  # i18n: as written
    Identity.PROPERTY_STAFF: "物业人员", Identity.ENTERPRISE_MEMBER: "共建单位成员",  # i18n: as written
    Identity.GRID_WORKER: "网格员",  # i18n: as written
}
# "Call me in emergencies" in the words a clerk types; anything else is reported as a bad value.
EMERGENCY_WORDS = {"任何时间": "any_hour", "随时": "any_hour", "是": "any_hour",  # i18n: as written
                   "any hour": "any_hour", "yes": "any_hour",
                   "仅空闲时段": "available_hours", "仅空闲时间": "available_hours",  # i18n: as written
                   "否": "available_hours",  # i18n: as written
                   "only available hours": "available_hours", "no": "available_hours"}
EMERGENCY_EXPORT = {"any_hour": "任何时间", "available_hours": "仅空闲时段"}  # i18n: as written
LANGUAGE_WORDS = {"中文": "zh", "汉语": "zh", "chinese": "zh", "英文": "en", "英语": "en", "english": "en"}  # i18n: as written
WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")  # i18n: as written
WEEKDAYS_EN = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_WORDS = {
    **{word: day for day, word in enumerate(WEEKDAYS_ZH)},
    **{"星期" + word[1]: day for day, word in enumerate(WEEKDAYS_ZH)},  # i18n: as written
    **{word: day for day, word in enumerate(WEEKDAYS_EN)},
    **{word: day for day, word in enumerate(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))},
    "周天": 6, "星期天": 6,  # i18n: as written
}
_LIST_SEPARATORS = re.compile(r"[、,，;；|｜\n]+")
_WINDOW_RE = re.compile(r"^(\S+?)\s*(\d{1,2}:\d{2})\s*[-–—~～至到]\s*(\d{1,2}:\d{2})$")  # i18n: as written
_SKILL_RE = re.compile(r"^(.+?)\s*:\s*(\S+)$")
_DATE_RE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:T00:00:00)?$")  # i18n: as written
_INTEGRAL_RE = re.compile(r"^(\d+)\.0*$")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MIMETYPES = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX_MIMETYPE}


class RowMessage(str):
    """A row's problem in English (what the API, the command line and the audit read), keeping its catalogue
    entry and values so a page can say it in its reader's language (``said``)."""

    def __new__(cls, template: str, values: Mapping[str, Any]) -> RowMessage:
        message = super().__new__(cls, template % values if values else template)
        message.template, message.values = template, dict(values)
        return message


def N_(template: str, **values: Any) -> RowMessage:
    """Marks a row's message for the catalogue (``scripts/i18n`` extracts ``N_``), to be said later."""
    return RowMessage(template, values)


def said(message: str) -> str:
    """A row's message in the language being spoken: its own entry with its values, else a schema's by meaning."""
    if isinstance(message, RowMessage):
        return gettext(message.template, **message.values)
    return say(message)


@dataclass(frozen=True)
class RowError:
    """One problem in one cell: the row as the spreadsheet numbers it and the header as written."""

    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class ImportResult:
    """What an import did (or, on a dry run, would do)."""

    total: int
    valid: int
    imported: int
    dry_run: bool
    errors: list[RowError] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return self.total - self.valid

    @property
    def error_count(self) -> int:
        return len(self.errors)

    @property
    def reported_errors(self) -> list[RowError]:
        return self.errors[:MAX_REPORTED_ERRORS]


class RosterRejected(ValidationFailed):
    """Some rows are bad, so nothing was written; ``row_errors`` has all of them."""

    code = "roster_rejected"

    def __init__(self, row_errors: list[RowError], total: int) -> None:
        bad_rows = len({error.row for error in row_errors})
        shown = min(len(row_errors), MAX_REPORTED_ERRORS)
        message = _l("%(bad_rows)s of %(total)s rows have errors (%(count)s in all, %(shown)s listed); nothing "
                     "was imported.", bad_rows=bad_rows, total=total, count=len(row_errors), shown=shown)
        super().__init__({"rows": [error.as_dict() for error in row_errors[:MAX_REPORTED_ERRORS]]},
                         message)
        self.row_errors = row_errors
        self.total = total


def _file_error(message: str) -> ValidationFailed:
    return ValidationFailed.field("file", message)


@dataclass(frozen=True)
class FileLimits:
    """What reading one roster file may cost, whatever its size on disk (a 1 MB XLSX can inflate to 1 GiB).

    ``max_unzipped_bytes`` bounds the XLSX archive's members together, both as its directory declares
    them and as they really inflate; ``max_ratio`` bounds each sizeable member's inflation; cells and
    rows are bounded while the sheet streams, so the sheet is never held whole.
    """

    max_unzipped_bytes: int = 128 * 1024 * 1024
    max_ratio: int = 100
    max_cell_chars: int = 2000
    max_members: int = 500
    max_columns: int = 64

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> FileLimits:
        return cls(max_unzipped_bytes=config["IMPORT_MAX_UNZIPPED_BYTES"], max_ratio=config["IMPORT_MAX_RATIO"],
                   max_cell_chars=config["IMPORT_MAX_CELL_CHARS"])


# Small members (the workbook, styles) may compress well beyond any ratio; only bigger ones are judged by it.
RATIO_EXEMPT_BYTES = 1024 * 1024


# --- reading files ----------------------------------------------------------------------------


@dataclass
class _Table:
    header: list[str]
    rows: list[tuple[int, list[Any]]]  # (spreadsheet row number, cells), blank rows left out


def read_table(content: bytes, *, max_rows: int, limits: FileLimits | None = None) -> _Table:
    """The header and non-blank rows of a CSV or XLSX file, told apart by content."""
    limits = limits or FileLimits()
    if not content.strip().lstrip(codecs.BOM_UTF8).strip():
        raise _file_error("The file is empty.")
    if content.startswith(b"PK\x03\x04"):
        rows = _xlsx_rows(content, limits)
    elif content.startswith(b"\xd0\xcf\x11\xe0"):
        raise _file_error("Old Excel 97-2003 (.xls) files are not supported; save it as .xlsx or .csv.")
    else:
        rows = _csv_rows(_decode_text(content))
    return _collect(rows, max_rows, limits)


def _collect(rows: Iterator[list[Any]], max_rows: int, limits: FileLimits) -> _Table:
    header: list[str] | None = None
    kept: list[tuple[int, list[Any]]] = []
    # Blank rows are skipped but still cost reading: a sheet of a million empty rows is refused too.
    max_lines = 2 * max_rows + 1000
    try:
        for number, cells in enumerate(rows, start=1):
            if number > max_lines:
                raise _file_error(f"The file has more than {max_lines} rows (blank ones included); "
                                  "split it into smaller files.")
            _check_cells(number, cells, limits)
            if all(_cell_text(cell) == "" for cell in cells):
                continue
            if header is None:
                header = [_cell_text(cell) for cell in cells]
                continue
            if len(kept) >= max_rows:
                raise _file_error(f"The file has more than {max_rows} rows; split it into smaller files.")
            kept.append((number, list(cells)))
    except ValidationFailed:
        raise
    except Exception as error:  # noqa: BLE001 - any damage inside the file is the client's problem
        raise _file_error(f"The file cannot be read ({type(error).__name__}); is it damaged or truncated?")
    if header is None:
        raise _file_error("The file is empty.")
    if not kept:
        raise _file_error("The file has a header but no data rows.")
    return _Table(header, kept)


def _check_cells(number: int, cells: list[Any], limits: FileLimits) -> None:
    while cells and cells[-1] in (None, ""):
        cells.pop()  # spare columns Excel left behind
    if len(cells) > limits.max_columns:
        raise _file_error(f"Row {number} has more than {limits.max_columns} columns.")
    for cell in cells:
        if isinstance(cell, str) and len(cell) > limits.max_cell_chars:
            raise _file_error(f"Row {number} has a cell longer than {limits.max_cell_chars} characters.")


def _decode_text(content: bytes) -> str:
    # Excel in China saves "CSV" as GB18030/GBK; UTF-8 (with or without BOM) is tried first
    # because a UTF-8 file almost never decodes as GB18030 without error, and vice versa.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        if not _CONTROL_RE.search(text):
            return text
    raise _file_error("Not a CSV or XLSX file: upload a .csv (UTF-8 or GBK) or .xlsx spreadsheet.")


def _csv_rows(text: str) -> Iterator[list[str]]:
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";"), key=first_line.count)
    yield from csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


class _InflateBudget:
    """Bytes an archive may still inflate, shared by every member openpyxl opens (headers can lie)."""

    def __init__(self, limit: int) -> None:
        self.left = limit
        self.limit = limit

    def spend(self, count: int) -> None:
        self.left -= count
        if self.left < 0:
            raise _file_error(f"The file unpacks to more than {self.limit // (1024 * 1024)} MiB; "
                              "it is not a roster (or split it into smaller files).")


class _BoundedMember(io.RawIOBase):
    """A zip member that counts what it really inflates against the archive's budget."""

    def __init__(self, member: io.BufferedIOBase, budget: _InflateBudget) -> None:
        super().__init__()
        self._member, self._budget = member, budget

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._member.read(len(buffer))
        self._budget.spend(len(data))
        buffer[:len(data)] = data
        return len(data)

    def close(self) -> None:
        self._member.close()
        super().close()


class _BoundedZipFile(zipfile.ZipFile):
    """A ZipFile whose members are read through _BoundedMember."""

    budget: _InflateBudget

    def open(self, name, mode="r", pwd=None, *, force_zip64=False):
        member = super().open(name, mode, pwd, force_zip64=force_zip64)
        if mode != "r":
            return member
        # zipfile itself stops at a member's declared size (and fails its CRC); the budget also counts a
        # member read twice, and holds if a future zipfile trusts a local header instead.
        return io.BufferedReader(_BoundedMember(member, self.budget))


def _open_archive(content: bytes, limits: FileLimits) -> _BoundedZipFile:
    """The XLSX archive after its directory is checked: no member or total inflating past the limits."""
    try:
        archive = _BoundedZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as error:
        raise _file_error(f"Not a readable XLSX file ({type(error).__name__}); is it damaged or truncated?")
    members = archive.infolist()
    if len(members) > limits.max_members:
        raise _file_error(f"The file holds more than {limits.max_members} parts; it is not a roster.")
    total = sum(member.file_size for member in members)
    if total > limits.max_unzipped_bytes:
        raise _file_error(f"The file unpacks to more than {limits.max_unzipped_bytes // (1024 * 1024)} MiB; "
                          "it is not a roster (or split it into smaller files).")
    for member in members:
        if (member.file_size > RATIO_EXEMPT_BYTES
                and member.file_size > limits.max_ratio * max(member.compress_size, 1)):
            raise _file_error(f"The file is compressed more than {limits.max_ratio} to 1 "
                              f"({member.filename}); it looks like a zip bomb, not a roster.")
    archive.budget = _InflateBudget(limits.max_unzipped_bytes)
    return archive


def _xlsx_rows(content: bytes, limits: FileLimits) -> Iterator[list[Any]]:
    archive = _open_archive(content, limits)
    try:
        # data_only: a formula cell gives the value Excel last calculated (None if never).
        # load_workbook, but reading through the bounded archive (openpyxl opens its own ZipFile).
        reader = ExcelReader(io.BytesIO(content), read_only=True, data_only=True)
        reader.archive.close()
        reader.archive = archive
        reader.valid_files = archive.namelist()
        reader.read()
        workbook = reader.wb
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some writers store a wrong size; read what is really there
    except ValidationFailed:
        archive.close()
        raise
    except Exception as error:  # noqa: BLE001 - any damage inside the file is the client's problem
        archive.close()
        raise _file_error(f"Not a readable XLSX file ({type(error).__name__}); is it damaged or truncated?")
    try:
        for cells in sheet.iter_rows(values_only=True):
            yield list(cells)
    finally:
        workbook.close()


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _neutralise(value: Any) -> Any:
    """Export text so Excel shows it instead of running it: a leading apostrophe (OWASP advice)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _cell_text(value: Any) -> str:
    """A cell as text: Excel's 13912345678.0 becomes "13912345678", dates ISO 8601."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    text = str(value).strip()
    # Undo our own export's neutralisation, so an exported file imports back unchanged.
    if text.startswith("'") and text[1:].startswith(FORMULA_STARTS):
        return text[1:]
    return text


# --- header -----------------------------------------------------------------------------------


def _normalise_header(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", text.strip().lower())


_HEADER_FIELDS = {_normalise_header(alias): key for key, aliases in COLUMNS.items() for alias in aliases}


def map_header(header: list[str]) -> dict[str, tuple[int, str]]:
    """Field → (column index, header as written); unknown, repeated or missing columns are errors."""
    found: dict[str, tuple[int, str]] = {}
    unknown, repeated = [], []
    for index, title in enumerate(header):
        if not title:
            continue  # an empty header: a spare column Excel left behind
        key = _HEADER_FIELDS.get(_normalise_header(title))
        if key is None:
            unknown.append(title)
        elif key in found:
            repeated.append(f"{title} (same as {found[key][1]})")
        else:
            found[key] = (index, title)
    problems = []
    if unknown:
        known = ", ".join(f"{aliases[0]}/{aliases[1]}" for aliases in COLUMNS.values())
        problems.append(f"Unknown columns: {', '.join(unknown)}. Known columns: {known}.")
    if repeated:
        problems.append(f"Repeated columns: {', '.join(repeated)}.")
    missing = [f"{COLUMNS[key][0]}/{COLUMNS[key][1]}" for key in REQUIRED_COLUMNS if key not in found]
    if missing:
        problems.append(f"Missing required columns: {', '.join(missing)}.")
    if problems:
        raise ValidationFailed({"file": problems}, " ".join(problems))
    return found


# --- rows → API payloads ----------------------------------------------------------------------


@dataclass
class _Catalogue:
    """Everything a row is checked against, loaded once per import."""

    skills: dict[str, Skill]                 # by code, as _apply_volunteer wants it
    skill_words: dict[str, str | None]       # lower-case code/name/English name → code (None: ambiguous)
    grid_ids: dict[str, int]                 # grid code → id, for the codes in the file
    taken_mobiles: set[str]                  # mobiles of the file already registered

    def grid_exists(self, grid_id: int) -> bool:
        return grid_id in self.known_grid_ids

    def __post_init__(self) -> None:
        self.known_grid_ids = set(self.grid_ids.values())


def _skill_words(skills: Iterable[Skill]) -> dict[str, str | None]:
    words: dict[str, str | None] = {}
    by_code = {}
    for skill in skills:
        by_code[skill.code.lower()] = skill.code
        for word in (skill.name, skill.name_en):
            if word:
                key = word.strip().lower()
                words[key] = None if key in words and words[key] != skill.code else skill.code
    words.update(by_code)  # a code always wins over a name that happens to equal it
    return words


def _load_catalogue(table: _Table, columns: dict[str, tuple[int, str]], scope: Scope) -> _Catalogue:
    skills = skills_by_code()
    codes = {_cell(cells, columns["grid_code"][0]) for _, cells in table.rows} - {""}
    mobiles = {_mobile_text(_cell(cells, columns["mobile"][0])) for _, cells in table.rows} - {""}
    grid_ids: dict[str, int] = {}
    for chunk in _chunks(sorted(codes)):
        # Grids outside the caller's subtree read as unknown codes: an office imports only its own people.
        grid_ids.update(db.session.execute(select(Grid.code, Grid.id).where(
            Grid.code.in_(chunk), scope.grid_clause(Grid.path))).all())
    taken: set[str] = set()
    for chunk in _chunks(sorted(mobiles)):
        taken.update(db.session.scalars(select(Volunteer.mobile).where(Volunteer.mobile.in_(chunk))))
    return _Catalogue(skills, _skill_words(skills.values()), grid_ids, taken)


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), LOOKUP_CHUNK):
        yield items[start:start + LOOKUP_CHUNK]


def _cell(cells: list[Any], index: int) -> str:
    return _cell_text(cells[index]) if index < len(cells) else ""


def _mobile_text(text: str) -> str:
    match = _INTEGRAL_RE.match(text)
    return match.group(1) if match else text


def _split(text: str) -> list[str]:
    return [part.strip() for part in _LIST_SEPARATORS.split(text) if part.strip()]


_IDENTITY_WORDS = {**{label: identity.value for identity, label in IDENTITY_WORDS_ZH.items()},
                   **{identity.value: identity.value for identity in Identity}}
_STATUS_WORDS = {**{label: status.value for status, label in STATUS_LABELS.items()},
                 **{status.value: status.value for status in VolunteerStatus}}


class _RowParser:
    """Turns one row's cells into the payload VolunteerCreateSchema loads.

    Only the file's text conventions are handled here (lists, "周六 09:00-12:00",
    skill names, labels); values that do not translate are passed on as written so
    that the schema, the one place that knows the rules, rejects them.
    """

    def __init__(self, catalogue: _Catalogue) -> None:
        self.catalogue = catalogue
        self.errors: dict[str, list[str]] = {}
        self.items: dict[str, list[str]] = {}  # column → its list entries, to label nested errors
        self.certificates: dict[str, dict[str, Any]] = {}  # skill code → certificate fields

    def parse(self, texts: dict[str, str]) -> dict[str, Any]:
        payload: dict[str, Any] = {}
        for key, text in texts.items():
            if text == "":
                continue  # a blank cell is a missing field: the schema's default or "required"
            value = getattr(self, f"_{key}", lambda t: t)(text)
            if value is not None:
                payload[COLUMN_FIELD.get(key, key)] = value
        self._attach_certificates(payload)
        return payload

    def _attach_certificates(self, payload: dict[str, Any]) -> None:
        """Put each certificate column entry on its skill; one for a skill the row does not list is an error."""
        if not self.certificates:
            return
        skills = {item["code"]: item for item in payload.get("skills") or []}
        for code, fields_ in self.certificates.items():
            if code in skills:
                skills[code].update(fields_)
            elif "skills" not in self.errors:
                for key in fields_:
                    column = "certificate_numbers" if key == "certificate_no" else "certificate_expiry"
                    self._fail(column, N_("%(skill)s: list the skill in the skills column too.", skill=code))

    def _per_skill(self, key: str, text: str) -> list[tuple[str, str]]:
        """"skill:value" entries of a certificate column, skills named as in the skills column."""
        parts, out = _split(text), []
        for part in parts:
            match = _SKILL_RE.match(part.replace("：", ":"))
            if not match:
                self._fail(key, (
                    N_("%(entry)s: write skill:date, such as Gas safety inspection:2027-06-30.", entry=part)
                    if key == "certificate_expiry" else
                    N_("%(entry)s: write skill:number, such as Gas safety inspection:RQ-2025-0012.", entry=part)))
                continue
            word = match.group(1).strip()
            code = self.catalogue.skill_words.get(word.lower(), word)
            if code is None:
                self._fail(key, N_("%(entry)s: several skills are named %(word)s; use the skill code.", entry=part,
                                   word=word))
                continue
            out.append((code, match.group(2)))
        self.items[key] = parts
        return out

    def _certificate_numbers(self, text: str) -> None:
        for code, number in self._per_skill("certificate_numbers", text):
            if len(number) > 64:
                self._fail("certificate_numbers", N_("%(skill)s: a certificate number has at most 64 characters.",
                                                     skill=code))
            self.certificates.setdefault(code, {})["certificate_no"] = number

    def _certificate_expiry(self, text: str) -> None:
        for code, value in self._per_skill("certificate_expiry", text):
            match = _DATE_RE.match(value)
            try:
                day = date(*(int(part) for part in match.groups())) if match else None
            except ValueError:
                day = None
            if day is None:
                self._fail("certificate_expiry", N_("%(skill)s: %(value)s is not a date; write e.g. 2027-06-30.",
                                                    skill=code, value=value))
                continue
            self.certificates.setdefault(code, {})["certificate_expires_on"] = day.isoformat()

    def _fail(self, key: str, message: str) -> None:
        self.errors.setdefault(key, []).append(message)

    def _mobile(self, text: str) -> str:
        return _mobile_text(text)

    def _grid_code(self, text: str) -> int | None:
        grid_id = self.catalogue.grid_ids.get(text)
        if grid_id is None:
            self._fail("grid_code", N_("Unknown grid code %(code)s.", code=text))
        return grid_id

    def _identities(self, text: str) -> list[str]:
        parts = _split(text)
        self.items["identities"] = parts
        return [_IDENTITY_WORDS.get(part, _IDENTITY_WORDS.get(part.lower(), part)) for part in parts]

    def _skills(self, text: str) -> list[dict[str, Any]] | None:
        parts, items = _split(text), []
        for part in parts:
            match = _SKILL_RE.match(part.replace("：", ":"))
            if not match:
                self._fail("skills", N_("%(entry)s: write skill:level, such as Gas safety inspection:3.", entry=part))
                continue
            word, level = match.group(1).strip(), match.group(2)
            code = self.catalogue.skill_words.get(word.lower(), word)
            if code is None:
                self._fail("skills", N_("%(entry)s: several skills are named %(word)s; use the skill code.", entry=part,
                                              word=word))
                continue
            items.append({"code": code, "level": int(level) if level.isdigit() else level})
        self.items["skills"] = parts
        return None if "skills" in self.errors else items

    def _availability(self, text: str) -> list[dict[str, Any]] | None:
        parts, windows = _split(text), []
        for part in parts:
            match = _WINDOW_RE.match(part.replace("：", ":"))
            weekday = _WEEKDAY_WORDS.get(match.group(1).lower()) if match else None
            if weekday is None:
                self._fail("availability", N_("%(entry)s: write a weekday and hours, such as Sat 09:00-12:00.",
                                              entry=part))
                continue
            windows.append({"weekday": weekday, "start": match.group(2), "end": match.group(3)})
        self.items["availability"] = parts
        return None if "availability" in self.errors else windows

    def _max_callups_per_month(self, text: str) -> int | str:
        match = _INTEGRAL_RE.match(text)
        return int(match.group(1)) if match else int(text) if text.isdigit() else text

    def _status(self, text: str) -> str:
        return _STATUS_WORDS.get(text, _STATUS_WORDS.get(text.lower(), text))

    def _language(self, text: str) -> str:
        return LANGUAGE_WORDS.get(text.lower(), text.lower())

    def _emergency_calls(self, text: str) -> str:
        return EMERGENCY_WORDS.get(text.strip().lower(), text.strip().lower())


def _messages(value: Any, items: list[str]) -> list[str]:
    """Flatten marshmallow's nested messages; list positions become the entry as written."""
    if isinstance(value, dict):
        out = []
        for key, inner in value.items():
            if isinstance(key, int):
                label = items[key] if key < len(items) else f"item {key + 1}"
            else:
                label = key
            out.extend(f"{label}: {message}" for message in _messages(inner, items))
        return out
    if isinstance(value, (list, tuple)):
        return [message for inner in value for message in _messages(inner, [])]
    return [str(value)]


# --- import -----------------------------------------------------------------------------------


ALREADY_REGISTERED = "Already registered."


def check_summary(total: int, errors: list[RowError], *, dry_run: bool) -> str:
    """What a bulk check of numbers revealed, for its audit row: rows checked and numbers found registered."""
    registered = sum(1 for error in errors if error.message == ALREADY_REGISTERED)
    return f"rows={total}; registered={registered}; dry_run={str(dry_run).lower()}"


def import_roster(content: bytes, *, schema: Schema, scope: Scope, now: datetime, max_rows: int,
                  skip_bad_rows: bool = False, dry_run: bool = False,
                  progress: Callable[[int, int], None] | None = None,
                  limits: FileLimits | None = None) -> ImportResult:
    """Check every row of a roster file and register the good ones in one transaction.

    ``schema`` is the API's VolunteerCreateSchema (the shape rules); business rules come
    from ``services._apply_volunteer``. Any bad row rejects the whole file (RosterRejected)
    unless ``skip_bad_rows``; ``dry_run`` checks and writes nothing. ``limits`` bound what
    reading the file may cost (FileLimits' defaults when not given).
    """
    table = read_table(content, max_rows=max_rows, limits=limits)
    columns = map_header(table.header)
    catalogue = _load_catalogue(table, columns, scope)
    # End the lookup transaction: on SQLite it holds the single write lock, which the
    # checks below (seconds for a big file) need not keep from other writers.
    db.session.rollback()

    errors: list[RowError] = []
    good: list[Volunteer] = []
    first_row_of: dict[str, int] = {}
    for done, (number, cells) in enumerate(table.rows, start=1):
        volunteer = _check_row(number, cells, columns, schema, catalogue, first_row_of, errors,
                               actor=scope.actor, now=now)
        if volunteer is not None:
            good.append(volunteer)
        if progress and (done % PROGRESS_EVERY == 0 or done == len(table.rows)):
            progress(done, len(table.rows))

    result = ImportResult(total=len(table.rows), valid=len(good), imported=0, dry_run=dry_run,
                          errors=errors)
    if errors and not skip_bad_rows:
        raise RosterRejected(errors, len(table.rows))
    if dry_run or not good:
        return result
    _insert_volunteers(good)
    db.session.commit()
    result.imported = len(good)
    return result


def _insert_volunteers(volunteers: list[Volunteer]) -> None:
    """INSERT the checked volunteers and their child rows in the caller's transaction.

    Bulk statements instead of ``session.add_all``: the unit of work spends most of a
    50,000-row import on bookkeeping for objects nobody reads afterwards.
    """
    columns = [attr.key for attr in inspect(Volunteer).column_attrs if attr.key != "id"]
    # Only attributes that _apply_volunteer or the constructor set, so column defaults still apply.
    rows = [{key: v.__dict__[key] for key in columns if key in v.__dict__} for v in volunteers]
    db.session.execute(insert(Volunteer), rows)
    # Ids by mobile (unique): RETURNING over many insertmanyvalues batches is quadratic in SQLAlchemy 2.1.
    id_of: dict[str, int] = {}
    for chunk in _chunks([v.mobile for v in volunteers]):
        id_of.update(db.session.execute(select(Volunteer.mobile, Volunteer.id)
                                        .where(Volunteer.mobile.in_(chunk))).all())
    ids = [id_of[v.mobile] for v in volunteers]
    skill_ids = {skill: skill.id for skill in {vs.skill for v in volunteers for vs in v.skills}}
    children = (
        (VolunteerSkill, [{"volunteer_id": vid, "skill_id": skill_ids[vs.skill], "level": vs.level,
                           "certificate_expires_on": vs.certificate_expires_on, "certificate_no": vs.certificate_no}
                          for vid, v in zip(ids, volunteers) for vs in v.skills]),
        (AvailabilityWindow, [{"volunteer_id": vid, "weekday": w.weekday, "start_minute": w.start_minute,
                               "end_minute": w.end_minute}
                              for vid, v in zip(ids, volunteers) for w in v.availability]),
        (BlackoutDate, [{"volunteer_id": vid, "day": b.day} for vid, v in zip(ids, volunteers)
                        for b in v.blackouts]),
    )
    for model, child_rows in children:
        if child_rows:
            db.session.execute(insert(model), child_rows)


def _check_row(number: int, cells: list[Any], columns: dict[str, tuple[int, str]], schema: Schema,
               catalogue: _Catalogue, first_row_of: dict[str, int], errors: list[RowError], *,
               actor: str, now: datetime) -> Volunteer | None:
    """A Volunteer built from the row, or None after adding its errors to ``errors``."""
    texts = {key: _cell(cells, index) for key, (index, _) in columns.items()}
    parser = _RowParser(catalogue)
    payload = parser.parse(texts)
    problems: dict[str, list[str]] = dict(parser.errors)

    mobile = payload.get("mobile", "")
    if mobile in catalogue.taken_mobiles:
        # The same words as any clash (volunteers.services._mobile_conflict): no one is named, in scope or not.
        problems.setdefault("mobile", []).append(ALREADY_REGISTERED)
    elif mobile and mobile in first_row_of:
        problems.setdefault("mobile", []).append(N_("Same as row %(row)s.", row=first_row_of[mobile]))
    elif mobile:
        first_row_of[mobile] = number

    try:
        data = schema.load(payload)
    except ValidationError as error:
        for field_name, messages in error.normalized_messages().items():
            key = FIELD_COLUMN.get(field_name, field_name)
            if key in parser.errors:
                continue  # already explained in the file's own terms (e.g. unknown grid code)
            problems.setdefault(key, []).extend(_messages(messages, parser.items.get(key, [])))
        # Still check the business rules on the fields that are fine, so a row's every
        # problem is listed at once; a branch is only judged against readable identities.
        valid = error.valid_data if isinstance(error.valid_data, dict) else {}
        data = {key: value for key, value in valid.items() if key not in error.messages}
        if "identities" not in data:
            data.pop("party_branch", None)

    volunteer = Volunteer(identity_flags=0, created_by=actor, created_at=now, updated_at=now)
    try:
        _apply_volunteer(volunteer, data, catalogue.skills, catalogue.grid_exists)
    except ValidationFailed as error:
        for field_name, messages in error.errors.items():
            key = FIELD_COLUMN.get(field_name, field_name)
            problems.setdefault(key, []).extend(_messages(messages, parser.items.get(key, [])))

    for key, messages in problems.items():
        column = columns[key][1] if key in columns else key
        errors.extend(RowError(number, column, message) for message in messages)
    return volunteer if not problems else None


# --- export -----------------------------------------------------------------------------------


def export_header(lang: str) -> list[str]:
    position = 1 if lang == "en" else 0
    return [aliases[position] for aliases in COLUMNS.values()]


def export_rows(stmt: Select, lang: str = "zh") -> Iterator[list[Any]]:
    """One row per volunteer of ``stmt``, in the columns (and conventions) import reads."""
    english = lang == "en"
    words = _skill_words(db.session.scalars(select(Skill)))
    for volunteer in db.session.scalars(stmt.execution_options(yield_per=1000)):
        labels = [(_skill_label(vs.skill, words, english), vs) for vs in volunteer.skills]
        skills = [f"{label}:{vs.level}" for label, vs in labels]
        numbers = [f"{label}:{vs.certificate_no}" for label, vs in labels if vs.certificate_no]
        expiry = [f"{label}:{vs.certificate_expires_on.isoformat()}" for label, vs in labels
                  if vs.certificate_expires_on]
        windows = week_entries(volunteer, english=english)
        identities = [i.value if english else IDENTITY_WORDS_ZH[i] for i in volunteer.identities]
        yield [_neutralise(value) for value in (
            volunteer.name,
            volunteer.mobile,
            volunteer.home_grid.code,
            ("; " if english else "、").join(identities),
            volunteer.party_branch or "",
            "; ".join(skills),
            "; ".join(numbers),
            "; ".join(expiry),
            "; ".join(windows),
            volunteer.max_callups_per_month,
            volunteer.status.value if english else STATUS_LABELS[volunteer.status],
            volunteer.language,
            volunteer.emergency_calls if english else EMERGENCY_EXPORT.get(volunteer.emergency_calls, ""),
            volunteer.note or "",
        )]


def week_entries(volunteer: Volunteer, *, english: bool = False) -> list[str]:
    """The person's weekly windows as the 可服务时间 column writes them: "周六 09:00-12:00"."""
    return [f"{(WEEKDAYS_EN if english else WEEKDAYS_ZH)[w.weekday]} "
            f"{format_hhmm(w.start_minute)}-{format_hhmm(w.end_minute)}" for w in volunteer.availability]


def parse_week(text: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Weekly windows written as in the 可服务时间 column ("周六 09:00-12:00; 周日 14:00-17:00") as the schema's
    ``availability`` items, and the entries that could not be read (an empty list when all could)."""
    parser = _RowParser(None)
    windows = parser._availability(text) if text.strip() else []
    return windows or [], parser.errors.get("availability", [])


def _skill_label(skill: Skill, words: dict[str, str | None], english: bool) -> str:
    # Chinese exports show the skill's name where the name alone finds it again on import.
    if english or words.get(skill.name.strip().lower()) != skill.code:
        return skill.code
    return skill.name.strip()


def export_roster(stmt: Select, *, fmt: str = "csv", lang: str = "zh") -> tuple[bytes, int]:
    """The roster of ``stmt`` as a CSV (UTF-8 with BOM, for Excel) or XLSX file, and its row count."""
    count = 0
    if fmt == "xlsx":
        workbook = Workbook(write_only=True)
        with in_language(lang):
            sheet = workbook.create_sheet(_("Volunteers"))
        sheet.append(export_header(lang))
        for count, row in enumerate(export_rows(stmt, lang), start=1):
            sheet.append(row)
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue(), count
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(export_header(lang))
    for count, row in enumerate(export_rows(stmt, lang), start=1):
        writer.writerow(row)
    return codecs.BOM_UTF8 + text.getvalue().encode("utf-8"), count


def export_filename(fmt: str, today: date) -> str:
    return f"volunteers-{today:%Y%m%d}.{fmt}"
