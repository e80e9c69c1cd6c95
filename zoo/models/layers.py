"""Pieces every builder shares: input scaling inside the model, output heads, and the
regularisation a builder adds (weight penalties on its kernels, dropout after hidden layers)."""

from __future__ import annotations

import math
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
        """Statistics of `x` (one row per example); images are normalised per channel, and a
        grayscale image (N, H, W) has one channel."""
        x = np.asarray(x)
        if per_channel is None:
            per_channel = x.ndim >= 3
        if per_channel and x.ndim == 3:  # (N, H, W): one value, not one per pixel column
            axes = tuple(range(x.ndim))
        else:
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
    x = scale_inputs(inputs, input_shape, normalization)
    if len(input_shape) > 1:
        x = keras.layers.Flatten(name="flatten")(x)
    return inputs, x


def scale_inputs(x, input_shape: Sequence[int], normalization=None):
    """`x` (of `input_shape`) scaled inside the model: Rescaling, then Normalization per
    feature, per channel or per value; `x` itself when `normalization` is None."""
    import keras

    norm = as_normalization(normalization)
    if norm is None:
        return x
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
    return keras.layers.Normalization(axis=axis, mean=mean, variance=var, name="normalization")(x)


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


def output_layer(
    x, head: str, num_classes: int, *, l1: float = 0.0, l2: float = 0.0, **dense_options
):
    import keras

    head = check_head(head)
    activation = None if head == "linear" else head
    units = output_units(head, num_classes)
    dense_options.setdefault("kernel_regularizer", kernel_penalty(l1, l2))
    return keras.layers.Dense(units, activation=activation, name="output", **dense_options)(x)


def check_units(hidden, option: str = "hidden") -> tuple[int, ...]:
    """`hidden` as a tuple of positive ints; accepts 10, (10, 5), "10,5". `option` names the
    option in errors (`dense`, `conv` use the same rule)."""
    if isinstance(hidden, str):
        parts = hidden.replace(" ", "").split(",")
        try:
            # an empty part ("10,,5", "10,") is a typo, not a layer fewer
            hidden = tuple(int(p) for p in parts)
        except ValueError:
            raise OptionError(
                option, f"{hidden!r} is not a list of sizes like 10 or 64,32"
            ) from None
    elif isinstance(hidden, int):
        hidden = (hidden,)
    try:
        hidden = tuple(int(h) for h in hidden)
    except (TypeError, ValueError):
        raise OptionError(option, f"{hidden!r} is not a list of sizes like 10 or 64,32") from None
    bad = [h for h in hidden if h < 1]
    if bad:
        raise OptionError(option, f"layer sizes must be at least 1, got {bad[0]}")
    return hidden


def check_activation(activation: str) -> str:
    if activation not in ACTIVATIONS:
        raise OptionError("activation", f"{activation!r} is not one of {', '.join(ACTIVATIONS)}")
    return activation


def canonical_options(options: dict) -> dict:
    """Builder options in one spelling, so that records compare: `hidden` 10, "10" and (10,)
    are all (10,); `dropout` "0.2" is 0.2; a convolutional network's per-block lists are
    tuples and its `augment` a {name: strength} dict."""
    from zoo.models.augment import parse_augment

    out = dict(options)
    for key in ("hidden", "dense", "conv", "kernel", "stride"):
        if out.get(key) is not None:
            out[key] = check_units(out[key], key)
    if out.get("padding") is not None:
        out["padding"] = check_paddings(out["padding"])
    if out.get("pool_size") is not None:
        out["pool_size"] = check_units(out["pool_size"], "pool_size")
    if out.get("augment") is not None:
        out["augment"] = parse_augment(out["augment"])
    if isinstance(out.get("dropout"), str):  # "0.2" is 0.2, "0.2,0.5" is (0.2, 0.5)
        rates = parse_rates(out["dropout"])
        out["dropout"] = rates[0] if len(rates) == 1 else rates
    return out


PADDINGS = ("same", "valid")


def check_paddings(padding) -> tuple:
    """Paddings per convolution: whole numbers of pixels (the lab's explicit padding), or
    "same" or "valid"; from 2, "same", (2, 1) or "2,same"."""
    if isinstance(padding, str):
        padding = padding.replace(" ", "").lower().split(",")
    elif isinstance(padding, int):
        padding = (padding,)
    out = []
    for value in padding:
        if isinstance(value, str) and value.strip().lower() in PADDINGS:
            out.append(value.strip().lower())
            continue
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = -1
        if isinstance(value, bool) or number < 0 or str(number) != str(value).strip():
            raise OptionError(
                "padding",
                f"{value!r} is not a number of pixels (0 or more), same or valid "
                "(e.g. 2,1 or same)",
            )
        out.append(number)
    if not out:
        raise OptionError("padding", "give a padding, e.g. 2,1 or same")
    return tuple(out)


def check_penalty(value, option: str) -> float:
    """A weight penalty's coefficient: a finite number, zero or more (0: no penalty)."""
    if value is None:
        return 0.0
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise OptionError(option, f"must be a finite number, zero or more, got {value!r}")
    if value < 0:
        raise OptionError(option, f"a penalty cannot be negative, got {value}")
    return float(value)


def kernel_penalty(l1: float | None = 0.0, l2: float | None = 0.0):
    """The regulariser every kernel of a builder gets: `l1`·Σ|w| + `l2`·Σw² (Keras's `L1L2`,
    no ½ in front of the square), or None when both are 0.

    One helper for every layer kind (Dense now, convolutions later): a builder passes it as
    `kernel_regularizer=`. Biases are not penalised, as in Keras's own examples.
    """
    l1, l2 = check_penalty(l1, "l1"), check_penalty(l2, "l2")
    if not (l1 or l2):
        return None
    import keras

    return keras.regularizers.L1L2(l1=l1, l2=l2)


def dropout_rates(dropout, layers: int) -> tuple[float, ...]:
    """One dropout rate per hidden layer, from 0.2, (0.2, 0.5) or "0.2,0.5"; each in [0, 1).

    A single rate applies after every hidden layer; a list names each layer's rate and must
    have one per hidden layer.
    """
    if dropout is None:
        return (0.0,) * layers
    if isinstance(dropout, str):
        values = parse_rates(dropout)
    elif isinstance(dropout, int | float) and not isinstance(dropout, bool):
        values = (float(dropout),)
    else:
        try:
            values = tuple(float(v) for v in dropout)
        except (TypeError, ValueError):
            raise OptionError(
                "dropout", f"{dropout!r} is not a rate like 0.2 or a list like 0.2,0.5"
            ) from None
    for rate in values:
        if not (math.isfinite(rate) and 0 <= rate < 1):
            raise OptionError(
                "dropout", f"a rate is a fraction of the neurons, in [0, 1), got {rate:g}"
            )
    if len(values) == 1 and layers != 1:
        if values[0] and not layers:
            raise OptionError("dropout", "the model has no hidden layer to drop neurons from")
        values *= layers
    if len(values) != layers:
        raise OptionError(
            "dropout",
            f"{len(values)} rates for {layers} hidden layer{'s' if layers != 1 else ''}: "
            "give one rate for all or one per hidden layer",
        )
    return values


def parse_rates(text: str) -> tuple[float, ...]:
    """ "0.2" -> (0.2,), "0.2,0.5" -> (0.2, 0.5); each a rate in [0, 1)."""
    try:
        # an empty part ("0.2,,0.5") is a typo, not a layer without dropout
        values = tuple(float(p) for p in text.replace(" ", "").split(","))
    except ValueError:
        raise OptionError(
            "dropout", f"{text!r} is not a rate like 0.2 or a list like 0.2,0.5"
        ) from None
    for rate in values:
        if not (math.isfinite(rate) and 0 <= rate < 1):
            raise OptionError(
                "dropout", f"a rate is a fraction of the neurons, in [0, 1), got {rate:g}"
            )
    return values


def dropout_layer(x, rate: float, name: str):
    """`Dropout(rate)` after `x`; no layer at all for 0, so a model without dropout is the
    same model whether it was asked for `dropout=0` or not."""
    if not rate:
        return x
    import keras

    return keras.layers.Dropout(rate, name=name)(x)
