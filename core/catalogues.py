"""Extract, update, check and compile the message catalogues (``scripts/i18n`` runs this).

English is the language of the code: its catalogue says each message as written (filled here, so a
reviewer sees every message twice and a missing one is caught like a missing Chinese one). Chinese is
translated by hand in ``translations/zh/LC_MESSAGES/messages.po``.
"""
from __future__ import annotations

import io
import os
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
KEYWORDS = {"_": None, "_l": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2),
            "lazy_ngettext": (1, 2), "N_": None,
            "pgettext": ((1, "c"), 2), "lazy_pgettext": ((1, "c"), 2)}
CATALOGUE_LOCALES = {"zh": "zh_Hans_CN", "en": "en"}


def po_path(lang: str) -> Path:
    return TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"


def extract() -> Catalog:
    """Every marked message in the code and the templates, with where it is used."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    template = Catalog(project="Gridmuster", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",),
            strip_comment_tags=True):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def read(lang: str) -> Catalog:
    path = po_path(lang)
    if not path.exists():
        return Catalog(locale=CATALOGUE_LOCALES[lang], project="Gridmuster", charset="utf-8")
    with open(path, "rb") as handle:
        return read_po(handle, locale=CATALOGUE_LOCALES[lang])


def write(lang: str, catalog: Catalog) -> None:
    path = po_path(lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=120, sort_output=False, omit_header=False, ignore_obsolete=True,
             include_previous=False)
    path.write_bytes(buffer.getvalue())
    with open(path.with_suffix(".mo"), "wb") as handle:
        write_mo(handle, catalog, use_fuzzy=False)


def _fill_english(catalog: Catalog) -> None:
    for message in catalog:
        if not message.id:
            continue
        message.string = message.id
        message.flags.discard("fuzzy")


def update(extra: Iterable[Path] = ()) -> dict[str, list[str]]:
    """Bring both catalogues in line with the code: new messages added (English filled), gone ones dropped.
    ``extra`` .po files lend their translations (a branch's catalogue being merged). Returns what is missing."""
    template = extract()
    missing = {}
    for lang in CATALOGUE_LOCALES:
        catalog = read(lang)
        for other in extra if lang == "zh" else ():
            with open(other, "rb") as handle:
                for message in read_po(handle):
                    if message.id and message.string and not message.fuzzy and not catalog.get(message.id, message.context):
                        catalog[message.id] = message
        catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
        if lang == "en":
            _fill_english(catalog)
        write(lang, catalog)
        missing[lang] = untranslated(catalog)
    return missing


def untranslated(catalog: Catalog) -> list[str]:
    """The messages of ``catalog`` with no translation (or only a fuzzy one), by their English."""
    gaps = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            gaps.append(message.id if isinstance(message.id, str) else message.id[0])
    return gaps


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "update"
    if command == "update":
        missing = update(Path(p) for p in argv[1:])
        for lang, gaps in missing.items():
            print(f"{lang}: {len(read(lang))} messages, {len(gaps)} without a translation")
            for gap in gaps:
                print(f"  {gap}")
        return 1 if any(missing.values()) else 0
    if command == "add":
        # Chinese for English messages, from a JSON object {"English": "中文"} (or a list of [English, 中文]).
        import json

        catalog = read("zh")
        added = 0
        for path in argv[1:]:
            with open(path, encoding="utf-8") as handle:
                pairs = json.load(handle)
            for english, chinese in (pairs.items() if isinstance(pairs, dict) else pairs):
                message = catalog.get(english)
                if message is None:
                    catalog.add(english, chinese)
                else:
                    message.string = chinese
                    message.flags.discard("fuzzy")
                added += 1
        write("zh", catalog)
        print(f"zh: {added} translations added; run scripts/i18n update to check what is left")
        return 0
    if command == "compile":
        for lang in CATALOGUE_LOCALES:
            write(lang, read(lang))
        return 0
    print("usage: scripts/i18n [update [other.po ...] | add pairs.json ... | compile]")
    return 2


if __name__ == "__main__":
    import sys

    os.chdir(ROOT)
    raise SystemExit(main(sys.argv[1:]))
