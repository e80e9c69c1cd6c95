"""Reading a run folder (what `zoo train` writes) into one object.

Reporting reads folders, not live objects, so `zoo report` and `zoo compare` work on old runs.
Only config.json is required: a run that diverged or was interrupted may lack metrics,
predictions or most of its history, and the report says so instead of failing.

    >>> run = read_run_folder("reports/mlp-gaussians-20261127-101500")   # doctest: +SKIP
    >>> run.status, run.accuracy("test"), len(run.history)
    ('completed', 0.93, 30)
"""

from __future__ import annotations

import csv
import json
import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import RunFolderError
from zoo.training.run_folder import HISTORY_COLUMNS

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
    **dict.fromkeys(("group", "variant", "title", "created", "lang", "device", "backend"), _TEXT),
    **dict.fromkeys(
        ("lr", "momentum", "batch_size", "epochs", "epochs_run", "iterations", "seed"), _NUMBER
    ),
    **dict.fromkeys(
        ("steps_per_epoch", "train_size", "test_size", "validation_size", "num_classes"), _NUMBER
    ),
    **dict.fromkeys(
        ("patience", "target_loss", "validation", "train_seconds", "diverged_epoch"), _NUMBER
    ),
    **dict.fromkeys(("class_names", "class_ids", "input_shape", "layers"), (list,)),
    **dict.fromkeys(("dataset_options", "model_options", "normalization", "versions"), (dict,)),
}
REPORT_NUMBERS = ("accuracy", "loss", "mse", "mae", "r2")
# Statuses of a run that ended as planned; anything else is reported as unfinished.
FINISHED = ("completed", "stopped_early", "target_reached")


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
        return str(self.config.get("status") or "completed")

    @property
    def finished(self) -> bool:
        """True unless the run diverged, was interrupted, or has an unknown status."""
        return self.status in FINISHED

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
    def model_path(self) -> Path | None:
        path = self.path / "model.keras"
        return path if path.is_file() else None

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
        val = self.column("val_loss")
        if val.size == 0 or not np.isfinite(val).any():
            return None
        return int(self.column("epoch")[int(np.nanargmin(val))])

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


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
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
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            missing = [c for c in ("epoch", "loss") if c not in header]
            if missing:
                raise RunFolderError(
                    f"{path} has no {missing[0]!r} column; expected the header "
                    + ",".join(HISTORY_COLUMNS)
                )
            rows = [{key: _number(value) for key, value in row.items() if key} for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise RunFolderError(f"cannot read {path}: {err}") from None
    return [row for row in rows if row.get("epoch") is not None]


def read_npz(path: Path) -> dict[str, np.ndarray] | None:
    """An .npz file as a dict of arrays (None when missing)."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile) as err:
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


def check_metrics(metrics: dict[str, Any], path: Path) -> None:
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
                ok = isinstance(value, list) and all(
                    isinstance(row, list) and all(isinstance(v, _NUMBER) for v in row)
                    for row in value
                )
            else:  # a class, or "macro avg": precision, recall, f1-score, support
                ok = isinstance(value, dict) and all(
                    v is None or isinstance(v, _NUMBER) for v in value.values()
                )
            if not ok:
                raise RunFolderError(f"{where} is not what `zoo train` writes there: {value!r}")


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
    config_path = path / "config.json"
    if not config_path.is_file():
        raise RunFolderError(f"{path} is not a run folder: it has no config.json {hint}")
    config = _read_json(config_path)
    if not isinstance(config, dict):
        raise RunFolderError(f"{config_path} does not hold a JSON object")
    missing = [key for key in REQUIRED_CONFIG if key not in config]
    if missing:
        raise RunFolderError(f"{config_path} is not a run's config: it lacks {missing[0]!r}")
    check_config(config, config_path)
    metrics_path = path / "metrics.json"
    metrics = _read_json(metrics_path) if metrics_path.is_file() else None
    if metrics is not None and not isinstance(metrics, dict):
        raise RunFolderError(f"{metrics_path} does not hold a JSON object")
    if metrics is not None:
        check_metrics(metrics, metrics_path)
    return RunFolder(
        path=path,
        config=config,
        history=read_history(path / "history.csv"),
        metrics=metrics,
        predictions=read_npz(path / "predictions.npz"),
        data=read_npz(path / "data.npz"),
    )
