"""The train/test split every in-memory loader shares, and the seeded generator behind it.

A classification split is stratified: each class keeps (as nearly as whole examples allow)
the same share in train and test. A regression split is a plain shuffled cut.
"""

from __future__ import annotations

import numpy as np

from zoo.datasets.base import CLASSIFICATION, Dataset
from zoo.errors import OptionError


def make_rng(seed: int) -> np.random.Generator:
    """A numpy Generator for a user-given seed; a negative seed is an `--seed` error."""
    if seed < 0:
        raise OptionError("seed", f"must be 0 or more, got {seed}")
    return np.random.default_rng(seed)


def stratified_split(
    y: np.ndarray, test_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled (train, test) index arrays; each class is cut in the same proportion.

    The test size is ``ceil(test_fraction * n)`` (at least 1, at most n - 1), as in
    scikit-learn's `train_test_split`. Each class gets its proportional share of that size,
    rounded down; the examples left over go to the classes with the largest remainders, so
    the class proportions of both parts stay within one example of the whole's.

    >>> y = np.array([0] * 8 + [1] * 4)
    >>> train, test = stratified_split(y, 0.25, np.random.default_rng(0))
    >>> np.bincount(y[train]).tolist(), np.bincount(y[test]).tolist()
    ([6, 3], [2, 1])
    """
    y = np.asarray(y)
    n = len(y)
    if n < 2:
        raise ValueError(f"cannot split {n} example(s) into train and test")
    n_test = min(max(int(np.ceil(test_fraction * n)), 1), n - 1)
    classes, y_idx = np.unique(y, return_inverse=True)
    counts = np.bincount(y_idx, minlength=len(classes))
    exact = counts * n_test / n
    per_class = np.floor(exact).astype(np.int64)
    # Largest remainders first; the stable sort breaks ties by class order, so the split
    # depends on the seed only.
    for c in np.argsort(-(exact - per_class), kind="stable"):
        if per_class.sum() >= n_test:
            break
        if per_class[c] < counts[c]:
            per_class[c] += 1
    train, test = [], []
    for c in range(len(classes)):
        members = rng.permutation(np.flatnonzero(y_idx == c))
        test.append(members[: per_class[c]])
        train.append(members[per_class[c] :])
    # Shuffle across classes too: the per-sample regime walks the training set in order.
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def random_split(
    n: int, test_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled (train, test) index arrays of a regression set (same test size rule)."""
    if n < 2:
        raise ValueError(f"cannot split {n} example(s) into train and test")
    n_test = min(max(int(np.ceil(test_fraction * n)), 1), n - 1)
    order = rng.permutation(n)
    return order[n_test:], order[:n_test]


def split_dataset(
    name: str,
    x: np.ndarray,
    y: np.ndarray,
    *,
    test_fraction: float,
    rng: np.random.Generator,
    class_names: list[str],
    task: str = CLASSIFICATION,
    description: str = "",
) -> Dataset:
    """A `Dataset` from whole arrays: x as float32, y as int64 (classes) or float32 (targets).

    >>> x = np.arange(8, dtype=float).reshape(4, 2)
    >>> ds = split_dataset("tiny", x, np.array([0, 0, 1, 1]), test_fraction=0.5,
    ...                    rng=np.random.default_rng(0), class_names=["a", "b"])
    >>> ds.counts()
    {'train': [1, 1], 'test': [1, 1]}
    """
    x = np.asarray(x, dtype=np.float32)
    if task == CLASSIFICATION:
        y = np.asarray(y, dtype=np.int64)
        train, test = stratified_split(y, test_fraction, rng)
    else:
        y = np.asarray(y, dtype=np.float32)
        train, test = random_split(len(y), test_fraction, rng)
    return Dataset(
        name=name,
        x_train=x[train],
        y_train=y[train],
        x_test=x[test],
        y_test=y[test],
        class_names=list(class_names),
        task=task,
        description=description,
    )
