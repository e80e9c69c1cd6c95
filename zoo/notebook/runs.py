"""Runs in a notebook: a `Run` or a run folder shown as HTML, and one figure at a time.

    >>> run = zoo.open_run("reports/mlp-digits-20261127-100909")   # doctest: +SKIP
    >>> run                                   # status, hyperparameters, reports, figures
    >>> zoo.show(run, "confusion_matrix")     # one figure of the report

Everything comes from the run folder (its PNG files when the report drew them); a run trained
with `out=None` is shown from what `train` returned, its figures drawn on demand.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo import html
from zoo.errors import OptionError
from zoo.files import refuse_overwrite, write_bytes
from zoo.i18n import t
from zoo.notebook import detect
from zoo.runfolder import CONFIG, UNSAVED, Run, RunFolder, read_run_folder


def open_run(path: str | Path) -> Run:
    """The `Run` in the folder at `path` (`Run.from_folder`, checked as `zoo report` reads
    it); in a notebook it shows itself. Raises `RunFolderError` when `path` is not one."""
    return Run.from_folder(path)


def as_run_folder(run: Any) -> RunFolder:
    """A `RunFolder` for a run folder's path, a `RunFolder`, or a `Run` (a run trained now is
    read back from its folder for its predictions; with `out=None`, shown from memory)."""
    if isinstance(run, str | Path):
        return read_run_folder(run)
    if isinstance(run, Run) and run.saved and run.predictions is None:
        if (run.path / CONFIG).is_file():
            return read_run_folder(run.path)
    if isinstance(run, RunFolder):
        return run
    raise TypeError(f"expected a run or a run folder's path, not {type(run).__name__}")


def run_line(run: Any) -> str:
    """ "Run(mlp · digits, completed, test accuracy 96.00%, reports/mlp-digits-...)"."""
    return repr(run if isinstance(run, Run) else Run.of(as_run_folder(run)))


# -- figures -----------------------------------------------------------------------------------
def figure_names() -> tuple[str, ...]:
    """Every figure a report can have, by the name of its PNG file (without .png)."""
    from zoo.reporting.report_figures import FIGURE_GROUPS

    return tuple(name for group in FIGURE_GROUPS.values() for name in group)


@dataclass
class Picture:
    """One figure as PNG; a notebook shows it as an image, `save(path)` writes it."""

    name: str
    png: bytes

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels, from the PNG header."""
        return struct.unpack(">II", self.png[16:24])

    def _repr_png_(self) -> bytes:
        return self.png

    def save(self, path: str | Path, force: bool = False) -> Path:
        """Write the PNG to `path`; an existing file is replaced only with `force`."""
        path = Path(path)
        refuse_overwrite(path, "path", force)
        return write_bytes(path, self.png)

    def __repr__(self) -> str:
        width, height = self.size
        return f"<Picture {self.name} {width}x{height}>"


class _Figures:
    """A run's figures by name: the report's PNG files, else drawn (all at once, the first
    time one is missing) as `zoo report` would draw them."""

    def __init__(self, run: Any, lang: str | None = None):
        self.folder = as_run_folder(run)
        self.model = getattr(run, "model", None)  # a Run holds its trained model
        self.run_lang = str(self.folder.config.get("lang") or "en")
        self.lang = lang or self.run_lang
        self._drawn: tuple[dict, dict] | None = None

    def png(self, name: str) -> bytes:
        file = self.folder.path / f"{name}.png"
        if self.lang == self.run_lang and self.folder.path != UNSAVED and file.is_file():
            return file.read_bytes()
        figures, notes = self._draw()
        if name in figures:
            from zoo.reporting.layout import figure_png
            from zoo.reporting.plot import DPI, drawing
            from zoo.reporting.report_figures import SampleGrid

            figure = figures[name]
            if isinstance(figure, SampleGrid):
                return figure.png()
            with drawing():
                return figure_png(figure, DPI)
        if name in notes:
            raise OptionError("name", f"{name!r} cannot be drawn for this run: {notes[name]}")
        drawn = ", ".join(figures) or "none"
        raise OptionError("name", f"this run has no {name!r} figure (it has: {drawn})")

    def _draw(self) -> tuple[dict, dict]:
        if self._drawn is None:
            from zoo.reporting.plot import drawing
            from zoo.reporting.report_figures import report_figures

            with drawing():
                self._drawn = report_figures(self.folder, self.lang, model=self.model)
        return self._drawn


def figure(run: Any, name: str, lang: str | None = None) -> Picture:
    """One figure of `run`'s report (`name` as its PNG file is named: "learning_curves",
    "confusion_matrix", "samples", ...) as a `Picture`."""
    name = str(name).removesuffix(".png")
    known = figure_names()
    if name not in known:
        raise OptionError("name", f"{name!r} is not one of {', '.join(known)}")
    return Picture(name, _Figures(run, lang).png(name))


def show(run: Any, name: str, lang: str | None = None) -> Picture | None:
    """Show one figure of `run`'s report in the notebook, where the call is.

    `run` is a `Run`, a run opened with `zoo.open_run` or a run folder's path; `name` is the
    figure's file name ("confusion_matrix", "learning_curves", "samples", ...); `lang` draws it
    in another language than the run's. Outside a notebook nothing is shown: the `Picture` is
    returned instead, to `save(path)`.
    """
    picture = figure(run, name, lang)
    if detect.in_notebook():
        detect.show(picture)
        return None
    return picture


# -- the run as HTML ---------------------------------------------------------------------------
STATUS_COLOURS = {"completed": "#2e7d32", "stopped_early": "#2e7d32", "target_reached": "#2e7d32"}


def _reports(folder: RunFolder, lang: str) -> list[str]:
    """The train and test classification reports (or regression metrics) as tables."""
    from zoo.reporting import describe
    from zoo.reporting.pages import report_rows

    tables = []
    for split in ("train", "test"):
        report = folder.report(split)
        caption = t(f"common.{split}", lang)
        if report is None:
            tables.append(html.block(html.heading(caption), t("report.missing.metrics", lang)))
            continue
        if folder.is_classification:
            keys = ("class", "precision", "recall", "f1", "support")
            header = [t(f"report.col.{k}", lang) for k in keys]
            rows = report_rows(report, folder.class_names, lang)
        else:
            header = [t("report.col.metric", lang), t("report.col.value", lang)]
            rows = [
                [label, describe.number(report.get(key), 6)]
                for key, label in (("mse", "MSE"), ("mae", "MAE"), ("r2", "R²"))
            ]
        if report.get("loss") is not None:
            loss = f"{report['loss']:.4f}"
            rows.append([t("common.loss", lang), *[""] * (len(header) - 2), loss])
        tables.append(html.table(header, rows, caption=caption))
    return tables


def run_html(run: Any) -> str:
    """The run as HTML: status, hyperparameters, reports as tables, curves and confusion matrix."""
    from zoo.reporting import describe

    folder = as_run_folder(run)
    c = folder.config
    lang = str(c.get("lang") or "en")
    status = folder.status
    colour = STATUS_COLOURS.get(status, "#c62828")
    title = f"{c.get('model')} · {c.get('dataset')}"
    if c.get("comment"):
        title += f" ({c['comment']})"
    parts = [
        "<div style='margin:4px 0'>"
        f"<b style='font-size:120%'>{html.escape(title)}</b> &nbsp; "
        f"<span style='color:{colour};font-weight:bold'>"
        f"{html.escape(describe.status_word(status, lang))}</span></div>"
    ]
    explained = describe.status_text(folder, lang)
    if explained:
        parts.append(f"<p style='margin:2px 0'>{html.escape(explained)}</p>")
    if folder.path != UNSAVED:
        parts.append(
            f"<p style='margin:2px 0;color:#555'>{html.escape(t('report.run', lang))}: "
            f"<code>{html.escape(folder.path)}</code></p>"
        )
    hyper = html.table(
        [t("report.col.metric", lang), t("report.col.value", lang)],
        describe.hyperparameter_rows(c, lang),
        caption=t("report.hyperparameters", lang),
    )
    parts.append(html.side_by_side(hyper, *_reports(folder, lang)))
    figures = _Figures(run)
    second = "confusion_matrix" if folder.is_classification else "predicted_vs_true"
    images = []
    for name in ("learning_curves", second):
        try:
            images.append(html.image(figures.png(name), alt=name, width=640))
        except OptionError as err:  # a run that stopped before its metrics: say why
            images.append(f"<p style='color:#555'>{html.escape(err.message)}</p>")
    parts.append(html.side_by_side(*images))
    return html.block(*parts)


def shown(run: Any) -> Any:
    """`run` as it shows itself in a notebook (every `Run` does, once this module is loaded)."""
    return run


def _repr_pretty_(self, printer, cycle: bool) -> None:  # IPython's text: one line
    printer.text(run_line(self))


# The notebook's views of a Run: HTML (status, hyperparameters, reports, figures), a one-line
# text and one figure at a time. The run folder package imports no viewer; they are added here.
Run._repr_html_ = run_html
Run._repr_pretty_ = _repr_pretty_
Run.show = show
