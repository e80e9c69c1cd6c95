"""Dataset loaders: each returns a `Dataset` with train and test arrays."""

from zoo.datasets.base import CLASSIFICATION, REGRESSION, Dataset
from zoo.datasets.registry import dataset_options, list_datasets, load_dataset, register_dataset

__all__ = [
    "CLASSIFICATION",
    "REGRESSION",
    "Dataset",
    "dataset_options",
    "list_datasets",
    "load_dataset",
    "register_dataset",
]
