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
# Starting weights. glorot: Keras's default (Glorot-uniform kernels, zero biases); he, lecun:
# He-normal and LeCun-normal kernels, zero biases; torch: PyTorch's nn.Linear and nn.Conv2d
# (kernel and bias both U(±1/sqrt(fan_in)), fan_in = inputs of a neuron: in_channels*kh*kw
# for a convolution), which the course's notebooks train from.
INITS = ("glorot", "he", "lecun", "torch")


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
        grayscale image (N, H, W) has one channel.

        Computed in chunks of rows from the stored dtype with float64 accumulators (exact sums
        for 8-bit images), so a full-size image set is never copied as floats; the numbers are
        those of ``x.mean(axis, dtype=float64)`` and ``x.std(...)`` up to float64 rounding.
        """
        x = np.asarray(x)
        if per_channel is None:
            per_channel = x.ndim >= 3
        groups = None
        if per_channel:  # (N, H, W): one value, not one per pixel column
            groups = 1 if x.ndim == 3 else x.shape[-1]
        mean, std = column_statistics(x, groups=groups)
        mean, std = mean * scale, std * scale
        std = np.where(std > 1e-12, std, 1.0)  # a constant feature stays finite
        return cls(tuple(np.ravel(mean).tolist()), tuple(np.ravel(std).tolist()), float(scale))

    def to_dict(self) -> dict:
        return {"mean": list(self.mean), "std": list(self.std), "scale": self.scale}


# Rows per chunk: 8-bit chunks are summed exactly in uint32 (8192 * 255**2 < 2**32); others
# become float64 a chunk at a time, about 16 MB each.
EXACT_ROWS = 8192
FLOAT_BYTES = 1 << 24


def column_statistics(x: np.ndarray, groups: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation (float64) of every feature of `x` over its rows, or, with
    `groups`, of every group of features (feature j of a row belongs to group j % groups: the
    channel of an image in (N, H, W, C) layout), without a float copy of `x`.

    Each chunk's column means and squared deviations are merged into the running ones
    (Chan et al.'s pairwise update), which stays accurate when a mean is large against its
    spread; 8-bit data is summed exactly instead.
    """
    n = len(x)
    width = int(np.prod(x.shape[1:], dtype=np.int64))
    if n == 0 or width == 0:
        raise ValueError("statistics of an empty array")
    exact = x.dtype.kind in "biu" and x.dtype.itemsize == 1
    if exact:
        s1, s2 = np.zeros(width), np.zeros(width)
        for start in range(0, n, EXACT_ROWS):
            chunk = x[start : start + EXACT_ROWS].reshape(-1, width)
            s1 += chunk.sum(axis=0, dtype=np.int64 if x.dtype.kind == "i" else np.uint32)
            wide = chunk.astype(np.int32 if x.dtype.kind == "i" else np.uint16)
            wide *= wide
            s2 += wide.sum(axis=0, dtype=np.uint32)
        mean = s1 / n
        m2 = np.maximum(s2 - s1 * mean, 0.0)  # exact sums: no cancellation worth the name
    else:
        rows = max(1, FLOAT_BYTES // (8 * width))
        mean, m2, seen = np.zeros(width), np.zeros(width), 0
        for start in range(0, n, rows):
            chunk = x[start : start + rows].reshape(-1, width).astype(np.float64)
            size = len(chunk)
            chunk_mean = chunk.mean(axis=0)
            chunk -= chunk_mean
            chunk_m2 = np.einsum("ij,ij->j", chunk, chunk)
            total = seen + size
            delta = chunk_mean - mean
            mean = mean + delta * (size / total)
            m2 = m2 + chunk_m2 + delta * delta * (seen * size / total)
            seen = total
    if groups is None:
        return mean.reshape(x.shape[1:]), np.sqrt(m2 / n).reshape(x.shape[1:])
    # the features of a group all have n values: their pooled mean and squared deviations
    means, m2s = mean.reshape(-1, groups), m2.reshape(-1, groups)
    pooled = means.mean(axis=0)
    pooled_m2 = m2s.sum(axis=0) + n * np.square(means - pooled).sum(axis=0)
    return pooled, np.sqrt(pooled_m2 / (n * len(means)))


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


def check_init(init: str) -> str:
    if init not in INITS:
        raise OptionError("init", f"{init!r} is not one of {', '.join(INITS)}")
    return init


def torch_bound(fan_in: int) -> float:
    """PyTorch's bound for nn.Linear and nn.Conv2d, kernel and bias: 1/sqrt(fan_in)."""
    return 1.0 / math.sqrt(fan_in)


def initializers(init: str, fan_in: int) -> dict:
    """`kernel_initializer` and `bias_initializer` of a Dense or Conv2D layer whose neurons
    each take `fan_in` inputs (a convolution: in_channels * kernel height * kernel width).

    PyTorch draws kernels with kaiming_uniform(a=sqrt(5)): bound sqrt(6 / ((1 + 5) fan_in)) =
    1/sqrt(fan_in), which is Keras's VarianceScaling(1/3, fan_in, uniform): sqrt(3 * scale /
    fan_in). Its biases take the same bound.

    >>> initializers("torch", 3072)["bias_initializer"].maxval == 1 / 3072 ** 0.5
    True
    """
    import keras

    init = check_init(init)
    if init == "glorot":
        return {"kernel_initializer": "glorot_uniform", "bias_initializer": "zeros"}
    if init == "he":
        return {"kernel_initializer": "he_normal", "bias_initializer": "zeros"}
    if init == "lecun":
        return {"kernel_initializer": "lecun_normal", "bias_initializer": "zeros"}
    bound = torch_bound(fan_in)
    return {
        "kernel_initializer": keras.initializers.VarianceScaling(
            scale=1 / 3, mode="fan_in", distribution="uniform"
        ),
        "bias_initializer": keras.initializers.RandomUniform(-bound, bound),
    }


def output_units(head: str, num_classes: int) -> int:
    """Softmax: one unit per class. Sigmoid and linear: one unit for two classes (or a target)."""
    if head == "softmax":
        if num_classes < 2:
            raise OptionError("head", "softmax needs at least two classes; use `head='linear'`")
        return num_classes
    return 1 if num_classes <= 2 else num_classes


def output_layer(
    x,
    head: str,
    num_classes: int,
    *,
    l1: float = 0.0,
    l2: float = 0.0,
    init: str = "glorot",
    **dense_options,
):
    import keras

    head = check_head(head)
    activation = None if head == "linear" else head
    units = output_units(head, num_classes)
    dense_options.setdefault("kernel_regularizer", kernel_penalty(l1, l2))
    for key, value in initializers(init, int(x.shape[-1])).items():
        dense_options.setdefault(key, value)
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
