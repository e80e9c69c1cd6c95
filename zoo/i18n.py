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


_NUMBER = None


def decimal_marks(text: str, lang: str = DEFAULT) -> str:
    """`text` with the decimal point of each plain number written the language's way, for a
    table's cells: "0.9222 (92.2%)" -> "0,9222 (92,2%)" in Russian. Dotted names are kept
    (history.csv, 1.2.3, v2.1).

    >>> decimal_marks("0.9222 (92.2%), lab.json, 3.11.2", "ru")
    '0,9222 (92,2%), lab.json, 3.11.2'
    """
    global _NUMBER
    mark = t("number.decimal_mark", lang)
    if mark == ".":
        return text
    if _NUMBER is None:
        import re

        _NUMBER = re.compile(r"(?<![\w.])(\d+)\.(\d+)(?![\w.])")
    return _NUMBER.sub(rf"\1{mark}\2", text)


# The reasons a run stops, as the engine writes them into config.json's stop_reason (in
# English, for logs and for every reader of the file): each pattern names the locale key that
# says it in another language. A reason no pattern knows (an exception's text) stays as it is.
REASONS = (
    ("reason.diverged", r"the loss became (?P<loss>\S+) at epoch (?P<epoch>\d+): "
     r"the learning rate (?P<lr>\S+) is too large"),
    ("reason.target", r"training loss (?P<loss>\S+) <= (?P<target>\S+) at epoch (?P<epoch>\d+)"),
    ("reason.patience", r"no lower (?P<split>test|validation) loss for (?P<patience>\d+) epochs; "
     r"weights of epoch (?P<best>\d+) restored"),
    ("reason.callback", r"(?P<callback>\w+) stopped the run at epoch (?P<epoch>\d+)"),
    ("reason.signal_epoch", r"interrupted by (?P<signal>\w+) during epoch (?P<epoch>\d+)"),
    ("reason.signal_report", r"interrupted by (?P<signal>\w+) while the report was drawn"),
    ("reason.signal_results", r"interrupted by (?P<signal>\w+) while the results were written"),
    ("reason.signal", r"interrupted by (?P<signal>\w+)"),
)  # fmt: skip


def reason(text: str | None, lang: str = DEFAULT) -> str | None:
    """A run's stop reason (config.json's English `stop_reason`) said in `lang`, its numbers
    with the language's decimal mark.

    >>> print(reason("the loss became nan at epoch 3: the learning rate 10.0 is too large", "ru"))
    функция потерь перестала быть конечным числом на эпохе 3: скорость обучения 10,0 слишком велика
    """
    if not text or lang == DEFAULT:
        return text
    import re

    for key, pattern in REASONS:
        found = re.fullmatch(pattern, text.strip())
        if found:
            values = {k: decimal_marks(v, lang) for k, v in found.groupdict().items()}
            if values.get("loss", "").lstrip("+-") in ("nan", "inf"):
                key = f"{key}_not_finite"  # said in words, not as a bare nan
            if "split" in values:
                values["split"] = t(f"report.eval.{values['split']}", lang)
            if "patience" in values:
                values["patience"] = plural(int(values["patience"]), "plural.epochs", lang)
            return t(key, lang, **values)
    return text


# The statuses a run folder's config.json can hold, each with a word or two in every locale
STATUS_WORDS = (
    "completed",
    "stopped_early",
    "target_reached",
    "diverged",
    "interrupted",
    "failed",
    "killed",
    "running",
)


def status_word(status: str | None, lang: str = DEFAULT) -> str:
    """A run's status in a word or two of `lang`; an unknown one is "unfinished".

    >>> status_word("stopped_early", "ru")
    'остановлено досрочно'
    """
    return t(f"report.status_word.{status if status in STATUS_WORDS else 'other'}", lang)


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
