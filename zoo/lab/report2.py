"""Lab 2's report (report.pdf of a lab 2 folder): the example CNN, the three pooling tactics,
the fully connected network against the convolutional one, shift invariance and the ONNX
files, then the final table of every training variant and the facts behind the self-study
questions. Built from the folder alone, every sentence from the locale tables.
"""

from __future__ import annotations

from pathlib import Path

from zoo.files import read_json
from zoo.i18n import decimal, t
from zoo.lab.folder import EXPORTS, FC, ONNX, RUNS, SHIFT, SHIFT_FILE, Lab, lab_runs
from zoo.lab.pages import (
    COUNT_KEYS,
    Pages,
    class_reports,
    final_table_page,
    image_counts,
    run_summary,
    title_page,
    variant_table,
    wrapped,
)
from zoo.reporting import describe
from zoo.reporting.layout import figure_image
from zoo.reporting.model_table import (
    count_rows,
    counts_note_key,
    layer_counts,
    network_string,
    totals,
)
from zoo.reporting.shift import summary_rows
from zoo.runfolder import RunFolder


def best_run(runs: list[RunFolder]) -> RunFolder | None:
    """The run with the highest test accuracy (the first of equals)."""
    scored = [run for run in runs if run.accuracy("test") is not None]
    return max(scored, key=lambda run: run.accuracy("test")) if scored else None


def _gap(run: RunFolder) -> float | None:
    train, test = run.accuracy("train"), run.accuracy("test")
    return None if train is None or test is None else train - test


def _seconds(run: RunFolder) -> str:
    seconds = run.config.get("train_seconds")
    return describe.DASH if seconds is None else f"{seconds:.1f}"


def _task(pages: Pages, lab: Lab, lang: str) -> None:
    page = pages.new()
    page.heading(t("lab.section.task", lang))
    for n in (1, 2, 3, 4):
        page.text(f"{n}. " + t(f"lab2.task{n}", lang), size=11)
    page.space(0.1)
    variant_table(page, lab, lang, "lab2.variant_heading")
    page.text(t("lab2.report_contents", lang), size=10)


def _example(pages: Pages, runs: list[RunFolder], lang: str) -> None:
    page = pages.new()
    page.heading(t("lab2.section.example", lang))
    if not runs:
        page.note(t("lab2.no_runs", lang))
        return
    base = runs[0]
    about = {"classes": describe.class_list(base.config), "counts": image_counts(base, lang)}
    page.text(t("lab2.example_text", lang, **about), size=10)
    page.text(run_summary(base, lang), size=10)
    page = pages.room(2.0)
    page.subheading(t("lab.model_counts", lang))
    layers = base.config.get("layers") or []
    header = [t(f"report.col.{k}", lang) for k in COUNT_KEYS]
    page.table(
        count_rows(layers, t("report.total", lang)),
        header,
        widths=(1.6, 1, 1, 1.2, 1, 1, 1.1),
        size=8.5,
    )
    page.text(t(counts_note_key(layers), lang), size=8.5, color="0.3")
    pages.figure(base.path / "learning_curves.png", 3.4, t("report.missing.history", lang))
    class_reports(pages, base, lang)
    pages.figure(base.path / "conv_filters.png", 3.6, t("report.missing.model", lang))
    pages.figure(base.path / "feature_maps.png", 2.2, t("report.missing.probe", lang))


def _pooling(pages: Pages, runs: list[RunFolder], lang: str) -> None:
    from zoo.reporting.compare import test_loss_figure

    page = pages.new()
    page.heading(t("lab2.section.pooling", lang))
    if not runs:
        page.note(t("lab2.no_runs", lang))
        return
    page.text(t("lab2.pooling_text", lang), size=10)
    keys = ("run", "network", "test", "train", "gap", "seconds", "best")
    header = [wrapped(t(f"lab2.col.{k}", lang), 12) for k in keys]
    rows = [
        [
            wrapped(f"{i}. {run.config.get('comment') or run.name}", 18),
            wrapped(network_string(run.config.get("layers") or []), 32),
            describe.percent(run.accuracy("test")),
            describe.percent(run.accuracy("train")),
            describe.percent(_gap(run)),
            _seconds(run),
            str(run.best_epoch or describe.DASH),
        ]
        for i, run in enumerate(runs, start=1)
    ]
    page.table(rows, header, widths=(1.6, 2.9, 0.8, 0.9, 0.8, 0.7, 0.8), size=7.5)
    for fact in _pooling_facts(runs, lang):
        page.text(fact, size=9)
    fig = test_loss_figure(runs, lang)
    page = pages.room(3.0)
    page.image(figure_image(fig), max_height=3.8)
    pages.plt.close(fig)


def _pooling_facts(runs: list[RunFolder], lang: str) -> list[str]:
    """Which run is best by test accuracy, fastest, and least overfitted: read, not told."""
    facts = []
    best = best_run(runs)
    if best is not None:
        facts.append(
            t(
                "lab2.fact.best",
                lang,
                run=best.config.get("comment") or best.name,
                test=describe.percent(best.accuracy("test")),
            )
        )
    timed = [run for run in runs if run.config.get("train_seconds") is not None]
    if timed:
        fastest = min(timed, key=lambda run: run.config["train_seconds"])
        facts.append(
            t(
                "lab2.fact.fastest",
                lang,
                run=fastest.config.get("comment") or fastest.name,
                seconds=_seconds(fastest),
            )
        )
    gapped = [run for run in runs if _gap(run) is not None]
    if gapped:
        least = min(gapped, key=_gap)
        facts.append(
            t(
                "lab2.fact.least_gap",
                lang,
                run=least.config.get("comment") or least.name,
                gap=describe.percent(_gap(least)),
            )
        )
    return facts


def _versus(pages: Pages, fc: RunFolder | None, cnn: RunFolder | None, lang: str) -> None:
    page = pages.new()
    page.heading(t("lab2.section.versus", lang))
    if fc is None or cnn is None:
        page.note(t("lab2.no_pair", lang))
        return
    page.text(t("lab2.versus_text", lang), size=10)
    keys = (
        "network",
        "neurons",
        "connections",
        "weights",
        "biases",
        "params",
        "test",
        "train",
        "seconds",
    )
    header = [wrapped(t(f"lab2.col.{k}", lang), 12) for k in keys]
    rows = []
    for run in (fc, cnn):
        layers = run.config.get("layers") or []
        total = totals(layers)
        rows.append(
            [wrapped(network_string(layers), 24)]
            + [str(total[k]) for k in ("neurons", "connections", "weights", "biases")]
            + [str(sum(int(x.get("params") or 0) for x in layers))]
            + [describe.percent(run.accuracy(s)) for s in ("test", "train")]
            + [_seconds(run)]
        )
    page.table(rows, header, widths=(2.0, 0.8, 1.15, 0.8, 0.7, 1.05, 0.8, 0.8, 0.7), size=7.5)
    convs = [x for x in cnn.config.get("layers") or [] if "filters" in x]
    if convs:
        c = layer_counts(convs[0])
        page.text(
            t(
                "report.counts_note_conv",
                lang,
                layer=convs[0].get("name", ""),
                filters=int(convs[0]["filters"]),
                **{k: c[k] for k in ("neurons", "inputs", "connections", "weights")},
            ),
            size=9,
        )
    page.text(run_summary(fc, lang), size=9)
    page.text(run_summary(cnn, lang), size=9)


def _shift(pages: Pages, folder: Path, lang: str) -> dict | None:
    page = pages.new()
    page.heading(t("lab2.section.shift", lang))
    path = folder / SHIFT / SHIFT_FILE
    if not path.is_file():
        page.note(t("lab.missing", lang, what=str(path)))
        return None
    result = read_json(path)
    page.text(t("lab2.shift_text", lang, max=result.get("max_shift")), size=10)
    header, rows = summary_rows(result, lang)
    header = [wrapped(text, 10) for text in header]
    rows = [[wrapped(row[0], 16), wrapped(row[1], 26), *row[2:]] for row in rows]
    page.table(rows, header, widths=(1.4, 2.4, 0.9, 0.8, 1.2, 1.2, 1.0), size=7.5)
    pages.figure(folder / SHIFT / "shift_curves.png", 3.6, t("lab.missing", lang, what="png"))
    pages.figure(folder / SHIFT / "shift_heatmaps.png", 3.2, t("lab.missing", lang, what="png"))
    return result


def _onnx(pages: Pages, folder: Path, lang: str) -> None:
    page = pages.room(2.5)
    page.heading(t("lab2.section.onnx", lang))
    path = folder / ONNX / EXPORTS
    if not path.is_file():
        page.note(t("lab.missing", lang, what=str(path)))
        return
    page.text(t("lab2.onnx_text", lang), size=10)
    from zoo.export.exporter import describe_export

    for key, entry in read_json(path).items():
        page.subheading(f"{ONNX}/{entry.get('file', key)}")
        if entry.get("error"):
            page.note(relative_to_lab(entry["error"], folder))
        else:
            facts = entry.get("facts")
            said = describe_export(facts, lang) if facts else entry.get("description", "")
            text = relative_to_lab(said, folder)
            page.text(text, size=8, family="monospace")


def relative_to_lab(text: str, folder: Path) -> str:
    """`text` with the lab folder's paths written relative to it (onnx/fc.onnx): the page reads
    the same wherever the folder was made or moved to."""
    for prefix in sorted({str(folder), str(folder.resolve())}, key=len, reverse=True):
        text = text.replace(prefix.rstrip("/\\") + "/", "").replace(prefix + "\\", "")
    return text


def _shift_drop(shift: dict, lang: str) -> list[str]:
    """Which of the two runs lost more accuracy under shifts, from their own numbers."""
    runs = [r for r in shift.get("runs") or [] if "unshifted" in r and "mean" in r]
    if len(runs) != 2:
        return []
    drops = [(100 * (r["unshifted"] - r["mean"]), r.get("comment") or r.get("model")) for r in runs]
    (less_drop, less), (more_drop, more) = sorted(drops, key=lambda d: d[0])
    if f"{less_drop:.1f}" == f"{more_drop:.1f}":
        return []
    return [
        t(
            "lab2.fact.shift_drop",
            lang,
            more=more,
            less=less,
            more_drop=decimal(more_drop, ".1f", lang),
            less_drop=decimal(less_drop, ".1f", lang),
        )
    ]


def _questions(pages, runs, fc, shift: dict | None, lang: str, folder: Path) -> None:
    from zoo.lab.facts import pairs, side_by_side
    from zoo.lab.hints import lab2_hints

    where = {"runs": str(folder.resolve() / RUNS), "folder": str(folder.resolve())}
    page = pages.new()
    page.heading(t("lab.section.questions", lang))
    page.note(t("lab2.questions_note", lang, **where))
    cnn = best_run(runs)
    facts: dict[str, list[str]] = {}
    base = runs[0] if runs else None
    for q, kind in (("q3", "conv"), ("q5", "training")):
        found = [side_by_side(pair, lang) for pair in pairs(runs, kind)]
        facts[q] = found or [t(f"lab2.fact.no_{kind}", lang)]
    if base is not None and base.accuracy("test") is not None:
        facts["q7"] = [
            t(
                "lab.fact.versus_base",
                lang,
                run=run.name,
                comment=run.config.get("comment") or "—",
                change=f"{100 * (run.accuracy('test') - base.accuracy('test')):+.2f}",
                test=describe.percent(run.accuracy("test")),
            )
            for run in runs[1:]
            if run.accuracy("test") is not None
        ]
    if fc is not None and cnn is not None:
        facts["q1"] = [
            t(
                "lab2.fact.accuracy",
                lang,
                run=run.config.get("comment") or run.name,
                test=describe.percent(run.accuracy("test")),
                train=describe.percent(run.accuracy("train")),
            )
            for run in (fc, cnn)
        ]
    facts["q2"] = _pooling_facts(runs, lang)
    facts["q4"] = [
        t(
            "lab2.fact.overfit",
            lang,
            run=run.config.get("comment") or run.name,
            best=run.best_epoch or describe.DASH,
            epochs=len(run.history),
            gap=describe.percent(_gap(run)),
        )
        for run in [*runs, *([fc] if fc else [])]
    ]
    if shift:
        facts["q6"] = [
            t(
                "lab2.fact.shift",
                lang,
                run=run.get("comment") or run.get("model"),
                unshifted=decimal(100 * run["unshifted"], ".1f", lang) + "%",
                max=shift.get("max_shift"),
                x=decimal(100 * min(run["x_curve"][0], run["x_curve"][-1]), ".1f", lang) + "%",
                mean=decimal(100 * run["mean"], ".1f", lang) + "%",
            )
            for run in shift.get("runs") or []
        ]
        facts["q6"] += _shift_drop(shift, lang)
    hints = lab2_hints(base, folder) if base is not None else {}
    for q in ("q1", "q2", "q3", "q4", "q5", "q6", "q7"):
        found = facts.get(q) or [t("lab2.fact.yours", lang, **where)]
        commands = hints.get(q, [])
        parts = [(t(f"lab2.{q}", lang), {"size": 11, "weight": "bold"})]
        parts += [(fact, {"size": 9}) for fact in found]
        if commands:
            parts.append((t("lab.hint", lang, lab=2, folder=where["folder"]), {"size": 9}))
        parts += [(command, {"size": 8, "family": "monospace"}) for command in commands]
        pages.flow(parts)


def lab2_pages(pages: Pages, folder: Path, lab: Lab, lang: str) -> None:
    """Every page of lab 2's report, in order."""
    runs = lab_runs(folder, RUNS)
    fcs = lab_runs(folder, FC)
    fc = fcs[-1] if fcs else None
    from zoo.lab.parts import lab2_missing

    title_page(pages, lab, lang, lab2_missing(folder))
    _task(pages, lab, lang)
    _example(pages, runs, lang)
    _pooling(pages, runs, lang)
    _versus(pages, fc, best_run(runs), lang)
    shift = _shift(pages, folder, lang)
    _onnx(pages, folder, lang)
    final_table_page(pages, [*runs, *([fc] if fc else [])], lang)
    _questions(pages, runs, fc, shift, lang, folder)
