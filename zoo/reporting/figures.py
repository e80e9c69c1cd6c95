"""The run's standard figures, each a matplotlib Figure built from plain arrays.

Used by the trainer (run folder) and by `zoo report` (from the run folder alone).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from zoo.i18n import decimal, t
from zoo.reporting.plot import DPI, PAGE_TEXT, PAGE_WIDTH, pyplot

# Figures are made at the resolution they are drawn at (dpi=DPI), so the text tight_layout
# measures is not measured again when the PNG is drawn.


def _column(history: Sequence[dict], key: str) -> np.ndarray:
    values = [row.get(key) for row in history]
    return np.array([np.nan if v in (None, "") else float(v) for v in values], dtype=float)


def learning_curves(
    history: Sequence[dict],
    *,
    best_epoch: int | None = None,
    lang: str = "en",
    eval_label: str = "common.test",
    title: str | None = None,
):
    """Loss (and accuracy, when there is one) per epoch, train vs test, best epoch marked."""
    plt = pyplot()
    epochs = _column(history, "epoch")
    acc = _column(history, "accuracy")
    panels = [("loss", "common.loss")]
    if np.isfinite(acc).any():
        panels.append(("accuracy", "common.accuracy"))
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False, dpi=DPI)
    for ax, (key, label) in zip(axes[0], panels, strict=True):
        ax.plot(epochs, _column(history, key), label=t("common.train", lang), color="tab:blue")
        val = _column(history, f"val_{key}")
        if np.isfinite(val).any():
            ax.plot(epochs, val, label=t(eval_label, lang), color="tab:orange")
        if best_epoch:
            ax.axvline(
                best_epoch,
                color="grey",
                linestyle="--",
                linewidth=1,
                label=t("common.best_epoch", lang, epoch=best_epoch),
            )
        ax.set_xlabel(t("common.epoch", lang))
        ax.set_ylabel(t(label, lang))
        if key == "loss" and len(epochs) > 1:
            # a loss spanning decades reads better on a log axis (all-NaN if it diverged at once)
            values = _column(history, key)
            finite = values[np.isfinite(values)]
            if finite.size and finite.min() > 0 and finite.max() / finite.min() > 50:
                ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title or t("common.learning_curves", lang))
    fig.tight_layout()
    return fig


def rate_changes(history: Sequence[dict]) -> bool:
    """Whether the learning rate in the history moved (a schedule or a plateau cut)."""
    rates = _column(history, "lr")
    rates = rates[np.isfinite(rates)]
    return rates.size > 1 and not np.allclose(rates, rates[0], rtol=1e-6, atol=0)


def learning_rate_curve(history: Sequence[dict], *, lang: str = "en", log: bool = True):
    """The rate each epoch's updates used (its mean over the epoch), per epoch; on a log axis
    when `log` and the rate falls more than tenfold (a cosine reads better on a linear one)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.2))
    epochs, rates = _column(history, "epoch"), _column(history, "lr")
    ax.plot(epochs, rates, color="tab:green", marker="." if len(epochs) <= 60 else None)
    finite = rates[np.isfinite(rates) & (rates > 0)]
    if log and finite.size and finite.max() / finite.min() > 10:
        ax.set_yscale("log")
    ax.set_xlabel(t("common.epoch", lang))
    ax.set_ylabel(t("report.lr_axis", lang))
    ax.set_title(t("report.lr_title", lang))
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def generalization_gap(
    history: Sequence[dict],
    *,
    best_epoch: int | None = None,
    lang: str = "en",
    eval_label: str = "common.test",
):
    """Per epoch: train − test accuracy and test − train loss (how much worse the model
    does on data it has not seen), the best epoch marked."""
    plt = pyplot()
    epochs = _column(history, "epoch")
    eval_name = t(eval_label, lang).lower()
    panels = []
    acc_gap = _column(history, "accuracy") - _column(history, "val_accuracy")
    if np.isfinite(acc_gap).any():
        panels.append((acc_gap, t("report.gap_axis_accuracy", lang, eval=eval_name)))
    loss_gap = _column(history, "val_loss") - _column(history, "loss")
    panels.append((loss_gap, t("report.gap_axis_loss", lang, eval=eval_name)))
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 3.6), squeeze=False)
    for ax, (gap, label) in zip(axes[0], panels, strict=True):
        ax.plot(epochs, gap, color="tab:purple")
        ax.axhline(0.0, color="black", linewidth=0.8)
        if best_epoch:
            ax.axvline(
                best_epoch,
                color="grey",
                linestyle="--",
                linewidth=1,
                label=t("common.best_epoch", lang, epoch=best_epoch),
            )
            ax.legend()
        ax.set_xlabel(t("common.epoch", lang))
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    fig.suptitle(t("report.gap_title", lang))
    fig.tight_layout()
    return fig


def confusion_matrix_figure(
    matrix: Sequence[Sequence[int]],
    class_names: Sequence[str],
    *,
    lang: str = "en",
    title: str | None = None,
):
    """Counts and row-normalised fractions side by side (rows: true class)."""
    plt = pyplot()
    counts = np.asarray(matrix, dtype=float)
    rows = counts.sum(axis=1, keepdims=True)
    normalised = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
    k = len(class_names)
    size = max(3.2, 0.36 * k + 1.6)  # a cell of 0.36 in holds "0.00" at 9 pt
    width = 2 * size + 1
    # the page shrinks the figure to its width: the texts are set so that they stay readable
    fontsize = max(10.0, round(PAGE_TEXT / min(1.0, PAGE_WIDTH / width) + 0.5))
    fig, axes = plt.subplots(1, 2, figsize=(width, size), dpi=DPI)
    for ax, values, spec in ((axes[0], counts, ".0f"), (axes[1], normalised, ".2f")):
        # "auto": the axes fill their place, so tight_layout sees where the labels will be (an
        # equal aspect shrank them after the layout, and the x label fell off the figure)
        image = ax.imshow(values, cmap="Blues", vmin=0, aspect="auto")
        bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
        bar.ax.tick_params(labelsize=fontsize)
        tilt = k > 3 and max(len(str(n)) for n in class_names) > 2  # "0".."9" stand upright
        ax.set_xticks(
            range(k), class_names, rotation=45 if tilt else 0, ha="right" if tilt else "center"
        )
        ax.set_yticks(range(k), class_names)
        ax.tick_params(labelsize=fontsize)
        ax.set_xlabel(t("common.predicted", lang), fontsize=fontsize)
        ax.set_ylabel(t("common.true", lang), fontsize=fontsize)
        # The numbers sit inside their cells, so the layout need not measure them: each
        # figure builds in 93 ms against 140-171 (the same pixels); CIFAR-10's report has two
        if k <= 10:  # beyond, the numbers would not fit their cells: the colours tell
            high = values.max() / 2 if values.max() > 0 else 1
            for i in range(k):
                for j in range(k):
                    ax.text(
                        j,
                        i,
                        decimal(values[i, j], spec, lang),
                        ha="center",
                        va="center",
                        fontsize=min(fontsize, 9 if k > 6 else 10),
                        color="white" if values[i, j] > high else "black",
                    ).set_in_layout(False)
    fig.suptitle(title or t("common.confusion_matrix", lang), fontsize=fontsize + 2)
    fig.tight_layout()
    return fig


def _all_points(x_train: np.ndarray, x_test: np.ndarray | None) -> np.ndarray:
    """Train and test inputs together: the range a figure of the input space must cover."""
    return x_train if x_test is None else np.concatenate([x_train, x_test])


def decision_boundary(
    predict: Callable[[np.ndarray], np.ndarray],
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    *,
    class_names: Sequence[str] = (),
    lang: str = "en",
    resolution: int = 200,
):
    """Predicted class over the plane of two input features, with train (o) and test (x) points.

    `predict` maps an (n, 2) array to class indices.
    """
    plt = pyplot()
    points = _all_points(x_train, x_test)
    lo, hi = points.min(axis=0), points.max(axis=0)
    pad = (hi - lo) * 0.1 + 1e-9
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)
    grid = np.c_[grid_x.ravel(), grid_y.ravel()].astype("float32")
    zz = np.asarray(predict(grid)).reshape(grid_x.shape)
    k = max(len(class_names), int(max(y_train.max(), zz.max())) + 1)
    cmap = plt.get_cmap("tab10" if k <= 10 else "tab20")
    fig, ax = plt.subplots(figsize=(6, 5.5), dpi=DPI)
    ax.contourf(
        grid_x,
        grid_y,
        zz,
        levels=np.arange(k + 1) - 0.5,
        cmap=cmap,
        alpha=0.25,
        vmin=-0.5,
        vmax=cmap.N - 0.5,
    )
    for c in range(k):
        name = class_names[c] if c < len(class_names) else str(c)
        color = cmap(c)
        mask = y_train == c
        ax.scatter(
            x_train[mask, 0],
            x_train[mask, 1],
            s=14,
            color=color,
            edgecolor="k",
            linewidth=0.3,
            label=f"{name} ({t('common.train', lang)})",
        )
        if x_test is not None:
            mask = y_test == c
            ax.scatter(
                x_test[mask, 0],
                x_test[mask, 1],
                s=22,
                color=color,
                marker="x",
                label=f"{name} ({t('common.test', lang)})",
            )
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    ax.legend(fontsize=7, loc="best")
    ax.set_title(t("common.decision_boundary", lang))
    fig.tight_layout()
    return fig


def regression_fit(
    predict: Callable[[np.ndarray], np.ndarray],
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    *,
    lang: str = "en",
):
    """A 1-D regression: the points and the model's curve."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.5), dpi=DPI)
    ax.scatter(x_train[:, 0], y_train, s=8, alpha=0.6, label=t("common.train", lang))
    if x_test is not None:
        ax.scatter(x_test[:, 0], y_test, s=8, alpha=0.6, marker="x", label=t("common.test", lang))
    points = _all_points(x_train, x_test)
    xs = np.linspace(points[:, 0].min(), points[:, 0].max(), 400).reshape(-1, 1).astype("float32")
    ax.plot(xs[:, 0], np.ravel(predict(xs)), color="k", linewidth=2, label=t("common.model", lang))
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig
