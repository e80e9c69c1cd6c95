"""One plan of a run's options: `resolve(model, dataset, **options) -> RunPlan`.

Every option of a run has one owner: the trainer (`TrainOptions`), the model's builder or the
dataset's loader. `resolve` routes each flat keyword to its group, checks its type and value
once and names the option when it is wrong, before any data is read or Keras is started.
`zoo.train`, a sweep's checks, its workers and its stacks all begin with it, so a run is
accepted or refused alike wherever it is asked for. The dataset's preset (the lab's settings
for a model family) needs the loaded set: `plan.preset(data)` applies it, once.

The flat keywords are sugar over the groups: `data_seed=` is the loader's `seed` (the
trainer's `seed` draws the weights and the order), so the two cannot collide in a plan.

    >>> plan = resolve("mlp", "gaussians", hidden=8, lr=0.1, data_seed=3)
    >>> plan.training.lr, dict(plan.model_options), dict(plan.data_options)
    (0.1, {'hidden': 8}, {'seed': 3})
"""

from __future__ import annotations

import numbers
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from zoo.datasets import Dataset, dataset_options, load_dataset
from zoo.datasets.options import DATA_SEED, LOADER_OPTIONS
from zoo.datasets.registry import option_not_taken
from zoo.errors import OptionError
from zoo.models.options import BUILDER_OPTIONS
from zoo.models.registry import MODELS
from zoo.optionspec import OptionSpec
from zoo.registry import canonical
from zoo.training.options import TrainOptions, with_preset
from zoo.training.options import option_specs as trainer_specs

BUILDER_REGULARIZATION = ("l1", "l2", "dropout")  # builder options, not the trainer's


@dataclass(frozen=True)
class RunPlan:
    """A run before it runs: the model and data it names and its options, grouped by owner.

    `training`: the trainer's options, checked (the dataset's preset not yet applied);
    `model_options`: the builder's; `data_options`: the loader's (`seed` is the data seed);
    `compiled`: a compiled model's own optimizer, loss and metrics (`training.compiled`);
    `given`: the names of the options given a value (before presets and defaults).
    """

    model: Any
    dataset: Any
    training: TrainOptions
    model_options: Mapping[str, Any] = field(default_factory=dict)
    data_options: Mapping[str, Any] = field(default_factory=dict)
    compiled: Mapping[str, Any] | None = field(default=None, repr=False)
    validation_data: Any = field(default=None, repr=False)
    given: frozenset[str] = field(default=frozenset(), repr=False)

    @property
    def data_seed(self) -> int | None:
        return self.data_options.get("seed") if isinstance(self.dataset, str) else None

    def load(self) -> Dataset:
        """The data set the plan names (a registered name is loaded; arrays and tf.data sets
        become a `Dataset`)."""
        if isinstance(self.dataset, str):
            try:
                return load_dataset(self.dataset, **self.data_options)
            except OptionError as err:  # the loader's `seed` is the caller's `data_seed`
                if err.option == "seed":
                    raise OptionError("data_seed", err.message) from None
                raise
        if isinstance(self.dataset, Dataset):
            return self.dataset
        from zoo.training.inputs import dataset_from_arrays

        return dataset_from_arrays(self.dataset, self.validation_data)

    def preset(self, data: Dataset) -> TrainOptions:
        """The training options with the preset for this model on `data` where they are unset
        (the one place presets are applied: `with_preset`)."""
        return with_preset(self.training, self.model, data)


def resolve(model: Any, dataset: Any, *, validation_data: Any = None, **options: Any) -> RunPlan:
    """The plan of a run of `model` on `dataset` with flat keyword `options` (as `zoo.train`
    takes them); OptionError naming the first option that is unknown, of the wrong type or
    impossible, with nothing read or built."""
    options = dict(options)
    given = frozenset(k for k, v in options.items() if v is not None)
    data_seed = options.pop("data_seed", None)
    if data_seed is not None and not _fits(data_seed, int):
        raise OptionError("data_seed", f"should be a whole number, not {data_seed!r}")
    train_opts, model_opts, data_opts = split_options(model, dataset, options)
    _check_types(train_opts)
    compiled = None
    if not isinstance(model, str):
        from zoo.training.compiled import check_compiled, is_compiled

        if is_compiled(model):  # its optimizer, loss and metrics, or an error naming the clash
            given_opts = {k: v for k, v in train_opts.items() if v is not None}
            compiled = check_compiled(model, given_opts)
            train_opts["loss"] = compiled["loss"]
    training = TrainOptions(**train_opts)
    training.check()
    if isinstance(model, str):
        MODELS.get(model)  # an unknown name: a message with the close ones
    _check_data(dataset, data_opts, data_seed, validation_data)
    if data_seed is not None:
        data_opts["seed"] = data_seed
    return RunPlan(
        model=model,
        dataset=dataset,
        training=training,
        model_options=MappingProxyType(model_opts),
        data_options=MappingProxyType({k: v for k, v in data_opts.items() if v is not None}),
        compiled=compiled,
        validation_data=validation_data,
        given=given,
    )


def option_specs() -> dict[str, tuple[OptionSpec, Any]]:
    """Every flat option of a run that is described for users, with its spec (whose `owner`
    says who takes it) and its default: the trainer's (`TrainOptions` fields and
    `zoo.train`'s own), the registered builders' (`zoo.models.options`), the loaders'
    (`zoo.datasets.options`) and `data_seed`. The command line's flags are made from it.

        >>> specs = option_specs()
        >>> specs["lr"][0].owner, specs["hidden"][0].owner, specs["data_seed"][0].owner
        ('trainer', 'builder', 'loader')
        >>> specs["optimizer"][1], specs["optimizer"][0].choices[:2]
        ('sgd', ('sgd', 'adam'))
    """
    return {
        **trainer_specs(),
        **{name: (spec, None) for name, spec in BUILDER_OPTIONS.items()},
        **{name: (spec, None) for name, spec in LOADER_OPTIONS.items()},
        "data_seed": (DATA_SEED, None),
    }


def split_options(model, dataset, options: dict[str, Any]):
    """Route each option to the trainer, the model builder or the dataset loader."""
    train_opts, model_opts, data_opts = {}, {}, {}
    train_keys = TrainOptions.names()
    model_keys = set(MODELS.options(model)) if isinstance(model, str) else set()
    data_keys = set(dataset_options(dataset)) if isinstance(dataset, str) else set()
    for key, value in options.items():
        if key in train_keys:
            train_opts[key] = value
        elif key in model_keys and key != "normalization":  # set from `normalize`
            model_opts[key] = value
        elif key in data_keys:
            data_opts[key] = value
        elif value is not None:
            if key in BUILDER_REGULARIZATION and not isinstance(model, str):
                raise OptionError(
                    key,
                    "applies to a registered model, whose builder adds it; give your own "
                    "model's layers a kernel_regularizer or Dropout (the loops add their losses)",
                )
            if isinstance(dataset, str) and (blame := option_not_taken(dataset, key)):
                raise blame  # another dataset's option: this dataset is what lacks it
            if isinstance(model, str):
                takes = sorted(model_keys - {"normalization"})
                listed = ", ".join(f"`{k}=`" for k in takes) or "none"
                message = f"model {canonical(model)!r} has no such option (it takes {listed})"
            else:
                message = "no model, dataset or training option of that name"
            raise OptionError(key, message)
    return train_opts, model_opts, data_opts


def _check_data(dataset, data_opts: dict, data_seed, validation_data) -> None:
    if not isinstance(dataset, str):
        if data_opts or data_seed is not None:
            raise OptionError("data_seed", "applies to a dataset given by name")
        if isinstance(dataset, Dataset) and validation_data is not None:
            raise OptionError("validation_data", "applies to arrays or a tf.data.Dataset")
        return
    if validation_data is not None:
        raise OptionError("validation_data", "applies to arrays or a tf.data.Dataset")
    if data_seed is not None and "seed" not in dataset_options(dataset):
        raise OptionError("data_seed", f"{dataset} has a fixed split and takes no seed")


# the kinds a training option's value is checked against (others, e.g. callables, are not)
_KINDS = {bool: "bool", int: "int", float: "float", str: "str"}


def _fits(value: Any, kind: type) -> bool:
    if kind is str and isinstance(value, os.PathLike):
        return True  # a folder given as a Path (`out=tmp_path`)
    if kind is bool:
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind is int:
        return isinstance(value, numbers.Integral)
    if kind is float:
        return isinstance(value, numbers.Real)
    return isinstance(value, kind)


def _check_types(train_opts: dict[str, Any]) -> None:
    """OptionError naming an option whose value is of the wrong kind (`epochs="5"`); an
    option given as None where its type has no None is left out (its default applies); a
    NumPy number becomes Python's."""
    hints = typing.get_type_hints(TrainOptions)
    for name, value in list(train_opts.items()):
        if value is None and type(None) not in typing.get_args(hints[name]):
            del train_opts[name]  # None means "not given": the default applies
            continue
        kinds = [k for k in typing.get_args(hints[name]) or (hints[name],) if k in _KINDS]
        if value is None or not kinds:
            continue
        fitting = [kind for kind in kinds if _fits(value, kind)]
        if fitting:  # NumPy's scalars become Python's (config.json, the checks)
            train_opts[name] = fitting[0](value) if fitting[0] in (int, float, str) else value
            continue
        raise OptionError(name, f"should be {' or '.join(_KINDS[k] for k in kinds)}, not {value!r}")
