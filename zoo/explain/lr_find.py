"""The learning-rate range test: raise the rate exponentially each step, watch the loss.

A short run starts at a rate too small to matter and multiplies it by a constant factor every
mini-batch until `end_lr`; the loss first stays flat, then falls, then explodes. The
suggested rate is where the smoothed loss falls fastest against log(rate), before its minimum
(L. Smith, 2017, "Cyclical Learning Rates for Training Neural Networks"; the fastai lr_find).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import OptionError
from zoo.explain.output import new_figure, save_figure, text
from zoo.training.options import MAX_SEED, OPTIMIZERS

SMOOTHING = 0.9  # exponential moving average of the loss, bias-corrected
EXPLODE = 4.0  # stop once the smoothed loss exceeds this many times its best


@dataclass
class LrFind:
    model: str
    dataset: str
    optimizer: str
    batch_size: int
    start_lr: float
    end_lr: float
    steps: int  # planned
    lrs: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    smoothed: list[float] = field(default_factory=list)
    stopped_early: bool = False
    suggested_lr: float | None = None
    min_loss_lr: float | None = None


def smooth(losses: np.ndarray, beta: float = SMOOTHING) -> np.ndarray:
    """Bias-corrected exponential moving average (the first value is the first loss)."""
    out, avg = [], 0.0
    for i, value in enumerate(losses, start=1):
        avg = beta * avg + (1 - beta) * value
        out.append(avg / (1 - beta**i))
    return np.array(out)


def suggest(lrs: np.ndarray, smoothed: np.ndarray) -> tuple[float | None, float | None]:
    """(steepest-descent rate, rate of the lowest smoothed loss); None when too few points."""
    finite = np.isfinite(smoothed)
    if finite.sum() < 5:
        return None, None
    lrs, smoothed = lrs[finite], smoothed[finite]
    lowest = int(np.argmin(smoothed))
    slope = np.gradient(smoothed, np.log10(lrs))
    # Skip the first steps (the average is still settling, its early slope is noise) and
    # look only before the minimum (after it the loss rises)
    skip = max(3, len(lrs) // 10)
    if lowest - skip < 2:
        return float(lrs[lowest] / 10), float(lrs[lowest])  # the usual rule of thumb
    steepest = skip + int(np.argmin(slope[skip:lowest]))
    return float(lrs[steepest]), float(lrs[lowest])


def lr_find(
    model: str,
    dataset: str,
    *,
    start_lr: float = 1e-5,
    end_lr: float = 10.0,
    steps: int = 100,
    batch_size: int = 32,
    optimizer: str = "sgd",
    head: str | None = None,
    loss: str | None = None,
    seed: int = 0,
    dataset_options: dict[str, Any] | None = None,
    model_options: dict[str, Any] | None = None,
) -> LrFind:
    """Train `model` on `dataset` for up to `steps` mini-batches at rates from start to end."""
    if not (0 < start_lr < end_lr) or not np.isfinite(end_lr):
        raise OptionError("start_lr", f"need 0 < start ({start_lr:g}) < end ({end_lr:g})")
    if steps < 5:
        raise OptionError("steps", f"must be at least 5, got {steps}")
    if batch_size < 1:
        raise OptionError("batch_size", f"must be at least 1, got {batch_size}")
    if optimizer not in OPTIMIZERS:
        raise OptionError("optimizer", f"{optimizer!r} is not one of {', '.join(OPTIMIZERS)}")
    if not 0 <= seed <= MAX_SEED:
        raise OptionError("seed", f"must be a whole number in 0..{MAX_SEED}, got {seed}")
    import keras
    import tensorflow as tf

    from zoo.backend import require_tensorflow

    require_tensorflow("zoo lr-find")
    from zoo.datasets.registry import dataset_options as accepted_dataset_options
    from zoo.datasets.registry import load_dataset

    keras.utils.set_random_seed(seed)
    # --seed also draws a generated set and its split; official sets have a fixed split
    data_options = dict(dataset_options or {})
    if "seed" in accepted_dataset_options(dataset):
        data_options.setdefault("seed", seed)
    data = load_dataset(dataset, **data_options)
    from zoo.training.build import build_model, make_optimizer

    # as `zoo train` builds it: the dataset's own scaling (the lab's CIFAR mean and std)
    options = {**(model_options or {}), "head": head}
    network, objective, _ = build_model(model, data, loss=loss, model_options=options)
    loss_fn = objective.keras_loss()
    opt = make_optimizer(optimizer, start_lr)
    x_all = np.asarray(data.x_train, dtype="float32")
    y_all = objective.encode(data.y_train)
    batch_size = min(batch_size, len(x_all))

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            value = loss_fn(y, network(x, training=True))
        grads = tape.gradient(value, network.trainable_variables)
        opt.apply_gradients(zip(grads, network.trainable_variables, strict=True))
        return value

    rng = np.random.default_rng(seed)
    factor = (end_lr / start_lr) ** (1.0 / (steps - 1))
    result = LrFind(model, data.name, optimizer, batch_size, start_lr, end_lr, steps)
    order, position, best = rng.permutation(len(x_all)), 0, np.inf
    for i in range(steps):
        if position + batch_size > len(order):  # a new epoch, a new order
            order, position = rng.permutation(len(x_all)), 0
        idx = order[position : position + batch_size]
        position += batch_size
        lr = start_lr * factor**i
        opt.learning_rate.assign(lr)
        value = float(step(x_all[idx], y_all[idx]))
        result.lrs.append(lr)
        result.losses.append(value)
        smoothed = smooth(np.array(result.losses))[-1]
        result.smoothed.append(float(smoothed))
        if not np.isfinite(value) or (i >= 10 and smoothed > EXPLODE * best):
            result.stopped_early = True
            break
        best = min(best, smoothed)
    result.suggested_lr, result.min_loss_lr = suggest(
        np.array(result.lrs), np.array(result.smoothed)
    )
    return result


def describe(result: LrFind, lang: str = "en") -> str:
    lines = [
        text(
            "lr_find.header",
            lang,
            model=result.model,
            dataset=result.dataset,
            optimizer=result.optimizer,
            batch=result.batch_size,
            start=f"{result.start_lr:g}",
            end=f"{result.end_lr:g}",
        ),
        text(
            "lr_find.steps",
            lang,
            done=len(result.lrs),
            planned=result.steps,
            last=f"{result.lrs[-1]:.3g}",
            why=text("lr_find.exploded" if result.stopped_early else "lr_find.ran_out", lang),
        ),
    ]
    for i in np.unique(np.linspace(0, len(result.lrs) - 1, 8).astype(int)):
        lines.append(
            f"  lr {result.lrs[i]:>10.3g}   loss {result.losses[i]:>10.4g}   "
            f"{text('lr_find.smoothed', lang)} {result.smoothed[i]:>10.4g}"
        )
    if result.suggested_lr is None:
        lines.append(text("lr_find.no_suggestion", lang))
    else:
        lines += [
            text("lr_find.suggested", lang, lr=f"{result.suggested_lr:.3g}"),
            text("lr_find.minimum", lang, lr=f"{result.min_loss_lr:.3g}"),
        ]
    return "\n".join(lines)


def plot(result: LrFind, folder: Path, fmt: str = "png", lang: str = "en") -> list[Path]:
    """Loss against rate on a log axis, the suggestion marked."""
    fig, axes = new_figure(size=(7.0, 4.5))
    ax = axes[0, 0]
    lrs = np.asarray(result.lrs)
    losses = np.asarray(result.losses, dtype=float)
    smoothed = np.asarray(result.smoothed, dtype=float)
    ax.plot(
        lrs,
        np.where(np.isfinite(losses), losses, np.nan),
        color="tab:blue",
        alpha=0.35,
        lw=0.8,
        label=text("lr_find.raw", lang),
    )
    ax.plot(lrs, smoothed, color="tab:blue", lw=1.8, label=text("lr_find.smoothed", lang))
    if result.suggested_lr is not None:
        ax.axvline(
            result.suggested_lr,
            color="tab:red",
            ls="--",
            label=text("lr_find.suggested_label", lang, lr=f"{result.suggested_lr:.3g}"),
        )
    finite = smoothed[np.isfinite(smoothed)]
    if (
        finite.size and np.ptp(finite) > 0
    ):  # an exploding tail would squash the interesting part of the curve
        ax.set_ylim(finite.min() - 0.05 * np.ptp(finite), min(finite.max(), 4 * finite[0]) * 1.05)
    ax.set_xscale("log")
    ax.set_xlabel(text("lr_find.lr_axis", lang))
    ax.set_ylabel(text("lr_find.loss_axis", lang))
    ax.set_title(f"{result.model} · {result.dataset}")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return [save_figure(fig, folder, "lr-find", fmt)]
