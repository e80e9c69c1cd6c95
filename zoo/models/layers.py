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
        """Statistics of `x` (one row per example); images are normalised per channel.

        Computed in chunks of rows from the stored dtype with float64 accumulators (exact sums
        for 8-bit images), so a full-size image set is never copied as floats; the numbers are
        those of ``x.mean(axis, dtype=float64)`` and ``x.std(...)`` up to float64 rounding.
        """
        x = np.asarray(x)
        if per_channel is None:
            per_channel = x.ndim >= 3
        mean, std = column_statistics(x, groups=x.shape[-1] if per_channel else None)
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
