"""Fields and base schemas shared by the API schemas."""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timezone

import marshmallow as ma
from marshmallow import fields, validate

from core.masking import MOBILE_RE

CODE_RE = re.compile(r"^[A-Za-z0-9_.-]+$")

mobile_validator = validate.Regexp(MOBILE_RE, error="Not a valid mobile number.")
code_validator = validate.Regexp(CODE_RE, error="Use letters, digits, '_', '-' or '.' only.")


class Schema(ma.Schema):
    """Base: unknown fields are refused, so a misspelt field is a 422; so is text with a NUL character."""

    class Meta:
        unknown = ma.RAISE
        ordered = True

    @ma.pre_load
    def refuse_nul_characters(self, data, **kwargs):
        # PostgreSQL cannot store or even compare text holding U+0000; SQLite would keep it silently.
        if isinstance(data, Mapping):
            bad = [key for key, value in data.items() if _has_nul(value)]
            if bad:
                raise ma.ValidationError({key: ["Must not contain the NUL character (U+0000)."] for key in bad})
        return data


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    return isinstance(value, list) and any(isinstance(item, str) and "\x00" in item for item in value)


# Every time the service takes in lies within these years: year 1 or 9999 overflows on the way to UTC or
# to the office's zone (a 500), or makes a campaign that can never be matched.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


class BoundedDateTime(fields.AwareDateTime):
    """An ISO 8601 time with an offset (missing: UTC), refused by name outside EARLIEST_YEAR-LATEST_YEAR."""

    default_error_messages = {"out_of_range": f"Must be between {EARLIEST_YEAR} and {LATEST_YEAR}."}

    def __init__(self, **kwargs):
        super().__init__(format="iso", default_timezone=timezone.utc, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        if not EARLIEST_YEAR <= result.year <= LATEST_YEAR:
            raise self.make_error("out_of_range")
        return result


def AwareDateTime(**kwargs):
    """An ISO 8601 time with an offset; a missing offset is read as UTC."""
    return BoundedDateTime(**kwargs)


class TrimmedString(fields.String):
    """A string with surrounding white space removed; blank counts as missing."""

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        return result.strip()


class StrictBoolean(fields.Boolean):
    """JSON true or false only: 1, "yes" or "true" are refused, where a slip would record the wrong fact."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


def required_text(max_length: int, extra=(), required: bool = True, **kwargs):
    """A non-blank string of at most ``max_length`` characters."""
    checks = [validate.Length(min=1, max=max_length), *extra]
    return TrimmedString(required=required, validate=checks, **kwargs)


def optional_text(max_length: int, **kwargs):
    """A string that may be missing or null, at most ``max_length`` characters."""
    return TrimmedString(load_default=None, allow_none=True, validate=validate.Length(max=max_length),
                         **kwargs)


def positive_id(strict: bool = True, **kwargs):
    """A row id in a JSON body (strict: "5" is refused) or, with strict=False, in a query string."""
    return fields.Integer(strict=strict, validate=validate.Range(min=1, max=2**31 - 1), **kwargs)


def for_update(schema_class: type[ma.Schema]) -> ma.Schema:
    """``schema_class`` for a PATCH body: a top-level field may be left out, but a nested object sent is checked
    whole (``partial=True`` would reach into it too, and let an availability window or a shift lose its start)."""
    return schema_class(partial=tuple(schema_class().fields))


class IdListQuery(Schema):
    """Base of list filters; page and page_size come from the pagination decorator."""


class LocalDateTime(BoundedDateTime):
    """Dumps UTC times in the service's zone (+08:00 by default); loads any offset within the bounded years."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None:
            from flask import current_app
            from zoneinfo import ZoneInfo

            value = value.astimezone(ZoneInfo(current_app.config["TIMEZONE"]))
        return super()._serialize(value, attr, obj, **kwargs)
