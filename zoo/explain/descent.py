"""Batch against per-sample gradient descent for one linear neuron on the lecture's dataset-1.

dataset-1 is `gaussians`: 100 examples, two 2-D Gaussian classes. The neuron outputs
y = w1·x1 + w2·x2 + b and is fitted to the class (0 or 1) by the mean squared error
E = 1/N·Σ (y_i − t_i)². Batch descent makes one update per epoch with the whole gradient;
per-sample (stochastic) descent makes N updates per epoch, one example at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zoo.errors import OptionError
from zoo.explain.output import new_figure, save_figure, text, vector

DRAWABLE = 1e100  # larger errors are not drawn: near float64's limit a log axis overflows
START = (-1.0, 1.5, 0.0)  # w1, w2, b: away from the optimum along the error surface's valley


def dataset_1(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """All 100 examples of `gaussians` (train and test together) as (X with a bias column, t)."""
    from zoo.datasets.registry import load_dataset

    data = load_dataset("gaussians", seed=seed)
    x = np.concatenate([data.x_train, data.x_test]).astype(np.float64)
    t = np.concatenate([data.y_train, data.y_test]).astype(np.float64)
    return np.column_stack([x, np.ones(len(x))]), t


def mse(theta: np.ndarray, xb: np.ndarray, t: np.ndarray) -> np.ndarray:
    """E for one parameter vector (w1, w2, b) or for a stack of them (..., 3)."""
    residual = np.asarray(theta) @ xb.T - t
    return np.mean(residual**2, axis=-1)


def gradient(theta: np.ndarray, xb: np.ndarray, t: np.ndarray) -> np.ndarray:
    """∇E = 2/N·Xᵀ(X·θ − t); with one row of X it is the per-sample gradient."""
    return 2.0 / len(xb) * xb.T @ (xb @ theta - t)


def optimum(xb: np.ndarray, t: np.ndarray) -> np.ndarray:
    """The least-squares weights, where ∇E = 0."""
    return np.linalg.lstsq(xb, t, rcond=None)[0]


def check_positive(value: float, option: str) -> float:
    if not np.isfinite(value) or value <= 0:
        raise OptionError(option, f"must be a positive number, got {value}")
    return float(value)


@dataclass
class Descent:
    lr: float
    epochs: int
    samples: int
    start: list[float]
    optimum: list[float]  # w1, w2, b
    optimum_error: float
    batch_path: list[list[float]]  # (w1, w2, b) after each update: epochs + 1 rows
    batch_errors: list[float]
    sample_path: list[list[float]]  # epochs·N + 1 rows
    sample_errors: list[float]
    seed: int = 0  # of the dataset and of the per-sample order

    def epoch_errors(self, kind: str) -> list[float]:
        """The error at the end of each epoch (index 0: the start)."""
        if kind == "batch":
            return self.batch_errors
        return self.sample_errors[:: self.samples]


def descent(
    lr: float = 0.05, epochs: int = 20, seed: int = 0, start: Sequence[float] = START
) -> Descent:
    """Run both descents from `start` with the same rate for `epochs` epochs."""
    lr = check_positive(lr, "lr")
    if epochs < 1:
        raise OptionError("epochs", f"must be at least 1, got {epochs}")
    start = np.asarray(start, dtype=np.float64)
    if start.shape != (3,) or not np.all(np.isfinite(start)):
        raise OptionError("start", "give w1,w2,b as three numbers")
    xb, t = dataset_1(seed)
    rng = np.random.default_rng(seed)

    with np.errstate(over="ignore", invalid="ignore"):  # a diverging descent overflows
        theta = start.copy()
        batch_path = [theta.copy()]
        for _ in range(epochs):
            theta = theta - lr * gradient(theta, xb, t)
            batch_path.append(theta.copy())

        theta = start.copy()
        sample_path = [theta.copy()]
        for _ in range(epochs):
            for i in rng.permutation(len(xb)):  # a fresh order every epoch
                theta = theta - lr * gradient(theta, xb[i : i + 1], t[i : i + 1])
                sample_path.append(theta.copy())

        best = optimum(xb, t)
        batch_path, sample_path = np.array(batch_path), np.array(sample_path)
        return Descent(
            lr=lr,
            epochs=epochs,
            samples=len(xb),
            start=start.tolist(),
            optimum=best.tolist(),
            optimum_error=float(mse(best, xb, t)),
            batch_path=batch_path.tolist(),
            batch_errors=mse(batch_path, xb, t).tolist(),
            sample_path=sample_path.tolist(),
            sample_errors=mse(sample_path, xb, t).tolist(),
            seed=seed,
        )


def _report_epochs(epochs: int) -> list[int]:
    return sorted({e for e in (0, 1, 2, 3, 5, *range(10, epochs + 1, 10), epochs) if e <= epochs})


def describe(result: Descent, lang: str = "en") -> str:
    batch, sample = result.epoch_errors("batch"), result.epoch_errors("sample")
    lines = [
        text(
            "descent.header",
            lang,
            n=result.samples,
            lr=f"{result.lr:g}",
            start=vector(result.start),
        ),
        text(
            "descent.optimum",
            lang,
            weights=vector(result.optimum),
            error=f"{result.optimum_error:.6f}",
        ),
        f"  {text('descent.epoch', lang):>6} {text('descent.batch', lang):>12} "
        f"{text('descent.sample', lang):>12}",
    ]
    for e in _report_epochs(result.epochs):
        lines.append(f"  {e:>6} {batch[e]:>12.6f} {sample[e]:>12.6f}")
    lines += [
        text(
            "descent.final",
            lang,
            kind=text("descent.batch", lang),
            weights=vector(result.batch_path[-1]),
        ),
        text(
            "descent.final",
            lang,
            kind=text("descent.sample", lang),
            weights=vector(result.sample_path[-1]),
        ),
    ]
    return "\n".join(lines)


def _drawable(errors) -> np.ndarray:
    """Errors as floats, NaN (not drawn) where overflowed or past DRAWABLE."""
    e = np.asarray(errors, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(e) & (e <= DRAWABLE), e, np.nan)


def plot(result: Descent, folder: Path, fmt: str = "png", lang: str = "en") -> list[Path]:
    """Both weight paths over the error's contour lines, and the error per update."""
    xb, t = dataset_1(result.seed)
    # A diverging descent is drawn until it leaves the drawable range, then breaks off
    batch_errors = _drawable(result.batch_errors)
    sample_errors = _drawable(result.sample_errors)
    batch = np.where(np.isnan(batch_errors)[:, None], np.nan, np.array(result.batch_path))
    sample = np.where(np.isnan(sample_errors)[:, None], np.nan, np.array(result.sample_path))
    best = np.array(result.optimum)
    points = np.vstack([batch[:, :2], sample[:, :2], best[None, :2]])
    low, high = np.nanmin(points, axis=0), np.nanmax(points, axis=0)
    pad = 0.15 * (high - low) + 0.1
    w1 = np.linspace(low[0] - pad[0], high[0] + pad[0], 120)
    w2 = np.linspace(low[1] - pad[1], high[1] + pad[1], 120)
    g1, g2 = np.meshgrid(w1, w2)
    # The surface is drawn with the bias at its optimum: a slice of the 3-D error surface
    grid = np.stack([g1, g2, np.full_like(g1, best[2])], axis=-1)
    surface = mse(grid, xb, t)

    fig, axes = new_figure(ncols=2)
    ax, ax_err = axes[0]
    levels = (
        result.optimum_error
        + (surface.max() - result.optimum_error) * np.linspace(0, 1, 16)[1:] ** 2
    )
    contour = ax.contour(g1, g2, surface, levels=levels, colors="grey", linewidths=0.7)
    ax.clabel(contour, fontsize=6, fmt="%.2f")
    ax.plot(
        sample[:, 0],
        sample[:, 1],
        "-",
        color="tab:orange",
        lw=0.7,
        alpha=0.8,
        label=text("descent.sample", lang),
    )
    ax.plot(
        batch[:, 0],
        batch[:, 1],
        "o-",
        color="tab:blue",
        ms=3,
        lw=1.5,
        label=text("descent.batch", lang),
    )
    ax.plot(*best[:2], "k*", ms=12, label=text("descent.optimum_label", lang))
    ax.set_xlabel("w1")
    ax.set_ylabel("w2")
    ax.set_title(text("descent.paths_title", lang, b=f"{best[2]:.2f}"))
    ax.legend(fontsize=8)

    ax_err.plot(
        np.arange(len(result.sample_errors)) / result.samples,
        sample_errors,
        color="tab:orange",
        lw=0.8,
        label=text("descent.sample", lang),
    )
    ax_err.plot(
        np.arange(len(result.batch_errors)),
        batch_errors,
        "o-",
        color="tab:blue",
        ms=3,
        label=text("descent.batch", lang),
    )
    ax_err.axhline(
        result.optimum_error, color="k", ls="--", lw=0.8, label=text("descent.optimum_label", lang)
    )
    ax_err.set_yscale("log")
    ax_err.set_xlabel(text("descent.epoch", lang))
    ax_err.set_ylabel("E")
    ax_err.set_title(text("descent.errors_title", lang))
    ax_err.legend(fontsize=8)
    ax_err.grid(alpha=0.3)
    return [save_figure(fig, folder, "descent", fmt)]
