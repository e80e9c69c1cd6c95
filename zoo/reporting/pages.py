"""The pages of report.pdf, each drawn top to bottom on an A4 `Page`.

`zoo.reporting.pdf` puts them in order; every function here takes the page, the run and the
language, and writes what the run folder has, or a note saying what it lacks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np

from zoo.i18n import decimal, t
from zoo.reporting import describe
from zoo.reporting.layout import Page
from zoo.reporting.model_table import (
    conv_layers,
    count_rows,
    counts_note_key,
    layer_counts,
    layer_rows,
    network_string,
    totals,
)
from zoo.reporting.report_figures import FIGURE_GROUPS, class_counts
from zoo.runfolder import RunFolder

SECTIONS = ("task", "data", "model", "training", "results", "insight")
CAPTIONS = (
    "conv_filters",
    "feature_maps",
    "confusion_matrix",
    "predicted_vs_true",
    "first_layer_weights",
    "first_layer_map",
    "misclassified",
    "decision_boundary",
    "regression_fit",
    "generalization_gap",
    "learning_rate",
)  # figures explained under them
MANY_CLASSES = 25  # beyond this, per-class rows stay in classification_report.txt


def heading(page: Page, section: str, lang: str, part: str = "") -> None:
    """ "4. Training"; a section's second page adds what it holds: "5. Results: ..."."""
    title = f"{SECTIONS.index(section) + 1}. {t(f'report.section.{section}', lang)}"
    page.heading(f"{title}: {part}" if part else title)


def show(page: Page, name: str, images: dict, notes: dict, max_height: float) -> None:
    if name in images:
        page.image(images[name], max_height=max_height)
    elif name in notes:
        page.note(notes[name])


def title_page(page: Page, run: RunFolder, info: Mapping, lang: str) -> None:
    fig = page.fig
    fig.text(0.5, 0.86, t("report.course", lang), ha="center", fontsize=15)
    fig.text(
        0.5,
        0.62,
        info["title"] or describe.default_title(run.config, lang),
        ha="center",
        fontsize=24,
        weight="bold",
    )
    subtitle = t(
        "report.subtitle", lang, model=run.config.get("model"), dataset=run.config.get("dataset")
    )
    fig.text(0.5, 0.565, subtitle, ha="center", fontsize=13)
    page.y = 0.42
    rows = [
        [t("report.author", lang), info["author"] or describe.DASH],
        [t("report.group", lang), info["group"] or describe.DASH],
        [t("report.variant", lang), info["variant"] or describe.DASH],
        [t("report.date", lang), dt.date.today().strftime(t("report.date_format", lang))],
        [t("report.run", lang), run.name],
    ]
    page.table(rows, widths=(1, 2), size=12, bold_first=True, align="left", borders=False)
    status = describe.status_text(run, lang)
    if status:
        page.text(status, size=11, color="darkred" if not run.finished else "black")


def task_page(page: Page, run: RunFolder, info: Mapping, lang: str) -> None:
    heading(page, "task", lang)
    page.text(describe.task_paragraph(run, lang, variant=info["variant"]), size=11)
    page.space(0.2)
    page.subheading(t("report.run_details", lang))
    c = run.config
    versions = c.get("versions") or {}
    rows = [
        [t("report.run", lang), run.name],
        [t("report.created", lang), str(c.get("created") or describe.DASH)],
        [
            t("report.hp.status", lang),
            describe.status_text(run, lang) or describe.status_word(run.status, lang),
        ],
        [t("report.hp.train_seconds", lang), describe.number(c.get("train_seconds"), 3)],
        [t("report.hp.device", lang), f"{c.get('device', describe.DASH)}, {c.get('backend', '')}"],
        [
            t("report.versions", lang),
            ", ".join(f"{k} {v}" for k, v in versions.items()) or describe.DASH,
        ],
        [t("report.comment", lang), str(c.get("comment") or describe.DASH)],
    ]
    page.table(rows, widths=(1, 3), size=9, bold_first=True, align="left")


def data_page(page: Page, run: RunFolder, images: dict, notes: dict, lang: str) -> None:
    heading(page, "data", lang)
    c = run.config
    inputs = describe.input_text(c, lang)
    page.text(
        t(
            "report.data_text",
            lang,
            train=describe.number(c.get("train_size")),
            test=describe.number(c.get("test_size")),
            input=inputs,
        )
    )
    counts = class_counts(run) if run.is_classification else None
    names = run.class_names
    if counts and len(names) <= MANY_CLASSES:
        ids = c.get("class_ids") or list(range(len(names)))
        rows = [
            [str(i), name, str(ids[i])]
            + [str(counts[s][i]) if s in counts else describe.DASH for s in ("train", "test")]
            for i, name in enumerate(names)
        ]
        header = [
            t("report.index", lang),
            t("report.class", lang),
            t("report.source_index", lang),
            t("common.train", lang),
            t("common.test", lang),
        ]
        page.table(rows, header, widths=(0.6, 1.6, 1.5, 1.3, 1.3), size=8.5)
    for name in FIGURE_GROUPS["data"]:
        show(
            page,
            name,
            images,
            notes,
            max_height=3.4 if name.startswith(("data_o", "target")) else 5,
        )


def model_page(page: Page, run: RunFolder, lang: str) -> None:
    heading(page, "model", lang)
    layers = run.config.get("layers") or []
    inputs = describe.input_text(run.config, lang)
    total = totals(layers)
    page.text(
        t(
            "report.model_text",
            lang,
            network=network_string(layers),
            input=inputs,
            neurons=total["neurons"],
            weights=total["weights"],
            biases=total["biases"],
            params=sum(int(x.get("params") or 0) for x in layers),
        )
    )
    init = (run.config.get("model_options") or {}).get("init")
    if init:  # runs recorded before `init=` existed started from Keras's default
        page.text(t("report.init_text", lang, init=t(f"report.init.{init}", lang)))
    if not layers:
        page.note(t("report.missing.layers", lang))
        return
    header = [
        t(f"report.col.{k}", lang)
        for k in ("layer", "type", "output_shape", "activation", "params")
    ]
    page.table(layer_rows(layers), header, widths=(1.4, 1.3, 1.3, 1.1, 1))
    page.subheading(t("report.counts_title", lang))
    keys = ("layer", "inputs", "neurons", "connections", "weights", "biases", "params")
    page.table(
        count_rows(layers, t("report.total", lang)),
        [t(f"report.col.{k}", lang) for k in keys],
        widths=(1.4, 1, 1, 1.2, 1, 1, 1.1),
    )
    convs = conv_layers(layers)
    page.text(t(counts_note_key(layers), lang), size=9, color="0.3")
    if convs:  # weight sharing, with the first convolution's own numbers
        c = layer_counts(convs[0])
        page.text(
            t(
                "report.counts_note_conv",
                lang,
                layer=convs[0].get("name", ""),
                neurons=c["neurons"],
                inputs=c["inputs"],
                connections=c["connections"],
                weights=c["weights"],
                filters=int(convs[0]["filters"]),
            ),
            size=9,
            color="0.3",
        )


def training_page(page: Page, run: RunFolder, images: dict, notes: dict, lang: str) -> None:
    heading(page, "training", lang)
    page.subheading(t("report.hyperparameters", lang))
    rows = describe.hyperparameter_rows(run.config, lang)
    page.table(rows, widths=(1.2, 3), size=8.5, bold_first=True, align="left")
    page.subheading(t("common.learning_curves", lang))
    sentences = curve_sentences(run, lang)
    below = sum(page.text_height(s) for s in sentences) + 0.15  # the sentences stay on the page
    show(
        page,
        "learning_curves",
        images,
        notes,
        max_height=max(1.0, min(4.0, page.remaining() - below)),
    )
    for sentence in sentences:
        page.text(sentence)


def generalization_page(page: Page, run: RunFolder, images: dict, notes: dict, lang: str) -> None:
    """The train − test gap over the epochs and the learning rate each epoch used."""
    heading(page, "training", lang, part=t("report.gap_part", lang))
    sentences = gap_sentences(run, lang)
    names = FIGURE_GROUPS["generalization"]
    captions = [
        t(f"report.caption.{name}", lang) if name in images and name in CAPTIONS else ""
        for name in names
    ]
    below = sum(page.text_height(s) for s in sentences)
    below += sum(page.text_height(c, size=9) for c in captions if c) + 0.3
    shown = sum(name in images for name in names) or 1
    for name, caption in zip(names, captions, strict=True):
        show(
            page,
            name,
            images,
            notes,
            max_height=max(1.0, min(3.6, (page.remaining() - below) / shown)),
        )
        if caption:
            page.text(caption, size=9, color="0.25")
    for sentence in sentences:
        page.text(sentence)


def gap_sentences(run: RunFolder, lang: str) -> list[str]:
    """The gap at the best epoch and at the last one, from the history."""
    epochs = run.column("epoch")
    loss_gap = run.column("val_loss") - run.column("loss")
    acc_gap = run.column("accuracy") - run.column("val_accuracy")
    eval_name = t(f"report.eval.{run.eval_split}", lang)
    sentences = []
    for key, epoch in (("report.gap_best", run.best_epoch), ("report.gap_last", None)):
        rows = np.flatnonzero(epochs == epoch) if epoch else np.arange(len(epochs))[-1:]
        if not rows.size or not np.isfinite(loss_gap[rows[0]]):
            continue
        i = rows[0]
        accuracy = (
            t(
                "report.gap_points",
                lang,
                points=decimal(100 * acc_gap[i], ".1f", lang),
                eval=eval_name,
            )
            if np.isfinite(acc_gap[i])
            else ""
        )
        sentences.append(
            t(
                key,
                lang,
                epoch=int(epochs[i]),
                eval=eval_name,
                loss=describe.loss_value(loss_gap[i], lang),
                accuracy=accuracy,
            )
        )
    last = loss_gap[np.isfinite(loss_gap)]
    if last.size and last[-1] < 0:
        sentences.append(t("report.gap_negative", lang))
    return sentences


def curve_sentences(run: RunFolder, lang: str) -> list[str]:
    """The best epoch and whether overfitting started; the final train − test gap."""
    sentences = [describe.status_text(run, lang)] if not run.finished else []
    val = run.column("val_loss")
    eval_name = t(f"report.eval.{run.eval_split}", lang)
    found = describe.best_epoch_loss(run) if run.best_epoch else None
    if found:
        (best, best_loss), epochs = found, run.column("epoch")
        sentences.append(
            t(
                "report.best_epoch_text",
                lang,
                epoch=best,
                eval=eval_name,
                loss=describe.loss_value(best_loss, lang),
            )
        )
        last = val[np.isfinite(val)][-1]
        key = (
            "report.overfitting"
            if best < epochs[-1] and last > best_loss
            else "report.no_overfitting"
        )
        sentences.append(t(key, lang, eval=eval_name))
    if run.is_classification:
        train, test = run.accuracy("train"), run.accuracy("test")
        if train is not None and test is not None:
            sentences.append(
                t(
                    "report.gap_accuracy",
                    lang,
                    train=decimal(train, ".4f", lang),
                    test=decimal(test, ".4f", lang),
                    gap=decimal(train - test, ".4f", lang),
                    points=decimal(100 * (train - test), ".1f", lang),
                )
            )
    else:
        train, test = ((run.report(s) or {}).get("loss") for s in ("train", "test"))
        if train is not None and test is not None:
            sentences.append(
                t(
                    "report.gap_loss",
                    lang,
                    train=decimal(train, ".4g", lang),
                    test=decimal(test, ".4g", lang),
                    gap=decimal(test - train, ".4g", lang),
                )
            )
    return sentences


def digits4(value) -> str:
    return f"{value:.4f}" if isinstance(value, int | float) else describe.DASH


def report_rows(report: Mapping, names: list[str], lang: str) -> list[list[str]]:
    """sklearn's classification_report layout, 4 digits, labels in the page's language."""

    def row(label, values):
        cells = [digits4(values.get(k)) for k in ("precision", "recall", "f1-score")]
        return [label, *cells, str(int(values.get("support") or 0))]

    shown = names if len(names) <= MANY_CLASSES else []
    rows = [row(name, report[name]) for name in shown if isinstance(report.get(name), dict)]
    support = sum(
        int(report[n].get("support") or 0) for n in names if isinstance(report.get(n), dict)
    )
    accuracy = [t("report.accuracy_row", lang), "", "", digits4(report.get("accuracy"))]
    rows.append([*accuracy, str(support)])
    for key, label in (("macro avg", "report.macro_avg"), ("weighted avg", "report.weighted_avg")):
        if isinstance(report.get(key), dict):
            rows.append(row(t(label, lang), report[key]))
    return rows


def results_page(page: Page, run: RunFolder, lang: str) -> None:
    heading(page, "results", lang)
    if run.metrics is None:
        page.note(t("report.missing.metrics", lang))
        return
    for split in ("train", "test"):
        report = run.report(split)
        page.subheading(t(f"common.{split}", lang))
        if report is None:
            page.note(t("report.missing.metrics", lang))
            continue
        if run.is_classification:
            header = [
                t(f"report.col.{k}", lang)
                for k in ("class", "precision", "recall", "f1", "support")
            ]
            page.table(
                report_rows(report, run.class_names, lang),
                header,
                widths=(2, 1, 1, 1, 1),
                size=8.5 if len(run.class_names) <= 12 else 7,
            )
        else:
            rows = [
                [name, describe.number(report.get(key), 6)]
                for key, name in (("mse", "MSE"), ("mae", "MAE"), ("r2", "R²"))
            ]
            page.table(
                rows, [t("report.col.metric", lang), t("report.col.value", lang)], widths=(1, 1)
            )
        if report.get("loss") is not None:
            page.text(
                t("report.final_loss", lang, loss=describe.loss_value(report["loss"], lang)), size=9
            )
    if run.is_classification and len(run.class_names) > MANY_CLASSES:
        page.note(t("report.many_classes", lang))


def figure_page(
    page: Page,
    run: RunFolder,
    section: str,
    group: str,
    images: dict,
    notes: dict,
    lang: str,
    part: str = "",
) -> None:
    """A section's figures sharing the page, each with its caption; notes for missing ones."""
    heading(page, section, lang, part=part)
    shown = [n for n in FIGURE_GROUPS[group] if n in images or n in notes]
    mistakes = mistakes_rows(run, lang) if group == "insight" else []
    if not shown and not mistakes:
        page.note(t("report.missing.insight", lang))
    captions = [n for n in shown if n in images and n in CAPTIONS]
    room = page.remaining() - 0.45 * len(captions) - (0.25 * (len(mistakes) + 2) if mistakes else 0)
    height = room / max(1, len(shown)) - 0.15
    said = set()
    for name in shown:
        if name in notes and notes[name] in said:
            continue  # one "metrics.json is missing" is enough
        said.add(notes.get(name))
        show(page, name, images, notes, max_height=height)
        if name in captions:
            page.text(t(f"report.caption.{name}", lang), size=9, color="0.25")
    if not mistakes and group == "insight" and not_finite_outputs(run):
        page.note(t("report.missing.nonfinite_outputs", lang))
    if mistakes:
        page.subheading(t("report.mistakes_title", lang))
        header = [
            t(f"report.col.{k}", lang) for k in ("example", "true", "predicted", "confidence")
        ]
        page.table(mistakes, header, widths=(1, 2, 2, 1))


def not_finite_outputs(run: RunFolder) -> bool:
    """Whether the saved test outputs hold NaN or infinity (a run that diverged)."""
    outputs = (run.predictions or {}).get("p_test")
    return outputs is not None and not np.isfinite(outputs).all()


def mistakes_rows(run: RunFolder, lang: str, limit: int = 10) -> list[list[str]]:
    """The surest wrong answers on the test set, for data that are neither images nor points
    (images get a figure of them; 2-D points a decision boundary)."""
    preds = run.predictions or {}
    if run.is_image or not run.is_classification or (run.data or {}).get("x_test") is not None:
        return []
    if not all(k in preds for k in ("y_test", "pred_test", "p_test")):
        return []
    if not np.isfinite(preds["p_test"]).all():  # a diverged run: no confidence to rank by
        return []
    names = run.class_names
    y_test = preds["y_test"]
    rows = zip(*run.objective.surest_mistakes(y_test, preds["p_test"], limit), strict=True)
    return [[str(i), names[y_test[i]], names[pred], f"{conf:.4f}"] for i, pred, conf in rows]
