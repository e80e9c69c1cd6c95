"""The lab report (report.pdf in a lab folder): what the course asks a student to hand in.

"The report must contain a title page, the task with the variant, screenshots and short
explanations of each stage of the lab, and the final table with the results of all training
variants" (notebooks/Lab1.ipynb). Built from the lab folder alone; every sentence comes from
the locale tables with the numbers of the runs, and the figures are the runs' own PNG files.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from zoo.files import atomic_path
from zoo.i18n import t, table
from zoo.lab.facts import answers
from zoo.lab.folder import LAB_FILE, RUNS, TASK1, TASK2, Lab, lab_runs, read_lab
from zoo.reporting import describe
from zoo.reporting.compare import WIDTHS as TABLE_WIDTHS
from zoo.reporting.compare import final_table
from zoo.reporting.layout import Page, png_image
from zoo.reporting.model_table import count_rows
from zoo.reporting.pages import report_rows
from zoo.reporting.plot import drawing, pyplot
from zoo.runfolder import REPORT, RunFolder

COUNT_KEYS = ("layer", "inputs", "neurons", "connections", "weights", "biases", "params")


class Pages:
    """The report's pages in order; a new page when the current one is full."""

    def __init__(self, footer: str, lang: str):
        self.plt, self.footer, self.lang = pyplot(), footer, lang
        self.done: list = []
        self.page: Page | None = None

    def new(self, landscape: bool = False) -> Page:
        if self.page is not None:
            self.done.append(self.page.fig)
        number = str(len(self.done) + 1)
        self.page = Page(self.plt, footer=self.footer, number=number, landscape=landscape)
        return self.page

    def room(self, inches: float) -> Page:
        """The current page if it has `inches` left, else a new one."""
        if self.page is None or self.page.remaining() < inches:
            return self.new()
        return self.page

    def figure(self, path: Path, max_height: float, missing: str) -> None:
        page = self.room(min(max_height, 2.5))
        if path.is_file():
            page.image(png_image(path.read_bytes()), max_height=max_height)
        else:
            page.note(missing)

    def finish(self) -> list:
        if self.page is not None:
            self.done.append(self.page.fig)
            self.page = None
        return self.done


def _title(pages: Pages, lab: Lab, lang: str) -> None:
    page = pages.new()
    fig = page.fig
    fig.text(0.5, 0.86, t("report.course", lang), ha="center", fontsize=15)
    fig.text(
        0.5,
        0.62,
        lab.title or t("lab.title", lang, lab=lab.lab),
        ha="center",
        fontsize=24,
        weight="bold",
    )
    fig.text(0.5, 0.565, t("lab.subtitle", lang), ha="center", fontsize=13)
    page.y = 0.42
    rows = [
        [t("report.author", lang), lab.author or describe.DASH],
        [t("report.group", lang), lab.group],
        [t("report.variant", lang), str(lab.variant)],
        [t("lab.department", lang), t(f"lab.department.{lab.department}", lang)],
        [t("report.date", lang), dt.date.today().strftime(t("report.date_format", lang))],
    ]
    page.table(rows, widths=(1, 2), size=12, bold_first=True, align="left", borders=False)


def _task(pages: Pages, lab: Lab, lang: str) -> None:
    page = pages.new()
    page.heading(t("lab.section.task", lang))
    for n in (1, 2, 3):
        page.text(f"{n}. " + t(f"lab.task{n}", lang), size=11)
    page.space(0.1)
    page.subheading(t("lab.variant_heading", lang, variant=lab.variant, group=lab.group))
    rows = [[str(i + 1), c["how"], str(c["index"]), c["name"]] for i, c in enumerate(lab.classes)]
    header = [t(f"lab.col.{k}", lang) for k in ("number", "rule", "index", "name")]
    page.table(rows, header, widths=(0.5, 2.5, 1, 2), size=10)
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
            lr=numbers.get("lr"),
            iterations=numbers.get("iterations"),
            first=f"{losses[0]:.4f}" if losses[0] is not None else "—",
            last=f"{losses[-1]:.4f}" if losses[-1] is not None else "—",
            test=f"{numbers.get('test_loss', float('nan')):.4f}",
            difference=f"{numbers.get('max_difference', float('nan')):.2e}",
        ),
        size=10,
    )
    pages.figure(folder / TASK1 / "manual-regression.png", 6.5, t("lab.missing", lang, what="png"))


def _run_summary(run: RunFolder, lang: str) -> str:
    return t(
        "lab.run_text",
        lang,
        run=run.name,
        hyper=describe.hyperparameters_short(run.config, lang),
        result=describe.result_short(run, lang),
        best=run.best_epoch or describe.DASH,
    )


def _reports(pages: Pages, run: RunFolder, lang: str) -> None:
    header = [t(f"report.col.{k}", lang) for k in ("class", "precision", "recall", "f1", "support")]
    for split in ("train", "test"):
        report = run.report(split)
        if report is None:
            continue
        page = pages.room(0.35 * (len(run.class_names) + 5))
        page.subheading(t(f"common.{split}", lang))
        page.table(report_rows(report, run.class_names, lang), header, widths=(2, 1, 1, 1, 1))


def _task2(pages: Pages, folder: Path, lang: str) -> None:
    page = pages.new()
    page.heading(t("lab.section.task2", lang))
    runs = lab_runs(folder, TASK2)
    if not runs:
        page.note(t("lab.missing", lang, what=str(folder / TASK2)))
        return
    run = runs[-1]
    page.text(t("lab.task2_text", lang) + " " + _run_summary(run, lang), size=10)
    pages.figure(run.path / "decision_boundary.png", 4.2, t("report.missing.model", lang))
    pages.figure(run.path / "learning_curves.png", 3.4, t("report.missing.history", lang))
    _reports(pages, run, lang)


def _task3(pages: Pages, runs: list[RunFolder], lang: str) -> None:
    page = pages.new()
    page.heading(t("lab.section.task3", lang))
    if not runs:
        page.note(t("lab.no_runs", lang))
        return
    base = runs[0]
    page.text(t("lab.task3_text", lang, classes=describe.class_list(base.config)), size=10)
    page.text(_run_summary(base, lang), size=10)
    pages.figure(base.path / "samples.png", 3.6, t("report.missing.samples", lang, features=0))
    page = pages.room(2.0)
    page.subheading(t("lab.model_counts", lang))
    rows = count_rows(base.config.get("layers") or [], t("report.total", lang))
    header = [t(f"report.col.{k}", lang) for k in COUNT_KEYS]
    page.table(rows, header, widths=(1.6, 1, 1, 1.2, 1, 1, 1.1), size=8.5)
    pages.figure(base.path / "learning_curves.png", 3.6, t("report.missing.history", lang))
    _reports(pages, base, lang)
    pages.figure(base.path / "confusion_matrix.png", 3.6, t("report.missing.metrics", lang))


def _final_table(pages: Pages, runs: list[RunFolder], lang: str) -> None:
    page = pages.new(landscape=True)  # the course's four wide columns
    page.heading(t("lab.section.table", lang))
    if not runs:
        page.note(t("lab.no_runs", lang))
        return
    header, cells = final_table(runs, lang, wrap=True)
    page.table(cells, header, widths=TABLE_WIDTHS, size=7.5)
    for i, run in enumerate(runs, start=1):
        page.text(f"{i}. {run.name}", size=7, color="0.35")


def _questions(pages: Pages, runs: list[RunFolder], lang: str) -> None:
    page = pages.new()
    page.heading(t("lab.section.questions", lang))
    page.note(t("lab.questions_note", lang))
    for number, (question, facts) in enumerate(answers(runs, lang), start=1):
        lines = sum(fact.count("\n") + 2 for fact in facts) + 2
        page = pages.room(0.2 * lines)
        page.subheading(f"{number}. {question}")
        for fact in facts:
            page.text(fact, size=9)


def write_lab_report(folder: str | Path, *, lang: str | None = None) -> Path:
    """report.pdf of a lab folder, from what it holds (no training)."""
    from matplotlib.backends.backend_pdf import PdfPages

    folder = Path(folder)
    lab = read_lab(folder)
    lang = lang or lab.lang
    table(lang)
    runs = lab_runs(folder, RUNS)
    path = folder / REPORT
    with drawing():
        pages = Pages(footer=f"{folder.name} · {LAB_FILE}", lang=lang)
        _title(pages, lab, lang)
        _task(pages, lab, lang)
        _task1(pages, folder, lang)
        _task2(pages, folder, lang)
        _task3(pages, runs, lang)
        _final_table(pages, runs, lang)
        _questions(pages, runs, lang)
        metadata = {
            "Title": lab.title or t("lab.title", lang, lab=lab.lab),
            "Author": lab.author or "",
            "Subject": t("report.course", lang),
        }
        with atomic_path(path) as part, PdfPages(part, metadata=metadata) as pdf:
            for fig in pages.finish():
                pdf.savefig(fig)
    return path
