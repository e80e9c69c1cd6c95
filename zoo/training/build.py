"""What a run is made of before its first update: the data split, the scaling, the model and
its objective, the optimizer. `train` and `zoo lr-find` build them the same way, here.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from zoo.datasets import Dataset
from zoo.errors import OptionError
from zoo.models.layers import Normalization, as_normalization
from zoo.models.registry import MODELS, create_model
from zoo.objective import Objective
from zoo.registry import canonical


def holdout(dataset: Dataset, fraction: float, seed: int) -> tuple[Dataset, np.ndarray, np.ndarray]:
    """Hold `fraction` of the training set out for validation (stratified for classes)."""
    from sklearn.model_selection import train_test_split

    stratify = dataset.y_train if dataset.task == "classification" else None
    try:
        x_tr, x_val, y_tr, y_val = train_test_split(
            dataset.x_train,
            dataset.y_train,
            test_size=fraction,
            random_state=seed,
            stratify=stratify,
        )
    except ValueError as err:
        raise OptionError(
            "validation", f"cannot hold out {fraction} of the training set: {err}"
        ) from None
    return dataclasses.replace(dataset, x_train=x_tr, y_train=y_tr), x_val, y_val


def choose_normalization(dataset: Dataset, how: str) -> Normalization | None:
    """`dataset`: the dataset's preset (the lab's CIFAR statistics) or else the training set's."""
    if how == "none":
        return None
    scale = 1 / 255 if dataset.x_train.dtype == np.uint8 else 1.0
    if how == "dataset" and dataset.normalization is not None:
        return as_normalization(dataset.normalization)
    return Normalization.from_data(dataset.x_train, scale=scale)


def objective_for(model_name: str, data: Dataset, *, head: str | None, loss: str | None):
    """The objective of a registered model: its head (the builder's default for classes, linear
    for a regression target) and the loss that follows it unless `loss` is given."""
    if head is None:
        default = MODELS.options(model_name).get("head")
        head = default if data.task == "classification" else "linear"
    return Objective.create(head=head, task=data.task, num_classes=data.num_classes, loss=loss)


def preset_model_options(model_name: str, data: Dataset, options: dict) -> dict:
    """`options` with the builder options of the dataset's preset for `model_name` (the
    course's `init="torch"`) and the builder's default `init` where none is given, so a run
    records the starting weights it had."""
    takes = MODELS.options(model_name)
    if "init" not in takes or options.get("init") is not None:
        return dict(options)
    preset = data.defaults_for(canonical(model_name)).get("init")
    return {**options, "init": preset or takes["init"]}


def build_model(
    model_name: str,
    data: Dataset,
    *,
    loss: str | None = None,
    normalize: str = "dataset",
    model_options: dict | None = None,
):
    """(keras.Model, Objective, Normalization or None) for a registered model on `data`."""
    options = preset_model_options(model_name, data, dict(model_options or {}))
    objective = objective_for(model_name, data, head=options.pop("head", None), loss=loss)
    options["head"] = objective.head
    normalization = None
    if "normalization" in MODELS.options(model_name):  # lecture-net has fixed weights
        normalization = choose_normalization(data, normalize)
        options["normalization"] = normalization
    model = create_model(
        model_name,
        input_shape=data.input_shape,
        num_classes=data.num_classes if data.task == "classification" else 1,
        **options,
    )
    if int(model.outputs[0].shape[-1]) != objective.units:  # a builder with fixed outputs
        objective = Objective.for_model(
            model, task=data.task, num_classes=data.num_classes, loss=loss
        )
    return model, objective, normalization


def make_optimizer(
    name: str,
    lr,
    momentum: float | None = 0.0,
    loss_scaling: bool = False,
    *,
    nesterov: bool = False,
    weight_decay: float = 0.0,
    clip_norm: float | None = None,
):
    """The Keras optimizer `name` (one of `OPTIMIZERS`) at rate `lr` (a float or a Keras
    schedule); loss scaling for float16 training.

    `weight_decay` is decoupled (Keras applies w ← w − lr·decay·w after the step, as AdamW
    does; biases included); `clip_norm` rescales the whole gradient when its norm is larger
    (Keras's `global_clipnorm`). A bad name or value is an OptionError naming it.
    """
    import keras

    from zoo.training.options import TrainOptions

    momentum = momentum or 0.0
    checked = TrainOptions(
        optimizer=name,
        momentum=momentum,
        nesterov=nesterov,
        weight_decay=weight_decay or None,
        clip_norm=clip_norm,
    )
    checked.check()
    common = {"learning_rate": lr, "global_clipnorm": clip_norm}
    decay = weight_decay or None  # Keras wants None, not 0, for "no decay"
    if name == "adam":
        optimizer = keras.optimizers.Adam(**common)
    elif name == "adamw":
        optimizer = keras.optimizers.AdamW(weight_decay=weight_decay, **common)
    elif name == "rmsprop":
        optimizer = keras.optimizers.RMSprop(momentum=momentum, weight_decay=decay, **common)
    elif name == "adagrad":
        optimizer = keras.optimizers.Adagrad(weight_decay=decay, **common)
    else:
        optimizer = keras.optimizers.SGD(
            momentum=momentum, nesterov=nesterov, weight_decay=decay, **common
        )
    if loss_scaling:
        # float16 gradients underflow without loss scaling; bfloat16 (JAX) needs none
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer
