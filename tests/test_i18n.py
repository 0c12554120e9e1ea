"""One language at a time: complete catalogues, no text outside them, and the language chosen as people expect."""
from __future__ import annotations

import ast
import gettext
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from core import catalogues

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = sorted((ROOT / "web" / "templates").glob("*.html"))
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
LETTERS = re.compile(r"[A-Za-z\u3400-\u9fff\uf900-\ufaff]")
# Words a page may print as they are, in either language (names of things, not sentences).
KEEP_AS_WRITTEN = re.compile(r"\b(Gridmuster|API|OpenAPI|PDF|QR|XLSX|CSV|WeCom|SMS|ID|cron)\b")
# Attributes people read or hear (a button's value, a field's hint, an image's description).
READ_ATTRIBUTES = frozenset({"aria-label", "title", "placeholder", "alt", "aria-description"})


@pytest.fixture(scope="module")
def extracted():
    return catalogues.extract()


@pytest.mark.parametrize("lang", sorted(catalogues.CATALOGUE_LOCALES))
def test_every_message_has_a_translation(lang, extracted):
    catalog = catalogues.read(lang)
    absent = [m.id for m in extracted if m.id and catalog.get(m.id, m.context) is None]
    assert absent == [], f"{lang}: not in the catalogue (run scripts/i18n update): {absent[:20]}"
    gaps = [gap for gap in catalogues.untranslated(catalog) if extracted.get(gap) is not None]
    assert gaps == [], f"{lang}: without a translation: {gaps[:20]}"


@pytest.mark.parametrize("lang", sorted(catalogues.CATALOGUE_LOCALES))
def test_compiled_catalogue_matches_its_source(lang):
    path = catalogues.po_path(lang)
    with open(path.with_suffix(".mo"), "rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    for message in catalogues.read(lang):
        if message.id and isinstance(message.id, str) and message.string and not message.fuzzy:
            said = compiled.pgettext(message.context, message.id) if message.context else compiled.gettext(message.id)
            assert said == message.string, f"{lang}: stale .mo (run scripts/i18n compile)"


def test_chinese_catalogue_is_chinese():
    catalog = catalogues.read("zh")
    english_only = [m.id for m in catalog if m.id and isinstance(m.string, str) and LETTERS.search(m.id)
                    and not HAN.search(m.string) and KEEP_AS_WRITTEN.sub("", m.string).strip(" %()s{}:0123456789.,-/·")
                    and re.search(r"[A-Za-z]{3,}", re.sub(r"%\(\w+\)[sdif]|\{\w+\}", "", m.string))]
    assert english_only == [], f"Chinese catalogue entries still in English: {english_only[:20]}"


class _TextFinder(HTMLParser):
    """Text a person reads in a template's markup (outside Jinja), with its line."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if value and (name in READ_ATTRIBUTES or (tag == "input" and name == "value"
                                                      and dict(attrs).get("type") in ("submit", "button"))):
                self._check(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self._check(data)

    def _check(self, text: str) -> None:
        text = KEEP_AS_WRITTEN.sub("", text)
        if LETTERS.search(text):
            self.found.append((self.getpos()[0], text.strip()[:60]))


def words_outside_jinja(source: str) -> list[tuple[int, str]]:
    # Jinja's own parts become a neutral placeholder of the same line count, so line numbers stay right.
    def blank(match: re.Match) -> str:
        return "\n" * match.group(0).count("\n") + "0"

    # A block that fills an attribute of the base page (its <main> class) is markup, not text.
    source = re.sub(r"\{%-?\s*block main_class\s*-?%\}.*?\{%-?\s*endblock\s*-?%\}", "", source, flags=re.S)
    markup = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", blank, source, flags=re.S)
    finder = _TextFinder()
    finder.feed(markup)
    return finder.found


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_templates_say_nothing_outside_the_catalogue(template):
    found = words_outside_jinja(template.read_text(encoding="utf-8"))
    assert found == [], f"{template.name}: text not marked for translation (line, text): {found[:10]}"


def test_finder_catches_unmarked_text():
    source = '<p>{{ _("Hello") }}</p><p title="Hint">Sign in 登录</p><button>{{ x }}</button><script>var a = 1;</script>'
    assert [text for _, text in words_outside_jinja(source)] == ["Hint", "Sign in 登录"]


def _modules():
    for package in sorted(catalogues.ROOT.iterdir()):
        if package.is_dir() and (package / "__init__.py").exists() and package.name not in ("tests", "bench", "demo"):
            yield from sorted(package.rglob("*.py"))


AS_WRITTEN_MARK = "# i18n: as written"


def _han_literals(path: Path) -> list[tuple[int, str]]:
    """Chinese string literals, but for docstrings and lines marked ``# i18n: as written`` (input people type,
    such as 周六 in availability, or a language's own name)."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [(node.lineno, node.value[:40]) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
            and HAN.search(node.value) and AS_WRITTEN_MARK not in lines[node.lineno - 1]]


@pytest.mark.parametrize("path", list(_modules()), ids=lambda p: str(p.relative_to(ROOT)))
def test_code_says_chinese_only_through_the_catalogue(path):
    """Chinese in a string literal is text that bypasses the catalogue (docstrings and comments may quote it)."""
    name = str(path.relative_to(ROOT))
    assert _han_literals(path) == [], f"{name}: Chinese outside the catalogue"


def _html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True)).group(1)


def test_pages_speak_chinese_by_default_and_english_when_the_browser_asks(page_client):
    plain = page_client.get("/login")
    assert _html_lang(plain) == "zh-CN"
    assert "跳到正文" in plain.get_data(as_text=True) and "Skip to content" not in plain.get_data(as_text=True)
    english = page_client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert _html_lang(english) == "en"
    assert "Skip to content" in english.get_data(as_text=True) and "跳到正文" not in english.get_data(as_text=True)


def test_the_switch_sticks_across_pages(page_client):
    switched = page_client.get("/login?lang=en", headers={"Accept-Language": "zh-CN"})
    assert _html_lang(switched) == "en"
    assert "lang=en" in switched.headers.get("Set-Cookie", "")
    later = page_client.get("/register", headers={"Accept-Language": "zh-CN"})
    assert _html_lang(later) == "en"
    page = later.get_data(as_text=True)
    link = re.search(r'<a class="language-switch" id="language-switch" href="([^"]+)"[^>]*>([^<]+)</a>', page)
    assert link.group(2) == "中文" and "lang=zh" in link.group(1)
    back = page_client.get(link.group(1).replace("&amp;", "&"))
    assert _html_lang(back) == "zh-CN"
    assert _html_lang(page_client.get("/login")) == "zh-CN"


def test_unknown_language_falls_back_to_chinese(page_client):
    assert _html_lang(page_client.get("/login?lang=fr", headers={"Accept-Language": "fr"})) == "zh-CN"


def test_api_errors_follow_accept_language_and_default_to_english(client):
    english = client.get("/api/v1/campaigns")
    assert english.status_code == 401
    assert not HAN.search(english.get_data(as_text=True))


def test_say_translates_schema_messages_by_meaning(app):
    from core.i18n import in_language, say

    with app.test_request_context("/"):
        with in_language("zh"):
            assert say("Must be greater than or equal to 1.") == "超出允许范围。"
            assert say("Required.") == "必填。"
            assert say("A message nobody wrote down") == "A message nobody wrote down"
        with in_language("en"):
            assert say("Must be greater than or equal to 1.") == "Must be greater than or equal to 1."
