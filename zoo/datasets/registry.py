"""The dataset registry: `@register_dataset` loaders, `list_datasets`, `load_dataset`."""

from __future__ import annotations

from typing import Any

from zoo.datasets.base import Dataset
from zoo.errors import OptionError
from zoo.registry import Registry, canonical, drop_none

DATASETS = Registry(
    "dataset",
    modules=[
        "zoo.datasets.embedded",
        "zoo.datasets.synthetic",
        "zoo.datasets.cifar",
        "zoo.datasets.mnist",
    ],
    group="zoo.datasets",
)
register_dataset = DATASETS.register


def list_datasets(pattern: str | None = None) -> list[str]:
    """Registered dataset names, optionally filtered by a shell wildcard.

    >>> list_datasets("cifar*")
    ['cifar10', 'cifar100', 'cifar100-3class']
    """
    return DATASETS.names(pattern)


def dataset_options(name: str) -> dict[str, Any]:
    """The options a loader takes, with their defaults."""
    return DATASETS.options(name)


def option_not_taken(name: str, option: str) -> OptionError | None:
    """The error for a loader option that dataset `name` does not take but others do, blaming
    the dataset (None when no dataset takes it: then it is not a dataset option at all).

    >>> print(option_not_taken("digits", "data_dir").message)
    dataset 'digits' reads no files; `data_dir=` applies to cifar10, cifar100, cifar100-3class, \
fashion-mnist, mnist
    """
    takers = [n for n in DATASETS.names() if option in DATASETS.options(n)]
    if not takers or option in DATASETS.options(name):
        return None
    applies = f"`{option}=` applies to {', '.join(takers)}"
    if option in ("data_dir", "source"):
        return OptionError(option, f"dataset {canonical(name)!r} reads no files; {applies}")
    listed = ", ".join(f"`{k}=`" for k in sorted(DATASETS.options(name))) or "none"
    return OptionError(
        option, f"dataset {canonical(name)!r} takes no such option (it takes {listed}); {applies}"
    )


def load_dataset(name: str, **options: Any) -> Dataset:
    """Load a registered dataset; options whose value is None keep the loader's default.

    >>> ds = load_dataset("gaussians", seed=1)
    >>> ds.x_train.shape[1], ds.class_names
    (2, ['0', '1'])
    """
    loader = DATASETS.get(name)
    options = drop_none(options)
    for option in options:
        error = option_not_taken(name, option)
        if error is not None:
            raise error
    accepted = DATASETS.check_options(name, options)
    dataset = loader(**options)
    dataset.name = canonical(name)
    dataset.options = {**{k: v for k, v in accepted.items()}, **options, **dataset.options}
    return dataset
