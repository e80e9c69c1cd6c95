"""A sweep's figures, drawn from its summary (run folders only):

- test_loss_curves.png: every configuration's test (validation) loss per epoch, the mean over
  seeds as a line and the seeds' range as a band;
- metrics_vs_NAME.png for each swept numeric option: train and test accuracy and loss against
  it, mean ± sd over seeds (against `hidden`: the bias-variance, or complexity, curve; against
  the batch size: batch vs mini-batch vs per-sample, plotted at each run's actual batch size);
- time_to_target.png when the batch size or the regime is swept: the seconds each took to
  reach the same training loss;
- heatmap_A_B.png for exactly two swept options: the mean test accuracy (loss) of each pair.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np

from zoo.i18n import t
from zoo.reporting.plot import pyplot
from zoo.sweeps.spec import flag_name, value_text
from zoo.sweeps.summary import Row, SweepSummary

BATCH_OPTIONS = ("batch_size", "mode")  # swept: compared at the batch size each run used
MAX_LABEL = 40


def _label(row: Row) -> str:
    conf = row.configuration
    text = f"{conf.number}. {conf.label}"
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _colors(n: int):
    plt = pyplot()
    cmap = plt.get_cmap("tab10" if n <= 10 else "tab20" if n <= 20 else "viridis")
    if n <= 20:
        return [cmap(i) for i in range(n)]
    return [cmap(i / max(1, n - 1)) for i in range(n)]


def _curves(runs, column: str) -> np.ndarray:
    """Seeds × epochs of one history column, NaN where a run is shorter or not finite."""
    length = max((len(run.history) for run in runs), default=0)
    out = np.full((len(runs), length), np.nan)
    for i, run in enumerate(runs):
        values = run.column(column)
        epochs = run.column("epoch")
        for epoch, value in zip(epochs, values, strict=True):
            if math.isfinite(epoch) and 1 <= epoch <= length and math.isfinite(value):
                out[i, int(epoch) - 1] = value
    return out


def _nanmean(matrix: np.ndarray, axis: int = 0) -> np.ndarray:
    counts = np.sum(np.isfinite(matrix), axis=axis)
    sums = np.nansum(matrix, axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def test_loss_curves(summary: SweepSummary, lang: str = "en"):
    """Every configuration's test loss per epoch: mean over seeds, band from min to max."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.8))
    rows = [row for row in summary.rows if any(o.run is not None for o in row.outcomes)]
    positive = []
    for row, color in zip(rows, _colors(len(rows)), strict=False):
        runs = [o.run for o in row.outcomes if o.run is not None and o.run.history]
        if not runs:
            continue
        matrix = _curves(runs, "val_loss")
        if not np.isfinite(matrix).any():
            continue
        epochs = np.arange(1, matrix.shape[1] + 1)
        mean = _nanmean(matrix)
        ax.plot(epochs, mean, color=color, linewidth=1.5, label=_label(row))
        if len(runs) > 1:
            with warnings.catch_warnings():  # epochs no seed reached give NaN: no band there
                warnings.simplefilter("ignore", RuntimeWarning)
                low, high = np.nanmin(matrix, axis=0), np.nanmax(matrix, axis=0)
            ax.fill_between(epochs, low, high, color=color, alpha=0.18, linewidth=0)
        positive.extend(v for v in matrix[np.isfinite(matrix)].ravel() if v > 0)
    if positive and max(positive) / min(positive) > 50:
        ax.set_yscale("log")
    ax.set_xlabel(t("common.epoch", lang))
    ax.xaxis.set_major_locator(_integers())
    first = next((run for row in rows for run in row.runs), None)
    split = t(f"common.{first.eval_split if first else 'test'}", lang)
    ax.set_ylabel(f"{t('common.loss', lang)} ({split})")
    ax.set_title(t("sweep.figure.curves", lang))
    ax.grid(alpha=0.3)
    if ax.lines:
        ax.legend(fontsize=7 if len(rows) > 8 else 8, ncol=2 if len(rows) > 12 else 1)
    fig.tight_layout()
    return fig


def _integers():
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def _numeric(value) -> float | None:
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def numeric_options(summary: SweepSummary) -> list[str]:
    """Swept options whose values are numbers (`hidden` of one layer counts), in spec order;
    the batch size and the regime count once, as "batch_size"."""
    names = []
    for name in summary.swept:
        if name in BATCH_OPTIONS:
            if "batch_size" not in names:
                names.append("batch_size")
            continue
        values = [row.configuration.values.get(name) for row in summary.rows]
        numbers = [_numeric(v) for v in values if v is not None]
        if numbers and all(n is not None for n in numbers) and len(set(numbers)) > 1:
            names.append(name)
    return names


def _x_getter(name: str) -> Callable[[Row], float | None]:
    if name == "batch_size":  # what each run used: the whole set (batch), 1 (sample), or asked

        def effective(row: Row) -> float | None:
            sizes = [run.config.get("batch_size") for run in row.runs]
            sizes = [s for s in sizes if isinstance(s, int | float)]
            return float(sizes[0]) if sizes else None

        return effective
    return lambda row: _numeric(row.configuration.values.get(name))


def _groups(summary: SweepSummary, name: str) -> dict[str, list[Row]]:
    """Rows grouped by the values of the other swept options (one line per group)."""
    others = [n for n in summary.swept if n != name and not (name == "batch_size" and n == "mode")]
    groups: dict[str, list[Row]] = {}
    for row in summary.rows:
        values = row.configuration.values
        key = " ".join(f"{flag_name(n)}={value_text(values[n])}" for n in others if n in values)
        groups.setdefault(key, []).append(row)
    return groups


def metrics_against(summary: SweepSummary, name: str, lang: str = "en"):
    """Train and test accuracy (R²) and loss against one swept numeric option."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    x_of = _x_getter(name)
    groups = _groups(summary, name)
    colors = _colors(len(groups))
    xs_all = []
    for (group, rows), color in zip(groups.items(), colors, strict=True):
        points = sorted((x_of(row), row) for row in rows if x_of(row) is not None)
        if not points:
            continue
        xs = np.array([x for x, _ in points])
        xs_all.extend(xs.tolist())
        for ax, metric in zip(axes, summary.metrics, strict=True):
            for split, style in (("train", "--"), ("test", "-")):
                stats = [row.stats[f"{split}_{metric}"] for _, row in points]
                mean = np.array([np.nan if s.mean is None else s.mean for s in stats])
                sd = np.array([0.0 if s.sd is None else s.sd for s in stats])
                label = t(f"common.{split}", lang) + (f" ({group})" if group else "")
                ax.errorbar(
                    xs,
                    mean,
                    yerr=sd,
                    fmt="o" + style,
                    color=color,
                    capsize=3,
                    label=label,
                    linewidth=1.4,
                    markersize=4,
                    alpha=0.9 if split == "test" else 0.6,
                )
    positive = [x for x in xs_all if x > 0]
    for ax, metric in zip(axes, summary.metrics, strict=True):
        if positive and len(positive) == len(xs_all) and max(positive) / min(positive) > 20:
            from matplotlib.ticker import ScalarFormatter

            ax.set_xscale("log")
            ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.set_xlabel(flag_name(name))
        ax.set_ylabel(_metric_name(metric, lang))
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=7)
    fig.suptitle(t("sweep.figure.against", lang, name=flag_name(name)))
    fig.tight_layout()
    return fig


def _metric_name(metric: str, lang: str) -> str:
    return {"accuracy": t("common.accuracy", lang), "loss": t("common.loss", lang)}.get(
        metric, "R²"
    )


def time_to_target(summary: SweepSummary, lang: str = "en"):
    """Seconds of training each configuration took to first reach the same training loss:
    the spec's `target_loss`, else the lowest loss that every finished run reached. The first
    epoch counts as long as a typical one: its compile time is not the regime's."""
    target = summary.spec.options.get("target_loss")
    runs = [run for row in summary.rows for run in row.runs]
    if target is None:
        lows = [np.nanmin(run.column("loss")) for run in runs if run.history]
        lows = [v for v in lows if math.isfinite(v)]
        if not lows:
            return None
        target = max(lows)
    labels, means, sds = [], [], []
    for row in summary.rows:
        times = []
        for run in row.runs:
            loss, seconds = run.column("loss"), np.nan_to_num(run.column("seconds"))
            if len(seconds) > 1:  # the first epoch's seconds include compiling the program
                seconds[0] = float(np.median(seconds[1:]))
            reached = np.flatnonzero(loss <= target)
            if reached.size:
                times.append(float(np.sum(seconds[: reached[0] + 1])))
        if times:
            labels.append(_label(row))
            means.append(float(np.mean(times)))
            sds.append(float(np.std(times, ddof=1)) if len(times) > 1 else 0.0)
    if not labels:
        return None
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 0.9 + 0.42 * len(labels)))
    positions = np.arange(len(labels))
    ax.barh(positions, means, xerr=sds, color=_colors(len(labels)), capsize=3)
    ax.set_yticks(positions, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(t("sweep.seconds", lang))
    ax.set_title(t("sweep.figure.time_to_target", lang, target=f"{target:.4g}"))
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return fig


def heatmap(summary: SweepSummary, lang: str = "en"):
    """The mean test accuracy (a regression: loss) for each pair of two swept options."""
    a, b = summary.swept[:2]
    a_values = _distinct(row.configuration.values.get(a) for row in summary.rows)
    b_values = _distinct(row.configuration.values.get(b) for row in summary.rows)
    metric = "test_accuracy" if summary.task == "classification" else "test_loss"
    grid = np.full((len(a_values), len(b_values)), np.nan)
    for row in summary.rows:
        values = row.configuration.values
        if a in values and b in values:
            mean = row.stats[metric].mean
            i, j = a_values.index(values[a]), b_values.index(values[b])
            grid[i, j] = np.nan if mean is None else mean
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(1.6 + 1.1 * len(b_values), 1.4 + 0.6 * len(a_values)))
    cmap = plt.get_cmap("viridis" if metric == "test_accuracy" else "viridis_r")
    image = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, aspect="auto")
    ax.set_xticks(range(len(b_values)), [value_text(v) for v in b_values])
    ax.set_yticks(range(len(a_values)), [value_text(v) for v in a_values])
    ax.set_xlabel(flag_name(b))
    ax.set_ylabel(flag_name(a))
    finite = grid[np.isfinite(grid)]
    middle = (finite.min() + finite.max()) / 2 if finite.size else 0
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            if np.isfinite(grid[i, j]):
                dark = (grid[i, j] < middle) == (metric == "test_accuracy")
                ax.text(
                    j,
                    i,
                    f"{grid[i, j]:.3f}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if dark else "black",
                )
    fig.colorbar(image, ax=ax, shrink=0.9)
    what = t(
        "sweep.col.test_accuracy" if metric == "test_accuracy" else "sweep.col.test_loss", lang
    )
    ax.set_title(t("sweep.figure.heatmap", lang, metric=what), fontsize=10)
    fig.tight_layout()
    return fig


def _distinct(values) -> list:
    out = []
    for v in values:
        if v is not None and v not in out:
            out.append(v)
    return out


CAPTIONS = {  # a figure's file name starts with its kind
    "test_loss_curves": "sweep.caption.curves",
    "metrics_vs_": "sweep.caption.against",
    "time_to_target": "sweep.caption.time_to_target",
    "heatmap_": "sweep.caption.heatmap",
}


def caption(name: str, lang: str = "en") -> str:
    """What a figure shows, for the report's page that holds it."""
    key = next(key for prefix, key in CAPTIONS.items() if name.startswith(prefix))
    option = name.removeprefix("metrics_vs_") if name.startswith("metrics_vs_") else ""
    return t(key, lang, name=option)


def sweep_figures(summary: SweepSummary, lang: str = "en") -> dict:
    """name -> Figure, in the order the report shows them (only those that apply)."""
    figs = {}
    if any(row.runs for row in summary.rows):
        figs["test_loss_curves"] = test_loss_curves(summary, lang)
        for name in numeric_options(summary):
            figs[f"metrics_vs_{flag_name(name)}"] = metrics_against(summary, name, lang)
        if any(name in BATCH_OPTIONS for name in summary.swept):
            fig = time_to_target(summary, lang)
            if fig is not None:
                figs["time_to_target"] = fig
        if len(summary.swept) == 2 and all(
            len(_distinct(row.configuration.values.get(name) for row in summary.rows)) > 1
            for name in summary.swept
        ):
            a, b = summary.swept
            figs[f"heatmap_{flag_name(a)}_{flag_name(b)}"] = heatmap(summary, lang)
    return figs
