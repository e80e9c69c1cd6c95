"""The small tables that ship inside scikit-learn: digits, iris, wine, breast-cancer.

They are read from scikit-learn's own package data, so they load offline. Each gets a fixed
stratified split, 75% train / 25% test, that `seed` chooses. Features keep their raw scale
(digits stay 0..16): `normalization` is None, so the model adapts to the training set.
scikit-learn is imported inside the loaders: listing datasets must not import it.
"""

from __future__ import annotations

from zoo.datasets.base import Dataset
from zoo.datasets.registry import register_dataset
from zoo.datasets.split import make_rng, split_dataset

TEST_FRACTION = 0.25


def _load_bundled(name: str, loader_name: str, seed: int, description: str) -> Dataset:
    rng = make_rng(seed)  # a bad seed fails before scikit-learn is imported
    import sklearn.datasets

    bunch = getattr(sklearn.datasets, loader_name)()
    return split_dataset(
        name,
        bunch.data,
        bunch.target,
        test_fraction=TEST_FRACTION,
        rng=rng,
        class_names=[str(n) for n in bunch.target_names],
        description=description,
    )


@register_dataset
def digits(*, seed: int = 0) -> Dataset:
    """Handwritten digits 0-9, 8x8 pixels as 64 values 0..16; 1797 examples (sklearn)."""
    data = _load_bundled(
        "digits", "load_digits", seed, "8x8 handwritten digits 0-9, 64 features in 0..16"
    )
    data.preset = "digits"  # an explicit --lr or --epochs wins
    return data


@register_dataset
def iris(*, seed: int = 0) -> Dataset:
    """Three iris species from 4 flower measurements; 150 examples (sklearn)."""
    return _load_bundled(
        "iris", "load_iris", seed, "iris species from sepal and petal length and width (cm)"
    )


@register_dataset
def wine(*, seed: int = 0) -> Dataset:
    """Three wine cultivars from 13 chemical measurements; 178 examples (sklearn)."""
    return _load_bundled("wine", "load_wine", seed, "wine cultivar from 13 chemical measurements")


@register_dataset
def breast_cancer(*, seed: int = 0) -> Dataset:
    """Breast tumours, malignant or benign, from 30 features; 569 examples (sklearn)."""
    return _load_bundled(
        "breast-cancer",
        "load_breast_cancer",
        seed,
        "malignant or benign tumour from 30 features of cell nuclei (Wisconsin)",
    )
