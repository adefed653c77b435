"""The console's catalogs are complete: every user-facing string of its code and templates is
in both catalogs, translated, and compiled into the committed ``.mo`` files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "web" / "translations"
HAN = re.compile(r"[\u4e00-\u9fff]")


def extracted() -> set[str]:
    """Every msgid in the console's and the verify page's code and templates, extracted now
    (as ``babel.cfg`` says)."""
    method_map = [
        ("web/console*.py", "python"),
        ("web/verify_page.py", "python"),
        ("web/signer_page.py", "python"),
        ("web/api_docs.py", "python"),
        ("web/templates/console/**.html", "jinja2"),
        ("web/templates/verify/**.html", "jinja2"),
        ("web/templates/signer/**.html", "jinja2"),
    ]
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, keywords={"_": None, "gettext": None}
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def catalog(lang: str) -> dict[str, str]:
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        return {str(m.id): str(m.string) for m in read_po(f) if m.id}


def test_every_string_is_in_the_template_and_the_catalogs() -> None:
    ids = extracted()
    assert len(ids) > 100
    with open(TRANSLATIONS / "messages.pot", "rb") as f:
        pot = {m.id for m in read_po(f) if m.id}
    assert ids == pot, "run `make translations` and translate the new entries"
    for lang in ("zh_CN", "en"):
        assert set(catalog(lang)) == ids, lang


def test_every_string_has_a_chinese_translation() -> None:
    zh = catalog("zh_CN")
    untranslated = [k for k, v in zh.items() if not v or not HAN.search(v)]
    assert untranslated == []
    for msgid, text in zh.items():  # placeholders kept
        assert sorted(re.findall(r"%\(\w+\)s", msgid)) == sorted(re.findall(r"%\(\w+\)s", text))


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_the_compiled_catalog_matches_its_source(lang: str) -> None:
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.mo", "rb") as f:
        compiled = {str(m.id): str(m.string) for m in read_mo(f) if m.id}
    assert compiled == catalog(lang), "run `make translations` (pybabel compile)"
