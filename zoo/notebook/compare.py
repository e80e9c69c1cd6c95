"""The lab's final table in a notebook: `zoo.compare(runs)`, the table `zoo compare` writes.

    >>> table = zoo.compare([base, wider])          # doctest: +SKIP
    >>> table                                      # an HTML table in the notebook
    >>> print(table.to_markdown())                 # for the report; .to_csv() for a spreadsheet
    >>> table.figure()                             # the runs' test-loss curves on one axis

Rows and cells come from `zoo.reporting.compare`, so the notebook's table is the CLI's.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from zoo import html
from zoo.errors import OptionError
from zoo.i18n import t, table
from zoo.notebook.runs import UNSAVED, Picture, as_run_folder
from zoo.runfolder import RunFolder


class Comparison:
    """One row per run: network, hyperparameters, accuracy, best epoch, comment."""

    def __init__(self, runs: list[RunFolder], lang: str = "en"):
        self.runs, self.lang = runs, lang

    @property
    def rows(self):
        """The rows as data (`zoo.reporting.compare.Row`: numbers stay numbers)."""
        from zoo.reporting.compare import compare_rows

        return compare_rows(self.runs)

    def __len__(self) -> int:
        return len(self.runs)

    def cells(self) -> tuple[list[str], list[list[str]]]:
        """(header, rows of text), as every format of the table shows them."""
        from zoo.reporting.compare import final_table

        return final_table(self.runs, self.lang)

    def to_markdown(self) -> str:
        """The table in Markdown, then which folder each row number is (`zoo compare`'s .md)."""
        from zoo.reporting.compare import markdown

        return markdown(self.runs, self.lang)

    def to_csv(self) -> str:
        """Every field as its own column, numbers unformatted (`zoo compare`'s .csv)."""
        from zoo.reporting.compare import csv_text

        return csv_text(self.runs)

    def figure(self) -> Picture:
        """The runs' test (or validation) loss per epoch on one axis."""
        from zoo.reporting.compare import FIGURE, test_loss_figure
        from zoo.reporting.layout import figure_png
        from zoo.reporting.plot import DPI, drawing

        with drawing():
            return Picture(FIGURE, figure_png(test_loss_figure(self.runs, self.lang), DPI))

    def write(
        self, out: str | Path | None = None, *, fmt: str | None = None, force: bool = False
    ) -> list[Path]:
        """Write the table (md, csv, tex or pdf) and its figure as `zoo compare` does; returns
        the paths. Every run must have been saved (`out=` other than None)."""
        from zoo.reporting.compare import write_comparison

        unsaved = [i for i, run in enumerate(self.runs, start=1) if run.path == UNSAVED]
        if unsaved:
            raise OptionError("runs", f"run {unsaved[0]} was trained with out=None: no folder")
        _, paths = write_comparison(
            [run.path for run in self.runs], fmt=fmt, out=out, lang=self.lang, force=force
        )
        return paths

    def _repr_html_(self) -> str:
        header, rows = self.cells()
        folders = "".join(
            f"<div style='color:#555;font-size:85%'>{i}. <code>{html.escape(run.path)}</code></div>"
            for i, run in enumerate(self.runs, start=1)
        )
        return html.block(
            html.table(header, rows, caption=t("report.compare.title", self.lang)), folders
        )

    def __repr__(self) -> str:
        return self.to_markdown()


def compare(runs: Iterable[Any], lang: str = "en") -> Comparison:
    """The final table of `runs` (each a `Run` or a run folder's path), one row per run in
    the order given; `lang` "en" or "ru". `zoo.compare` also takes sweeps."""
    table(lang)  # an unknown language fails here, naming `lang`
    folders = [as_run_folder(run) for run in runs]
    if not folders:
        raise OptionError("runs", "give at least one run (a sweep folder with runs)")
    return Comparison(folders, lang)
