"""The lab's final table ("итоговая таблица"): one row per run, and their test-loss curves.

    network       | hyperparameters | accuracy                     | parameters / connections | ...
    FC(10), FC(3) | lr = 0.003, ... | test = 70%, train = 98%, ... | 30763 / 30750            | ...

The parameters and connections put the fully connected and the convolutional networks side by
side (lab 2's defence question); the gap is train minus test accuracy (overfitting).

`write_comparison(["reports/run-a", "reports/run-b"], fmt="md")` returns the table as Markdown
and writes it (md, csv, tex or pdf) with a figure overlaying the runs' test-loss curves.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from zoo.errors import OptionError
from zoo.files import (
    atomic_path,
    cannot_write,
    refuse_overwrite,
    write_bytes,
    write_text,
)
from zoo.i18n import t, table
from zoo.reporting import describe
from zoo.reporting.model_table import network_string, totals
from zoo.reporting.plot import DPI, drawing, localize, pyplot
from zoo.runfolder import CONFIG, RunFolder, read_run_folder

TABLE_FORMATS = ("md", "csv", "tex", "pdf")
STEM = "comparison"
FIGURE = "comparison_test_loss"


@dataclass
class Row:
    """One run in the final table; numbers stay numbers (csv), cells are made from them."""

    number: int
    run: str
    model: str
    dataset: str
    network: str
    regime: str
    lr: float | None
    batch_size: int | None
    epochs: int | None
    epochs_run: int | None
    iterations: int | None
    optimizer: str
    momentum: float | None
    lr_schedule: str
    l2: str
    l1: str
    dropout: str
    weight_decay: float | None
    patience: int | None
    train_accuracy: float | None
    test_accuracy: float | None
    gap: float | None  # train - test accuracy
    params: int
    connections: int
    train_seconds: float | None
    best_epoch: int | None
    status: str
    comment: str


def compare_rows(runs: Sequence[RunFolder]) -> list[Row]:
    """The table's rows, in the order the runs were given."""
    rows = []
    for i, run in enumerate(runs, start=1):
        c = run.config
        rows.append(
            Row(
                number=i,
                run=str(run.path),
                model=str(c.get("model")),
                dataset=str(c.get("dataset")),
                network=network_string(c.get("layers") or []),
                regime=str(c.get("mode") or ""),
                lr=c.get("lr"),
                batch_size=c.get("batch_size"),
                epochs=c.get("epochs"),
                epochs_run=c.get("epochs_run"),
                iterations=c.get("iterations"),
                optimizer=str(c.get("optimizer") or ""),
                momentum=c.get("momentum"),
                lr_schedule=str(c.get("lr_schedule") or "constant"),
                **_penalties(c),
                weight_decay=c.get("weight_decay"),
                patience=c.get("patience"),
                train_accuracy=run.accuracy("train"),
                test_accuracy=run.accuracy("test"),
                gap=_gap(run.accuracy("train"), run.accuracy("test")),
                params=sum(int(x.get("params") or 0) for x in c.get("layers") or []),
                connections=totals(c.get("layers") or [])["connections"],
                train_seconds=c.get("train_seconds"),
                best_epoch=run.best_epoch,
                status=run.status,
                comment=str(c.get("comment") or ""),
            )
        )
    return rows


def _gap(train: float | None, test: float | None) -> float | None:
    return None if train is None or test is None else train - test


def _penalties(config) -> dict[str, str]:
    """l2, l1, dropout as the model was built ("0.2/0.5" for one rate per layer; "" none)."""
    found = describe.regularization(config)
    return {k: "/".join(f"{v:g}" for v in found.get(k, ())) for k in ("l2", "l1", "dropout")}


def _wrap(text: str, width: int = 46) -> str:
    """A long "a = 1, b = 2, ..." cell on several lines of about `width` characters."""
    lines, line = [], ""
    for part in text.split(", "):
        if line and len(line) + 2 + len(part) > width:
            lines.append(line + ",")
            line = part
        else:
            line = f"{line}, {part}" if line else part
    return "\n".join([*lines, line])


def _cells(runs: Sequence[RunFolder], lang: str, wrap: bool = False) -> list[list[str]]:
    """The lab's columns as text: #, network, hyperparameters, accuracy (and the train-test
    gap), parameters / connections, training time, best epoch, comment."""
    out = []
    for row, run in zip(compare_rows(runs), runs, strict=True):
        hyper = describe.hyperparameters_short(run.config, lang)
        result = describe.result_short(run, lang)
        if row.gap is not None:
            result += f", {t('report.compare.gap_short', lang)} = {describe.percent(row.gap)}"
        size = f"{row.params} / {row.connections}"
        seconds = describe.DASH if row.train_seconds is None else f"{row.train_seconds:.1f}"
        network = row.network
        if wrap:  # two lines per cell keep the PDF table on the page
            hyper = _wrap(hyper)
            result = result.replace(", ", ",\n")
            size = size.replace(" / ", " /\n")
            network = _wrap(network, 24)
        comment = row.comment or describe.DASH
        if not run.finished:  # an unfinished run is marked as such in its row
            comment += f" [{describe.status_word(row.status, lang)}]"
        best = describe.DASH if row.best_epoch is None else str(row.best_epoch)
        out.append([str(row.number), network, hyper, result, size, seconds, best, comment])
    return out


COLUMNS = (
    "number",
    "network",
    "hyperparameters",
    "accuracy",
    "size",
    "seconds",
    "best_epoch",
    "comment",
)
WIDTHS = (0.3, 1.7, 2.7, 1.6, 1.3, 0.95, 1.1, 1.35)  # of a landscape page, in COLUMNS order


def _header(lang: str) -> list[str]:
    return [t(f"report.compare.{k}", lang) for k in COLUMNS]


def markdown(runs: Sequence[RunFolder], lang: str = "en") -> str:
    """The table in Markdown, then which folder each row number is."""

    def line(cells):
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    header = _header(lang)
    lines = [line(header), "|" + "|".join("---" for _ in header) + "|"]
    lines += [line(cells) for cells in _cells(runs, lang)]
    lines.append("")
    lines += [f"{i}. {run.path}" for i, run in enumerate(runs, start=1)]
    return "\n".join(lines) + "\n"


def csv_text(runs: Sequence[RunFolder]) -> str:
    """Every field as its own column, numbers unformatted: for spreadsheets and scripts."""
    rows = [asdict(row) for row in compare_rows(runs)]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)
    return buffer.getvalue()


TEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def _tex(text: str) -> str:
    return "".join(TEX_ESCAPES.get(ch, ch) for ch in text)


def latex(runs: Sequence[RunFolder], lang: str = "en") -> str:
    """A `tabular` to \\input into a LaTeX report (needs only the standard packages)."""
    lines = [
        r"\begin{tabular}{|r|p{2.6cm}|p{4.6cm}|p{3.2cm}|p{2.2cm}|r|c|p{2.6cm}|}",
        r"\hline",
        " & ".join(_tex(h) for h in _header(lang)) + r" \\",
        r"\hline",
    ]
    lines += [" & ".join(_tex(c) for c in cells) + r" \\ \hline" for cells in _cells(runs, lang)]
    lines.append(r"\end{tabular}")
    return "\n".join(lines) + "\n"


def test_loss_figure(runs: Sequence[RunFolder], lang: str = "en"):
    """Every run's test (validation) loss per epoch on one axis; lengths may differ."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.8))
    finite = []
    for i, run in enumerate(runs, start=1):
        epochs, loss = run.column("epoch"), run.column("val_loss")
        network = network_string(run.config.get("layers") or [])
        label = f"{i}. {run.config.get('comment') or run.name} ({network})"
        ax.plot(epochs, loss, label=label, linewidth=1.5)
        finite.extend(loss[np.isfinite(loss)].tolist())
        best = run.best_epoch
        if best and (epochs == best).any():
            ax.plot([best], loss[epochs == best][:1], marker="o", color=ax.lines[-1].get_color())
    positive = [v for v in finite if v > 0]
    if positive and max(positive) / min(positive) > 50:
        ax.set_yscale("log")
    ax.set_xlabel(t("common.epoch", lang))
    ax.set_ylabel(t("common.loss", lang))
    ax.set_title(t("report.compare.figure_title", lang))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return localize(fig, lang)


def _pdf(runs: Sequence[RunFolder], path: Path, lang: str, figure_image) -> None:
    from zoo.reporting.layout import Page, pdf_pages

    plt = pyplot()
    with pdf_pages(path, {"Title": t("report.compare.title", lang)}) as pdf:
        page = Page(plt, landscape=True, lang=lang)
        page.heading(t("report.compare.title", lang))
        page.table(_cells(runs, lang, wrap=True), _header(lang), widths=WIDTHS, size=7.5)
        for i, run in enumerate(runs, start=1):
            page.text(f"{i}. {run.path}", size=7, color="0.35")
        page.image(figure_image)
        pdf.savefig(page.fig)
        plt.close(page.fig)


def common_folder(runs: Sequence[RunFolder]) -> Path:
    """The folder holding the runs (their common parent), where the table goes by default."""
    parents = sorted({str(run.path.resolve().parent) for run in runs})
    try:
        folder = Path(os.path.commonpath(parents))
    except ValueError:  # different drives
        folder = Path(Path(parents[0]).anchor)
    if folder == Path(folder.anchor):  # runs from unrelated places: not into / itself
        listed = ", ".join(parents)
        raise OptionError("out", f"the runs are in unrelated folders ({listed}); name one")
    return folder


def output_paths(
    runs: Sequence[RunFolder], fmt: str, out: str | Path | None, force: bool = False
) -> tuple[Path, Path]:
    """Where the table and the figure go: `out` as a file or folder, or beside the run folders.

    A default name that is taken gets a number (comparison-2.md): an earlier table is kept.
    A file named by `out` is replaced only with `force`; nothing is written into a run folder.
    """
    if out is None or Path(out).is_dir() or not Path(out).suffix:
        folder = common_folder(runs) if out is None else Path(out)
        table_path = next(
            folder / f"{stem}.{fmt}"
            for stem in (STEM if n == 1 else f"{STEM}-{n}" for n in range(1, 100_000))
            if not (folder / f"{stem}.{fmt}").exists()
            and not (folder / f"{stem}_test_loss.png").exists()
        )
    else:
        out = Path(out)
        suffix = out.suffix.lstrip(".").lower()
        # a file of another kind (notes.txt, a script) is not overwritten with a table
        if suffix not in TABLE_FORMATS:
            formats = ", ".join(f".{f}" for f in TABLE_FORMATS[:-1]) + f" or .{TABLE_FORMATS[-1]}"
            raise OptionError("out", f"{out.name!r} is not a {formats} file (nor a folder)")
        if suffix != fmt:
            raise OptionError("out", f"{out.name!r} does not end in .{fmt} as `fmt={fmt!r}`")
        folder, table_path = out.parent, out
    figure_path = table_path.with_name(f"{table_path.stem}_test_loss.png")
    if (folder / CONFIG).exists():
        raise OptionError("out", f"{str(folder)!r} is a run folder: its files are the run's own")
    for path in (table_path, figure_path):
        refuse_overwrite(path, "out", force)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OptionError("out", f"cannot make folder {str(folder)!r}: {err.strerror}") from None
    reason = cannot_write(folder)
    if reason:
        whose = "" if out is not None else "the runs' folder "
        raise OptionError("out", f"cannot write into {whose}{str(folder)!r}: {reason}")
    return table_path, figure_path


def write_comparison(
    run_dirs: Sequence[str | Path],
    *,
    fmt: str | None = None,
    out: str | Path | None = None,
    lang: str = "en",
    force: bool = False,
) -> tuple[str, list[Path]]:
    """Write the final table (md, csv, tex or pdf) and the test-loss figure.

    `fmt` defaults to the suffix of `out`, else md; `force` replaces a file `out` names.
    Returns (the table in Markdown, paths written).
    """
    from zoo.reporting.layout import figure_image, figure_png

    table(lang)
    if fmt is None:
        suffix = Path(out).suffix.lstrip(".").lower() if out else ""
        fmt = suffix if suffix in TABLE_FORMATS else "md"
    if fmt not in TABLE_FORMATS:
        raise OptionError("fmt", f"{fmt!r} is not one of {', '.join(TABLE_FORMATS)}")
    if not run_dirs:
        raise OptionError("run_dirs", "give at least one run folder")
    runs = [read_run_folder(d) for d in run_dirs]
    table_path, figure_path = output_paths(runs, fmt, out, force)
    with drawing():
        fig = test_loss_figure(runs, lang)
        image = figure_image(fig) if fmt == "pdf" else None
        write_bytes(figure_path, figure_png(fig, DPI))
        if fmt == "pdf":
            with atomic_path(table_path) as part:
                _pdf(runs, part, lang, image)
        else:
            text = {"md": markdown, "tex": latex}.get(fmt)
            write_text(table_path, text(runs, lang) if text else csv_text(runs))
    return markdown(runs, lang), [table_path, figure_path]


def final_table(
    runs: Sequence[RunFolder], lang: str = "en", wrap: bool = False
) -> tuple[list[str], list[list[str]]]:
    """The table's header and cells as text, as the Markdown, LaTeX and PDF tables show them
    (`wrap`: two lines per long cell, for a page)."""
    return _header(lang), _cells(runs, lang, wrap)
