"""What a person reads or hears on a page, for the tests that check a page speaks one language."""
from __future__ import annotations

import re
from html.parser import HTMLParser

HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
# Attributes a screen reader reads (a table cell's label on a phone too).
READ_ATTRIBUTES = frozenset({"aria-label", "title", "placeholder", "alt", "data-label"})
VOID = frozenset({"area", "base", "br", "col", "hr", "img", "input", "link", "meta", "source", "wbr"})
# Not language: scripts, styles, drawings and code (commands are not a language).
UNREAD = frozenset({"script", "style", "svg", "code"})


class _Reader(HTMLParser):
    """Text nodes, the attributes read aloud and the labels of input buttons; not what ``UNREAD`` holds nor an element
    that declares its own language (the switch to the other language, Chinese column headers a file may use)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._open: list[bool] = []  # per open element: is it left unread?

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        unread = tag in UNREAD or (tag != "html" and "lang" in found)
        if not unread and not any(self._open):
            self.parts.extend(value for name, value in attrs if value and name in READ_ATTRIBUTES)
            if tag == "input" and found.get("type") in ("submit", "button") and found.get("value"):
                self.parts.append(found["value"])
        if tag not in VOID:
            self._open.append(unread)

    def handle_endtag(self, tag):
        if tag not in VOID and self._open:
            self._open.pop()

    def handle_data(self, data):
        if not any(self._open) and data.strip():
            self.parts.append(data.strip())


def read_aloud(html: str, data: object = ()) -> str:
    """The page's readable text, one piece a line, with ``data`` (what people typed: names, titles) taken out."""
    reader = _Reader()
    reader.feed(html)
    text = "\n".join(reader.parts)
    for value in sorted((str(v) for v in data if v), key=len, reverse=True):
        text = text.replace(value, " ")
    return text
