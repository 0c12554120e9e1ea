"""REST API under /api/v1: smorest blueprints, schemas, auth and errors."""
from __future__ import annotations

import json

from flask import Flask
from flask.json.provider import DefaultJSONProvider
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest.spec.plugins import integerconverter2paramschema
from webargs import core as webargs_core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.routing import IntegerConverter, ValidationError

from api.openapi import PAGINATION_HEADER, register_openapi
from extensions import api, csrf

# Every id column is a 32-bit integer on PostgreSQL; a larger id in a URL names nothing (404).
MAX_ROW_ID = 2**31 - 1
# Request bodies are a few levels deep (a campaign's shifts' positions' skills); past this it is abuse.
MAX_JSON_DEPTH = 32
# Past 64 bits no field of ours can hold a number; Python refuses int() past 4,300 digits anyway.
MAX_INT_DIGITS = 19


class RowIdConverter(IntegerConverter):
    """``<int:…>`` in every route: a row id from 0 to MAX_ROW_ID; anything longer or larger does not match (404)."""

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("max", MAX_ROW_ID)
        super().__init__(map, *args, **kwargs)

    def to_python(self, value: str):
        if len(value) > len(str(MAX_ROW_ID)):
            raise ValidationError()  # before int(): thousands of digits cost time and raise ValueError
        return super().to_python(value)


def _read_int(text: str):
    # A number longer than any field holds is read as a float (inf when huge): an integer field then
    # refuses it by name (422) instead of int() raising or the database overflowing (500).
    return int(text) if len(text.lstrip("-")) <= MAX_INT_DIGITS else float(text)


def _too_deep(value, limit: int) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


def load_request_json(data: str | bytes):
    """A request body parsed as JSON, or json.JSONDecodeError (a 400) when it is malformed or nested too deep."""
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    try:
        value = json.loads(text, parse_int=_read_int)
    except RecursionError:
        raise json.JSONDecodeError(f"Nested deeper than {MAX_JSON_DEPTH} levels", text or " ", 0) from None
    if isinstance(value, (dict, list)) and _too_deep(value, MAX_JSON_DEPTH):
        raise json.JSONDecodeError(f"Nested deeper than {MAX_JSON_DEPTH} levels", text, 0)
    return value


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, reading request bodies through load_request_json (request.get_json: 400 when bad)."""

    def loads(self, s, **kwargs):
        return load_request_json(s)


class BoundedParser(FlaskParser):
    """webargs' parser, reading JSON bodies through load_request_json (its own json.loads would raise a 500)."""

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return webargs_core.missing
        return load_request_json(req.get_data(cache=True))


class Blueprint(SmorestBlueprint):
    """Our pagination defaults: 50 a page, at most 500; the X-Pagination header documented as JSON."""

    DEFAULT_PAGINATION_PARAMETERS = {"page": 1, "page_size": 50, "max_page_size": 500}
    ARGUMENTS_PARSER = BoundedParser()

    def _document_pagination_metadata(self, spec, resp_doc):
        # smorest's documented hook for the header's description (api.openapi registers the component).
        resp_doc.setdefault("headers", {})[self.PAGINATION_HEADER_NAME] = PAGINATION_HEADER


def register_request_bounds(app: Flask) -> None:
    """Bounds every route shares, set before any route is added: row ids in URLs and the JSON a body may hold."""
    app.url_map.converters["int"] = RowIdConverter
    api.register_converter(RowIdConverter, integerconverter2paramschema)
    app.json = BoundedJSONProvider(app)


def register_api(app: Flask) -> None:
    """Register every API blueprint, the bearer scheme and the auth hook."""
    from api import (accounts, agreements, callups, campaigns, duty, grids, gridwork, hours, party_orgs, reports,
                     sessions, shifts, signups, skills, teams, volunteers)
    from api.auth import register_auth

    register_openapi(api)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "flask tokens create"})
    for module in (grids, skills, volunteers, duty, teams, agreements, campaigns, callups, hours, party_orgs, sessions, shifts,
                   accounts, signups, reports, gridwork):
        api.register_blueprint(module.blp)
        csrf.exempt(module.blp)  # bearer tokens, no cookies: nothing for a forged form to ride on
    register_auth(app)
