"""The learning rate of a quadratic error: η_opt = 1/λ_max, divergence past η_max = 2·η_opt.

For the linear neuron on dataset-1 the mean squared error is exactly quadratic in θ = (w1, w2, b)
with Hessian H = 2/N·XᵀX (X with a bias column). Full-batch descent multiplies the distance to the
optimum along each eigenvector of H by (1 − η·λ) per epoch: along the steepest direction
η = 1/λ_max gets there in one step, 1/λ_max < η < 2/λ_max overshoots and oscillates but
shrinks, and η > 2/λ_max grows without bound.

    >>> result = learning_rates(epochs=5)
    >>> abs(result.eta_opt * result.lambda_max - 1) < 1e-12
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zoo.errors import OptionError
from zoo.explain.descent import check_positive, dataset_1, gradient, mse, optimum
from zoo.explain.output import new_figure, save_figure, text, vector

FACTORS = (0.5, 1.0, 1.9, 2.1)


def hessian(xb: np.ndarray) -> np.ndarray:
    """The Hessian of E = 1/N·Σ (x·θ − t)²: 2/N·XᵀX, the same at every θ."""
    return 2.0 / len(xb) * xb.T @ xb


@dataclass
class LearningRates:
    eigenvalues: list[float]  # of the Hessian, ascending
    lambda_max: float
    eta_opt: float
    eta_max: float
    optimum: list[float]
    optimum_error: float
    factors: list[float]
    rates: list[float]
    errors: list[list[float]]  # per factor: E at the start and after each epoch
    steep: list[list[float]]  # per factor: (θ − θ*) along the top eigenvector, per epoch
    converged: list[bool]  # excess error below 1e-3 of the start's
    diverged: list[bool]  # error grew past the start's (or overflowed)
    oscillating: list[bool]  # the steepest component changes sign every epoch


def learning_rates(
    factors: Sequence[float] = FACTORS, epochs: int = 50, seed: int = 0
) -> LearningRates:
    """Exact η_opt and η_max, then full-batch descent from zero at each factor × η_opt."""
    factors = [check_positive(f, "factors") for f in factors]
    if not factors:
        raise OptionError("factors", "give at least one factor, e.g. 0.5,1,1.9,2.1")
    if epochs < 1:
        raise OptionError("epochs", f"must be at least 1, got {epochs}")
    xb, t = dataset_1(seed)
    eigenvalues, vectors = np.linalg.eigh(hessian(xb))
    lambda_max = float(eigenvalues[-1])
    top = vectors[:, -1]
    eta_opt = 1.0 / lambda_max
    best = optimum(xb, t)
    best_error = float(mse(best, xb, t))

    errors, steep, converged, diverged, oscillating = [], [], [], [], []
    for factor in factors:
        theta = np.zeros(3)
        path = [theta]
        with np.errstate(over="ignore", invalid="ignore"):  # a diverging run may overflow
            for _ in range(epochs):
                theta = theta - factor * eta_opt * gradient(theta, xb, t)
                path.append(theta)
            path = np.array(path)
            e = mse(path, xb, t)
            along = (path - best) @ top
        errors.append(e.tolist())
        steep.append(along.tolist())
        excess = e - best_error
        converged.append(bool(np.isfinite(e[-1]) and excess[-1] <= 1e-3 * excess[0]))
        diverged.append(bool(not np.isfinite(e[-1]) or e[-1] > e[0]))
        # At η_opt the steepest component is gone after one step: what is left is rounding
        # noise, whose sign means nothing
        visible = along[1:][np.abs(along[1:]) > 1e-9 * abs(along[0])]
        signs = np.sign(visible)
        oscillating.append(bool(len(signs) > 1 and np.all(signs[1:] * signs[:-1] < 0)))
    return LearningRates(
        eigenvalues=eigenvalues.tolist(),
        lambda_max=lambda_max,
        eta_opt=eta_opt,
        eta_max=2.0 * eta_opt,
        optimum=best.tolist(),
        optimum_error=best_error,
        factors=factors,
        rates=[f * eta_opt for f in factors],
        errors=errors,
        steep=steep,
        converged=converged,
        diverged=diverged,
        oscillating=oscillating,
    )


def outcome(result: LearningRates, i: int, lang: str = "en") -> str:
    """What the run at factor i did, in words."""
    if result.diverged[i]:
        return text("lr.diverges", lang)
    words = text("lr.converges", lang) if result.converged[i] else text("lr.slow", lang)
    if result.oscillating[i]:
        words += ", " + text("lr.oscillates", lang)
    return words


def describe(result: LearningRates, lang: str = "en") -> str:
    lines = [
        text("lr.hessian", lang, eigenvalues=vector(result.eigenvalues)),
        f"  λ_max = {result.lambda_max:.6f}",
        f"  η_opt = 1/λ_max = {result.eta_opt:.6f}",
        f"  η_max = 2/λ_max = {result.eta_max:.6f}",
        text("lr.table", lang, epochs=len(result.errors[0]) - 1),
    ]
    for i, (factor, rate, e) in enumerate(
        zip(result.factors, result.rates, result.errors, strict=True)
    ):
        lines.append(
            f"  {factor:>4g}·η_opt = {rate:.6f}: E {e[0]:.4g} → {e[-1]:.6g}"
            f"   ({outcome(result, i, lang)})"
        )
    lines.append(text("lr.minimum", lang, error=f"{result.optimum_error:.6f}"))
    return "\n".join(lines)


def plot(result: LearningRates, folder: Path, fmt: str = "png", lang: str = "en") -> list[Path]:
    """The error per epoch at each rate, and the distance along the steepest direction."""
    fig, axes = new_figure(ncols=2)
    ax, ax_steep = axes[0]
    for factor, e, along in zip(result.factors, result.errors, result.steep, strict=True):
        label = f"{factor:g}·η_opt"
        e = np.asarray(e, dtype=float)
        ax.plot(np.arange(len(e)), np.where(np.isfinite(e), e, np.nan), marker=".", label=label)
        ax_steep.plot(np.arange(len(along)), along, marker=".", label=label)
    ax.axhline(
        result.optimum_error, color="k", ls="--", lw=0.8, label=text("lr.minimum_label", lang)
    )
    ax.set_yscale("log")
    ax.set_xlabel(text("descent.epoch", lang))
    ax.set_ylabel("E")
    ax.set_title(text("lr.errors_title", lang, eta=f"{result.eta_opt:.4f}"))
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ax_steep.axhline(0.0, color="k", lw=0.8)
    ax_steep.set_yscale("symlog", linthresh=1e-3)
    ax_steep.set_xlabel(text("descent.epoch", lang))
    ax_steep.set_ylabel("(θ − θ*)·v_max")
    ax_steep.set_title(text("lr.steep_title", lang))
    ax_steep.legend(fontsize=8)
    ax_steep.grid(alpha=0.3)
    return [save_figure(fig, folder, "lr", fmt)]
