"""SGD, momentum, Nesterov, RMSprop and Adam side by side, full batch, on two error surfaces:

- dataset-1: the linear neuron of `zoo explain descent`, E(w1, w2, b) = 1/N·Σ (y_i − t_i)²,
  whose Hessian is mildly ill-conditioned (λ_max/λ_min ≈ 7);
- a quadratic valley E = ½·(θ − θ*)ᵀ·H·(θ − θ*) with the same largest curvature but a
  hundred times smaller curvature across it, turned 30°: plain descent must take a rate small
  enough for the steep walls and then crawls along the floor, where momentum keeps going.

Every step is Keras's update rule (keras.optimizers, their default ρ, β and ε), in float64:

    SGD        θ ← θ − η·g
    momentum   v ← μ·v − η·g;  θ ← θ + v
    Nesterov   v ← μ·v − η·g;  θ ← θ + μ·v − η·g
    RMSprop    s ← ρ·s + (1 − ρ)·g²;  θ ← θ − η·g / √(s + ε)
    Adam       m ← β1·m + (1 − β1)·g;  s ← β2·s + (1 − β2)·g²;
               θ ← θ − η·√(1 − β2^t)/(1 − β1^t) · m / (√s + ε)

`steps_to_target` counts the updates until the excess error E − E_min falls to `target` times
the starting one (None: not within the steps run).

    >>> result = optimizers(steps=50)
    >>> sorted(result.surfaces)
    ['dataset-1', 'quadratic']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from zoo.errors import OptionError
from zoo.explain.descent import START, check_positive, dataset_1, gradient, mse, optimum
from zoo.explain.output import new_figure, save_figure, text, vector

METHODS = ("sgd", "momentum", "nesterov", "rmsprop", "adam")
NAMES = {"sgd": "SGD", "momentum": "Momentum", "nesterov": "Nesterov", "rmsprop": "RMSprop"}
COLOURS = {
    "sgd": "tab:blue",
    "momentum": "tab:orange",
    "nesterov": "tab:green",
    "rmsprop": "tab:red",
    "adam": "tab:purple",
}
RHO, BETA_1, BETA_2, EPSILON = 0.9, 0.9, 0.999, 1e-7  # Keras's defaults
CONDITION = 100.0  # λ_max / λ_min of the quadratic valley
ANGLE = np.pi / 6  # the valley's floor runs 30° off the w1 axis
# θ* = (0, 0); the start lies far along the floor and a little up the wall
QUADRATIC_START = tuple(
    float(v)
    for v in -2.0 * np.array([np.cos(ANGLE), np.sin(ANGLE)])
    + 0.3 * np.array([-np.sin(ANGLE), np.cos(ANGLE)])
)
MAX_STEPS = 100_000


def name(method: str) -> str:
    return NAMES.get(method, method.capitalize())


def step_rule(method: str, lr: float, momentum: float) -> Callable:
    """`update(theta, g, state, t) -> theta` for `method`; `state` is a dict it keeps."""

    def sgd(theta, g, state, t):
        return theta - lr * g

    def heavy_ball(theta, g, state, t):
        v = state["v"] = momentum * state.get("v", 0.0) - lr * g
        if method == "nesterov":
            return theta + momentum * v - lr * g
        return theta + v

    def rmsprop(theta, g, state, t):
        s = state["s"] = RHO * state.get("s", 0.0) + (1 - RHO) * g**2
        return theta - lr * g / np.sqrt(s + EPSILON)

    def adam(theta, g, state, t):
        m = state["m"] = state.get("m", 0.0) + (g - state.get("m", 0.0)) * (1 - BETA_1)
        s = state["s"] = state.get("s", 0.0) + (g**2 - state.get("s", 0.0)) * (1 - BETA_2)
        alpha = lr * np.sqrt(1 - BETA_2**t) / (1 - BETA_1**t)
        return theta - alpha * m / (np.sqrt(s) + EPSILON)

    rules = {"sgd": sgd, "momentum": heavy_ball, "nesterov": heavy_ball}
    return {**rules, "rmsprop": rmsprop, "adam": adam}[method]


def descend(method: str, grad, start, steps: int, lr: float, momentum: float) -> np.ndarray:
    """The path θ_0 .. θ_steps of `method` from `start` (rows), full-batch gradients."""
    update = step_rule(method, lr, momentum)
    theta, state = np.asarray(start, dtype=np.float64), {}
    path = [theta]
    with np.errstate(over="ignore", invalid="ignore"):  # a rate too large overflows
        for t in range(1, steps + 1):
            theta = update(theta, grad(theta), state, t)
            path.append(theta)
    return np.array(path)


def valley() -> np.ndarray:
    """The quadratic's Hessian: dataset-1's largest curvature, CONDITION times less across."""
    xb, _ = dataset_1(0)
    top = float(np.linalg.eigvalsh(2.0 / len(xb) * xb.T @ xb)[-1])
    turn = np.array([[np.cos(ANGLE), -np.sin(ANGLE)], [np.sin(ANGLE), np.cos(ANGLE)]])
    return turn @ np.diag([top / CONDITION, top]) @ turn.T


@dataclass
class Surface:
    """One error surface and every optimizer's path over it."""

    title: str
    eigenvalues: list[float]  # of the Hessian, ascending
    optimum: list[float]
    optimum_error: float
    start: list[float]
    paths: dict[str, list[list[float]]] = field(default_factory=dict)
    errors: dict[str, list[float]] = field(default_factory=dict)  # E at each step
    steps_to_target: dict[str, int | None] = field(default_factory=dict)


@dataclass
class Optimizers:
    steps: int
    lr: float  # SGD, momentum, Nesterov
    adaptive_lr: float  # RMSprop, Adam
    momentum: float
    target: float  # reached when E − E_min <= target · (E_start − E_min)
    surfaces: dict[str, Surface]
    seed: int = 0


def steps_to(errors: np.ndarray, best: float, target: float) -> int | None:
    """The first step whose excess error is at most `target` times the start's."""
    excess = np.asarray(errors) - best
    with np.errstate(invalid="ignore"):
        hits = np.flatnonzero(excess <= target * excess[0])
    return int(hits[0]) if hits.size else None


def optimizers(
    steps: int = 300,
    lr: float = 0.1,
    adaptive_lr: float = 0.05,
    momentum: float = 0.9,
    target: float = 1e-3,
    seed: int = 0,
) -> Optimizers:
    """Run the five optimizers on both surfaces from fixed starts."""
    if not 1 <= steps <= MAX_STEPS:
        raise OptionError("steps", f"must be in 1..{MAX_STEPS}, got {steps}")
    lr = check_positive(lr, "lr")
    adaptive_lr = check_positive(adaptive_lr, "adaptive_lr")
    if not (np.isfinite(momentum) and 0 <= momentum < 1):
        raise OptionError("momentum", f"must be in [0, 1), got {momentum}")
    if not (np.isfinite(target) and 0 < target < 1):
        raise OptionError(
            "target", f"a fraction of the starting excess error in (0, 1), got {target}"
        )
    xb, t = dataset_1(seed)
    best = optimum(xb, t)
    h = valley()
    problems = {
        "dataset-1": (
            lambda theta: gradient(theta, xb, t),
            lambda path: mse(path, xb, t),
            START,
            best,
            2.0 / len(xb) * xb.T @ xb,
        ),
        "quadratic": (
            lambda theta: h @ theta,
            lambda path: 0.5 * np.einsum("...i,ij,...j->...", path, h, path),
            QUADRATIC_START,
            np.zeros(2),
            h,
        ),
    }
    surfaces = {}
    for key, (grad, error, start, low, hessian) in problems.items():
        low_error = float(error(low))
        surface = Surface(
            title=key,
            eigenvalues=np.linalg.eigvalsh(hessian).tolist(),
            optimum=low.tolist(),
            optimum_error=low_error,
            start=list(start),
        )
        for method in METHODS:
            rate = adaptive_lr if method in ("rmsprop", "adam") else lr
            path = descend(method, grad, start, steps, rate, momentum)
            with np.errstate(over="ignore", invalid="ignore"):
                errors = error(path)
            surface.paths[method] = path.tolist()
            surface.errors[method] = errors.tolist()
            surface.steps_to_target[method] = steps_to(errors, low_error, target)
        surfaces[key] = surface
    return Optimizers(steps, lr, adaptive_lr, momentum, target, surfaces, seed)


def _checkpoints(steps: int) -> list[int]:
    return sorted({s for s in (10, 50, 100, steps) if s <= steps})


def describe(result: Optimizers, lang: str = "en") -> str:
    """Each surface: the excess error after some steps and the steps to the target."""
    marks = _checkpoints(result.steps)
    lines = [
        text(
            "optimizers.header",
            lang,
            lr=f"{result.lr:g}",
            adaptive_lr=f"{result.adaptive_lr:g}",
            momentum=f"{result.momentum:g}",
            target=f"{result.target:g}",
        )
    ]
    for key, surface in result.surfaces.items():
        eig = surface.eigenvalues
        lines.append("")
        lines.append(
            text(
                f"optimizers.surface.{key}",
                lang,
                eigenvalues=vector(eig, 4),
                condition=f"{eig[-1] / eig[0]:.1f}",
                start=vector(surface.start, 4),
                optimum=vector(surface.optimum, 4),
            )
        )
        head = "".join(f"{text('optimizers.after', lang, steps=s):>14}" for s in marks)
        lines.append(f"  {'':<10}{head}  {text('optimizers.steps_to', lang)}")
        for method in METHODS:
            # rounding leaves -1e-17 where the minimum is reached: that is 0
            errors = np.maximum(np.asarray(surface.errors[method]) - surface.optimum_error, 0.0)
            cells = "".join(f"{errors[s]:>14.3e}" for s in marks)
            reached = surface.steps_to_target[method]
            done = str(reached) if reached is not None else text("optimizers.not_reached", lang)
            lines.append(f"  {name(method):<10}{cells}  {done:>8}")
    lines.append("")
    eig = result.surfaces["dataset-1"].eigenvalues
    lines.append(text("optimizers.lesson", lang, condition=f"{eig[-1] / eig[0]:.0f}"))
    return "\n".join(lines)


def _contours(ax, surface: Surface, error, paths: dict[str, np.ndarray], lang: str) -> None:
    best = np.array(surface.optimum)
    points = np.vstack([p[:, :2] for p in paths.values()] + [best[None, :2]])
    points = points[np.all(np.isfinite(points), axis=1)]
    low, high = points.min(axis=0), points.max(axis=0)
    pad = 0.15 * (high - low) + 0.1
    g1, g2 = np.meshgrid(
        np.linspace(low[0] - pad[0], high[0] + pad[0], 120),
        np.linspace(low[1] - pad[1], high[1] + pad[1], 120),
    )
    grid = np.stack([g1, g2, *([np.full_like(g1, b) for b in best[2:]])], axis=-1)
    surface_values = error(grid)
    levels = (
        surface.optimum_error
        + (surface_values.max() - surface.optimum_error) * np.linspace(0, 1, 16)[1:] ** 2
    )
    ax.contour(g1, g2, surface_values, levels=levels, colors="grey", linewidths=0.6)
    for method, path in paths.items():
        ax.plot(path[:, 0], path[:, 1], "-", color=COLOURS[method], lw=1.2, label=name(method))
    ax.plot(*best[:2], "k*", ms=12, label=text("descent.optimum_label", lang))
    ax.plot(*surface.start[:2], "ko", ms=4)
    ax.set_aspect("equal", adjustable="datalim")  # the valley as narrow as it is
    ax.set_xlabel("w1")
    ax.set_ylabel("w2")
    ax.legend(fontsize=8)


def plot(result: Optimizers, folder: Path, fmt: str = "png", lang: str = "en") -> list[Path]:
    """Per surface: the paths over its contour lines, and the excess error per step."""
    xb, t = dataset_1(result.seed)
    h = valley()
    errors = {
        "dataset-1": lambda grid: mse(grid, xb, t),
        "quadratic": lambda grid: 0.5 * np.einsum("...i,ij,...j->...", grid, h, grid),
    }
    fig, axes = new_figure(ncols=2, nrows=2, size=(6.0, 4.6))
    for row, (key, surface) in enumerate(result.surfaces.items()):
        ax, ax_err = axes[row]
        paths = {m: np.array(p, dtype=float) for m, p in surface.paths.items()}
        # a path that ran off (a rate too large) is drawn while it stays near the surface
        paths = {m: np.where(np.abs(p) < 1e3, p, np.nan) for m, p in paths.items()}
        _contours(ax, surface, errors[key], paths, lang)
        ax.set_title(text(f"optimizers.title.{key}", lang))
        for method in METHODS:
            excess = np.asarray(surface.errors[method], dtype=float) - surface.optimum_error
            # below 1e-15 is float64's rounding noise around E_min, not progress
            excess = np.where(np.isfinite(excess) & (excess > 1e-15), excess, np.nan)
            ax_err.plot(excess, color=COLOURS[method], lw=1.2, label=name(method))
        ax_err.axhline(
            result.target * (surface.errors["sgd"][0] - surface.optimum_error),
            color="k",
            ls="--",
            lw=0.8,
            label=text("optimizers.target_label", lang, target=f"{result.target:g}"),
        )
        ax_err.set_yscale("log")
        ax_err.set_xlabel(text("optimizers.step", lang))
        ax_err.set_ylabel("E − E_min")
        ax_err.set_title(text("optimizers.errors_title", lang))
        ax_err.grid(alpha=0.3)
        ax_err.legend(fontsize=8)
    return [save_figure(fig, folder, "optimizers", fmt)]
