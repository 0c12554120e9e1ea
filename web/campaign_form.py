"""The campaign editor's form: several shifts, up to three positions each, the call-up policy and a repeat rule.

The form turns into the very dict a client sends to ``POST /api/v1/campaigns`` (or ``PATCH`` for a draft),
loaded by the API's schema and handed to the same service; errors come back nested like that dict and are
put next to the form field they belong to. Shift 1's fields keep plain names (``date``, ``role-1``); shift
*n* > 1 prefixes them (``s2-date``, ``s2-role-1``). No script: "add a shift" is a submit button that draws
the form again with one more block, nothing saved.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from campaigns.models import Campaign
from core.i18n import _, _l, lazy_pgettext, say
from web.form_messages import form_int

MAX_FORM_SHIFTS = 8
MAX_FORM_POSITIONS = 3
# Policy fields the form offers (blank: the priority's default); the API has more.
POLICY_FIELDS = ("response_minutes", "over_recruit_percent", "follow_up_minutes")
REPEATS = (("", _l("Does not repeat")), ("weekly", _l("Weekly at this time")),
           ("monthly", _l("Monthly on this day and time")), ("custom", _l("Custom (cron)")))
LABELS = {
    "title": lazy_pgettext("campaign", "Title"), "kind": lazy_pgettext("campaign", "Kind"), "priority": lazy_pgettext("campaign", "Priority"),
    "office_grid_id": _l("Office"), "description": _l("Description"),
    "contact_name": _l("Contact"), "contact_phone": _l("Contact phone"),
    "date": _l("Date"), "start": _l("Start time"), "end": _l("End time"), "place": _l("Place"),
    "shift_grid_id": _l("Shift grid"), "positions": _l("Positions"), "role": _l("Role name"),
    "headcount": _l("Headcount"), "skill": _l("Required skill"), "min_level": _l("Minimum level"),
    "min_party_members": _l("Party members at least"), "form": _l("Campaign"),
    "repeat": _l("Repeat"), "recurrence_cron": _l("Cron expression"),
    "response_minutes": _l("Answer within (minutes)"),
    "over_recruit_percent": _l("Over-recruit (%)"),
    "follow_up_minutes": _l("Follow up silence after (minutes)"), "shifts": lazy_pgettext("campaign", "Shifts"),
}
def prefix(number: int) -> str:
    """The name prefix of shift ``number``'s fields."""
    return "" if number == 1 else f"s{number}-"


def shift_count(form: Mapping[str, str]) -> int:
    """How many shift blocks the form draws: what it had, one more when "add a shift" was pressed."""
    raw = str(form.get("shift_count", "1")).strip()
    count = int(raw) if raw.isdecimal() and len(raw) <= 2 else 1
    if "add_shift" in form:
        count += 1
    return max(1, min(count, MAX_FORM_SHIFTS))


def field_text(field: str, message: str) -> str:
    """One error as "label (shift n) (position m): message", in the language spoken."""
    shift = ""
    if field.startswith("s") and "-" in field and field[1:field.index("-")].isdecimal():
        shift, field = field[1:].split("-", 1)
    name, row = field.partition("-")[::2]
    label = str(LABELS.get(name, name))
    if shift:
        label = _("%(label)s (shift %(number)s)", label=label, number=shift)
    if row:
        label = _("%(label)s (position %(number)s)", label=label, number=row)
    return _("%(field)s: %(message)s", field=label, message=say(message))


def local_time(day: str, clock: str, zone: ZoneInfo):
    """A local date and clock time as ISO 8601 with the zone's offset; garbage goes on to the schema."""
    try:
        moment = datetime.combine(date.fromisoformat(day.strip()), time.fromisoformat(clock.strip()))
    except ValueError:
        return f"{day} {clock}".strip()
    return moment.replace(tzinfo=zone).isoformat()


def is_date(text: str) -> bool:
    try:
        date.fromisoformat(text.strip())
    except ValueError:
        return False
    return True


def repeat_cron(repeat: str, first_day: str, first_start: str, custom: str | None) -> str | None:
    """The cron rule a repeat choice means for the first shift's local date and start time."""
    if repeat == "custom":
        return custom
    if repeat not in ("weekly", "monthly") or not is_date(first_day):
        return None
    try:
        clock = time.fromisoformat(first_start.strip())
    except ValueError:
        return None
    day = date.fromisoformat(first_day.strip())
    if repeat == "weekly":
        return f"{clock.minute} {clock.hour} * * {(day.weekday() + 1) % 7}"  # cron counts Sunday as 0
    return f"{clock.minute} {clock.hour} {day.day} * *"


def campaign_body(form: Mapping[str, str], zone: ZoneInfo) -> tuple[dict, list[tuple[int, list[int]]]]:
    """The API body for this form, and for each shift sent, its block number and the rows of its positions.

    A block after the first with no position filled in is left out (an added block not used)."""
    def text(name: str):
        value = str(form.get(name, "")).strip()
        return value or None

    body: dict[str, Any] = {key: text(key) for key in ("title", "kind", "priority", "description", "contact_name",
                                                       "contact_phone")}
    body["office_grid_id"] = form_int(str(form.get("office_grid_id", "")))
    shifts, layout = [], []
    for number in range(1, shift_count({"shift_count": form.get("shift_count", "1")}) + 1):
        p = prefix(number)
        positions, rows = [], []
        for row in range(1, MAX_FORM_POSITIONS + 1):
            role, headcount = text(f"{p}role-{row}"), text(f"{p}headcount-{row}")
            if role is None and headcount is None:
                continue
            position = {"role": role, "headcount": form_int(headcount or ""),
                        "min_party_members": form_int(str(form.get(f"{p}min_party_members-{row}", "")).strip() or "0")}
            if text(f"{p}skill-{row}"):
                position["required_skills"] = [{"code": text(f"{p}skill-{row}"), "min_level": form_int(
                    str(form.get(f"{p}min_level-{row}", "")).strip() or "1")}]
            positions.append({key: value for key, value in position.items() if value is not None})
            rows.append(row)
        if number > 1 and not positions:
            continue
        day = str(form.get(f"{p}date", ""))
        shift = {"start": local_time(day, str(form.get(f"{p}start", "")), zone),
                 "end": local_time(day, str(form.get(f"{p}end", "")), zone),
                 "grid_id": form_int(str(form.get(f"{p}shift_grid_id", ""))), "place": text(f"{p}place"),
                 "positions": positions}
        shifts.append({key: value for key, value in shift.items() if value not in (None, "")})
        layout.append((number, rows))
    body["shifts"] = shifts
    policy = {key: form_int(str(form.get(key, ""))) for key in POLICY_FIELDS if text(key)}
    # The box is always on the form: unticked means closed to sign-ups (an edit must be able to close them).
    policy["sign_ups"] = bool(form.get("sign_ups"))
    body["policy"] = policy
    cron = repeat_cron(str(form.get("repeat", "")), str(form.get("date", "")), str(form.get("start", "")),
                       text("recurrence_cron"))
    body["recurrence_cron"] = cron
    return {key: value for key, value in body.items() if value not in ("",) and
            (value is not None or key == "recurrence_cron")}, layout


def form_errors(errors: dict, layout: list[tuple[int, list[int]]]) -> dict[str, list[str]]:
    """Schema or service errors, nested like the body (shifts → 0 → positions → 1 → headcount), by form field."""
    found: dict[str, list[str]] = {}

    def add(field: str, messages) -> None:
        if isinstance(messages, dict):  # deeper than the form goes (a nested "_schema"): name the nearest field
            for inner in messages.values():
                add(field, inner)
        else:
            found.setdefault(field, []).extend(field_text(field, str(m)) for m in messages)

    def add_position(p: str, row: int, position_errors) -> None:
        if not isinstance(position_errors, dict):
            return add(f"{p}role-{row}", position_errors)
        for field, messages in position_errors.items():
            if field != "required_skills":
                add(f"{p}{field}-{row}", messages)
            elif not isinstance(messages, dict):
                add(f"{p}skill-{row}", messages)
            else:  # the one required skill: its code is the skill select, its level the level select
                for skill_errors in messages.values():
                    for key, inner in skill_errors.items():
                        add(f"{p}{'skill' if key == 'code' else key}-{row}", inner)

    for name, messages in errors.items():
        if name == "policy" and isinstance(messages, dict):
            for key, inner in messages.items():
                add(key if key in POLICY_FIELDS else "form", inner)
            continue
        if name == "recurrence_cron":
            add("repeat", messages)
            continue
        shifts = messages if name == "shifts" and isinstance(messages, dict) else None
        if shifts is None:
            add(name, messages)
            continue
        for index, shift_errors in shifts.items():
            number, rows = layout[index] if isinstance(index, int) and index < len(layout) else (1, [1])
            p = prefix(number)
            if not isinstance(shift_errors, dict):
                add(f"{p}date", shift_errors)
                continue
            for key, value in shift_errors.items():
                if key == "positions" and isinstance(value, dict):
                    for row_index, position_errors in value.items():
                        add_position(p, rows[row_index] if isinstance(row_index, int) and row_index < len(rows)
                                     else 1, position_errors)
                elif key == "positions":
                    add(f"{p}positions" if p else "positions", value)
                else:
                    add(p + {"grid_id": "shift_grid_id", "_schema": "date"}.get(key, key), value)
    return found


def values_of(campaign: Campaign, zone: ZoneInfo) -> tuple[dict[str, str], bool]:
    """A draft's fields as the form's values, and whether the form can show all of it (a campaign drafted
    through the API may have more than the form holds: several skills, identities, preferred skills)."""
    values = {"title": campaign.title, "kind": campaign.kind.value, "priority": campaign.priority.value,
              "office_grid_id": str(campaign.office_grid_id), "description": campaign.description or "",
              "contact_name": campaign.contact_name or "", "contact_phone": campaign.contact_phone or ""}
    for key in POLICY_FIELDS:
        if (campaign.policy or {}).get(key) is not None:
            values[key] = str(campaign.policy[key])
    if (campaign.policy or {}).get("sign_ups"):
        values["sign_ups"] = "1"
    shifts = sorted(campaign.shifts, key=lambda s: (s.start_at, s.id))
    fits = len(shifts) <= MAX_FORM_SHIFTS
    for number, shift in enumerate(shifts[:MAX_FORM_SHIFTS], start=1):
        p = prefix(number)
        start, end = shift.start_at.astimezone(zone), shift.end_at.astimezone(zone)
        values.update({f"{p}date": start.date().isoformat(), f"{p}start": start.strftime("%H:%M"),
                       f"{p}end": end.strftime("%H:%M"), f"{p}place": shift.place or "",
                       f"{p}shift_grid_id": str(shift.grid_id)})
        fits = fits and end.date() == start.date() and len(shift.positions) <= MAX_FORM_POSITIONS
        for row, position in enumerate(sorted(shift.positions, key=lambda x: x.id)[:MAX_FORM_POSITIONS], start=1):
            required = [s for s in position.skills if not s.preferred]
            fits = fits and len(required) <= 1 and len(required) == len(position.skills) \
                and not position.required_identities
            values.update({f"{p}role-{row}": position.role, f"{p}headcount-{row}": str(position.headcount),
                           f"{p}min_party_members-{row}": str(position.min_party_members)})
            if required:
                values.update({f"{p}skill-{row}": required[0].skill.code, f"{p}min_level-{row}": str(required[0].min_level)})
    values["shift_count"] = str(max(1, min(len(shifts), MAX_FORM_SHIFTS)))
    values["repeat"], values["recurrence_cron"] = _repeat_of(campaign.recurrence_cron, values)
    return values, fits


def _repeat_of(cron: str | None, values: Mapping[str, str]) -> tuple[str, str]:
    """Which repeat choice a stored rule is, for the first shift's date and time."""
    if not cron:
        return "", ""
    for choice in ("weekly", "monthly"):
        if repeat_cron(choice, values.get("date", ""), values.get("start", ""), None) == cron:
            return choice, ""
    return "custom", cron


def blank_values(office_grid_id: int | None, today: date, priority: str) -> dict[str, str]:
    """A new campaign's form: tomorrow 09:00-12:00 at the clerk's own office."""
    tomorrow = today + timedelta(days=1)
    return {"priority": priority, "office_grid_id": str(office_grid_id or ""), "date": tomorrow.isoformat(),
            "start": "09:00", "end": "12:00", "min_party_members-1": "0", "shift_count": "1"}


def added_block_defaults(values: Mapping[str, str], count: int) -> dict[str, str]:
    """A newly added block starts as a copy of the previous block's day, times, place and grid."""
    previous, new = prefix(count - 1), prefix(count)
    copied = {f"{new}{key}": values.get(f"{previous}{key}", "") for key in ("date", "start", "end", "place",
                                                                            "shift_grid_id")}
    copied[f"{new}min_party_members-1"] = "0"
    return {key: value for key, value in copied.items() if not values.get(key)}
