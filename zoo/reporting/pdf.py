"""report.pdf: the lab report a student hands in, rebuilt from a run folder alone.

Eight A4 pages, always in this order, whatever the run: title; 1 task; 2 data; 3 model;
4 training; 5 results (classification reports), 5 results (confusion matrices, or predicted
against true values); 6 insight. What a folder lacks (a diverged run has no metrics) is said
where it would be, and every page of an unfinished run carries a warning.

    >>> write_report("reports/mlp-cifar100-3class-20261127-101500", lang="ru")  # doctest: +SKIP
    [PosixPath('reports/.../report.pdf'), PosixPath('reports/.../learning_curves.png'), ...]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path

from zoo.errors import OptionError
from zoo.i18n import t, table
from zoo.reporting import describe
from zoo.reporting.layout import Page, figure_png, png_image
from zoo.reporting.model_table import count_rows, layer_rows, network_string, totals
from zoo.reporting.overview import pyplot
from zoo.reporting.report_figures import FIGURE_GROUPS, report_figures
from zoo.reporting.rundir import RunFolder, read_run_folder

FORMATS = ("pdf", "png", "svg")
PAGES = 8
SECTIONS = ("task", "data", "model", "training", "results", "insight")
RC = {"pdf.fonttype": 42, "font.family": "DejaVu Sans"}  # TrueType: PDF text is extractable
CAPTIONS = (
    "confusion_matrix",
    "predicted_vs_true",
    "first_layer_weights",
    "first_layer_map",
    "misclassified",
    "decision_boundary",
    "regression_fit",
)  # figures explained under them
MANY_CLASSES = 25  # beyond this, per-class rows stay in classification_report.txt


def check_formats(formats: str | Iterable[str]) -> list[str]:
    """ "pdf,png" -> ["pdf", "png"]; OptionError naming --format for anything else."""
    if isinstance(formats, str):
        formats = formats.split(",")
    chosen = [f.strip().lower() for f in formats if f.strip()]
    bad = [f for f in chosen if f not in FORMATS]
    if bad or not chosen:
        what = repr(bad[0]) if bad else "nothing"
        raise OptionError("--format", f"{what} is not one of {', '.join(FORMATS)}")
    return chosen


def _heading(page: Page, section: str, lang: str, part: str = "") -> None:
    """ "4. Training"; a section's second page adds what it holds: "5. Results: ..."."""
    title = f"{SECTIONS.index(section) + 1}. {t(f'report.section.{section}', lang)}"
    page.heading(f"{title}: {part}" if part else title)


def _show(page: Page, name: str, images: dict, notes: dict, max_height: float) -> None:
    if name in images:
        page.image(images[name], max_height=max_height)
    elif name in notes:
        page.note(notes[name])


def _title_page(page: Page, run: RunFolder, info: Mapping, lang: str) -> None:
    fig = page.fig
    fig.text(0.5, 0.86, t("report.course", lang), ha="center", fontsize=15)
    fig.text(
        0.5,
        0.62,
        info["title"] or t("report.default_title", lang),
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


def _task_page(page: Page, run: RunFolder, info: Mapping, lang: str) -> None:
    _heading(page, "task", lang)
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
            run.status + (f" ({c['stop_reason']})" if c.get("stop_reason") else ""),
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


def _data_page(page: Page, run: RunFolder, images: dict, notes: dict, lang: str) -> None:
    from zoo.reporting.report_figures import class_counts

    _heading(page, "data", lang)
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
        page.table(rows, header, widths=(0.6, 2, 1, 1.3, 1.3), size=8.5)
    for name in FIGURE_GROUPS["data"]:
        _show(
            page,
            name,
            images,
            notes,
            max_height=3.4 if name.startswith(("data_o", "target")) else 5,
        )


def _model_page(page: Page, run: RunFolder, lang: str) -> None:
    _heading(page, "model", lang)
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
    page.text(t("report.counts_note", lang), size=9, color="0.3")


def _training_page(page: Page, run: RunFolder, images: dict, notes: dict, lang: str) -> None:
    _heading(page, "training", lang)
    page.subheading(t("report.hyperparameters", lang))
    rows = describe.hyperparameter_rows(run.config, lang)
    page.table(rows, widths=(1.2, 3), size=8.5, bold_first=True, align="left")
    page.subheading(t("common.learning_curves", lang))
    _show(page, "learning_curves", images, notes, max_height=4.0)
    for sentence in _curve_sentences(run, lang):
        page.text(sentence)


def _curve_sentences(run: RunFolder, lang: str) -> list[str]:
    """The best epoch and whether overfitting started; the final train − test gap."""
    import numpy as np

    sentences = [describe.status_text(run, lang)] if not run.finished else []
    val = run.column("val_loss")
    best = run.best_epoch
    eval_name = t(
        "report.eval.validation" if run.config.get("validation") else "report.eval.test", lang
    )
    if best and np.isfinite(val).any():
        epochs = run.column("epoch")
        best_loss = (
            float(val[epochs == best][0]) if (epochs == best).any() else float(np.nanmin(val))
        )
        sentences.append(
            t("report.best_epoch_text", lang, epoch=best, eval=eval_name, loss=f"{best_loss:.4f}")
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
                    train=f"{train:.4f}",
                    test=f"{test:.4f}",
                    gap=f"{train - test:.4f}",
                    points=f"{100 * (train - test):.1f}",
                )
            )
    else:
        train, test = ((run.report(s) or {}).get("loss") for s in ("train", "test"))
        if train is not None and test is not None:
            sentences.append(
                t(
                    "report.gap_loss",
                    lang,
                    train=f"{train:.4g}",
                    test=f"{test:.4g}",
                    gap=f"{test - train:.4g}",
                )
            )
    return sentences


def _digits4(value) -> str:
    return f"{value:.4f}" if isinstance(value, int | float) else describe.DASH


def _report_rows(report: Mapping, names: list[str], lang: str) -> list[list[str]]:
    """sklearn's classification_report layout, 4 digits, labels in the page's language."""

    def row(label, values):
        cells = [_digits4(values.get(k)) for k in ("precision", "recall", "f1-score")]
        return [label, *cells, str(int(values.get("support") or 0))]

    shown = names if len(names) <= MANY_CLASSES else []
    rows = [row(name, report[name]) for name in shown if isinstance(report.get(name), dict)]
    support = sum(
        int(report[n].get("support") or 0) for n in names if isinstance(report.get(n), dict)
    )
    accuracy = [t("report.accuracy_row", lang), "", "", _digits4(report.get("accuracy"))]
    rows.append([*accuracy, str(support)])
    for key, label in (("macro avg", "report.macro_avg"), ("weighted avg", "report.weighted_avg")):
        if isinstance(report.get(key), dict):
            rows.append(row(t(label, lang), report[key]))
    return rows


def _results_page(page: Page, run: RunFolder, lang: str) -> None:
    _heading(page, "results", lang)
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
                _report_rows(report, run.class_names, lang),
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
            page.text(t("report.final_loss", lang, loss=f"{report['loss']:.4f}"), size=9)
    if run.is_classification and len(run.class_names) > MANY_CLASSES:
        page.note(t("report.many_classes", lang))


def _pages(run, info, images, notes, lang):
    """(page number, draw function) in report order; PAGES of them."""
    second = t(
        "common.confusion_matrix" if run.is_classification else "report.predicted_vs_true", lang
    )
    return [
        lambda p: _title_page(p, run, info, lang),
        lambda p: _task_page(p, run, info, lang),
        lambda p: _data_page(p, run, images, notes, lang),
        lambda p: _model_page(p, run, lang),
        lambda p: _training_page(p, run, images, notes, lang),
        lambda p: _results_page(p, run, lang),
        lambda p: _figure_page(p, "results", "confusion", images, notes, lang, part=second),
        lambda p: _figure_page(p, "insight", "insight", images, notes, lang),
    ]


def pages(run: RunFolder, info: Mapping, images: dict, notes: dict, lang: str, warning: str = ""):
    """The report's pages, one Figure each, in order (the caller closes them)."""
    plt = pyplot()
    for number, draw in enumerate(_pages(run, info, images, notes, lang), start=1):
        page = Page(plt, footer=run.name, number=f"{number} / {PAGES}", warning=warning)
        draw(page)
        yield page.fig


def _figure_page(page, section, group, images, notes, lang, part="") -> None:
    _heading(page, section, lang, part=part)
    shown = [n for n in FIGURE_GROUPS[group] if n in images or n in notes]
    if not shown:
        page.note(t("report.missing.insight", lang))
    captions = [n for n in shown if n in images and n in CAPTIONS]
    height = (page.remaining() - 0.45 * len(captions)) / max(1, len(shown)) - 0.15
    said = set()
    for name in shown:
        if name in notes and notes[name] in said:
            continue  # one "metrics.json is missing" is enough
        said.add(notes.get(name))
        _show(page, name, images, notes, max_height=height)
        if name in captions:
            page.text(t(f"report.caption.{name}", lang), size=9, color="0.25")


def write_report(
    run_dir: str | Path,
    *,
    lang: str = "en",
    formats: str | Iterable[str] = ("pdf", "png"),
    author: str | None = None,
    group: str | None = None,
    variant: str | None = None,
    title: str | None = None,
) -> list[Path]:
    """Write report.pdf and every figure (PNG at 150 dpi, SVG) into the run folder.

    `formats` picks the outputs: "pdf" is report.pdf, "png" and "svg" are the figures.
    Returns the paths written.
    """
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    from zoo.reporting.figures import DPI

    table(lang)  # an unknown language fails before any work
    chosen = check_formats(formats)
    run = read_run_folder(run_dir)
    info = describe.title_info(
        run.config, {"author": author, "group": group, "variant": variant, "title": title}
    )
    plt = pyplot()
    written: list[Path] = []
    with matplotlib.rc_context(RC):
        figs, notes = report_figures(run, lang)
        images = {}
        for name, fig in figs.items():
            png = figure_png(fig, DPI)  # rendered once: the page shows the PNG file's pixels
            if "pdf" in chosen:
                images[name] = png_image(png)
            if "png" in chosen:
                written.append(run.path / f"{name}.png")
                written[-1].write_bytes(png)
            if "svg" in chosen:
                written.append(run.path / f"{name}.svg")
                fig.savefig(written[-1], bbox_inches="tight")
            plt.close(fig)
        if "pdf" in chosen:
            path = run.path / "report.pdf"
            key = run.status if run.status in ("diverged", "interrupted") else "other"
            warning = "" if run.finished else t(f"report.warning.{key}", lang)
            metadata = {
                "Title": info["title"] or t("report.default_title", lang),
                "Author": info["author"] or "",
                "Subject": t("report.course", lang),
            }
            with PdfPages(path, metadata=metadata) as pdf:
                for fig in pages(run, info, images, notes, lang, warning):
                    pdf.savefig(fig)
                    plt.close(fig)
            written.insert(0, path)
    return written
