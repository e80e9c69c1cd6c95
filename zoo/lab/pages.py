"""What the labs' reports share: A4 pages that fill one after another, the title page, the
variant's classes, a run in a sentence, its classification reports and the final table."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from zoo.files import atomic_path
from zoo.i18n import t
from zoo.lab.folder import Lab
from zoo.reporting import describe
from zoo.reporting.compare import WIDTHS as TABLE_WIDTHS
from zoo.reporting.compare import final_table
from zoo.reporting.layout import Page, pdf_pages, png_image
from zoo.reporting.pages import report_rows
from zoo.reporting.plot import pyplot
from zoo.runfolder import RunFolder

COUNT_KEYS = ("layer", "inputs", "neurons", "connections", "weights", "biases", "params")


def wrapped(text: str, width: int) -> str:
    """`text` on lines of at most about `width` characters, for a narrow table cell."""
    import textwrap

    return "\n".join(textwrap.wrap(str(text), width, break_on_hyphens=False)) or str(text)


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
        self.page = Page(
            self.plt, footer=self.footer, number=number, landscape=landscape, lang=self.lang
        )
        return self.page

    def room(self, inches: float) -> Page:
        """The current page if it has `inches` left, else a new one."""
        if self.page is None or self.page.remaining() < inches:
            return self.new()
        return self.page

    def flow(self, parts: list[tuple[str, dict]]) -> None:
        """Texts (each with `Page.text`'s keywords) kept on one page where they fit together,
        else each on the page where it fits: measured as they will be wrapped, never past the
        bottom margin."""
        page = self.page or self.new()

        def height(text: str, style: dict) -> float:
            return page.text_height(
                text, style.get("size", 10), style.get("weight") == "bold", style.get("family")
            )

        self.room(sum(height(text, style) for text, style in parts))
        for text, style in parts:
            self.room(height(text, style)).text(text, **style)

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


def title_page(pages: Pages, lab: Lab, lang: str, missing: list[str] | None = None) -> None:
    """The title page; `missing`: the locale keys of the parts an unfinished lab lacks, said
    plainly below the student's details."""
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
    subtitle = "lab.subtitle" if lab.lab == 1 else f"lab{lab.lab}.subtitle"
    fig.text(0.5, 0.565, t(subtitle, lang), ha="center", fontsize=13)
    page.y = 0.42
    rows = [
        [t("report.author", lang), lab.author or describe.DASH],
        [t("report.group", lang), lab.group],
        [t("report.variant", lang), str(lab.variant)],
        [t("lab.department", lang), t(f"lab.department.{lab.department}", lang)],
        [t("report.date", lang), dt.date.today().strftime(t("report.date_format", lang))],
    ]
    page.table(rows, widths=(1, 2), size=12, bold_first=True, align="left", borders=False)
    if missing:
        parts = ", ".join(t(key, lang) for key in missing)
        page.space(0.2)
        page.text(t("lab.unfinished", lang, parts=parts), size=11, color="darkred")


def image_counts(run: RunFolder, lang: str) -> str:
    """The images a run trained and was tested on, as its config.json records them: what the
    runs used, not what the course's archive holds."""
    train = run.config.get("train_size", describe.DASH)
    return t("lab.counts", lang, train=train, test=run.config.get("test_size", describe.DASH))


def rule_text(how: str, lang: str) -> str:
    """lab.json's "group 2 + 7" in the report's language ("номер группы 2 + 7"); a rule
    written otherwise (a department's fixed class) is shown as it is."""
    match = re.fullmatch(r"(group|variant) (\d+) \+ (\d+)", how)
    if not match:
        return how
    word, a, b = match.groups()
    return t(f"lab.rule.{word}", lang, a=a, b=b)


def variant_table(page: Page, lab: Lab, lang: str, heading: str) -> None:
    """The variant's classes: how the rule gave each, its CIFAR-100 index and name."""
    page.subheading(t(heading, lang, variant=lab.variant, group=lab.group))
    rows = [
        [str(i + 1), rule_text(c["how"], lang), str(c["index"]), c["name"]]
        for i, c in enumerate(lab.classes)
    ]
    header = [t(f"lab.col.{k}", lang) for k in ("number", "rule", "index", "name")]
    page.table(rows, header, widths=(0.5, 2.5, 1, 2), size=10)


def run_summary(run: RunFolder, lang: str) -> str:
    return t(
        "lab.run_text",
        lang,
        run=run.name,
        hyper=describe.hyperparameters_short(run.config, lang),
        result=describe.result_short(run, lang),
        best=run.best_epoch or describe.DASH,
    )


def class_reports(pages: Pages, run: RunFolder, lang: str) -> None:
    header = [t(f"report.col.{k}", lang) for k in ("class", "precision", "recall", "f1", "support")]
    for split in ("train", "test"):
        report = run.report(split)
        if report is None:
            continue
        page = pages.room(0.35 * (len(run.class_names) + 5))
        page.subheading(t(f"common.{split}", lang))
        page.table(report_rows(report, run.class_names, lang), header, widths=(2, 1, 1, 1, 1))


def final_table_page(pages: Pages, runs: list[RunFolder], lang: str) -> None:
    """The final table of every training variant, on a landscape page."""
    page = pages.new(landscape=True)  # the course's wide columns
    page.heading(t("lab.section.table", lang))
    if not runs:
        page.note(t("lab.no_runs", lang))
        return
    header, cells = final_table(runs, lang, wrap=True)
    while cells:  # as many pages as the rows need, the header on each
        count = page.rows_that_fit(cells, header, widths=TABLE_WIDTHS, size=7.5)
        page.table(cells[:count], header, widths=TABLE_WIDTHS, size=7.5)
        cells = cells[count:]
        if cells:
            page = pages.new(landscape=True)
    for i, run in enumerate(runs, start=1):  # the runs' folders, by their numbers in the table
        line = f"{i}. {run.name}"
        if page.text_height(line, size=7) > page.remaining():
            page = pages.new(landscape=True)
        page.text(line, size=7, color="0.35")


def save_pages(pages: Pages, path: Path, lab: Lab, lang: str) -> Path:
    """The pages as one PDF, written whole or not at all."""
    metadata = {
        "Title": lab.title or t("lab.title", lang, lab=lab.lab),
        "Author": lab.author or "",
        "Subject": t("report.course", lang),
    }
    with atomic_path(path) as part, pdf_pages(part, metadata) as pdf:
        for fig in pages.finish():
            pdf.savefig(fig)
    return path
