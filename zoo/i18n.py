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


def plural_form(n: int, lang: str = DEFAULT) -> int:
    """Which of a language's plural forms `n` takes: English has two (1 update, 2 updates),
    Russian three (1 обновление, 2 обновления, 5 обновлений)."""
    n = abs(int(n))
    if lang == "ru":
        if n % 10 == 1 and n % 100 != 11:
            return 0
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return 1
        return 2
    return 0 if n == 1 else 1


def plural(n: int, key: str, lang: str = DEFAULT) -> str:
    """`n` with the form of the counted word it takes: the key's text holds the forms
    separated by "|", in the order `plural_form` numbers them.

    >>> plural(21, "plural.weight_updates", "ru")
    '21 обновление весов'
    """
    forms = t(key, lang).split("|")
    return f"{n} {forms[min(plural_form(n, lang), len(forms) - 1)]}"


def decimal(value: float, spec: str, lang: str = DEFAULT) -> str:
    """`value` formatted by `spec` with the language's decimal mark, for prose and tables
    (Russian writes 0,2444); CSV and JSON files keep points.

    >>> decimal(0.24444, ".4f", "ru")
    '0,2444'
    """
    return format(value, spec).replace(".", t("number.decimal_mark", lang))
