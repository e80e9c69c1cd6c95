"""A run told in words: the task paragraph, its hyperparameters, its status, its accuracy.

Shared by the PDF report and the comparison table; every text comes from the locale tables.

    >>> hyperparameters_short({"mode": "minibatch", "lr": 0.005, "batch_size": 128,
    ...                        "epochs": 100, "epochs_run": 100, "iterations": 1200})
    'regime = mini-batch, lr = 0.005, batch_size = 128, epochs = 100, iterations = 1200'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from zoo.i18n import decimal, decimal_marks, plural, reason, status_word, t
from zoo.reporting.model_table import network_string
from zoo.runfolder import RunFolder

TITLE_FIELDS = ("author", "group", "variant", "title")
DASH = "—"
LARGE_LOSS = 1e5  # from here on a loss is written with its power of ten


def best_epoch_loss(run: RunFolder) -> tuple[int, float] | None:
    """The best epoch and its test (or validation) loss from the history: the recorded best
    epoch, unless its loss is not a finite number (then the lowest finite one); None without
    any finite loss."""
    import numpy as np

    val, epochs = run.column("val_loss"), run.column("epoch")
    finite = np.isfinite(val)
    if not finite.any():
        return None
    best = run.best_epoch
    rows = np.flatnonzero(epochs == best) if best else np.array([], dtype=int)
    if rows.size and finite[rows[0]]:
        return int(best), float(val[rows[0]])
    i = int(np.flatnonzero(finite)[np.argmin(val[finite])])
    return int(epochs[i]), float(val[i])


def loss_value(value: float | None, lang: str = "en") -> str:
    """A loss for a sentence: 0.1234; 7.69e+09 when it blew up; in words when it is NaN or
    infinite (a diverged run), never a bare "nan".

    >>> loss_value(0.123456), loss_value(7690123776.0, "ru"), loss_value(float("nan"))
    ('0.1235', '7,69e+09', 'not a number (the training diverged)')
    """
    import math

    if value is None:
        return DASH
    value = float(value)
    if not math.isfinite(value):
        return t("report.loss_not_finite", lang)
    spec = ".2e" if abs(value) >= LARGE_LOSS else ".4f"
    return decimal(value, spec, lang)


def title_info(
    config: Mapping[str, Any],
    given: Mapping[str, str | None] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, str | None]:
    """Author, group, variant and title: given now (`zoo report --author`), else stored at train
    time in config.json, else from $ZOO_AUTHOR, $ZOO_GROUP, $ZOO_VARIANT, $ZOO_TITLE."""
    given = given or {}
    environ = os.environ if environ is None else environ
    info = {}
    for key in TITLE_FIELDS:
        value = given.get(key) or config.get(key) or environ.get(f"ZOO_{key.upper()}")
        info[key] = str(value) if value else None
    return info


def default_title(config: Mapping[str, Any], lang: str = "en") -> str:
    """ "Lab work No. 1" for a fully connected network, "... No. 2" for a convolutional one
    (the course's labs)."""
    convolutional = any("filters" in layer for layer in config.get("layers") or ())
    return t("report.default_title_conv" if convolutional else "report.default_title", lang)


def number(value: Any, digits: int = 4) -> str:
    """0.005 -> "0.005", 12 -> "12", None -> "—"."""
    if value is None or value == "":
        return DASH
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def regime_name(mode: str | None, lang: str = "en") -> str:
    return t(f"report.regime.{mode}", lang) if mode else DASH


def loss_name(loss: str | None, lang: str = "en") -> str:
    return t(f"report.loss.{loss}", lang) if loss else DASH


def epochs_text(config: Mapping[str, Any]) -> str:
    """ "100", or "37/250" when the run stopped before the epochs asked for."""
    asked, run = config.get("epochs"), config.get("epochs_run")
    if run is None or run == asked:
        return number(asked)
    return f"{number(run)}/{number(asked)}"


def hyperparameters_short(config: Mapping[str, Any], lang: str = "en") -> str:
    """The lab table's hyperparameter cell: "regime = ..., lr = ..., batch_size = ...", then
    what differs from plain SGD at a constant rate (optimizer, penalties, schedule)."""
    parts = [
        f"{t('report.regime', lang)} = {regime_name(config.get('mode'), lang)}",
        f"lr = {number(config.get('lr'))}",
        f"batch_size = {number(config.get('batch_size'))}",
        f"epochs = {epochs_text(config)}",
        f"iterations = {number(config.get('iterations'))}",
    ]
    return ", ".join(parts + [f"{k} = {v}" for k, v in tuning(config).items()])


def _values(values: list[float]) -> str:
    return "/".join(number(v) for v in values)


def regularization(config: Mapping[str, Any]) -> dict[str, list[float]]:
    """The model's penalties and dropout as built (from its layers), and the weight decay:
    {"l2": [0.001], "dropout": [0.2, 0.5], "weight_decay": [0.004]}; only what is there."""
    layers = config.get("layers") or []
    found: dict[str, list[float]] = {}
    for key in ("l2", "l1"):
        values = sorted({float(x[key]) for x in layers if isinstance(x.get(key), int | float)})
        if values:
            found[key] = values
    rates = [float(x["rate"]) for x in layers if isinstance(x.get("rate"), int | float)]
    if rates:
        found["dropout"] = rates
    if config.get("weight_decay"):
        found["weight_decay"] = [float(config["weight_decay"])]
    return found


def schedule_parts(config: Mapping[str, Any]) -> dict[str, Any]:
    """The schedule and the options it took: {"lr_schedule": "step", "lr_decay": 0.1, ...}."""
    kind = config.get("lr_schedule") or "constant"
    parts: dict[str, Any] = {"lr_schedule": kind}
    if kind == "cosine" and config.get("warmup"):
        parts["warmup"] = config["warmup"]
    if kind in ("step", "exponential", "plateau"):
        parts.update(lr_decay=config.get("lr_decay"), lr_step=config.get("lr_step"))
    return parts


def tuning(config: Mapping[str, Any]) -> dict[str, str]:
    """What sets a run apart from plain SGD at a constant rate, as option = value texts."""
    out = {}
    optimizer = config.get("optimizer") or "sgd"
    if optimizer != "sgd":
        out["optimizer"] = str(optimizer)
    if config.get("momentum"):
        out["momentum"] = number(config["momentum"])
    if config.get("nesterov"):
        out["nesterov"] = "True"
    if config.get("clip_norm"):
        out["clip_norm"] = number(config["clip_norm"])
    out.update({k: _values(v) for k, v in regularization(config).items()})
    if (config.get("lr_schedule") or "constant") != "constant":
        out.update({k: number(v) for k, v in schedule_parts(config).items()})
    if config.get("patience"):  # early stopping: a regulariser too
        out["patience"] = number(config["patience"])
    return out


def optimizer_text(config: Mapping[str, Any], lang: str = "en") -> str:
    """ "SGD, momentum 0.9, Nesterov, gradient norm ≤ 1" in `lang`."""
    parts = [str(config.get("optimizer") or DASH).upper()]
    if config.get("momentum"):
        parts.append(t("report.opt.momentum", lang, value=number(config["momentum"])))
    if config.get("nesterov"):
        parts.append(t("report.opt.nesterov", lang))
    if config.get("clip_norm"):
        parts.append(t("report.opt.clip_norm", lang, value=number(config["clip_norm"])))
    return ", ".join(parts)


def regularization_text(config: Mapping[str, Any], lang: str = "en") -> str:
    """ "L2 0.001 on the kernels, dropout 0.2, weight decay 0.004" in `lang`, or "none"."""
    found = regularization(config)
    if not found:
        return t("report.reg.none", lang)
    return ", ".join(t(f"report.reg.{k}", lang, value=_values(v)) for k, v in found.items())


def schedule_text(config: Mapping[str, Any], lang: str = "en") -> str:
    """The learning-rate schedule in words: "step: × 0.1 every 10 epochs"."""
    parts = schedule_parts(config)
    values = {k: number(v) for k, v in parts.items()}
    kind = parts["lr_schedule"]
    key = f"report.schedule.{kind}"
    if t(key, lang) == key:  # a schedule this version has no words for
        key = "report.schedule.other"
    text = t(key, lang, kind=kind, **values)
    if kind == "cosine" and parts.get("warmup"):
        text += t("report.schedule.warmup", lang, warmup=values["warmup"])
    return text


def percent(value: float | None) -> str:
    return DASH if value is None else f"{100 * value:.2f}%"


def result_short(run: RunFolder, lang: str = "en") -> str:
    """The lab table's result cell: "test = 70.00%, train = 98.00%" (MSE for regression)."""
    test, train = t("report.test_short", lang), t("report.train_short", lang)
    if run.is_classification:
        acc = {s: percent(run.accuracy(s)) for s in ("test", "train")}
        return f"{test} = {acc['test']}, {train} = {acc['train']}"
    mse = {s: number((run.report(s) or {}).get("mse")) for s in ("test", "train")}
    return f"{test} MSE = {mse['test']}, {train} MSE = {mse['train']}"


def class_list(config: Mapping[str, Any]) -> str:
    """ "apple (0), otter (55), pickup_truck (58)": names with the source's indices."""
    names = config.get("class_names") or []
    ids = config.get("class_ids") or list(range(len(names)))
    return ", ".join(f"{name} ({i})" for name, i in zip(names, ids, strict=False))


def input_text(config: Mapping[str, Any], lang: str = "en") -> str:
    """ "an image 32×32×3 (3072 values)" or "a vector of 4 features"."""
    shape = [int(d) for d in config.get("input_shape") or []]
    features = 1
    for d in shape:
        features *= d
    key = "report.input_image" if len(shape) >= 2 else "report.input_vector"
    return t(key, lang, shape="×".join(str(d) for d in shape), features=features)


EXPLAINED = ("diverged", "interrupted", "stopped_early", "target_reached", "failed", "killed")
COMMENT_CHARS = 400  # what fits the task page; config.json keeps the whole comment


def status_text(run: RunFolder, lang: str = "en") -> str | None:
    """What happened to an unfinished or early-stopped run; None for a plain completed one."""
    c = run.config
    status = run.status
    if status == "completed":
        return None
    values = {
        "epoch": c.get("diverged_epoch") or c.get("epochs_run") or len(run.history),
        "epochs_run": c.get("epochs_run") if c.get("epochs_run") is not None else len(run.history),
        "epochs": c.get("epochs", DASH),
        "reason": reason(c.get("stop_reason"), lang) or DASH,
        "status": status,
        "lr": decimal_marks(str(c.get("lr", DASH)), lang),
        "patience": c.get("patience", DASH),
        "best": run.best_epoch or DASH,
        "eval": t(f"report.eval.{run.eval_split}", lang),
        "missing": ", ".join(run.missing()) or DASH,
        "where": f"{c.get('host', '?')}, pid {c.get('pid', '?')}",
    }
    key = status if status in (*EXPLAINED, "running") else "other"
    if key == "stopped_early" and c.get("patience") is None:  # a user's callback stopped it
        key = "stopped_by"
    return t(f"report.status.{key}", lang, **values)


def task_paragraph(run: RunFolder, lang: str = "en", variant: str | None = None) -> str:
    """Dataset (classes and their indices), model, regime, in one paragraph."""
    c = run.config
    network = network_string(c.get("layers") or [])
    inputs = input_text(c, lang)
    sentences = []
    if variant:
        sentences.append(t("report.task.variant", lang, variant=variant))
    key = "report.task.classify" if run.is_classification else "report.task.regress"
    sentences.append(
        t(
            key,
            lang,
            model=c.get("model"),
            network=network,
            dataset=c.get("dataset"),
            classes=class_list(c),
            k=len(run.class_names),
        )
    )
    sentences.append(
        t(
            "report.task.sizes",
            lang,
            input=inputs,
            train=number(c.get("train_size")),
            test=number(c.get("test_size")),
        )
    )
    norm = c.get("normalization")
    if norm and len(norm.get("mean", [])) > 6:  # per-feature statistics: too many to list
        sentences.append(t("report.task.normalization_features", lang, n=len(norm["mean"])))
    elif norm:
        sentences.append(
            t(
                "report.task.normalization",
                lang,
                scale=number(norm.get("scale", 1.0)),
                mean=", ".join(number(m) for m in norm.get("mean", [])),
                std=", ".join(number(s) for s in norm.get("std", [])),
            )
        )
    sentences.append(
        t(
            "report.task.regime",
            lang,
            regime=regime_name(c.get("mode"), lang),
            batch_size=number(c.get("batch_size")),
            updates=(
                plural(c["steps_per_epoch"], "plural.weight_updates", lang)
                if isinstance(c.get("steps_per_epoch"), int)
                else f"{DASH} {t('plural.weight_updates', lang).split('|')[-1]}"
            ),
            optimizer=str(c.get("optimizer", DASH)).upper(),
            lr=number(c.get("lr")),
            loss=loss_name(c.get("loss"), lang),
            epochs=number(c.get("epochs")),
        )
    )
    if c.get("comment"):
        comment = str(c["comment"])
        if len(comment) > COMMENT_CHARS:  # a long one would run over the page's footer
            comment = comment[:COMMENT_CHARS].rstrip() + "… " + t("report.comment_cut", lang)
        sentences.append(t("report.task.comment", lang, comment=comment))
    return " ".join(sentences)


def options_text(options: Mapping[str, Any] | None) -> str:
    if not options:
        return DASH
    return ", ".join(f"{k}={v}" for k, v in options.items())


def hyperparameter_rows(config: Mapping[str, Any], lang: str = "en") -> list[list[str]]:
    """Every training setting, one [label, value] row each, for the training page."""
    c = config
    rows = [
        ("model", f"{c.get('model')} ({options_text(c.get('model_options'))})"),
        ("dataset", f"{c.get('dataset')} ({options_text(c.get('dataset_options'))})"),
        ("regime", regime_name(c.get("mode"), lang)),
        ("batch_size", number(c.get("batch_size"))),
        ("steps_per_epoch", number(c.get("steps_per_epoch"))),
        ("epochs", epochs_text(c)),
        ("iterations", number(c.get("iterations"))),
        ("optimizer", optimizer_text(c, lang)),
        ("lr", number(c.get("lr"))),
        ("lr_schedule", schedule_text(c, lang)),
        ("momentum", number(c.get("momentum"))),
        ("regularization", regularization_text(c, lang)),
        ("loss", loss_name(c.get("loss"), lang)),
        ("head", str(c.get("head") or DASH)),
        ("seed", number(c.get("seed"))),
        ("patience", number(c.get("patience"))),
        ("target_loss", number(c.get("target_loss"))),
        ("validation", number(c.get("validation"))),
        ("status", status_word(c.get("status"), lang)),
        ("train_seconds", number(c.get("train_seconds"), 3)),
        ("device", f"{c.get('device', DASH)}, {c.get('backend', DASH)}"),
    ]
    return [[t(f"report.hp.{key}", lang), value] for key, value in rows]
