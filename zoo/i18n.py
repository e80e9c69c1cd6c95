"""Texts for reports and explanations: one JSON table per language in `zoo/locales/`.

Adding a language is adding one file (`zoo/locales/de.json`); keys missing from it fall
back to English. Keys are namespaced by the part that uses them (`report.*`, `explain.*`).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from zoo.errors import OptionError

LOCALES = Path(__file__).with_name("locales")
DEFAULT = "en"


def languages() -> list[str]:
    return sorted(p.stem for p in LOCALES.glob("*.json"))


@cache
def table(lang: str) -> dict[str, str]:
    if lang not in languages():
        raise OptionError("lang", f"{lang!r} is not one of {', '.join(languages())}")
    texts = json.loads((LOCALES / f"{DEFAULT}.json").read_text(encoding="utf-8"))
    if lang != DEFAULT:
        texts.update(json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8")))
    return texts


def t(key: str, lang: str = DEFAULT, **values) -> str:
    """The text for `key` in `lang`, formatted with `values`; an unknown key is returned as is."""
    text = table(lang).get(key, key)
    return text.format(**values) if values else text
