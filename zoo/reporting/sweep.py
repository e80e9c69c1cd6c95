"""A sweep's outputs: summary.md, .csv and .tex, the figures (PNG) and report.pdf, which
holds the final table and the figures so that a student can hand it in.

Drawn from the sweep's data alone (`zoo.sweeps.summary`, read from the run folders), so
`zoo compare SWEEP_DIR` rebuilds them; the sweep's runner does not import this module:
`zoo.sweep` hands it `write_outputs`.

    >>> write_outputs(summarize(folder, spec), lang="ru")   # doctest: +SKIP
    [PosixPath('.../summary.md'), PosixPath('.../summary.csv'), ...]
"""

from __future__ import annotations

from pathlib import Path

from zoo.errors import OptionError
from zoo.files import atomic_path, write_bytes, write_text
from zoo.i18n import t, table
from zoo.reporting.compare import TEX_ESCAPES
from zoo.sweeps.folder import REPORT, SUMMARY
from zoo.sweeps.summary import SweepSummary

TABLE_FORMATS = ("md", "csv", "tex")
MAX_UNFINISHED_LINES = 25  # on the report's first page; summary.md lists them all
MIN_FIGURE_INCHES = 3.5  # less room than this left on a page: the next figure starts a new one


def table_text(summary: SweepSummary, fmt: str, lang: str = "en") -> str:
    if fmt == "md":
        return summary.markdown(lang)
    if fmt == "csv":
        return summary.csv_text()
    return latex(summary, lang)


def latex(summary: SweepSummary, lang: str = "en") -> str:
    """The table as a `tabular` to \\input into a report; the best row is bold."""

    def tex(text: str) -> str:
        return "".join(TEX_ESCAPES.get(ch, ch) for ch in text).replace("±", r"$\pm$")

    head = summary.header(lang)
    lines = [
        r"\begin{tabular}{|" + "|".join("c" for _ in head) + "|}",
        r"\hline",
        " & ".join(tex(h) for h in head.values()) + r" \\",
        r"\hline",
    ]
    for row in summary.rows:
        cells = [tex(c) for c in summary.cells(row).values()]
        if row.best:
            cells = [r"\textbf{" + c + "}" for c in cells]
        lines.append(" & ".join(cells) + r" \\ \hline")
    lines.append(r"\end{tabular}")
    note = summary.best_note(lang)
    if note:
        lines.append("")
        lines.append(tex(note))
    return "\n".join(lines) + "\n"


def write_outputs(
    summary: SweepSummary,
    lang: str = "en",
    formats: tuple[str, ...] = (*TABLE_FORMATS, "png", "pdf"),
    pdf_path: Path | None = None,
) -> list[Path]:
    """Write the tables (md, csv, tex), the figures (png) and report.pdf (pdf) into the sweep
    folder, or report.pdf to `pdf_path`; the paths written."""
    from zoo.reporting.layout import figure_png, png_image
    from zoo.reporting.plot import DPI, drawing, localize
    from zoo.reporting.sweep_figures import sweep_figures

    table(lang)
    folder = summary.folder
    written = [
        write_text(folder / f"{SUMMARY}.{fmt}", table_text(summary, fmt, lang))
        for fmt in TABLE_FORMATS
        if fmt in formats
    ]
    if "pdf" not in formats and "png" not in formats:
        return written
    with drawing():
        images = {}
        for name, fig in sweep_figures(summary, lang).items():
            png = figure_png(localize(fig, lang), DPI)
            if "png" in formats:
                written.append(write_bytes(folder / f"{name}.png", png))
            images[name] = png_image(png)
        if "pdf" in formats:
            written.append(write_report(summary, images, pdf_path or folder / REPORT, lang))
    return written


def write_sweep_comparison(
    folder: str | Path,
    *,
    fmt: str | None = None,
    out: str | Path | None = None,
    lang: str = "en",
    force: bool = False,
) -> tuple[str, list[Path]]:
    """`zoo compare SWEEP_DIR`: the summary rebuilt from the run folders as they are now.

    Without `out` the sweep's own files are rewritten (all of them, or the one `fmt` names);
    with `out` (a file, or a folder for summary.FMT / report.pdf) that one file is written,
    and an existing one only with `force`. Returns (the table in Markdown, paths written).
    """
    from zoo.files import refuse_overwrite
    from zoo.sweeps.spec import load_spec
    from zoo.sweeps.summary import summarize

    formats = (*TABLE_FORMATS, "pdf")
    if fmt is None and out is not None and Path(out).suffix.lstrip(".").lower() in formats:
        fmt = Path(out).suffix.lstrip(".").lower()
    if fmt is not None and fmt not in formats:
        raise OptionError("fmt", f"{fmt!r} is not one of {', '.join(formats)}")
    summary = summarize(folder, load_spec(folder))
    if out is None:
        chosen = (*TABLE_FORMATS, "png", "pdf") if fmt is None else (fmt,)
        return summary.markdown(lang), write_outputs(summary, lang, chosen)
    fmt = fmt or "md"
    out = Path(out)
    if out.is_dir() or not out.suffix:
        out = out / (REPORT if fmt == "pdf" else f"{SUMMARY}.{fmt}")
    elif out.suffix.lstrip(".").lower() != fmt:
        raise OptionError("out", f"{out.name!r} does not end in .{fmt} as `fmt={fmt!r}`")
    refuse_overwrite(out, "out", force)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OptionError(
            "out", f"cannot make folder {str(out.parent)!r}: {err.strerror}"
        ) from None
    if fmt == "pdf":
        return summary.markdown(lang), write_outputs(summary, lang, ("pdf",), pdf_path=out)
    return summary.markdown(lang), [write_text(out, table_text(summary, fmt, lang))]


def write_report(summary: SweepSummary, images: dict, path: Path, lang: str = "en") -> Path:
    """report.pdf on landscape A4: the table, then the figures, each below the last while it
    fits, else on a new page."""

    from zoo.reporting.layout import Page, pdf_pages
    from zoo.reporting.plot import pyplot
    from zoo.reporting.sweep_figures import caption

    plt = pyplot()
    footer = str(summary.folder.name)
    metadata = {"Title": summary.title(lang), "Subject": t("report.course", lang)}
    with atomic_path(path) as part, pdf_pages(part, metadata) as pdf:
        page = Page(plt, footer=footer, landscape=True, lang=lang)
        page.heading(summary.title(lang))
        page.text(summary.setting_text(lang), size=9)
        head = summary.header(lang)
        rows = [list(summary.cells(row).values()) for row in summary.rows]
        widths = [0.5] + [1.0] * len(summary.swept) + [1.7] * len(summary.stat_keys) + [0.8]
        size = 8 if len(rows) <= 20 else 6
        page.table(rows, list(head.values()), widths=widths, size=size)
        page.text(t("sweep.mean_sd", lang, n=len(summary.spec.seeds)), size=8)
        if summary.best_note(lang):
            page.text(summary.best_note(lang), size=8)
        unfinished = summary.unfinished()
        if unfinished:
            page.subheading(t("sweep.unfinished", lang))
            for outcome in unfinished[:MAX_UNFINISHED_LINES]:
                page.text(f"{outcome.name}: {summary.status_text(outcome, lang)}", size=7)
            if len(unfinished) > MAX_UNFINISHED_LINES:
                more = len(unfinished) - MAX_UNFINISHED_LINES
                page.note(t("sweep.more_unfinished", lang, n=more))
        for name, image in images.items():
            if page.remaining() < MIN_FIGURE_INCHES:
                pdf.savefig(page.fig)
                page = Page(plt, footer=footer, landscape=True, lang=lang)
            page.subheading(caption(name, lang))
            page.image(image)
        pdf.savefig(page.fig)
    return path
