"""The loss around a trained model along random filter-normalised directions.

Li, Xu, Taylor, Studer, Goldstein (2018), "Visualizing the Loss Landscape of Neural Nets":
draw a random Gaussian direction d with the shapes of the weights, rescale each filter of d
(for a Dense kernel: the weights into one neuron, a column) to the norm of the same filter of
the trained weights θ*, and set the directions of biases to zero. Then plot L(θ* + α·d1) and
L(θ* + α·d1 + β·d2). Without the rescaling, the scale invariance of ReLU layers would make a
flat and a sharp minimum look alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zoo.errors import DataError, OptionError, RunFolderError
from zoo.explain.output import new_figure, save_figure, text


def filter_normalised_direction(
    weights: list[np.ndarray], rng: np.random.Generator
) -> list[np.ndarray]:
    """A Gaussian direction whose every filter has the norm of the weights' filter.

    A filter is a slice along the last axis (one output unit); 1-D weights (biases) get zero,
    as in the paper's experiments.
    """
    direction = []
    for w in weights:
        if w.ndim < 2:
            direction.append(np.zeros_like(w))
            continue
        d = rng.standard_normal(w.shape)
        axes = tuple(range(w.ndim - 1))
        d_norm = np.sqrt(np.sum(d**2, axis=axes, keepdims=True))
        w_norm = np.sqrt(np.sum(w**2, axis=axes, keepdims=True))
        direction.append(d * w_norm / np.maximum(d_norm, 1e-12))
    return direction


@dataclass
class Landscape:
    run: str
    model: str
    dataset: str
    split: str
    examples: int
    loss: str
    parameters: int
    center_loss: float
    alphas: list[float]
    losses_1d: list[float]
    grid: list[float]  # the same coordinates along both axes of the 2-D map
    losses_2d: list[list[float]]  # [row: β][column: α]


def load_run(path: str | Path):
    """The run folder's config, its Keras model and its dataset, reloaded as trained."""
    from zoo.runfolder import read_run_folder

    run = read_run_folder(path)
    if run.model_path is None:
        raise RunFolderError(
            f"{run.path} has no model.keras: the landscape needs the trained model"
        )
    model = run.load_model()
    from zoo.datasets.registry import load_dataset

    data = load_dataset(run.config["dataset"], **(run.config.get("dataset_options") or {}))
    if tuple(data.input_shape) != tuple(model.inputs[0].shape[1:]):
        raise DataError(
            f"{run.config['dataset']} now has inputs {data.input_shape}, the model takes "
            f"{tuple(model.inputs[0].shape[1:])}"
        )
    return run, model, data


def landscape(
    path: str | Path,
    points: int = 21,
    span: float = 1.0,
    split: str = "train",
    max_examples: int = 2000,
    seed: int = 0,
) -> Landscape:
    """Loss on `split` along one direction (4·points samples) and two (points × points grid)."""
    import keras

    if points < 3:
        raise OptionError("points", f"must be at least 3, got {points}")
    if not np.isfinite(span) or span <= 0:
        raise OptionError("span", f"must be a positive number, got {span}")
    if split not in ("train", "test"):
        raise OptionError("split", f"{split!r} is not one of train, test")
    run, model, data = load_run(path)
    if run.status == "diverged":  # inf or NaN weights: there is no minimum to look around
        reason = run.config.get("stop_reason") or "its loss is not finite"
        raise RunFolderError(
            f"{run.path} diverged ({reason}); train it with a smaller learning rate"
        )
    objective = run.objective
    x, y = (data.x_train, data.y_train) if split == "train" else (data.x_test, data.y_test)
    rng = np.random.default_rng(seed)
    if len(x) > max_examples:  # the landscape's shape needs a sample, not every image
        keep = np.sort(rng.choice(len(x), max_examples, replace=False))
        x, y = x[keep], y[keep]
    x = keras.ops.convert_to_tensor(np.asarray(x, dtype="float32"))
    y = objective.encode(y)
    loss_fn = objective.keras_loss()
    variables = model.trainable_variables
    center = [np.asarray(v.numpy(), dtype=np.float64) for v in variables]
    d1 = filter_normalised_direction(center, rng)
    d2 = filter_normalised_direction(center, rng)

    def loss_at(a: float, b: float) -> float:
        for v, w, u1, u2 in zip(variables, center, d1, d2, strict=True):
            v.assign((w + a * u1 + b * u2).astype(v.dtype))
        return float(loss_fn(y, model(x, training=False)))

    try:
        center_loss = loss_at(0.0, 0.0)
        if not np.isfinite(center_loss):
            raise RunFolderError(
                f"{run.path}: the loss at the trained weights is {center_loss} on {split}; "
                "a landscape needs a finite minimum"
            )
        alphas = np.linspace(-span, span, 4 * points + 1)
        line = [loss_at(a, 0.0) for a in alphas]
        grid = np.linspace(-span, span, points)
        surface = [[loss_at(a, b) for a in grid] for b in grid]
    finally:
        for v, w in zip(variables, center, strict=True):
            v.assign(w.astype(v.dtype))
    return Landscape(
        run=str(run.path),
        model=str(run.config["model"]),
        dataset=str(run.config["dataset"]),
        split=split,
        examples=int(len(y)),
        loss=objective.loss,
        parameters=int(sum(w.size for w in center)),
        center_loss=center_loss,
        alphas=alphas.tolist(),
        losses_1d=line,
        grid=grid.tolist(),
        losses_2d=surface,
    )


def describe(result: Landscape, lang: str = "en") -> str:
    line = np.asarray(result.losses_1d)
    surface = np.asarray(result.losses_2d)
    return "\n".join(
        [
            text(
                "landscape.header",
                lang,
                run=result.run,
                model=result.model,
                dataset=result.dataset,
                split=result.split,
                n=result.examples,
                parameters=result.parameters,
            ),
            text("landscape.center", lang, loss=result.loss, value=f"{result.center_loss:.6f}"),
            text(
                "landscape.line",
                lang,
                low=f"{np.nanmin(line):.6f}",
                high=f"{np.nanmax(line):.6f}",
                span=f"{result.alphas[-1]:g}",
            ),
            text(
                "landscape.surface",
                lang,
                low=f"{np.nanmin(surface):.6f}",
                high=f"{np.nanmax(surface):.6f}",
                points=len(result.grid),
            ),
        ]
    )


def plot(result: Landscape, folder: Path, fmt: str = "png", lang: str = "en") -> list[Path]:
    """The 1-D curve and the 2-D contour map, the trained weights at 0."""
    fig, axes = new_figure(ncols=2)
    ax, ax2 = axes[0]
    ax.plot(result.alphas, result.losses_1d, color="tab:blue")
    ax.plot([0.0], [result.center_loss], "k*", ms=10, label=text("landscape.trained", lang))
    ax.set_xlabel("α")
    ax.set_ylabel(text("landscape.loss_axis", lang, loss=result.loss))
    ax.set_title(text("landscape.line_title", lang))
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    grid = np.asarray(result.grid)
    surface = np.asarray(result.losses_2d, dtype=float)
    finite = surface[np.isfinite(surface)]
    if np.ptp(finite) <= 0:
        levels = 10
    elif finite.min() > 0:  # log spacing keeps the detail near the minimum visible
        levels = np.geomspace(finite.min(), finite.max(), 20)
    else:
        levels = np.linspace(finite.min(), finite.max(), 20)
    filled = ax2.contourf(grid, grid, surface, levels=levels, cmap="viridis")
    ax2.contour(grid, grid, surface, levels=levels, colors="white", linewidths=0.4)
    fig.colorbar(filled, ax=ax2, label=text("landscape.loss_axis", lang, loss=result.loss))
    ax2.plot([0.0], [0.0], "w*", ms=12)
    ax2.set_xlabel("α")
    ax2.set_ylabel("β")
    ax2.set_title(text("landscape.surface_title", lang))
    fig.suptitle(f"{result.model} · {result.dataset} ({result.split})")
    return [save_figure(fig, folder, "landscape", fmt)]
