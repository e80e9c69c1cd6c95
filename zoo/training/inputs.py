"""What `fit` takes as data, as a zoo `Dataset`: arrays `(x, y)` and finite `tf.data` sets.

A zoo epoch is compiled over the whole training set held in memory (the three regimes pick
their own batches from it), so a `tf.data.Dataset` is read once into arrays; a batched one
is unbatched first. Integer targets are class indices (classification); float targets are
regression targets.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zoo.datasets import Dataset
from zoo.errors import OptionError


def is_tf_dataset(value: Any) -> bool:
    """True for a `tf.data.Dataset`, found without importing TensorFlow."""
    return any(
        cls.__module__.startswith("tensorflow") and cls.__name__ == "DatasetV2"
        for cls in type(value).__mro__
    )


def read_tf_dataset(dataset, option: str) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of a finite `tf.data.Dataset` of `(x, y)` pairs, batched or not."""
    import tensorflow as tf

    if int(dataset.cardinality()) == int(tf.data.INFINITE_CARDINALITY):
        raise OptionError(option, "the tf.data.Dataset is infinite (repeat()?): give a finite one")
    spec = dataset.element_spec
    if not (isinstance(spec, tuple) and len(spec) == 2):
        raise OptionError(option, "the tf.data.Dataset must yield (x, y) pairs")
    if "Batch" in type(dataset).__name__ or (spec[0].shape.rank and spec[0].shape[0] is None):
        dataset = dataset.unbatch()
    xs, ys = [], []
    for x, y in dataset.as_numpy_iterator():
        xs.append(x)
        ys.append(y)
    if not xs:
        raise OptionError(option, "the tf.data.Dataset is empty")
    return np.stack(xs), np.stack(ys)


def as_arrays(value: Any, option: str) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of a pair of arrays or a `tf.data.Dataset`; OptionError naming `option`."""
    if is_tf_dataset(value):
        return read_tf_dataset(value, option)
    if isinstance(value, tuple | list) and len(value) == 2:
        x, y = (np.asarray(a) for a in value)
        if len(x) != len(y):
            raise OptionError(option, f"x has {len(x)} examples and y {len(y)}")
        if len(x) == 0:
            raise OptionError(option, "no examples")
        return x, y
    raise OptionError(
        option,
        "give a registered name, a zoo Dataset, arrays (x, y) or a finite tf.data.Dataset, "
        f"not {type(value).__name__}",
    )


def _targets(y: np.ndarray) -> np.ndarray:
    """Class indices from one-hot rows; other targets as they are."""
    if y.ndim == 2 and y.shape[1] > 1 and np.all((y == 0) | (y == 1)) and np.all(y.sum(1) == 1):
        return y.argmax(axis=1)
    return y.reshape(len(y)) if y.ndim == 2 and y.shape[1] == 1 else y


def dataset_from_arrays(data: Any, validation_data: Any) -> Dataset:
    """A `Dataset` of `data` (arrays or tf.data) evaluated on `validation_data`."""
    x_train, y_train = as_arrays(data, "dataset")
    if validation_data is None:
        raise OptionError(
            "validation_data",
            "the zoo draws each epoch's curves on held-out data: give validation_data=(x, y) "
            "(it is the run's test set)",
        )
    x_test, y_test = as_arrays(validation_data, "validation_data")
    y_train, y_test = _targets(y_train), _targets(y_test)
    if x_train.shape[1:] != x_test.shape[1:]:
        raise OptionError(
            "validation_data",
            f"its examples have shape {x_test.shape[1:]}, the training ones {x_train.shape[1:]}",
        )
    name = "tf.data" if is_tf_dataset(data) else "arrays"
    if np.issubdtype(y_train.dtype, np.integer) and np.issubdtype(y_test.dtype, np.integer):
        k = int(max(y_train.max(), y_test.max())) + 1
        if min(y_train.min(), y_test.min()) < 0:
            raise OptionError("dataset", "class indices must be 0 or more")
        return Dataset(
            name,
            x_train,
            y_train.astype(np.int64),
            x_test,
            y_test.astype(np.int64),
            class_names=[str(i) for i in range(k)],
        )
    return Dataset(
        name,
        x_train,
        y_train.astype(np.float32),
        x_test,
        y_test.astype(np.float32),
        task="regression",
    )
