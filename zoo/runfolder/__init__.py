"""The run folder: one self-describing directory per training run (Ludwig style).

Everything the zoo writes about a run meets here, and this package alone knows its format:
file names and version (`format`), how it is written (`writer`: a new folder per run, every
file whole or absent, an honest status after any failure) and how it is read (`reader`:
`RunFolder`, checked, with the run's `Objective`, best epoch and model).

    reports/mlp-digits-20261127-100909/
      config.json  history.csv  metrics.json  classification_report.txt
      predictions.npz  data.npz  model.keras  report.pdf  *.png
"""

from zoo.runfolder.format import (
    CONFIG,
    DATA,
    EXPORTS,
    FINISHED,
    FORMAT_VERSION,
    HISTORY,
    HISTORY_COLUMNS,
    LABELS_SUFFIX,
    METRICS,
    MODEL,
    PREDICTIONS,
    REPORT,
    REPORT_TEXT,
    TENSORBOARD,
    best_epoch,
    eval_split,
)
from zoo.runfolder.reader import RunFolder, load_model, read_run_folder
from zoo.runfolder.run import UNSAVED, Run
from zoo.runfolder.writer import RunWriter, create_run_folder, data_arrays, describe_layers

__all__ = [
    "CONFIG",
    "DATA",
    "EXPORTS",
    "FINISHED",
    "FORMAT_VERSION",
    "HISTORY",
    "HISTORY_COLUMNS",
    "LABELS_SUFFIX",
    "METRICS",
    "MODEL",
    "PREDICTIONS",
    "REPORT",
    "REPORT_TEXT",
    "Run",
    "RunFolder",
    "TENSORBOARD",
    "UNSAVED",
    "RunWriter",
    "best_epoch",
    "create_run_folder",
    "data_arrays",
    "describe_layers",
    "eval_split",
    "load_model",
    "read_run_folder",
]
