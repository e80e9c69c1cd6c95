"""After training: the model's outputs, scikit-learn's metrics, and the run folder's data files.

The outputs are computed once per split, in large batches on the training loop's compiled
path, and shared by the metrics, predictions.npz and data.npz; the figures and report.pdf
are then drawn from the folder by `zoo.reporting`, which reads no data set again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zoo.evaluation.metrics import (
    classification_metrics,
    classification_report_text,
    regression_metrics,
)
from zoo.objective import model_outputs, output_logits
from zoo.runfolder import DATA, PREDICTIONS, RunWriter, best_epoch, data_arrays


@dataclass
class Results:
    metrics: dict
    objective: Any  # the Objective the model was trained with: it reads the outputs
    outputs: dict[str, np.ndarray] = field(default_factory=dict)  # p_/pred_/y_ per split
    report_text: str = ""


def evaluate(
    model,
    objective,
    data,
    history: list[dict],
    status: str,
    outputs_of: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Results:
    """Metrics on train and test for the model as it is now (best weights, if restored).

    `outputs_of(x)` gives the model's outputs for a split (the epoch runner's `outputs`,
    compiled); by default the model is called batch by batch. Each split is read once."""
    metrics: dict = {"best_epoch": best_epoch(history), "status": status}
    outputs: dict[str, np.ndarray] = {}
    texts = []
    if outputs_of is None:

        def outputs_of(x):
            return model_outputs(model, x)

    penalty = weight_penalty(model)
    for split, x, y in (("train", data.x_train, data.y_train), ("test", data.x_test, data.y_test)):
        p = outputs_of(x)
        pred = objective.decode(p)
        outputs[f"p_{split}"], outputs[f"pred_{split}"], outputs[f"y_{split}"] = p, pred, y
        if status == "diverged" or not np.isfinite(p).all():
            continue  # a diverged model has no meaningful metrics; history says what happened
        # one loss everywhere: unclipped (see `Objective.mean_loss`)
        # (the rare answer whose probability float32 cannot hold: its logits, those rows only)
        loss = objective.mean_loss(
            objective.encode(y), p, lambda rows, x=x: output_logits(model, x[rows])
        )
        loss += penalty  # as history's val_loss and `fit`'s: the weight penalties count too
        if data.task == "classification":
            metrics[split] = {**classification_metrics(y, pred, data.class_names), "loss": loss}
            label = "Train" if split == "train" else "Test"
            texts.append(f"{label}\n{classification_report_text(y, pred, data.class_names)}")
        else:
            metrics[split] = {**regression_metrics(y, pred), "loss": loss}
    return Results(metrics, objective, outputs, "\n".join(texts))


def write_results(writer: RunWriter, model, data, history: list[dict], results: Results) -> None:
    """Every data file of the run folder but config.json; each whole or absent."""
    writer.history(history)
    writer.metrics(results.metrics)
    if results.report_text:
        writer.report_text(results.report_text)
    writer.arrays(PREDICTIONS, results.outputs)
    arrays = data_arrays(data, results.objective, results.outputs.get("p_test"))
    if arrays:
        writer.arrays(DATA, arrays)
    writer.model(model)


def weight_penalty(model) -> float:
    """The model's weight penalties (`--l1`, `--l2`) at its present weights; 0 without."""
    from keras import ops

    try:
        losses = model.losses
    except Exception:  # a model whose losses need a call first: none to add
        return 0.0
    return float(sum(float(ops.convert_to_numpy(loss)) for loss in losses))
