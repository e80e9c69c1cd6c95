"""Metrics exactly as scikit-learn computes them, plus the confusion matrix (for training's
results and the reports alike)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def classification_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str]
) -> dict:
    """`classification_report(output_dict=True)` with `confusion_matrix` (rows: true class) added.

    Every class is listed, also one never predicted or absent from this split.

    >>> m = classification_metrics([0, 1, 1], [0, 1, 0], ["a", "b"])
    >>> m["accuracy"], m["confusion_matrix"]
    (0.6666666666666666, [[1, 0], [1, 1]])
    """
    from sklearn.metrics import classification_report, confusion_matrix

    labels = list(range(len(class_names)))
    report = classification_report(
        y_true,
        y_pred,
        labels=labels,
        target_names=list(class_names),
        output_dict=True,
        zero_division=0,
    )
    if "accuracy" not in report:  # sklearn reports micro avg instead when a label is absent
        report["accuracy"] = float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))
    report["confusion_matrix"] = confusion_matrix(y_true, y_pred, labels=labels).tolist()
    return report


def classification_report_text(
    y_true: np.ndarray, y_pred: np.ndarray, class_names: Sequence[str], digits: int = 4
) -> str:
    """The report as `print(classification_report(..., digits=4))` shows it in the lab."""
    from sklearn.metrics import classification_report

    return classification_report(
        y_true,
        y_pred,
        labels=list(range(len(class_names))),
        target_names=list(class_names),
        digits=digits,
        zero_division=0,
    )


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """Mean squared error, mean absolute error and R², as scikit-learn computes them."""
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    y_true, y_pred = np.ravel(y_true), np.ravel(y_pred)
    return {
        "mse": float(mean_squared_error(y_true, y_pred)),
        "mae": float(mean_absolute_error(y_true, y_pred)),
        "r2": float(r2_score(y_true, y_pred)),
    }
