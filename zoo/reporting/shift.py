"""`zoo shift`'s files: shift.json, shift_curves.png (accuracy along x and along y, every run
on one figure) and shift_heatmaps.png (accuracy over the (dx, dy) grid, one map per run).

The accuracies are computed by `zoo.evaluation.shift`; here each run's network is described
(from its config.json) and the results are drawn and written:

    >>> result, paths = write_shift(["reports/mlp-a", "reports/cnn-b"], max_shift=8)
    ...                                                                 # doctest: +SKIP
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from zoo.errors import OptionError
from zoo.evaluation.shift import shift_accuracy
from zoo.files import free_path, refuse_overwrite, write_bytes, write_json
from zoo.i18n import t, table
from zoo.reporting.model_table import network_string, totals
from zoo.reporting.plot import DPI, drawing, localize, pyplot
from zoo.runfolder import CONFIG, RunFolder, read_run_folder

STEM = "shift"


def described(result: dict, runs: Sequence[RunFolder]) -> dict:
    """`result` (`shift_accuracy` of `runs`) with each run's network and its connections, as
    the labs' tables name them."""
    entries = []
    for entry, run in zip(result["runs"], runs, strict=True):
        layers = run.config.get("layers") or []
        network = {"network": network_string(layers), "connections": totals(layers)["connections"]}
        entries.append({**entry, **network})
    return {**result, "runs": entries}


def _label(i: int, run: dict) -> str:
    name = f"{i}. {run['comment'] or run['model']}"
    return f"{name} ({run['network']})" if run.get("network") else name


def curves_figure(result: dict, lang: str = "en"):
    """Accuracy against the shift along x (dy = 0) and along y (dx = 0), every run."""
    plt = pyplot()
    legend = 0.2 * len(result["runs"]) + 0.15  # inches below the axes: a line per run
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2 + legend), sharey=True)
    shifts = result["shifts"]
    for i, run in enumerate(result["runs"], start=1):
        for ax, key in zip(axes, ("x_curve", "y_curve"), strict=True):
            ax.plot(shifts, run[key], marker="o", markersize=3, label=_label(i, run))
    for ax, axis in zip(axes, ("x", "y"), strict=True):
        ax.set_xlabel(t(f"shift.axis_{axis}", lang))
        ax.axvline(0, color="0.7", linewidth=0.8)
        ax.grid(alpha=0.3)
        ax.set_ylim(0, 1.02)
    axes[0].set_ylabel(t("shift.accuracy", lang))
    # below both axes, where no curve can hide under it
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", fontsize=8, frameon=False)
    fig.suptitle(t("shift.curves_title", lang))
    fig.tight_layout(rect=(0, legend / fig.get_size_inches()[1], 1, 1))
    return localize(fig, lang)


def heatmaps_figure(result: dict, lang: str = "en"):
    """One map per run: accuracy at each (dx, dy), on one colour scale."""
    plt = pyplot()
    runs = result["runs"]
    m = result["max_shift"]
    fig, axes = plt.subplots(1, len(runs), figsize=(3.8 * len(runs) + 1, 3.9), squeeze=False)
    image = None
    for ax, (i, run) in zip(axes[0], enumerate(runs, start=1), strict=True):
        edges = (-m - 0.5, m + 0.5, m + 0.5, -m - 0.5)  # dx left to right, dy top to bottom
        image = ax.imshow(np.asarray(run["accuracy"]), extent=edges, vmin=0, vmax=1, cmap="viridis")
        ax.set_title(textwrap.fill(_label(i, run), 48), fontsize=7)
        ax.set_xlabel("dx")
        ax.set_ylabel("dy")
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.85, label=t("shift.accuracy", lang))
    fig.suptitle(t("shift.heatmaps_title", lang))
    return localize(fig, lang)


def summary_rows(result: dict, lang: str = "en") -> tuple[list[str], list[list[str]]]:
    """Header and rows: per run, accuracy unshifted, at -max / +max along x and y, the mean."""
    m = result["max_shift"]
    keys = ("run", "network", "params", "unshifted", "x", "y", "mean")
    header = [t(f"shift.col.{k}", lang, max=m) for k in keys]

    def ends(curve):
        return f"{100 * curve[0]:.1f}% / {100 * curve[-1]:.1f}%"

    rows = [
        [
            f"{i}. {run.get('comment') or run.get('model')}",
            run.get("network", ""),
            str(run.get("params")),
            f"{100 * run['unshifted']:.1f}%",
            ends(run["x_curve"]),
            ends(run["y_curve"]),
            f"{100 * run['mean']:.1f}%",
        ]
        for i, run in enumerate(result["runs"], start=1)
    ]
    return header, rows


def summary(result: dict, lang: str = "en") -> str:
    """`summary_rows` as a Markdown table, then which folder each run is."""
    header, rows = summary_rows(result, lang)
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    lines += [""] + [f"{i}. {run['run']}" for i, run in enumerate(result["runs"], start=1)]
    return "\n".join(lines) + "\n"


def write_shift(
    run_dirs: Sequence[str | Path],
    *,
    max_shift: int = 8,
    out: str | Path | None = None,
    lang: str = "en",
    data_dir: str | None = None,
    force: bool = False,
) -> tuple[dict, list[Path]]:
    """shift.json, shift_curves.png, shift_heatmaps.png in `out` (a folder; by default the one
    holding the runs, with numbered names when taken). Returns (the result, paths written)."""
    from zoo.reporting.compare import common_folder
    from zoo.reporting.layout import figure_png

    table(lang)
    if not run_dirs:
        raise OptionError("run_dirs", "give at least one run folder")
    runs = [read_run_folder(d) for d in run_dirs]
    folder = common_folder(runs) if out is None else Path(out)
    if folder.exists() and not folder.is_dir():
        raise OptionError("out", f"{str(folder)!r} is a file; give a folder")
    if (folder / CONFIG).exists():
        raise OptionError("out", f"{str(folder)!r} is a run folder: its files are the run's own")
    names = (f"{STEM}.json", f"{STEM}_curves.png", f"{STEM}_heatmaps.png")
    if out is None:  # numbered like comparison-2.md: an earlier result is kept
        paths = [free_path(folder / names[0])]
        stem = paths[0].stem
        paths += [folder / f"{stem}_curves.png", folder / f"{stem}_heatmaps.png"]
    else:
        paths = [folder / name for name in names]
        for path in paths:
            refuse_overwrite(path, "out", force)
    result = described(shift_accuracy([run.path for run in runs], max_shift, data_dir), runs)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OptionError("out", f"cannot make folder {str(folder)!r}: {err.strerror}") from None
    with drawing():
        write_json(paths[0], result)
        write_bytes(paths[1], figure_png(curves_figure(result, lang), DPI))
        write_bytes(paths[2], figure_png(heatmaps_figure(result, lang), DPI))
    return result, paths
