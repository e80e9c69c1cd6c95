"""Pieces every builder shares: input scaling inside the model, and output heads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from zoo.errors import OptionError

HEADS = ("softmax", "sigmoid", "linear")
ACTIVATIONS = ("relu", "sigmoid", "tanh")


@dataclass(frozen=True)
class Normalization:
    """``(x * scale - mean) / std``, per feature (tabular) or per channel (images).

    Lives inside the model as Rescaling + Normalization layers, so a saved model takes raw
    inputs. Build it from fixed statistics (the lab's CIFAR-100 mean and std) or with
    `from_data` from the training set, which is what `Normalization.adapt` would compute.
    """

    mean: tuple[float, ...]
    std: tuple[float, ...]
    scale: float = 1.0

    @classmethod
    def from_data(cls, x: np.ndarray, scale: float = 1.0, per_channel: bool | None = None):
        """Statistics of `x` (one row per example); images are normalised per channel."""
        x = np.asarray(x)
        if per_channel is None:
            per_channel = x.ndim >= 3
        axes = tuple(range(x.ndim - 1)) if per_channel else 0
        # float64 sums: uint8 images of 50,000 examples overflow nothing but float32 drifts
        mean = x.mean(axis=axes, dtype=np.float64) * scale
        std = x.std(axis=axes, dtype=np.float64) * scale
        std = np.where(std > 1e-12, std, 1.0)  # a constant feature stays finite
        return cls(tuple(np.ravel(mean).tolist()), tuple(np.ravel(std).tolist()), float(scale))

    def to_dict(self) -> dict:
        return {"mean": list(self.mean), "std": list(self.std), "scale": self.scale}


def as_normalization(value) -> Normalization | None:
    """A Normalization, a ``(mean, std)`` pair, a dict, or examples to adapt on."""
    if value is None or isinstance(value, Normalization):
        return value
    if isinstance(value, dict):
        return Normalization(tuple(value["mean"]), tuple(value["std"]), value.get("scale", 1.0))
    if isinstance(value, tuple) and len(value) == 2:
        mean, std = (np.ravel(np.asarray(v, dtype=float)) for v in value)
        return Normalization(tuple(mean.tolist()), tuple(std.tolist()))
    return Normalization.from_data(np.asarray(value))


def input_block(input_shape: Sequence[int], normalization=None):
    """``keras.Input`` -> optional scaling -> flatten (for images). Returns (inputs, x)."""
    import keras

    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = inputs
    norm = as_normalization(normalization)
    if norm is not None:
        if norm.scale != 1.0:
            x = keras.layers.Rescaling(norm.scale, name="rescaling")(x)
        mean = np.asarray(norm.mean, dtype="float32")
        var = np.square(np.asarray(norm.std, dtype="float32"))
        if mean.size not in (1, input_shape[-1], int(np.prod(input_shape))):
            raise OptionError("normalization", f"{mean.size} means do not fit input {input_shape}")
        if mean.size == int(np.prod(input_shape)) and len(input_shape) > 1:
            mean, var = mean.reshape(input_shape), var.reshape(input_shape)
            axis = tuple(range(1, len(input_shape) + 1))
        else:
            axis = -1
        x = keras.layers.Normalization(axis=axis, mean=mean, variance=var, name="normalization")(x)
    if len(input_shape) > 1:
        x = keras.layers.Flatten(name="flatten")(x)
    return inputs, x


def check_head(head: str) -> str:
    if head not in HEADS:
        raise OptionError("head", f"{head!r} is not one of {', '.join(HEADS)}")
    return head


def output_units(head: str, num_classes: int) -> int:
    """Softmax: one unit per class. Sigmoid and linear: one unit for two classes (or a target)."""
    if head == "softmax":
        if num_classes < 2:
            raise OptionError("head", "softmax needs at least two classes; use `head='linear'`")
        return num_classes
    return 1 if num_classes <= 2 else num_classes


def output_layer(x, head: str, num_classes: int, **dense_options):
    import keras

    head = check_head(head)
    activation = None if head == "linear" else head
    units = output_units(head, num_classes)
    return keras.layers.Dense(units, activation=activation, name="output", **dense_options)(x)


def check_units(hidden) -> tuple[int, ...]:
    """`hidden` as a tuple of positive ints; accepts 10, (10, 5), "10,5"."""
    if isinstance(hidden, str):
        parts = hidden.replace(" ", "").split(",")
        try:
            # an empty part ("10,,5", "10,") is a typo, not a layer fewer
            hidden = tuple(int(p) for p in parts)
        except ValueError:
            raise OptionError(
                "hidden", f"{hidden!r} is not a list of sizes like 10 or 64,32"
            ) from None
    elif isinstance(hidden, int):
        hidden = (hidden,)
    hidden = tuple(int(h) for h in hidden)
    bad = [h for h in hidden if h < 1]
    if bad:
        raise OptionError("hidden", f"layer sizes must be at least 1, got {bad[0]}")
    return hidden


def check_activation(activation: str) -> str:
    if activation not in ACTIVATIONS:
        raise OptionError("activation", f"{activation!r} is not one of {', '.join(ACTIVATIONS)}")
    return activation


def canonical_options(options: dict) -> dict:
    """Builder options in one spelling, so that records compare: `hidden` 10, "10" and (10,)
    are all (10,)."""
    out = dict(options)
    if out.get("hidden") is not None:
        out["hidden"] = check_units(out["hidden"])
    return out
