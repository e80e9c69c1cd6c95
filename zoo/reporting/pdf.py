"""report.pdf: the lab report a student hands in, rebuilt from a run folder alone.

Nine A4 pages, always in this order, whatever the run: title; 1 task; 2 data; 3 model;
4 training (hyperparameters, learning curves), 4 training (the generalisation gap, the
learning rate); 5 results (classification reports), 5 results (confusion matrices, or
predicted against true values); 6 insight. What a folder lacks (a diverged run has no
metrics) is said where it would be, and every page of an unfinished run carries a warning.

    >>> write_report("reports/mlp-cifar100-3class-20261127-101500", lang="ru")  # doctest: +SKIP
    [PosixPath('reports/.../report.pdf'), PosixPath('reports/.../learning_curves.png'), ...]
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zoo.backend import frozen_after_import, import_matplotlib
from zoo.errors import OptionError, RunFolderError
from zoo.files import atomic_path, cannot_write, write_bytes
from zoo.i18n import t, table
from zoo.reporting import describe
from zoo.reporting.forked import Drawings, Pixels
from zoo.reporting.layout import Page, Rendered, pdf_pages, render
from zoo.reporting.pages import (
    data_page,
    figure_page,
    generalization_page,
    model_page,
    results_page,
    task_page,
    title_page,
    training_page,
)
from zoo.reporting.plot import DPI, drawing, pyplot
from zoo.reporting.report_figures import Later, SampleGrid, report_figures
from zoo.runfolder import REPORT, RunFolder, read_run_folder

FORMATS = ("pdf", "png", "svg")
PAGES = 9


def check_formats(formats: str | Iterable[str]) -> list[str]:
    """ "pdf,png" -> ["pdf", "png"]; OptionError naming --format for anything else."""
    if isinstance(formats, str):
        formats = formats.split(",")
    chosen = [f.strip().lower() for f in formats if f.strip()]
    bad = [f for f in chosen if f not in FORMATS]
    if bad or not chosen:
        what = repr(bad[0]) if bad else "nothing"
        raise OptionError("formats", f"{what} is not one of {', '.join(FORMATS)}")
    return chosen


def _pages(run, info, images, notes, lang):
    """(page number, draw function) in report order; PAGES of them."""
    second = t(
        "common.confusion_matrix" if run.is_classification else "report.predicted_vs_true", lang
    )
    return [
        lambda p: title_page(p, run, info, lang),
        lambda p: task_page(p, run, info, lang),
        lambda p: data_page(p, run, images, notes, lang),
        lambda p: model_page(p, run, lang),
        lambda p: training_page(p, run, images, notes, lang),
        lambda p: generalization_page(p, run, images, notes, lang),
        lambda p: results_page(p, run, lang),
        lambda p: figure_page(p, run, "results", "confusion", images, notes, lang, part=second),
        lambda p: figure_page(p, run, "insight", "insight", images, notes, lang),
    ]


def pages(run: RunFolder, info: Mapping, images: dict, notes: dict, lang: str, warning: str = ""):
    """The report's pages, one Figure each, in order (the caller closes them)."""
    plt = pyplot()
    for number, draw in enumerate(_pages(run, info, images, notes, lang), start=1):
        page = Page(plt, footer=run.name, number=f"{number} / {PAGES}", warning=warning, lang=lang)
        draw(page)
        yield page.fig


@dataclass(frozen=True)
class _Drawn:
    """A figure drawn for the report: its rendering, and (drawn in a second process) its
    rows as report.pdf stores them, compressed there rather than while the PDF is written."""

    rendered: Rendered
    stored: bytes | None = None


def _draw_here(fig) -> _Drawn:
    return _Drawn(_render(fig))


def _draw_in_child(fig) -> _Drawn:
    rendered = _render(fig)
    return _Drawn(rendered, _stored_rows(rendered.pixels))


def _stored_rows(pixels) -> bytes:
    """The PNG that matplotlib's PDF writer makes of a placed figure's pixels (it stores the
    rows bottom up), made the way it makes it, so the PDF's bytes are the same."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels[::-1])).save(buffer, format="png")
    return buffer.getvalue()


class _Encoded:
    """PNG bytes that "save" themselves: what `PdfFile._writePng` reads the rows from."""

    def __init__(self, png: bytes):
        self.png = png

    def save(self, buffer, format=None):  # noqa: A002 (PIL's name)
        buffer.write(self.png)


@contextlib.contextmanager
def _rows_stored_once(drawings):
    """While report.pdf is written: a placed figure whose rows the second process already
    compressed is stored from those bytes instead of being compressed again here."""
    from matplotlib.backends.backend_pdf import PdfFile

    original = getattr(PdfFile, "_writePng", None)
    if original is None:  # another matplotlib: it encodes the images its own way
        yield
        return

    def write_png(self, img):
        if img.mode == "RGB":
            shape, rows = (img.height, img.width, 3), None
            for drawn in drawings.drawn():
                if drawn.stored is not None and drawn.rendered.pixels.shape == shape:
                    rows = np.asarray(img) if rows is None else rows
                    if np.array_equal(drawn.rendered.pixels[::-1], rows):
                        return original(self, _Encoded(drawn.stored))
        return original(self, img)

    PdfFile._writePng = write_png
    try:
        yield
    finally:
        PdfFile._writePng = original


def prepare() -> None:
    """Import what `write_report` uses: matplotlib's figures, tables and its Agg and PDF back
    ends, Pillow, fontTools' subsetting. A training run calls it ahead of the report, in a
    thread of its own (`zoo.training.Viewers.prepare`); `write_report` calls it first.
    What these imports make is frozen out of the garbage collector's way, as Keras's is
    (`zoo.backend.frozen_after_import`), when this call is the one that imports matplotlib: a
    report's full collections then skip them, and so do those of its second process (a
    collection there would otherwise write into, and so copy, every page of them)."""
    with frozen_after_import("matplotlib"):
        import_matplotlib()  # first: it drops an $MPLBACKEND that matplotlib's import rejects
        import matplotlib.figure  # noqa: F401
        import matplotlib.table  # noqa: F401
        from fontTools import subset  # noqa: F401
        from matplotlib.backends import backend_agg, backend_pdf  # noqa: F401
        from PIL import Image  # noqa: F401


def write_report(
    run_dir: str | Path | RunFolder,
    *,
    lang: str = "en",
    formats: str | Iterable[str] = ("pdf", "png"),
    author: str | None = None,
    group: str | None = None,
    variant: str | None = None,
    title: str | None = None,
    model=None,
) -> list[Path]:
    """Write report.pdf and every figure (PNG at 150 dpi, SVG) into the run folder.

    Everything comes from the folder; `model` (the trained model, when the caller holds it)
    only spares loading model.keras again for the figures that call it. `formats` picks the
    outputs: "pdf" is report.pdf, "png" and "svg" are the figures. Returns the paths written.
    """
    table(lang)  # an unknown language fails before any work
    chosen = check_formats(formats)
    run = run_dir if isinstance(run_dir, RunFolder) else read_run_folder(run_dir)
    reason = cannot_write(run.path)
    if reason:  # before any figure is drawn
        raise RunFolderError(f"cannot write the report into {run.path} ({reason})")
    info = describe.title_info(
        run.config, {"author": author, "group": group, "variant": variant, "title": title}
    )
    prepare()
    written: list[Path] = []
    svgs: dict[str, Path] = {}
    with drawing():
        # SVG files are written here from the figures; else the figures that need no model
        # are built where they are drawn (in the second process, while the pages begin)
        figs, notes = report_figures(run, lang, model=model, later="svg" not in chosen)
        if "svg" in chosen:
            for name, fig in figs.items():
                path = run.path / f"{name}.svg"
                with atomic_path(path) as part:
                    fig.save(part) if isinstance(fig, SampleGrid) else fig.savefig(
                        part, bbox_inches="tight"
                    )
                svgs[name] = path
        drawn = {}
        if "pdf" in chosen or "png" in chosen:
            # drawn once: the page shows the very pixels of the PNG file; in a second process
            # while this one writes the pages, when there are pages to write
            drawn = Drawings(figs, _draw_here, fork="pdf" in chosen, draw_in_child=_draw_in_child)
        with contextlib.closing(drawn) if drawn else contextlib.nullcontext():
            pngs: dict[str, Path] = {}
            if "png" in chosen and drawn and not drawn.forked:
                # drawn here: each file written as it is drawn, and its bytes let go (the pages
                # keep the pixels only)
                for name in figs:
                    done = drawn[name]
                    pngs[name] = write_bytes(run.path / f"{name}.png", done.rendered.png)
                    drawn.replace(name, _Drawn(Rendered(b"", done.rendered.pixels), done.stored))
            if "pdf" in chosen:
                path = run.path / REPORT
                unfinished = ("diverged", "interrupted", "failed", "killed", "running")
                key = run.status if run.status in unfinished else "other"
                warning = "" if run.finished else t(f"report.warning.{key}", lang)
                metadata = {
                    "Title": info["title"] or describe.default_title(run.config, lang),
                    "Author": info["author"] or "",
                    "Subject": t("report.course", lang),
                }
                images = Pixels(drawn)
                with (
                    atomic_path(path) as part,
                    _rows_stored_once(drawn),
                ):
                    with pdf_pages(part, metadata) as pdf:
                        for fig in pages(run, info, images, notes, lang, warning):
                            pdf.savefig(fig)
                written.append(path)
            for name in figs:
                if "png" in chosen:
                    png = pngs.get(name) or write_bytes(
                        run.path / f"{name}.png", drawn[name].rendered.png
                    )
                    written.append(png)
                if name in svgs:
                    written.append(svgs[name])
    return written


def _render(fig) -> Rendered:
    """A figure drawn once at the PNG files' resolution (the sample grid keeps its own size,
    uncropped); a `Later` figure is built first."""
    if isinstance(fig, Later):
        fig = fig.build()
    if isinstance(fig, SampleGrid):
        return render(fig.figure(), DPI, crop=False)
    return render(fig, DPI)
