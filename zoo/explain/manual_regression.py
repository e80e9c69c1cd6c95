"""The lab's first task: a 1→64→1 ReLU network fitted by gradient descent with hand gradients.

Forward: Z = X·W1 + b1, A = max(Z, 0), Ŷ = A·W2 + b2, loss L = mean((Ŷ − Y)²).
Backward, by hand: dŶ = 2(Ŷ − Y)/N, dW2 = Aᵀ·dŶ, db2 = Σ dŶ, dA = dŶ·W2ᵀ,
dZ = dA where Z > 0 (0 where Z ≤ 0), dW1 = Xᵀ·dZ, db1 = Σ dZ.
The first step's gradients are checked against TensorFlow's GradientTape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from zoo.errors import OptionError
from zoo.explain.output import new_figure, save_figure, sigmoid, text
from zoo.explain.plotting import colours

PARAMS = ("W1", "b1", "W2", "b2")
MAX_HIDDEN = 10_000


def true_curve(x):
    """The noise-free target of the `sigmoid-1d` set: 1 / (1 + exp(−10x))."""
    return sigmoid(10.0 * np.asarray(x, dtype=np.float64))


@dataclass
class ManualRegression:
    hidden: int
    lr: float
    iterations: int
    train_size: int
    test_size: int
    losses: list[float]  # training MSE before each update, then after the last
    test_loss: float
    gradient_difference: dict[str, float]  # first step: max |hand − autodiff| per parameter
    max_difference: float
    snapshots: list[int] = field(default_factory=list)  # iterations drawn in the figure
    curve_x: list[float] = field(default_factory=list)
    curves: list[list[float]] = field(default_factory=list)  # the fit at each snapshot
    train_x: list[float] = field(default_factory=list)
    train_y: list[float] = field(default_factory=list)

    @property
    def final_loss(self) -> float:
        return self.losses[-1]


def init_params(hidden: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """PyTorch's default Linear initialisation, as in the lab: U(±1/√fan_in) for W and b."""
    w1_bound, w2_bound = 1.0, 1.0 / np.sqrt(hidden)
    return {
        "W1": rng.uniform(-w1_bound, w1_bound, (1, hidden)),
        "b1": rng.uniform(-w1_bound, w1_bound, hidden),
        "W2": rng.uniform(-w2_bound, w2_bound, (hidden, 1)),
        "b2": rng.uniform(-w2_bound, w2_bound, 1),
    }


def predict(params: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    z = x @ params["W1"] + params["b1"]
    return np.maximum(z, 0.0) @ params["W2"] + params["b2"]


def hand_gradients(
    params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray
) -> tuple[float, dict[str, np.ndarray]]:
    """The loss and its gradient for every parameter, derived by hand (see the module text)."""
    z = x @ params["W1"] + params["b1"]
    a = np.maximum(z, 0.0)
    y_hat = a @ params["W2"] + params["b2"]
    loss = float(np.mean((y_hat - y) ** 2))
    d_y = 2.0 * (y_hat - y) / len(x)
    d_a = d_y @ params["W2"].T
    d_z = np.where(z > 0.0, d_a, 0.0)  # ReLU passes the gradient only where it was active
    grads = {
        "W1": x.T @ d_z,
        "b1": d_z.sum(axis=0),
        "W2": a.T @ d_y,
        "b2": d_y.sum(axis=0),
    }
    return loss, grads


def autodiff_gradients(
    params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray
) -> dict[str, np.ndarray]:
    """The same gradients from TensorFlow's GradientTape, in float64."""
    import tensorflow as tf

    variables = {k: tf.Variable(v, dtype=tf.float64) for k, v in params.items()}
    with tf.GradientTape() as tape:
        z = tf.constant(x) @ variables["W1"] + variables["b1"]
        y_hat = tf.nn.relu(z) @ variables["W2"] + variables["b2"]
        loss = tf.reduce_mean((y_hat - tf.constant(y)) ** 2)
    grads = tape.gradient(loss, [variables[k] for k in PARAMS])
    return {k: np.asarray(g) for k, g in zip(PARAMS, grads, strict=True)}


def manual_regression(
    hidden: int = 64,
    lr: float = 0.05,
    iterations: int = 5000,
    every: int = 1000,
    seed: int = 0,
    samples: int | None = None,
    autodiff: bool = True,
) -> ManualRegression:
    """Fit `sigmoid-1d` with full-batch descent on hand gradients; snapshots every `every` steps."""
    from zoo.datasets.registry import load_dataset

    if not 1 <= hidden <= MAX_HIDDEN:  # more only exhausts memory: the lecture's net has 64
        raise OptionError("hidden", f"must be in 1..{MAX_HIDDEN}, got {hidden}")
    if not np.isfinite(lr) or lr <= 0:
        raise OptionError("lr", f"must be a positive number, got {lr}")
    if iterations < 1:
        raise OptionError("iterations", f"must be at least 1, got {iterations}")
    if every < 1:
        raise OptionError("every", f"must be at least 1, got {every}")
    data = load_dataset("sigmoid-1d", seed=seed, samples=samples)
    x = np.asarray(data.x_train, dtype=np.float64).reshape(-1, 1)
    y = np.asarray(data.y_train, dtype=np.float64).reshape(-1, 1)
    params = init_params(hidden, np.random.default_rng(seed))

    differences = {k: float("nan") for k in PARAMS}
    if autodiff:
        _, hand = hand_gradients(params, x, y)
        auto = autodiff_gradients(params, x, y)
        differences = {k: float(np.max(np.abs(hand[k] - auto[k]))) for k in PARAMS}

    grid = np.linspace(x.min(), x.max(), 200).reshape(-1, 1)
    snapshots, curves, losses = [], [], []
    for step in range(iterations + 1):
        if step % every == 0 or step == iterations:
            snapshots.append(step)
            curves.append(predict(params, grid).ravel().tolist())
        loss, grads = hand_gradients(params, x, y)
        losses.append(loss)
        if step == iterations:
            break
        for k in PARAMS:
            params[k] = params[k] - lr * grads[k]
    x_test = np.asarray(data.x_test, dtype=np.float64).reshape(-1, 1)
    y_test = np.asarray(data.y_test, dtype=np.float64).reshape(-1, 1)
    return ManualRegression(
        hidden=hidden,
        lr=float(lr),
        iterations=iterations,
        train_size=len(x),
        test_size=len(x_test),
        losses=losses,
        test_loss=float(np.mean((predict(params, x_test) - y_test) ** 2)),
        gradient_difference=differences,
        max_difference=max(differences.values()),
        snapshots=snapshots,
        curve_x=grid.ravel().tolist(),
        curves=curves,
        train_x=x.ravel().tolist(),
        train_y=y.ravel().tolist(),
    )


def describe(result: ManualRegression, lang: str = "en") -> str:
    lines = [
        text(
            "manual_regression.header",
            lang,
            hidden=result.hidden,
            lr=f"{result.lr:g}",
            iterations=result.iterations,
            n=result.train_size,
        ),
        text("manual_regression.check", lang),
    ]
    for k, d in result.gradient_difference.items():
        lines.append(f"  d{k:<3} {d:.2e}")
    iteration = text("manual_regression.iteration", lang)
    for step in result.snapshots:
        lines.append(f"  {iteration} {step:>6}: MSE {result.losses[step]:.6f}")
    lines.append(
        text(
            "manual_regression.result",
            lang,
            train=f"{result.final_loss:.6f}",
            test=f"{result.test_loss:.6f}",
        )
    )
    return "\n".join(lines)


def plot(result: ManualRegression, folder: Path, fmt: str = "png", lang: str = "en") -> list[Path]:
    """The fit every `every` iterations over the true curve, and the loss per iteration."""
    fig, axes = new_figure(ncols=2)
    ax, ax_loss = axes[0]
    grid = np.array(result.curve_x)
    ax.scatter(
        result.train_x,
        result.train_y,
        s=6,
        color="grey",
        alpha=0.4,
        label=text("manual_regression.data", lang),
    )
    ax.plot(grid, true_curve(grid), "k--", lw=2, label=text("manual_regression.true", lang))
    for step, curve, colour in zip(
        result.snapshots, result.curves, colours(len(result.curves)), strict=True
    ):
        ax.plot(
            grid,
            curve,
            color=colour,
            lw=1.5,
            label=f"{text('manual_regression.iteration', lang)} {step}",
        )
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(text("manual_regression.fit_title", lang))
    ax.legend(fontsize=7)
    ax_loss.plot(np.arange(len(result.losses)), result.losses)
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel(text("manual_regression.iteration", lang))
    ax_loss.set_ylabel("MSE")
    ax_loss.set_title(text("manual_regression.loss_title", lang))
    ax_loss.grid(alpha=0.3)
    return [save_figure(fig, folder, "manual-regression", fmt)]
