"""The run folder's format: its file names, version, history columns, statuses and the rules
every reader and writer shares (the best epoch, the name of the curve's split).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

# config.json's "format": raised when a file changes meaning; readers refuse a newer one.
# 1: the folders written before the field existed.
FORMAT_VERSION = 2

CONFIG = "config.json"  # every option, versions, layers, status; written first and last
HISTORY = "history.csv"  # one row per epoch, HISTORY_COLUMNS
METRICS = "metrics.json"  # classification_report per split, confusion matrix, loss, best epoch
REPORT_TEXT = "classification_report.txt"  # the reports as classification_report prints them
PREDICTIONS = "predictions.npz"  # p_/pred_/y_ per split: the model's outputs and classes
DATA = "data.npz"  # what the figures need of the data (2-D points, sample images)
MODEL = "model.keras"  # the trained model; scaling inside, so it takes raw inputs
REPORT = "report.pdf"
TENSORBOARD = "tensorboard"  # event files for TensorBoard, one folder per split (sweeps)
FILES = (CONFIG, HISTORY, METRICS, REPORT_TEXT, PREDICTIONS, DATA, MODEL, REPORT)
# `zoo export`'s default outputs, by format: the model for other runtimes, scaling inside.
# Each has its class names beside it in `<name without suffix>.labels.txt`.
EXPORTS = {"onnx": "model.onnx", "litert": "model.tflite", "savedmodel": "saved_model"}
LABELS_SUFFIX = ".labels.txt"

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
SAMPLES_PER_CLASS = 10  # training images per class in samples.png
MISCLASSIFIED = 16  # the surest mistakes kept for misclassified.png

# Statuses. A run is "running" until it ends; the others are final.
RUNNING = "running"
FINISHED = ("completed", "stopped_early", "target_reached")  # ended as planned
UNFINISHED = ("diverged", "interrupted", "failed", "killed")
# "killed": the folder still says running, but the process that wrote it is gone (SIGKILL,
# power loss); readers work it out from the host and pid recorded in config.json.


def eval_split(config: Mapping) -> str:
    """ "validation" when part of the training set was held out to draw the curves, else "test"."""
    return "validation" if config.get("validation_size") or config.get("validation") else "test"


def best_epoch(history: Sequence[Mapping]) -> int | None:
    """The epoch of the lowest test (or validation) loss: where overfitting starts.

    >>> best_epoch([{"epoch": 1, "val_loss": 0.5}, {"epoch": 2, "val_loss": 0.4},
    ...             {"epoch": 3, "val_loss": 0.45}])
    2
    """
    losses = []
    for row in history:
        value, epoch = row.get("val_loss"), row.get("epoch")
        if isinstance(value, int | float) and math.isfinite(value) and epoch is not None:
            losses.append((float(value), int(epoch)))
    return min(losses)[1] if losses else None
