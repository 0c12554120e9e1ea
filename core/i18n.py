"""One language at a time: Simplified Chinese by default, English by choice or by the browser.

Every text a person reads (pages, messages, API errors) is written in English in the code, marked with
``_`` (or ``_l`` where it is read later, as in a module-level table), and translated by the catalogues
under ``translations/``; ``scripts/i18n`` extracts, updates and compiles them. The language of a request is,
chosen per request by ``web/locale.py``: ``?lang=`` (which also sets a cookie, so the choice sticks), that
cookie, the browser's ``Accept-Language``, and Chinese (the API: Accept-Language, else English). Messages to a person outside a request (the scheduler) use
``in_language(person.language)``. Dates and times are shown in the office's zone (``TIMEZONE``).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from flask_babel import (force_locale, format_datetime, get_locale, gettext, lazy_gettext, lazy_pgettext, ngettext,
                         pgettext)

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
# The catalogues' locale of each language (Babel's names), and <html lang> of each.
LOCALES = {"zh": "zh_Hans_CN", "en": "en"}
HTML_LANG = {"zh": "zh-CN", "en": "en"}
# What the switch link says, in the language it switches to (so a reader of that language finds it).
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}  # i18n: as written

_ = gettext
_l = lazy_gettext
__all__ = ["_", "_l", "ngettext", "pgettext", "lazy_pgettext", "language", "in_language", "local_datetime", "say"]


def _known(value: str | None) -> str | None:
    """"zh" or "en" for a language tag we speak ("en-GB", "zh_Hans_CN"), else None."""
    if not value:
        return None
    value = value.strip().lower().replace("_", "-")
    if value in LANGUAGES:
        return value
    return value.split("-", 1)[0] if value.split("-", 1)[0] in LANGUAGES else None


def language() -> str:
    """"zh" or "en": the language being spoken now (a request's, or the one ``in_language`` set)."""
    locale = get_locale()
    return "en" if locale is not None and locale.language == "en" else "zh"


@contextmanager
def in_language(lang: str | None) -> Iterator[str]:
    """Speak ``lang`` (a person's stored language; anything unknown is Chinese) inside the block."""
    lang = _known(lang) or DEFAULT_LANGUAGE
    with force_locale(LOCALES[lang]):
        yield lang


def local_datetime(value: datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    """An aware UTC time as the office's local time; naive times are taken as UTC. "" for none."""
    if value is None:
        return ""
    return format_datetime(value, fmt)


# Schema and service messages that carry values (a bound, a list, a row) are said by what they mean:
# (part of the English message, the sentence in the catalogue), the more specific first.
MEANINGS = (
    ("Missing data for required field", _l("Required.")), ("Not a valid integer", _l("Enter a whole number.")),
    ("Not a valid datetime", _l("Not a valid date or time.")), ("Not a valid date", _l("Not a valid date.")),
    ("Not a phone number", _l("Not a valid phone number.")), ("Must be after start", _l("Must be after the start.")),
    ("Cannot exceed the headcount", _l("Cannot exceed the headcount.")),
    ("Already registered", _l("Already registered.")), ("Same as row", _l("Same as an earlier row.")),
    ("Unknown grid code", _l("Unknown grid code, or outside your area.")),
    ("Unknown grid", _l("Unknown grid, or outside your area.")), ("Unknown skill", _l("Unknown skill.")),
    ("outside the office", _l("Outside the office's grids.")),
    ("Not a valid mobile number", _l("Not a valid mobile number.")),
    ("Only a party member", _l("Only a party member has a party branch.")),
    ("Must be greater than or equal", _l("Out of the allowed range.")),
    ("Must be less than or equal", _l("Out of the allowed range.")),
    ("Length must be between", _l("Too long or too short.")), ("Shorter than minimum length", _l("Cannot be empty.")),
    ("Longer than maximum length", _l("Too long.")),
    ("Must be one of", _l("Choose one from the list.")), ("is listed twice", _l("Listed twice.")),
    ("write a weekday and hours", _l("Write a weekday and hours, such as Sat 09:00-12:00.")),
    ("write skill:level", _l("Write skill:level, such as gas-safety:3.")),
    ("Not a valid cron", _l("Not a valid cron expression.")), ("Fires more than once", _l("Repeats too often.")),
    ("Unknown field", _l("Unknown field.")), ("Not a valid string", _l("Not a valid text.")),
    ("Not a valid boolean", _l("Not a valid yes or no.")), ("Invalid input type", _l("Not valid input.")),
    ("Not a valid list", _l("Not a valid list.")), ("Field may not be null", _l("Cannot be empty.")),
    ("Not a valid email address", _l("Not a valid e-mail address.")), ("Not a valid time", _l("Not a valid time.")),
    ("Not a valid number", _l("Not a valid number.")), ("Not a valid mapping", _l("Not valid input.")),
    ("String does not match expected pattern", _l("Not in the expected form.")),
    ("Invalid value", _l("Not a valid value.")), ("Not a valid URL", _l("Not a valid web address.")),
)


def say(message: object) -> str:
    """A schema's or service's English message in the language being spoken: its own catalogue entry when it
    has one, else (in Chinese) the sentence for what it means, else as written."""
    message = str(message)
    translated = gettext(message)
    if translated != message or language() == "en":
        return translated
    return next((str(text) for part, text in MEANINGS if part in message), message)
