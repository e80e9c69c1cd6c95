"""What the runs of task 3 show, question by question, as numbers: never invented prose.

The lab's self-study questions ask what the accuracies say, whether the model overfits, what
a larger batch with the same number of updates changes, what a lower rate with more updates
changes, and what other network sizes give. Each answer here is a fact read from the run
folders (a class's F1, the epoch of the lowest test loss, two runs side by side) or a note
that the folder holds no run that answers it yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from zoo.i18n import t
from zoo.reporting.describe import best_epoch_loss, loss_value, percent
from zoo.reporting.model_table import network_string
from zoo.runfolder import RunFolder

# What makes two runs "the same configuration" but for the fields a comparison varies
SAME = (
    "model",
    "dataset",
    "dataset_options",
    "model_options",
    "mode",
    "optimizer",
    "momentum",
    "loss",
    "head",
    "normalize",
    "seed",
    "validation",
    "patience",
    "lr",
    "batch_size",
    "epochs",
    "iterations",
)
VARIES = {
    "batch": ("batch_size", "epochs"),  # with the same number of updates
    "lr": ("lr", "epochs", "iterations"),  # a lower rate, more updates
    "hidden": ("model_options",),  # other layer sizes, all else equal
    # lab 2: other conv blocks (the network), other training settings
    "conv": ("model_options",),
    "training": ("lr", "batch_size", "epochs", "iterations"),
}
# The builder options each kind may change (the rest of `model_options` must match)
MODEL_VARIES = {
    "hidden": ("hidden",),
    "conv": ("conv", "kernel", "stride", "padding", "pool_size", "batch_norm", "dense"),
}


@dataclass
class Pair:
    kind: str
    first: RunFolder
    second: RunFolder


def resolved_model_options(config: dict) -> dict:
    """The options the model was built with: the builder's defaults filled in under the
    recorded ones, in one spelling, so `{"hidden": [10]}` and `{}` (mlp's default) compare
    equal. A run recorded before `init=` existed started from Keras's default, glorot."""
    from zoo.models.layers import canonical_options
    from zoo.models.registry import MODELS

    given = dict(config.get("model_options") or {})
    try:
        defaults = MODELS.options(str(config.get("model")))
    except Exception:  # a model of one's own, or one this version does not register
        defaults = {}
    defaults.pop("normalization", None)
    merged = {**defaults, **{k: v for k, v in given.items() if v is not None}}
    if config.get("head"):
        merged["head"] = config["head"]
    try:
        return canonical_options(merged)
    except Exception:  # a record this version cannot read: compare it as written
        return merged


def _options(config: dict, kind: str) -> dict:
    skip = MODEL_VARIES.get(kind, ())
    return {k: v for k, v in resolved_model_options(config).items() if k not in skip}


def _data(config: dict) -> dict:
    """The data's identity: the classes read (by the source's index, however they were
    named), not where the files came from."""
    options = config.get("dataset_options") or {}
    found = {k: v for k, v in options.items() if k not in ("data_dir", "source")}
    if config.get("class_ids") is not None:
        found["classes"] = list(config["class_ids"])
    return found


def _key(config: dict, kind: str) -> tuple:
    varied = VARIES[kind]
    values: list[Any] = []
    for name in SAME:
        if name == "model_options":  # resolved; only what `kind` varies may differ
            values.append(repr(sorted(_options(config, kind).items())))
            continue
        if name in varied:
            continue
        value = _data(config) if name == "dataset_options" else config.get(name)
        values.append(repr(sorted(value.items()) if isinstance(value, dict) else value))
    return tuple(values)


def _differs(kind: str, a: dict, b: dict) -> bool:
    if kind == "batch":
        return a.get("batch_size") != b.get("batch_size") and a.get("iterations") == b.get(
            "iterations"
        )
    if kind == "lr":
        if a.get("lr") == b.get("lr"):
            return False
        low, high = (a, b) if a["lr"] < b["lr"] else (b, a)
        return (low.get("iterations") or 0) > (high.get("iterations") or 0)
    if kind == "training":
        return any(a.get(k) != b.get(k) for k in ("lr", "batch_size", "epochs"))
    options = [resolved_model_options(c) for c in (a, b)]
    return any(options[0].get(k) != options[1].get(k) for k in MODEL_VARIES[kind])


def pairs(runs: Sequence[RunFolder], kind: str) -> list[Pair]:
    """Runs that differ only in what `kind` varies ("batch", "lr" or "hidden")."""
    found = []
    for i, a in enumerate(runs):
        for b in runs[i + 1 :]:
            if _key(a.config, kind) == _key(b.config, kind) and _differs(kind, a.config, b.config):
                found.append(Pair(kind, a, b))
    return found


def class_extremes(run: RunFolder) -> tuple[tuple[str, float], tuple[str, float]] | None:
    """(best class, its test F1), (worst class, its test F1)."""
    report = run.report("test") or {}
    scores = [
        (name, float(report[name]["f1-score"]))
        for name in run.class_names
        if isinstance(report.get(name), dict) and report[name].get("f1-score") is not None
    ]
    if not scores:
        return None
    ordered = sorted(scores, key=lambda item: item[1])
    return ordered[-1], ordered[0]


def _number(value, digits: int = 4) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _gap(run: RunFolder) -> float | None:
    train, test = run.accuracy("train"), run.accuracy("test")
    return None if train is None or test is None else train - test


def side_by_side(pair: Pair, lang: str) -> str:
    """One line per run: what varies and what came of it."""
    lines = []
    for run in (pair.first, pair.second):
        c = run.config
        lines.append(
            t(
                "lab.fact.side",
                lang,
                run=run.name,
                network=network_string(c.get("layers") or []),
                lr=c.get("lr"),
                batch=c.get("batch_size"),
                epochs=c.get("epochs_run", c.get("epochs")),
                iterations=c.get("iterations"),
                test=percent(run.accuracy("test")),
                train=percent(run.accuracy("train")),
                best=run.best_epoch or "—",
                loss=loss_value((run.report("test") or {}).get("loss"), lang),
            )
        )
    return "\n".join(lines)


def answers(runs: Sequence[RunFolder], lang: str) -> list[tuple[str, list[str]]]:
    """(question, facts) for each self-study question, in the lab's order."""
    base = runs[0] if runs else None
    out: list[tuple[str, list[str]]] = []

    facts = []
    for run in runs:
        extremes = class_extremes(run)
        if extremes is None:
            continue
        (best, best_f1), (worst, worst_f1) = extremes
        facts.append(
            t(
                "lab.fact.classes",
                lang,
                run=run.name,
                test=percent(run.accuracy("test")),
                train=percent(run.accuracy("train")),
                best=best,
                best_f1=_number(best_f1),
                worst=worst,
                worst_f1=_number(worst_f1),
            )
        )
    out.append((t("lab.q1", lang), facts or [t("lab.fact.none", lang)]))

    facts = []
    for run in runs:
        val = run.column("val_loss")
        found = best_epoch_loss(run) if run.best_epoch is not None and len(val) else None
        if found is None:
            continue
        (best, at_best), epochs = found, run.column("epoch")
        facts.append(
            t(
                "lab.fact.overfit",
                lang,
                run=run.name,
                best=best,
                epochs=int(epochs[-1]),
                at_best=loss_value(at_best, lang),
                at_end=loss_value(float(val[-1]), lang),
                gap=percent(_gap(run)),
            )
        )
    out.append((t("lab.q2", lang), facts or [t("lab.fact.none", lang)]))

    for kind, question in (("batch", "lab.q3"), ("lr", "lab.q4"), ("hidden", "lab.q5")):
        found = pairs(runs, kind)
        facts = [side_by_side(pair, lang) for pair in found]
        out.append((t(question, lang), facts or [t(f"lab.fact.no_{kind}", lang)]))

    facts = []
    if base is not None and base.accuracy("test") is not None:
        for run in runs[1:]:
            accuracy = run.accuracy("test")
            if accuracy is None:
                continue
            facts.append(
                t(
                    "lab.fact.versus_base",
                    lang,
                    run=run.name,
                    comment=run.config.get("comment") or "—",
                    change=f"{100 * (accuracy - base.accuracy('test')):+.2f}",
                    test=percent(accuracy),
                )
            )
    out.append((t("lab.q6", lang), facts or [t("lab.fact.only_base", lang)]))
    return out
