"""Overfitting and the bias-variance trade-off (lecture 1), then three cures, on few noisy points.

`points` examples of the lab's noisy XOR (corners of the unit square plus Gaussian noise of sd
`noise`, label (x1 + x2) mod 2) train networks of growing capacity: logistic regression
(no hidden layer), then one hidden ReLU layer of 1, 2, 4 ... `widths[-1]` neurons. Too few
neurons cannot draw the XOR at all: the error is high on the training points too (bias). Too
many fit the noise of so few points: no training error, and a test error that rises again
(variance). The test error against capacity is U-shaped. Training sets differ in their noise,
and so does where one model lands: the errors are means over `draws` training sets drawn
alike, each tested on the same `test_size` other points, as the bias-variance trade-off is
stated (an expectation over training sets).

The largest network is then trained again with each cure the zoo offers: an L2 penalty on its
kernels (`zoo train --l2`), dropout after its hidden layer (`--dropout`), and early stopping
on a quarter of the points held out (`--patience` with `--validation 0.25`).

The networks are small enough to train in NumPy, all draws at once: Keras's Dense layers
(Glorot-uniform kernels, zero biases), the binary cross-entropy of the logits, Keras's Adam
(its default β and ε), the penalty l2·Σw² on the kernels, inverted dropout as Keras's
`Dropout`; the tests check the updates against Keras's.

    >>> result = overfitting(widths=(0, 4), draws=2, steps=50)
    >>> [model.hidden for model in result.models]
    [0, 4]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from zoo.errors import OptionError
from zoo.explain.output import new_figure, save_figure, text

WIDTHS = (0, 1, 2, 4, 8, 16, 32, 64, 128)
MAX_WIDTH = 4096
BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-7  # Keras's Adam
GRID = 60  # decision-boundary grid per axis
LOW, HIGH = -0.75, 1.75  # the square the boundaries are drawn on


@dataclass
class Model:
    """One network, its errors averaged over the draws (and per draw)."""

    label: str
    hidden: int
    params: int
    train_error: float
    test_error: float
    test_errors: list[float]  # one per draw
    l2: float = 0.0
    dropout: float = 0.0
    patience: int | None = None
    stopped_at: list[int] = field(default_factory=list)  # early stopping: best step per draw


@dataclass
class Overfitting:
    points: int
    noise: float
    draws: int
    test_size: int
    steps: int
    lr: float
    models: list[Model]  # growing capacity
    best: int  # index into models: the lowest mean test error
    cures: list[Model]  # the largest network again, plain first, then each cure
    boundaries: dict[str, list[list[int]]]  # label -> GRID x GRID classes, first draw
    train_x: list[list[float]]  # the first draw's points, for the figure
    train_y: list[int]
    seed: int = 0


def check(value, option: str, low: float, high: float, whole: bool = False):
    ok = isinstance(value, int | float) and np.isfinite(value) and low <= value <= high
    if not ok or (whole and int(value) != value):
        kind = "a whole number" if whole else "a number"
        raise OptionError(option, f"must be {kind} in [{low:g}, {high:g}], got {value}")
    return int(value) if whole else float(value)


def noisy_xor_points(samples: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`samples` points of the zoo's noisy-xor set, its train and test parts together."""
    from zoo.datasets.registry import load_dataset

    data = load_dataset("noisy-xor", samples=samples, noise=noise, seed=seed)
    x = np.concatenate([data.x_train, data.x_test]).astype(np.float64)
    return x, np.concatenate([data.y_train, data.y_test]).astype(np.float64)


def init(rng, draws: int, hidden: int) -> dict[str, np.ndarray]:
    """Keras Dense defaults: Glorot-uniform kernels, zero biases; one set per draw."""

    def glorot(fan_in, fan_out):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, (draws, fan_in, fan_out))

    if not hidden:
        return {"W2": glorot(2, 1), "b2": np.zeros((draws, 1))}
    return {
        "W1": glorot(2, hidden),
        "b1": np.zeros((draws, hidden)),
        "W2": glorot(hidden, 1),
        "b2": np.zeros((draws, 1)),
    }


def logits(params, x, mask=None) -> tuple[np.ndarray, dict]:
    """The output's logit per point (draws, n), and what the backward pass needs."""
    cache = {"x": x, "mask": mask}
    a = x
    if "W1" in params:
        z = x @ params["W1"] + params["b1"][:, None, :]
        a = np.maximum(z, 0.0)
        if mask is not None:
            a = a * mask
        cache.update(z=z, a=a)
    return (a @ params["W2"])[..., 0] + params["b2"], cache


def bce(logit: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Binary cross-entropy of the logits, mean per draw (stable: log(1 + e^z) − y·z)."""
    return np.mean(np.logaddexp(0.0, logit) - y * logit, axis=-1)


def gradients(params, logit, cache, y, l2: float) -> dict[str, np.ndarray]:
    """∂/∂params of mean BCE + l2·Σ(kernels²), per draw."""
    d = (0.5 * (1.0 + np.tanh(0.5 * logit)) - y) / y.shape[-1]  # σ(z) − y, per point
    a = cache.get("a", cache["x"])
    grads = {"W2": np.swapaxes(a, 1, 2) @ d[..., None], "b2": d.sum(axis=-1, keepdims=True)}
    grads["W2"] += 2.0 * l2 * params["W2"]
    if "W1" in params:
        da = d[..., None] * np.swapaxes(params["W2"], 1, 2)  # (draws, n, hidden)
        if cache["mask"] is not None:
            da = da * cache["mask"]
        dz = np.where(cache["z"] > 0.0, da, 0.0)
        grads["W1"] = np.swapaxes(cache["x"], 1, 2) @ dz + 2.0 * l2 * params["W1"]
        grads["b1"] = dz.sum(axis=1)
    return grads


def train(
    x, y, hidden: int, rng, *, steps: int, lr: float, l2: float = 0.0, dropout: float = 0.0,
    patience: int | None = None, x_val=None, y_val=None,
) -> tuple[dict[str, np.ndarray], np.ndarray]:  # fmt: skip
    """Full-batch Adam on every draw at once; (params, best step per draw).

    With `patience`, each draw stops after `patience` steps without a lower loss on its
    validation points and keeps the weights of its best step (zoo train's early stopping).
    """
    params = init(rng, len(x), hidden)
    moments = {k: (np.zeros_like(v), np.zeros_like(v)) for k, v in params.items()}
    best_loss = np.full(len(x), np.inf)
    best_params = {k: v.copy() for k, v in params.items()}
    best_step, since = np.zeros(len(x), dtype=int), np.zeros(len(x), dtype=int)
    running = np.ones(len(x), dtype=bool)
    for t in range(1, steps + 1):
        mask = None
        if dropout and hidden:
            keep = rng.random((len(x), x.shape[1], hidden)) >= dropout
            mask = keep / (1.0 - dropout)
        logit, cache = logits(params, x, mask)
        grads = gradients(params, logit, cache, y, l2)
        alpha = lr * np.sqrt(1 - BETA_2**t) / (1 - BETA_1**t)
        for key, g in grads.items():
            m, s = moments[key]
            m += (g - m) * (1 - BETA_1)
            s += (g**2 - s) * (1 - BETA_2)
            step = alpha * m / (np.sqrt(s) + EPSILON)
            params[key] -= step * running.reshape(-1, *[1] * (step.ndim - 1))
        if patience is not None:
            val = bce(logits(params, x_val)[0], y_val)
            better = running & (val < best_loss)
            best_loss = np.where(better, val, best_loss)
            best_step = np.where(better, t, best_step)
            for key in params:
                best_params[key][better] = params[key][better]
            since = np.where(better, 0, since + running)
            running &= since < patience
    return (best_params if patience is not None else params), best_step


def error(params, x, y) -> np.ndarray:
    """The share of points each draw's network puts in the wrong class."""
    return np.mean((logits(params, x)[0] > 0.0) != (y > 0.5), axis=-1)


def count_params(hidden: int) -> int:
    return 3 if not hidden else 2 * hidden + hidden + hidden + 1


def overfitting(
    points: int = 30,
    noise: float = 0.4,
    widths: Sequence[int] = WIDTHS,
    draws: int = 20,
    steps: int = 3000,
    lr: float = 0.03,
    l2: float = 0.01,
    dropout: float = 0.5,
    patience: int = 100,
    test_size: int = 2000,
    seed: int = 0,
) -> Overfitting:
    """Train every width on `draws` training sets, then the largest with each cure."""
    points = check(points, "points", 8, 10_000, whole=True)
    noise = check(noise, "noise", 0.0, 10.0)
    draws = check(draws, "draws", 1, 1000, whole=True)
    steps = check(steps, "steps", 1, 1_000_000, whole=True)
    lr = check(lr, "lr", 1e-12, 10.0)
    l2 = check(l2, "l2", 0.0, 100.0)
    dropout = check(dropout, "dropout", 0.0, 0.99)
    patience = check(patience, "patience", 1, 1_000_000, whole=True)
    widths = [check(w, "widths", 0, MAX_WIDTH, whole=True) for w in widths]
    if not widths or sorted(set(widths)) != widths:
        raise OptionError("widths", "give distinct widths in increasing order, e.g. 0,2,8,32")
    rng = np.random.default_rng(seed)
    sets = [noisy_xor_points(points, noise, seed * 1000 + d) for d in range(draws)]
    x, y = np.stack([s[0] for s in sets]), np.stack([s[1] for s in sets])
    x_test, y_test = noisy_xor_points(test_size, noise, seed * 1000 + 999_999)
    tests = (
        np.broadcast_to(x_test, (draws, *x_test.shape)),
        np.broadcast_to(y_test, (draws, len(y_test))),
    )
    g = np.linspace(LOW, HIGH, GRID)
    grid = np.stack(np.meshgrid(g, g), axis=-1).reshape(1, -1, 2)

    def evaluate(label, hidden, params, **options) -> Model:
        train_errors, test_errors = error(params, x, y), error(params, *tests)
        first = {k: v[:1] for k, v in params.items()}
        boundaries[label] = (logits(first, grid)[0][0] > 0).reshape(GRID, GRID).astype(int).tolist()
        return Model(
            label, hidden, count_params(hidden), float(train_errors.mean()),
            float(test_errors.mean()), test_errors.tolist(), **options,
        )  # fmt: skip

    boundaries: dict[str, list[list[int]]] = {}
    models = []
    for hidden in widths:
        params, _ = train(x, y, hidden, rng, steps=steps, lr=lr)
        models.append(evaluate(str(hidden), hidden, params))
    best = int(np.argmin([m.test_error for m in models]))
    largest = widths[-1]
    cures = [models[-1]]
    params, _ = train(x, y, largest, rng, steps=steps, lr=lr, l2=l2)
    cures.append(evaluate("l2", largest, params, l2=l2))
    if largest:
        params, _ = train(x, y, largest, rng, steps=steps, lr=lr, dropout=dropout)
        cures.append(evaluate("dropout", largest, params, dropout=dropout))
    held = max(2, points // 4)  # a quarter of each draw's points tells when to stop
    params, stopped = train(
        x[:, :-held], y[:, :-held], largest, rng, steps=steps, lr=lr, patience=patience,
        x_val=x[:, -held:], y_val=y[:, -held:],
    )  # fmt: skip
    cures.append(evaluate("early_stopping", largest, params, patience=patience))
    cures[-1].stopped_at = stopped.tolist()
    return Overfitting(
        points, noise, draws, test_size, steps, lr, models, best, cures, boundaries,
        x[0].tolist(), y[0].astype(int).tolist(), seed,
    )  # fmt: skip


def model_name(model: Model, lang: str) -> str:
    if model.label in ("l2", "dropout", "early_stopping"):
        return text(
            f"overfitting.cure.{model.label}",
            lang,
            l2=f"{model.l2:g}",
            dropout=f"{model.dropout:g}",
            patience=model.patience,
        )
    if not model.hidden:
        return text("overfitting.linear", lang)
    return text("overfitting.hidden", lang, width=model.hidden)


def describe(result: Overfitting, lang: str = "en") -> str:
    """The errors of every width, the best, and the largest network with each cure."""
    lines = [
        text(
            "overfitting.header",
            lang,
            draws=result.draws,
            points=result.points,
            noise=f"{result.noise:g}",
            test=result.test_size,
            steps=result.steps,
            lr=f"{result.lr:g}",
        ),
        f"  {text('overfitting.model', lang):<34}{text('overfitting.params', lang):>8}"
        f"{text('overfitting.train_error', lang):>14}{text('overfitting.test_error', lang):>14}",
    ]
    for i, model in enumerate(result.models):
        mark = "  <" if i == result.best else ""
        lines.append(
            f"  {model_name(model, lang):<34}{model.params:>8}{model.train_error:>14.3f}"
            f"{model.test_error:>14.3f}{mark}"
        )
    best, largest = result.models[result.best], result.models[-1]
    rises = result.best < len(result.models) - 1 and largest.test_error > best.test_error
    lines.append(
        text(
            "overfitting.verdict_u" if rises else "overfitting.verdict_flat",
            lang,
            best=model_name(best, lang),
            error=f"{best.test_error:.3f}",
            points=result.points,
            largest=model_name(largest, lang),
            train=f"{largest.train_error:.3f}",
            test=f"{largest.test_error:.3f}",
        )
    )
    lines.append(text("overfitting.cures", lang, largest=model_name(largest, lang)))
    for model in result.cures:
        name = model_name(model, lang) if model is not largest else text("overfitting.plain", lang)
        lines.append(f"  {name:<76}{model.train_error:>8.3f}{model.test_error:>8.3f}")
    cure = min(result.cures[1:], key=lambda m: m.test_error)
    if cure.test_error < largest.test_error:
        lines.append(
            text(
                "overfitting.cures_verdict",
                lang,
                cure=model_name(cure, lang),
                plain=f"{largest.test_error:.3f}",
                error=f"{cure.test_error:.3f}",
            )
        )
    else:
        lines.append(text("overfitting.no_cure", lang))
    return "\n".join(lines)


def _boundary(ax, result: Overfitting, label: str, title: str) -> None:
    from matplotlib.colors import ListedColormap

    classes = np.array(result.boundaries[label])
    ax.imshow(
        classes, origin="lower", extent=(LOW, HIGH, LOW, HIGH), alpha=0.35,
        cmap=ListedColormap(["tab:blue", "tab:orange"]), vmin=0, vmax=1,
    )  # fmt: skip
    x, y = np.array(result.train_x), np.array(result.train_y)
    for value, colour in ((0, "tab:blue"), (1, "tab:orange")):
        ax.scatter(*x[y == value].T, c=colour, edgecolors="black", s=22, linewidths=0.6)
    ax.set_xlim(LOW, HIGH)
    ax.set_ylim(LOW, HIGH)
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])


def plot(result: Overfitting, folder: Path, fmt: str = "png", lang: str = "en") -> list[Path]:
    """The U: errors against capacity; the cures; decision boundaries of the first draw."""
    fig, axes = new_figure(ncols=3, nrows=2, size=(4.6, 4.0))
    ax = axes[0][0]
    positions = np.arange(len(result.models))
    names = [
        text("overfitting.linear_short", lang) if not m.hidden else str(m.hidden)
        for m in result.models
    ]
    test = np.array([m.test_errors for m in result.models])
    ax.plot(
        positions,
        [m.train_error for m in result.models],
        "o-",
        label=text("overfitting.train_error", lang),
    )
    ax.plot(
        positions,
        test.mean(axis=1),
        "o-",
        color="tab:red",
        label=text("overfitting.test_error", lang),
    )
    ax.fill_between(
        positions, test.min(axis=1), test.max(axis=1), color="tab:red", alpha=0.12,
        label=text("overfitting.spread", lang),
    )  # fmt: skip
    ax.axvline(result.best, color="grey", ls="--", lw=1)
    ax.set_xticks(positions, names)
    ax.set_xlabel(text("overfitting.capacity", lang))
    ax.set_ylabel(text("overfitting.error", lang))
    ax.set_title(text("overfitting.u_title", lang), fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)

    ax = axes[0][1]
    cures = result.cures
    labels = [text("overfitting.plain", lang)] + [
        text(f"overfitting.cure_short.{m.label}", lang) for m in cures[1:]
    ]
    # points, not bars: the differences are a few hundredths, the axis need not start at 0
    values = [m.test_error for m in cures]
    colours = ["tab:red", *["tab:green"] * (len(cures) - 1)]
    ax.scatter(range(len(cures)), values, c=colours, s=60, zorder=3)
    for i, value in enumerate(values):
        ax.annotate(f"{value:.3f}", (i, value), textcoords="offset points", xytext=(0, 8),
                    ha="center", fontsize=8)  # fmt: skip
    ax.axhline(
        result.models[result.best].test_error, color="grey", ls="--", lw=1,
        label=text("overfitting.best_line", lang, best=names[result.best]),
    )  # fmt: skip
    ax.set_xticks(range(len(cures)), labels, fontsize=8)
    ax.set_xlim(-0.5, len(cures) - 0.5)
    low, high = min(values + [ax.get_ylim()[0]]), max(values)
    ax.set_ylim(low - 0.1 * (high - low + 0.01), high + 0.25 * (high - low + 0.01))
    ax.set_ylabel(text("overfitting.test_error", lang))
    ax.set_title(text("overfitting.cures_title", lang, width=result.models[-1].hidden), fontsize=10)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=7)

    best, first, largest = result.models[result.best], result.models[0], result.models[-1]
    shown = [
        (axes[0][2], best.label, model_name(best, lang)),
        (axes[1][0], first.label, model_name(first, lang)),
        (axes[1][1], largest.label, model_name(largest, lang)),
        (axes[1][2], "l2", f"{model_name(largest, lang)}, L2 {result.cures[1].l2:g}"),
    ]
    for ax, label, name in shown:
        _boundary(ax, result, label, text("overfitting.boundary_title", lang, model=name))
    return [save_figure(fig, folder, "overfitting", fmt)]
