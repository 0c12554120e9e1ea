"""The one way a form's number becomes the API's integer (campaign editor, roster edit and import, agreements).
Schema and service messages are said in the page's language by ``core.i18n.say``."""
from __future__ import annotations


def form_int(raw: str):
    """A number typed or chosen, as the API's integer; anything else as written, so the schema names it."""
    raw = raw.strip()
    return int(raw) if raw.isdecimal() and len(raw) <= 10 else raw
