"""Figures of the data and of a regression's answers, each a matplotlib Figure from plain arrays.

>>> fig = class_counts_figure({"train": [500, 500, 500], "test": [100, 100, 100]},
...                           ["apple", "otter", "pickup_truck"], lang="ru")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from zoo.i18n import t
from zoo.reporting.plot import pyplot

SPLIT_COLORS = {"train": "tab:blue", "test": "tab:orange"}


def class_counts_figure(
    counts: Mapping[str, Sequence[int]], class_names: Sequence[str], *, lang: str = "en"
):
    """Examples per class, one bar per split ("train", "test"), the count above each bar."""
    plt = pyplot()
    k = len(class_names)
    fig, ax = plt.subplots(figsize=(max(5.5, 0.55 * k + 2), 3.6))
    splits = [s for s in ("train", "test") if s in counts]
    width = 0.8 / max(1, len(splits))
    x = np.arange(k)
    for i, split in enumerate(splits):
        values = np.asarray(counts[split], dtype=float)
        bars = ax.bar(
            x + (i - (len(splits) - 1) / 2) * width,
            values,
            width,
            label=f"{t('common.' + split, lang)} ({int(values.sum())})",
            color=SPLIT_COLORS[split],
        )
        if k <= 12:
            ax.bar_label(bars, fmt="%d", fontsize=8)
    tilt = k > 4 and max(len(str(n)) for n in class_names) > 2  # "0".."9" stand upright
    ax.set_xticks(x, class_names, rotation=30 if tilt else 0, ha="right" if tilt else "center")
    ax.set_ylabel(t("report.examples", lang))
    ax.set_title(t("report.class_counts", lang))
    ax.margins(y=0.15)
    # the legend sits in a band above the tallest bar, where it covers none
    ax.set_ylim(top=ax.get_ylim()[1] * 1.2)
    ax.legend(loc="upper center", ncols=max(1, len(splits)), fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return fig


def points_figure(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    *,
    class_names: Sequence[str] = (),
    lang: str = "en",
):
    """The data themselves: 2-D points coloured by class (train o, test x), or y against x for
    a one-feature set (regression, or a 1-D classification)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.8))
    one_d = x_train.ndim == 1 or x_train.shape[1] == 1
    if not class_names:  # regression: the target against the single feature
        for x, y, split, marker in (
            (x_train, y_train, "train", "o"),
            (x_test, y_test, "test", "x"),
        ):
            ax.scatter(
                np.ravel(x[:, 0] if x.ndim > 1 else x),
                y,
                s=10,
                marker=marker,
                alpha=0.7,
                color=SPLIT_COLORS[split],
                label=t(f"common.{split}", lang),
            )
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    else:
        cmap = plt.get_cmap("tab10" if len(class_names) <= 10 else "tab20")
        for c, name in enumerate(class_names):
            for x, y, split, marker in (
                (x_train, y_train, "train", "o"),
                (x_test, y_test, "test", "x"),
            ):
                pts = x[np.asarray(y) == c]
                xs = pts[:, 0] if pts.ndim > 1 else pts
                ys = np.zeros_like(xs) if one_d else pts[:, 1]
                ax.scatter(
                    xs,
                    ys,
                    s=14,
                    marker=marker,
                    color=cmap(c),
                    edgecolor="k" if marker == "o" else None,
                    linewidth=0.3,
                    label=f"{name} ({t(f'common.{split}', lang)})",
                )
        ax.set_xlabel("x₁")
        ax.set_ylabel("" if one_d else "x₂")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    ax.set_title(t("report.data_points", lang))
    fig.tight_layout()
    return fig


def target_histogram(y_train: np.ndarray, y_test: np.ndarray, *, lang: str = "en"):
    """A regression target's distribution per split."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    both = np.concatenate([np.ravel(y_train), np.ravel(y_test)])
    bins = np.histogram_bin_edges(both[np.isfinite(both)], bins=20)
    for y, split in ((y_train, "train"), (y_test, "test")):
        ax.hist(
            np.ravel(y),
            bins=bins,
            alpha=0.6,
            color=SPLIT_COLORS[split],
            label=f"{t(f'common.{split}', lang)} ({np.size(y)})",
        )
    ax.set_xlabel(t("report.target", lang))
    ax.set_ylabel(t("report.examples", lang))
    ax.set_title(t("report.target_distribution", lang))
    ax.legend()
    fig.tight_layout()
    return fig


def predicted_vs_true(
    y_train: np.ndarray,
    p_train: np.ndarray,
    y_test: np.ndarray,
    p_test: np.ndarray,
    *,
    lang: str = "en",
):
    """A regression's predictions against the true targets; the diagonal is a perfect fit."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 5))
    for y, p, split, marker in ((y_train, p_train, "train", "o"), (y_test, p_test, "test", "x")):
        ax.scatter(
            np.ravel(y),
            np.ravel(p),
            s=10,
            marker=marker,
            alpha=0.7,
            color=SPLIT_COLORS[split],
            label=t(f"common.{split}", lang),
        )
    values = np.concatenate([np.ravel(a) for a in (y_train, p_train, y_test, p_test)])
    values = values[np.isfinite(values)]
    if values.size:
        lo, hi = values.min(), values.max()
        ax.plot([lo, hi], [lo, hi], color="k", linewidth=1)
    ax.set_xlabel(t("report.true_value", lang))
    ax.set_ylabel(t("report.predicted_value", lang))
    ax.set_title(t("report.predicted_vs_true", lang))
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig
