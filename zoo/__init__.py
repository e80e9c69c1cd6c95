"""zoo: small, well-made Keras 3 models, datasets and training regimes for supervised learning.

    >>> from zoo import create_model, load_dataset, train
    >>> data = load_dataset("digits")
    >>> model = create_model("mlp", input_shape=data.input_shape, num_classes=data.num_classes)
    >>> run = train("mlp", "digits", epochs=30, out="reports")   # names or objects

Nothing heavy is imported here: TensorFlow loads when a model is built or trained.
"""

from __future__ import annotations

from typing import Any

from zoo.datasets import Dataset, list_datasets, load_dataset, register_dataset
from zoo.errors import ZooError
from zoo.models import Normalization, create_model, list_models, register_model

__version__ = "0.1.0"


def train(model: Any, dataset: Any, **options: Any):
    """Train `model` (a name or a `keras.Model`) on `dataset` (a name or a `Dataset`).

    Returns a `zoo.training.Run` with `history`, `metrics` and `folder`. See
    `zoo.training.train` for the options.
    """
    from zoo.training import train as _train

    return _train(model, dataset, **options)


def sweep(model: Any, dataset: Any = None, **options: Any):
    """Train a grid of configurations over several seeds; write a sweep folder with the final
    table (mean ± sd over seeds), figures and report.pdf. Returns a `SweepResult`. See
    `zoo.experiments.sweep` for the options.

    >>> result = sweep("mlp", "digits", grid={"hidden": [5, 10, 32]}, seeds=3, epochs=20)
    ...                                                                 # doctest: +SKIP
    """
    from zoo.experiments import sweep as _sweep

    return _sweep(model, dataset, **options)


__all__ = [
    "Dataset",
    "Normalization",
    "ZooError",
    "create_model",
    "list_datasets",
    "list_models",
    "load_dataset",
    "register_dataset",
    "register_model",
    "sweep",
    "train",
]
