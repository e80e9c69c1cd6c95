"""After training: predictions, scikit-learn metrics and every file of the run folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from zoo.reporting.metrics import (
    classification_metrics,
    classification_report_text,
    regression_metrics,
)


@dataclass
class Results:
    metrics: dict
    objective: Any  # the Objective the model was trained with: it reads the outputs
    outputs: dict[str, np.ndarray] = field(default_factory=dict)  # p_/pred_ per split
    report_text: str = ""


def best_epoch(history: list[dict]) -> int | None:
    """The epoch of the lowest test (or validation) loss: where overfitting starts."""
    losses = [
        (row["val_loss"], row["epoch"])
        for row in history
        if row.get("val_loss") is not None and np.isfinite(row["val_loss"])
    ]
    return min(losses)[1] if losses else None


def evaluate(model, objective, data, history: list[dict], status: str) -> Results:
    """Metrics on train and test for the model as it is now (best weights, if restored)."""
    from zoo.training.trainer import predict_outputs

    metrics: dict = {"best_epoch": best_epoch(history), "status": status}
    outputs: dict[str, np.ndarray] = {}
    texts = []
    loss_fn = objective.keras_loss()
    for split, x, y in (("train", data.x_train, data.y_train), ("test", data.x_test, data.y_test)):
        p = predict_outputs(model, x)
        pred = objective.decode(p)
        outputs[f"p_{split}"], outputs[f"pred_{split}"], outputs[f"y_{split}"] = p, pred, y
        if status == "diverged" or not np.isfinite(p).all():
            continue  # a diverged model has no meaningful metrics; history says what happened
        loss = float(np.asarray(loss_fn(objective.encode(y), p)))
        if data.task == "classification":
            metrics[split] = {**classification_metrics(y, pred, data.class_names), "loss": loss}
            label = "Train" if split == "train" else "Test"
            texts.append(f"{label}\n{classification_report_text(y, pred, data.class_names)}")
        else:
            metrics[split] = {**regression_metrics(y, pred), "loss": loss}
    return Results(metrics, objective, outputs, "\n".join(texts))


def write_results(folder, run, results: Results) -> None:
    """Everything but config.json's first version: see zoo/training/run_folder.py."""
    from zoo.reporting import figures
    from zoo.training.run_folder import SAMPLES_PER_CLASS, data_arrays, write_history, write_json

    data, config = run.dataset, run.config
    write_json(folder / "config.json", config)
    write_history(folder / "history.csv", run.history)
    write_json(folder / "metrics.json", run.metrics)
    if results.report_text:
        (folder / "classification_report.txt").write_text(results.report_text, encoding="utf-8")
    np.savez_compressed(folder / "predictions.npz", **results.outputs)
    arrays = data_arrays(data, results.outputs.get("p_test"), results.outputs.get("pred_test"))
    if arrays:
        np.savez_compressed(folder / "data.npz", **arrays)
    if "sample_x" in arrays:
        from zoo.reporting.samples import save_sample_grid

        save_sample_grid(
            arrays["sample_x"],
            arrays["sample_y"],
            data.class_names,
            folder / "samples.png",
            per_class=SAMPLES_PER_CLASS,
        )
    run.model.save(folder / "model.keras")

    if run.history:
        eval_label = "common.validation" if config["validation_size"] else "common.test"
        fig = figures.learning_curves(
            run.history, best_epoch=run.metrics.get("best_epoch"), eval_label=eval_label
        )
        figures.save_figure(fig, folder / "learning_curves")
    if "test" in run.metrics and "confusion_matrix" in run.metrics["test"]:
        fig = figures.confusion_matrix_figure(
            run.metrics["test"]["confusion_matrix"], data.class_names
        )
        figures.save_figure(fig, folder / "confusion_matrix")
    finite = np.isfinite(results.outputs.get("p_test", np.zeros(1))).all()
    if finite and data.x_train.ndim == 2 and data.x_train.shape[1] in (1, 2):
        from zoo.training.trainer import predict_outputs

        def predict(x):
            return results.objective.decode(predict_outputs(run.model, x))

        if data.x_train.shape[1] == 2 and data.task == "classification":
            fig = figures.decision_boundary(
                predict,
                data.x_train,
                data.y_train,
                data.x_test,
                data.y_test,
                class_names=data.class_names,
            )
            figures.save_figure(fig, folder / "decision_boundary")
        elif data.x_train.shape[1] == 1 and data.task == "regression":
            fig = figures.regression_fit(
                predict, data.x_train, data.y_train, data.x_test, data.y_test
            )
            figures.save_figure(fig, folder / "regression_fit")
