"""Reading a run folder into one object, checked so that no reader fails deep inside a figure.

Only config.json is required: a run that diverged, failed or was interrupted may lack metrics,
predictions or most of its history, and the report says so instead of failing. Every file
that is there but not what `zoo train` writes is refused with a `RunFolderError` naming it.

    >>> run = read_run_folder("reports/mlp-gaussians-20261127-101500")   # doctest: +SKIP
    >>> run.status, run.accuracy("test"), len(run.history)
    ('completed', 0.93, 30)
"""

from __future__ import annotations

import csv
import json
import math
import os
import socket
import zipfile
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import OptionError, RunFolderError
from zoo.files import read_json
from zoo.runfolder import format as fmt

REQUIRED_CONFIG = ("model", "dataset", "task")
# What readers take for granted about config.json's fields: a hand-edited file that breaks
# it is refused here, naming the field, instead of failing deep inside a figure.
_NUMBER = (int, float)
_TEXT = (str,)
CONFIG_TYPES: dict[str, tuple[type, ...]] = {
    **dict.fromkeys(("model", "dataset", "task"), _TEXT),
    **dict.fromkeys(
        ("status", "stop_reason", "mode", "optimizer", "loss", "head", "comment", "author"),
        _TEXT,
    ),
    **dict.fromkeys(
        ("group", "variant", "title", "created", "lang", "device", "backend", "host"), _TEXT
    ),
    **dict.fromkeys(
        ("lr", "momentum", "batch_size", "epochs", "epochs_run", "iterations", "seed"), _NUMBER
    ),
    **dict.fromkeys(
        ("steps_per_epoch", "train_size", "test_size", "validation_size", "num_classes"), _NUMBER
    ),
    **dict.fromkeys(
        ("patience", "target_loss", "validation", "train_seconds", "diverged_epoch", "pid"),
        _NUMBER,
    ),
    **dict.fromkeys(("weight_decay", "clip_norm", "lr_decay", "lr_step", "warmup"), _NUMBER),
    "lr_schedule": _TEXT,
    "format": _NUMBER,
    **dict.fromkeys(("class_names", "class_ids", "input_shape", "layers"), (list,)),
    **dict.fromkeys(("dataset_options", "model_options", "normalization", "versions"), (dict,)),
}
REPORT_NUMBERS = ("accuracy", "loss", "mse", "mae", "r2")


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    except (OverflowError, ValueError):
        return False
    try:  # a zombie (exited, not yet reaped by its parent) trains nothing
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


@dataclass
class RunFolder:
    """A run folder's contents. Files that are absent are None (history: an empty list).

    `history` holds one dict per epoch with the columns of history.csv as floats (None where
    the cell is empty, e.g. accuracy of a regression); `predictions` and `data` are the arrays
    of predictions.npz and data.npz.
    """

    path: Path
    config: dict[str, Any]
    history: list[dict[str, float | None]] = field(default_factory=list)
    metrics: dict[str, Any] | None = None
    predictions: dict[str, np.ndarray] | None = None
    data: dict[str, np.ndarray] | None = None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def status(self) -> str:
        """config.json's status; "killed" for a run whose process is gone while it says running."""
        status = str(self.config.get("status") or "completed")
        if status == fmt.RUNNING and self.config.get("host") == socket.gethostname():
            pid = self.config.get("pid")
            if isinstance(pid, int) and not process_alive(pid):
                return "killed"
        return status

    @property
    def finished(self) -> bool:
        """True unless the run diverged, failed, was interrupted or killed, or still runs."""
        return self.status in fmt.FINISHED

    @property
    def task(self) -> str:
        return str(self.config.get("task", "classification"))

    @property
    def is_classification(self) -> bool:
        return self.task == "classification"

    @property
    def class_names(self) -> list[str]:
        return [str(n) for n in self.config.get("class_names") or []]

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.config.get("input_shape") or ())

    @property
    def is_image(self) -> bool:
        return len(self.input_shape) >= 2

    @property
    def eval_split(self) -> str:
        """ "test" or "validation": which split the curves' second line is."""
        return fmt.eval_split(self.config)

    @property
    def model_path(self) -> Path | None:
        path = self.path / fmt.MODEL
        return path if path.is_file() else None

    @cached_property
    def objective(self):
        """The `Objective` the run was trained with: how its outputs become classes."""
        from zoo.objective import Objective

        c = self.config
        num_classes = int(c.get("num_classes") or len(self.class_names) or 1)
        try:
            return Objective.create(
                head=c.get("head"), task=self.task, num_classes=num_classes, loss=c.get("loss")
            )
        except OptionError as err:
            raise RunFolderError(f"{self.path / fmt.CONFIG}: {err}") from None

    def column(self, key: str) -> np.ndarray:
        """One history column as floats (NaN where empty)."""
        return np.array(
            [np.nan if row.get(key) is None else row[key] for row in self.history], dtype=float
        )

    @property
    def best_epoch(self) -> int | None:
        """metrics.json's best epoch; without it, the epoch of the lowest test loss."""
        if self.metrics and self.metrics.get("best_epoch"):
            return int(self.metrics["best_epoch"])
        return fmt.best_epoch(self.history)

    def report(self, split: str) -> dict[str, Any] | None:
        """metrics.json's report for "train" or "test" (None when missing)."""
        if not self.metrics:
            return None
        value = self.metrics.get(split)
        return value if isinstance(value, dict) else None

    def accuracy(self, split: str) -> float | None:
        """Final accuracy on "train" or "test" from metrics.json (None when not there)."""
        report = self.report(split)
        value = report.get("accuracy") if report else None
        return float(value) if isinstance(value, int | float) and math.isfinite(value) else None

    def missing(self) -> list[str]:
        """The files a finished run has and this folder lacks (what a failed write left out)."""
        expected = [fmt.HISTORY, fmt.METRICS, fmt.PREDICTIONS, fmt.MODEL]
        return [name for name in expected if not (self.path / name).is_file()]

    def load_model(self):
        """The run's saved Keras model (imports Keras); None when the folder has none.

        RunFolderError naming model.keras when its input or output shape is not the one
        config.json describes (a model copied in from another run)."""
        if not self.model_path:
            return None
        model = load_model(self.model_path)
        self.check_model(model)
        return model

    def check_model(self, model) -> None:
        """RunFolderError unless `model` takes config.json's input shape and gives its outputs."""
        where = f"{self.model_path or self.path / fmt.MODEL} does not match {fmt.CONFIG}"
        try:
            inputs = tuple(model.inputs[0].shape[1:])
            units = model.outputs[0].shape[-1]
        except (AttributeError, IndexError, TypeError):
            raise RunFolderError(f"{where}: it has no single input and output") from None
        if self.input_shape and inputs != self.input_shape:
            raise RunFolderError(
                f"{where}: it takes inputs of shape {list(inputs)}, the run's data "
                f"{list(self.input_shape)}"
            )
        expected = self.objective.units
        one_per_class = self.is_classification and units == self.objective.num_classes
        if units != expected and not one_per_class:
            raise RunFolderError(f"{where}: it gives {units} outputs, the run's head {expected}")


def load_model(path: str | Path):
    """A saved `.keras` model, or RunFolderError saying the file is damaged."""
    from zoo.backend import select_backend

    select_backend(None)  # a junk $KERAS_BACKEND is a message, not Keras's import traceback
    import keras

    if not zipfile.is_zipfile(path):  # Keras would say "File not found" of it
        raise RunFolderError(
            f"cannot load {path}: it is not a Keras model file (no .keras archive)"
        )
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as err:  # a file on disk: truncated, edited, or not Keras's at all
        first = str(err).splitlines()[0] if str(err) else ""
        raise RunFolderError(
            f"cannot load {path}: it is damaged or not a Keras model ({type(err).__name__}: "
            f"{first})"
        ) from None


def _read_json(path: Path) -> Any:
    try:
        return read_json(path)
    except json.JSONDecodeError as err:
        raise RunFolderError(f"{path} is not valid JSON (line {err.lineno}): {err.msg}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise RunFolderError(f"cannot read {path}: {err}") from None


def _number(text: str | None) -> float | None:
    if text is None or text.strip() == "":
        return None
    try:
        return float(text)  # "nan" and "inf" parse: a diverged run writes them
    except ValueError:
        return None


def read_history(path: Path) -> list[dict[str, float | None]]:
    """history.csv as a list of rows; a missing file is an empty history."""
    if not path.is_file():
        return []
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            missing = [c for c in ("epoch", "loss") if c not in header]
            if missing:
                raise RunFolderError(
                    f"{path} has no {missing[0]!r} column; expected the header "
                    + ",".join(fmt.HISTORY_COLUMNS)
                )
            rows = [{key: _number(value) for key, value in row.items() if key} for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise RunFolderError(f"cannot read {path}: {err}") from None
    return [row for row in rows if row.get("epoch") is not None]


def read_npz(path: Path) -> dict[str, np.ndarray] | None:
    """An .npz file as a dict of arrays (None when missing)."""
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise RunFolderError(f"cannot read {path}: {err}") from None


def _kind(types: tuple[type, ...]) -> str:
    return {_NUMBER: "a number", _TEXT: "text", (list,): "a list", (dict,): "an object"}[types]


def check_config(config: dict[str, Any], path: Path) -> None:
    """RunFolderError naming the first field of config.json whose type readers cannot use."""
    for key, types in CONFIG_TYPES.items():
        value = config.get(key)
        if value is not None and (not isinstance(value, types) or isinstance(value, bool)):
            raise RunFolderError(f"{path}: {key!r} should be {_kind(types)}, not {value!r}")
    items = {
        "class_names": ((str, int), "names"),
        "class_ids": ((int,), "whole numbers"),
        "input_shape": ((int,), "whole numbers"),
        "layers": ((dict,), "objects"),
    }
    for key, (types, what) in items.items():
        bad = [v for v in config.get(key) or [] if not isinstance(v, types)]
        if bad:
            raise RunFolderError(f"{path}: {key!r} should list {what}, not {bad[0]!r}")
    version = config.get("format", 1)
    if version > fmt.FORMAT_VERSION:
        raise RunFolderError(
            f"{path}: written in run-folder format {version}, newer than this zoo reads "
            f"({fmt.FORMAT_VERSION}); upgrade zoo"
        )
    lang = config.get("lang")
    if lang is not None:
        from zoo.i18n import languages

        if lang not in languages():
            raise RunFolderError(
                f"{path}: 'lang' should be one of {', '.join(languages())}, not {lang!r}"
            )
    classes = config.get("class_names") or []
    if config.get("task", "classification") == "classification":
        if not classes:  # `zoo train` always names them; every table and figure uses them
            raise RunFolderError(
                f"{path}: 'class_names' is missing or empty; a classification run lists its "
                "classes there"
            )
        n = config.get("num_classes")
        if n is not None and n != len(classes):
            raise RunFolderError(
                f"{path}: 'num_classes' is {n} but 'class_names' lists {len(classes)}"
            )


def check_metrics(metrics: dict[str, Any], path: Path, classes: int) -> None:
    """RunFolderError naming the first entry of metrics.json that readers cannot use."""
    best = metrics.get("best_epoch")
    if best is not None and (not isinstance(best, int) or isinstance(best, bool)):
        raise RunFolderError(f"{path}: 'best_epoch' should be a whole number, not {best!r}")
    for split in ("train", "test"):
        report = metrics.get(split)
        if report is None:
            continue
        if not isinstance(report, dict):
            raise RunFolderError(f"{path}: {split!r} should be an object, not {report!r}")
        for key, value in report.items():
            where = f"{path}: {split}.{key}"
            if key in REPORT_NUMBERS:
                ok = value is None or isinstance(value, _NUMBER)
            elif key == "confusion_matrix":
                k = classes or (len(value) if isinstance(value, list) else 0)
                ok = (
                    isinstance(value, list)
                    and len(value) == k
                    and all(
                        isinstance(row, list)
                        and len(row) == k
                        and all(isinstance(v, _NUMBER) for v in row)
                        for row in value
                    )
                )
                if not ok:
                    raise RunFolderError(
                        f"{where} should be a {k} x {k} table of counts "
                        f"(one row and column per class), not {value!r}"
                    )
            else:  # a class, or "macro avg": precision, recall, f1-score, support
                ok = isinstance(value, dict) and all(
                    v is None or isinstance(v, _NUMBER) for v in value.values()
                )
            if not ok:
                raise RunFolderError(f"{where} is not what `zoo train` writes there: {value!r}")


def _check_labels(path: Path, key: str, values: np.ndarray, classes: int) -> None:
    if values.ndim != 1 or values.dtype.kind not in "iu":
        raise RunFolderError(f"{path}: {key!r} should hold class numbers, not {values.dtype}")
    if values.size and (values.min() < 0 or values.max() >= classes):
        raise RunFolderError(
            f"{path}: {key!r} holds class {int(values.max())}, but config.json names "
            f"{classes} classes"
        )


def _check_lengths(path: Path, arrays: dict[str, np.ndarray], keys: tuple[str, ...]) -> None:
    present = [k for k in keys if k in arrays]
    lengths = {k: len(arrays[k]) if arrays[k].ndim else -1 for k in present}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{k} {n}" for k, n in lengths.items())
        raise RunFolderError(f"{path}: arrays that belong together differ in length ({listed})")


def check_arrays(run: RunFolder) -> None:
    """RunFolderError naming predictions.npz or data.npz when their arrays do not fit config."""
    classes = len(run.class_names) if run.is_classification else 0
    numeric = "fiub"
    for name, arrays in ((fmt.PREDICTIONS, run.predictions), (fmt.DATA, run.data)):
        if not arrays:
            continue
        path = run.path / name
        for key, value in arrays.items():
            if value.dtype.kind not in numeric:
                raise RunFolderError(f"{path}: {key!r} should hold numbers, not {value.dtype}")
    preds = run.predictions or {}
    path = run.path / fmt.PREDICTIONS
    for split in ("train", "test"):
        _check_lengths(path, preds, (f"p_{split}", f"pred_{split}", f"y_{split}"))
        p = preds.get(f"p_{split}")
        if p is not None and (p.ndim != 2 or p.dtype.kind != "f"):
            raise RunFolderError(f"{path}: 'p_{split}' should be a table of outputs, not {p.shape}")
        if classes:
            if p is not None and p.shape[1] not in (1, classes):
                raise RunFolderError(
                    f"{path}: 'p_{split}' has {p.shape[1]} outputs per example, but config.json "
                    f"names {classes} classes"
                )
            for key in (f"pred_{split}", f"y_{split}"):
                if key in preds:
                    _check_labels(path, key, preds[key], classes)
    data = run.data or {}
    path = run.path / fmt.DATA
    for group in (
        ("x_train", "y_train"),
        ("x_test", "y_test"),
        ("sample_x", "sample_y"),
        ("miss_x", "miss_true", "miss_pred", "miss_conf"),
    ):
        _check_lengths(path, data, group)
    if classes:
        for key in ("y_train", "y_test", "sample_y", "miss_true", "miss_pred"):
            if key in data:
                _check_labels(path, key, data[key], classes)


def read_run_folder(path: str | Path) -> RunFolder:
    """Read the run folder at `path`; RunFolderError when it is not one.

    >>> read_run_folder("README.md")   # doctest: +SKIP
    RunFolderError: README.md is not a run folder: it is a file
    """
    path = Path(path)
    hint = "(a run folder is what `zoo train` writes: config.json, history.csv, metrics.json ...)"
    if not path.exists():
        raise RunFolderError(f"{path}: no such folder")
    if not path.is_dir():
        raise RunFolderError(f"{path} is not a run folder: it is a file {hint}")
    config_path = path / fmt.CONFIG
    if not config_path.is_file():
        raise RunFolderError(f"{path} is not a run folder: it has no {fmt.CONFIG} {hint}")
    config = _read_json(config_path)
    if not isinstance(config, dict):
        raise RunFolderError(f"{config_path} does not hold a JSON object")
    missing = [key for key in REQUIRED_CONFIG if key not in config]
    if missing:
        raise RunFolderError(f"{config_path} is not a run's config: it lacks {missing[0]!r}")
    check_config(config, config_path)
    metrics_path = path / fmt.METRICS
    metrics = _read_json(metrics_path) if metrics_path.exists() else None
    if metrics is not None and not isinstance(metrics, dict):
        raise RunFolderError(f"{metrics_path} does not hold a JSON object")
    run = RunFolder(
        path=path,
        config=config,
        history=read_history(path / fmt.HISTORY),
        metrics=metrics,
        predictions=read_npz(path / fmt.PREDICTIONS),
        data=read_npz(path / fmt.DATA),
    )
    if metrics is not None:
        check_metrics(metrics, metrics_path, len(run.class_names))
    check_arrays(run)
    return run
