"""The run folder: one self-describing directory per training run (Ludwig style).

A new run never overwrites an old folder. What `zoo report` needs to rebuild every figure
(predictions, the 2-D points, sample and misclassified images) is written here too.
"""

from __future__ import annotations

import csv
import json
import math
import time
from pathlib import Path

import numpy as np

from zoo.errors import OptionError
from zoo.jsonable import to_jsonable

HISTORY_COLUMNS = (
    "epoch",
    "iterations",
    "loss",
    "accuracy",
    "val_loss",
    "val_accuracy",
    "lr",
    "seconds",
)
SMALL_INPUT = 3  # inputs with at most this many features are stored whole (2-D and 1-D sets)
SAMPLES_PER_CLASS = 10
MISCLASSIFIED = 16


def create_run_folder(out: str | Path, model_name: str, dataset_name: str) -> Path:
    """`out/<model>-<dataset>-<timestamp>`, with `-2`, `-3`... if that name is taken."""
    out = Path(out)
    stem = f"{model_name}-{dataset_name}-{time.strftime('%Y%m%d-%H%M%S')}"
    try:
        out.mkdir(parents=True, exist_ok=True)
        for n in range(1, 1000):
            folder = out / (stem if n == 1 else f"{stem}-{n}")
            try:
                folder.mkdir()
                return folder
            except FileExistsError:
                continue
    except OSError as err:  # read-only, no permission, a file in the way
        raise OptionError(
            "--out", f"cannot make a run folder in {str(out)!r}: {err.strerror or err}"
        ) from None
    raise FileExistsError(f"no free run folder name under {out} for {stem}")


def write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".json.tmp")
    text = json.dumps(to_jsonable(data), indent=2, ensure_ascii=False)
    tmp.write_text(text + "\n", encoding="utf-8")
    tmp.replace(path)


def write_history(path: Path, history: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=HISTORY_COLUMNS)
        writer.writeheader()
        for row in history:
            writer.writerow({k: _format(row.get(k)) for k in HISTORY_COLUMNS})


def _format(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value).lower()
    return str(value)


def describe_layers(model) -> list[dict]:
    """Per layer: type, output shape, parameters; Dense adds neurons, inputs, weights, biases."""
    rows = []
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        try:
            shape = list(layer.output.shape)
        except (AttributeError, ValueError):
            shape = None
        row = {
            "name": layer.name,
            "type": type(layer).__name__,
            "output_shape": shape,
            "params": int(layer.count_params()) if layer.built else 0,
        }
        if row["type"] == "Dense":
            kernel = layer.kernel.shape
            row.update(
                units=int(kernel[1]),
                inputs=int(kernel[0]),
                weights=int(kernel[0] * kernel[1]),
                biases=int(kernel[1]) if layer.use_bias else 0,
                activation=getattr(layer.activation, "__name__", str(layer.activation)),
            )
        rows.append(row)
    return rows


def data_arrays(dataset, p_test: np.ndarray | None, pred_test: np.ndarray | None) -> dict:
    """What the report needs of the data itself, kept small (see the module docstring)."""
    x_train, x_test = dataset.x_train, dataset.x_test
    if x_train.ndim == 2 and x_train.shape[1] <= SMALL_INPUT:
        return {
            "x_train": x_train,
            "x_test": x_test,
            "y_train": dataset.y_train,
            "y_test": dataset.y_test,
        }
    if not dataset.is_image or dataset.task != "classification":
        return {}
    rng = np.random.default_rng(0)
    picks = []
    for c in range(dataset.num_classes):
        members = np.flatnonzero(dataset.y_train == c)
        picks.extend(rng.permutation(members)[:SAMPLES_PER_CLASS])
    picks = np.array(sorted(picks, key=lambda i: (dataset.y_train[i], i)), dtype=np.int64)
    arrays = {"sample_x": x_train[picks], "sample_y": dataset.y_train[picks]}
    if p_test is not None and pred_test is not None and np.isfinite(p_test).all():
        wrong = np.flatnonzero(pred_test != dataset.y_test)
        conf = (
            p_test[wrong].max(axis=1)
            if p_test.shape[1] > 1
            else np.abs(p_test[wrong, 0] - 0.5) + 0.5
        )
        order = wrong[np.argsort(-conf, kind="stable")][:MISCLASSIFIED]
        conf = np.sort(conf)[::-1][:MISCLASSIFIED]
        arrays.update(
            miss_x=x_test[order],
            miss_true=dataset.y_test[order],
            miss_pred=pred_test[order],
            miss_conf=conf.astype("float32"),
        )
    return arrays
