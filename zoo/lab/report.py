"""The lab report (report.pdf in a lab folder): what the course asks a student to hand in.

"The report must contain a title page, the task with the variant, screenshots and short
explanations of each stage of the lab, and the final table with the results of all training
variants" (notebooks/Lab1.ipynb). Built from the lab folder alone; every sentence comes from
the locale tables with the numbers of the runs, and the figures are the runs' own PNG files.
"""

from __future__ import annotations

from pathlib import Path

from zoo.i18n import decimal, t, table
from zoo.lab.facts import answers
from zoo.lab.folder import LAB_FILE, RUNS, TASK1, TASK2, Lab, lab_runs, read_lab
from zoo.lab.pages import (
    COUNT_KEYS,
    Pages,
    class_reports,
    final_table_page,
    image_counts,
    run_summary,
    save_pages,
    title_page,
    variant_table,
)
from zoo.lab.report2 import lab2_pages
from zoo.reporting import describe
from zoo.reporting.model_table import count_rows
from zoo.reporting.plot import drawing
from zoo.runfolder import REPORT, RunFolder


def _task(pages: Pages, lab: Lab, lang: str) -> None:
    page = pages.new()
    page.heading(t("lab.section.task", lang))
    for n in (1, 2, 3):
        page.text(f"{n}. " + t(f"lab.task{n}", lang), size=11)
    page.space(0.1)
    variant_table(page, lab, lang, "lab.variant_heading")
    page.text(t("lab.report_contents", lang), size=10)


def _task1(pages: Pages, folder: Path, lang: str) -> None:
    from zoo.files import read_json

    page = pages.new()
    page.heading(t("lab.section.task1", lang))
    path = folder / TASK1 / "manual-regression.json"
    if not path.is_file():
        page.note(t("lab.missing", lang, what=str(path)))
        return
    numbers = read_json(path)
    losses = numbers.get("losses") or [None]
    page.text(
        t(
            "lab.task1_text",
            lang,
            hidden=numbers.get("hidden"),
            lr=decimal(numbers["lr"], "g", lang) if numbers.get("lr") is not None else "—",
            iterations=numbers.get("iterations"),
            first=decimal(losses[0], ".4f", lang) if losses[0] is not None else "—",
            last=decimal(losses[-1], ".4f", lang) if losses[-1] is not None else "—",
            test=decimal(numbers.get("test_loss", float("nan")), ".4f", lang),
            difference=decimal(numbers.get("max_difference", float("nan")), ".2e", lang),
        ),
        size=10,
    )
    pages.figure(folder / TASK1 / "manual-regression.png", 6.5, t("lab.missing", lang, what="png"))


def _task2(pages: Pages, folder: Path, lang: str) -> None:
    page = pages.new()
    page.heading(t("lab.section.task2", lang))
    runs = lab_runs(folder, TASK2)
    if not runs:
        page.note(t("lab.missing", lang, what=str(folder / TASK2)))
        return
    run = runs[-1]
    page.text(t("lab.task2_text", lang) + " " + run_summary(run, lang), size=10)
    pages.figure(run.path / "decision_boundary.png", 4.2, t("report.missing.model", lang))
    pages.figure(run.path / "learning_curves.png", 3.4, t("report.missing.history", lang))
    class_reports(pages, run, lang)


def _task3(pages: Pages, runs: list[RunFolder], lang: str) -> None:
    page = pages.new()
    page.heading(t("lab.section.task3", lang))
    if not runs:
        page.note(t("lab.no_runs", lang))
        return
    base = runs[0]
    about = {"classes": describe.class_list(base.config), "counts": image_counts(base, lang)}
    page.text(t("lab.task3_text", lang, **about), size=10)
    page.text(run_summary(base, lang), size=10)
    pages.figure(base.path / "samples.png", 3.6, t("report.missing.samples", lang, features=0))
    page = pages.room(2.0)
    page.subheading(t("lab.model_counts", lang))
    rows = count_rows(base.config.get("layers") or [], t("report.total", lang))
    header = [t(f"report.col.{k}", lang) for k in COUNT_KEYS]
    page.table(rows, header, widths=(1.6, 1, 1, 1.2, 1, 1, 1.1), size=8.5)
    pages.figure(base.path / "learning_curves.png", 3.6, t("report.missing.history", lang))
    class_reports(pages, base, lang)
    pages.figure(base.path / "confusion_matrix.png", 3.6, t("report.missing.metrics", lang))


def _questions(pages: Pages, runs: list[RunFolder], lang: str, folder: Path) -> None:
    from zoo.lab.hints import lab1_hints

    page = pages.new()
    page.heading(t("lab.section.questions", lang))
    page.note(t("lab.questions_note", lang))
    hints = lab1_hints(runs[0], folder) if runs else {}
    for number, (question, facts) in enumerate(answers(runs, lang), start=1):
        commands = hints.get(f"q{number}", [])
        parts = [(f"{number}. {question}", {"size": 11, "weight": "bold"})]
        parts += [(fact, {"size": 9}) for fact in facts]
        if commands:
            parts.append((t("lab.hint", lang, lab=1, folder=folder.resolve()), {"size": 9}))
        parts += [(command, {"size": 8, "family": "monospace"}) for command in commands]
        pages.flow(parts)


def write_lab_report(folder: str | Path, *, lang: str | None = None) -> Path:
    """report.pdf of a lab folder, from what it holds (no training)."""
    folder = Path(folder)
    lab = read_lab(folder)
    lang = lang or lab.lang
    table(lang)
    draw = lab2_pages if lab.lab == 2 else _lab1_pages
    with drawing():
        pages = Pages(footer=t("lab.footer", lang, folder=folder.name, file=LAB_FILE), lang=lang)
        draw(pages, folder, lab, lang)
        return save_pages(pages, folder / REPORT, lab, lang)


def _lab1_pages(pages: Pages, folder: Path, lab: Lab, lang: str) -> None:
    from zoo.lab.parts import lab1_missing

    runs = lab_runs(folder, RUNS)
    title_page(pages, lab, lang, lab1_missing(folder))
    _task(pages, lab, lang)
    _task1(pages, folder, lang)
    _task2(pages, folder, lang)
    _task3(pages, runs, lang)
    final_table_page(pages, runs, lang)
    _questions(pages, runs, lang, folder)
