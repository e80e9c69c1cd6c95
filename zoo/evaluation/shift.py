"""How each run's test accuracy holds when every test image is moved (`zoo shift`).

Lab 2's web page moves a picture by whole pixels and fills the uncovered border with black;
a convolutional network keeps its answer for a few pixels, a fully connected one does not.
Here every test image is moved by (dx, dy) for every dx, dy in -max..max (dx > 0: right,
dy > 0: down, the border black: zeros of the raw pixels), and each run's model classifies
them with the run's own rule from outputs to classes:

    >>> result = shift_accuracy(["reports/mlp-a", "reports/cnn-b"], max_shift=8)  # doctest: +SKIP
    >>> result["runs"][1]["x_curve"]  # accuracy along x, at dy = 0  # doctest: +SKIP

The result is plain numbers (shift.json); `zoo.reporting.shift` adds how each network is
built and draws the curves and the maps.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import OptionError, RunFolderError
from zoo.runfolder import RunFolder, read_run_folder

MAX_SHIFT = 32


def shift_images(x: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """`x` (N, H, W[, C]) moved `dx` pixels right and `dy` down; the uncovered border is 0.

    >>> shift_images(np.arange(4).reshape(1, 2, 2), 1, 0)[0].tolist()
    [[0, 0], [0, 2]]
    """
    out = np.zeros_like(x)
    h, w = x.shape[1], x.shape[2]
    if abs(dx) >= w or abs(dy) >= h:
        return out
    src_y, dst_y = (
        (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    )
    src_x, dst_x = (
        (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    )
    out[:, dst_y, dst_x] = x[:, src_y, src_x]
    return out


def _test_set(run: RunFolder, data_dir: str | None):
    """The run's test images and labels, loaded again from its dataset (as recorded)."""
    from zoo.datasets import load_dataset

    options = dict(run.config.get("dataset_options") or {})
    if data_dir is not None:
        options["data_dir"] = data_dir
    data = load_dataset(run.config["dataset"], **options)
    if not data.is_image or data.task != "classification":
        raise OptionError(
            "run_dirs",
            f"{run.name} was trained on {data.name}, not on images: there is nothing to shift",
        )
    return data.x_test, data.y_test


def run_shift(run: RunFolder, max_shift: int, data_dir: str | None = None) -> dict[str, Any]:
    """One run's accuracy on the (2·max + 1)² shifted copies of its test set."""
    from zoo.objective import model_outputs

    model = run.load_model()
    if model is None:
        raise RunFolderError(f"{run.path} has no model.keras: nothing to classify with")
    x, y = _test_set(run, data_dir)
    objective = run.objective
    shifts = list(range(-max_shift, max_shift + 1))
    grid = np.zeros((len(shifts), len(shifts)))
    for i, dy in enumerate(shifts):
        for j, dx in enumerate(shifts):
            predicted = objective.decode(model_outputs(model, shift_images(x, dx, dy)))
            grid[i, j] = float(np.mean(predicted == y))
    middle = max_shift
    layers = run.config.get("layers") or []
    return {
        "run": str(run.path),
        "name": run.name,
        "model": run.config.get("model"),
        "comment": run.config.get("comment"),
        "params": sum(int(layer.get("params") or 0) for layer in layers),
        "test_size": int(len(y)),
        "unshifted": grid[middle, middle],
        "x_curve": grid[middle].tolist(),
        "y_curve": grid[:, middle].tolist(),
        "accuracy": grid.tolist(),  # rows: dy, columns: dx
        "mean": float(grid.mean()),
    }


def shift_accuracy(
    run_dirs: Sequence[str | Path], max_shift: int = 8, data_dir: str | None = None
) -> dict[str, Any]:
    """Every run's accuracy over the shifts (see `run_shift`)."""
    if not run_dirs:
        raise OptionError("run_dirs", "give at least one run folder")
    if not (isinstance(max_shift, int) and 0 < max_shift <= MAX_SHIFT):
        raise OptionError("max_shift", f"a whole number of pixels in 1..{MAX_SHIFT}")
    runs = [read_run_folder(d) for d in run_dirs]
    return {
        "max_shift": max_shift,
        "shifts": list(range(-max_shift, max_shift + 1)),
        "fill": "black (0)",
        "runs": [run_shift(run, max_shift, data_dir) for run in runs],
    }
