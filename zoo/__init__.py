"""zoo: small, well-made Keras 3 models, datasets and training regimes for supervised learning.

    >>> from zoo import create_model, load_dataset, train
    >>> data = load_dataset("digits")
    >>> model = create_model("mlp", input_shape=data.input_shape, num_classes=data.num_classes)
    >>> run = train("mlp", "digits", epochs=30, out="reports")   # names or objects

In a Jupyter notebook `train` redraws its curves as it goes, and runs, run folders
(`open_run`), datasets and the final table (`compare`) show themselves as HTML.

Nothing heavy is imported here: TensorFlow loads when a model is built or trained.
"""

from __future__ import annotations

from typing import Any

from zoo.datasets import Dataset, list_datasets, load_dataset, register_dataset
from zoo.errors import ZooError
from zoo.models import Normalization, create_model, list_models, register_model
from zoo.presets import get_preset, list_presets
from zoo.runfolder.run import Run

__version__ = "0.1.0"


def train(model: Any, dataset: Any, **options: Any):
    """Train `model` (a name or a `keras.Model`) on `dataset` (a name, a `Dataset`, arrays
    `(x, y)` or a finite `tf.data.Dataset`); `callbacks=[...]` takes Keras callbacks;
    `tensorboard=True` writes TensorBoard's event files into the run folder.

    Returns a `zoo.Run` with `history` (rows, and Keras's `history.history`),
    `metrics` and `folder`. See `zoo.training.train` for the options.
    """
    from zoo.api import train as _train

    return _train(model, dataset, **options)


def open_run(path: Any):
    """The run folder at `path`, read; in a notebook it shows its status, hyperparameters,
    reports and figures. See `zoo.notebook.open_run`."""
    from zoo.notebook import open_run as _open_run

    return _open_run(path)


def show(run: Any, name: str, lang: str | None = None):
    """Show one figure of a run's report in the notebook ("confusion_matrix",
    "learning_curves", "samples", ...). See `zoo.notebook.show`."""
    from zoo.notebook import show as _show

    return _show(run, name, lang)


def compare(runs: Any, lang: str = "en"):
    """The lab's final table, one row per run, as `zoo compare` makes it: HTML in a notebook,
    `.rows` (numbers as numbers), `.to_markdown()`, `.to_csv()`, `.write(path)`.

    `runs` holds `Run`s, run folders, sweep folders or what `sweep` returned (a sweep gives
    a row for each of its runs that has a folder, in its runs' order); one path alone may
    be given without a list. See `zoo.notebook.compare`.

    >>> table = compare(["reports/base", "reports/sweep-mlp-digits"])   # doctest: +SKIP
    """
    from pathlib import Path

    from zoo.notebook import compare as _compare

    if isinstance(runs, str | Path):
        runs = [runs]
    items = []
    for run in runs:
        sweep = _sweep_runs(run)
        items += [run] if sweep is None else sweep
    return _compare(items, lang)


def _sweep_runs(item: Any):
    """The run folders of a sweep (a sweep folder's path, or `sweep`'s result) in its runs'
    order; None when `item` is not a sweep."""
    from pathlib import Path

    from zoo.runfolder import CONFIG
    from zoo.sweeps.folder import RUNS, is_sweep_folder

    folder = item if isinstance(item, str | Path) else getattr(item, "folder", None)
    if not isinstance(folder, str | Path) or not is_sweep_folder(folder):
        return None
    from zoo.sweeps.spec import load_spec

    runs = Path(folder) / RUNS
    names = [run.name for run in load_spec(folder).runs()]
    return [runs / name for name in names if (runs / name / CONFIG).is_file()]


def sweep(model: Any, dataset: Any = None, **options: Any):
    """Train a grid of configurations over several seeds; write a sweep folder with the final
    table (mean ± sd over seeds), figures and report.pdf. Returns a `SweepResult`. See
    `zoo.sweeps.sweep` for the options.

    >>> result = sweep("mlp", "digits", grid={"hidden": [5, 10, 32]}, seeds=3, epochs=20)
    ...                                                                 # doctest: +SKIP
    """
    from zoo.api import sweep as _sweep

    return _sweep(model, dataset, **options)


__all__ = [
    "Dataset",
    "Normalization",
    "Run",
    "ZooError",
    "compare",
    "create_model",
    "get_preset",
    "list_datasets",
    "list_models",
    "list_presets",
    "load_dataset",
    "open_run",
    "register_dataset",
    "register_model",
    "show",
    "sweep",
    "train",
]
