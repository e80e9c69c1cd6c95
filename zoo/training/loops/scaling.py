"""The input scaling at the front of a model, computed once per run instead of once per batch.

The zoo's models take raw inputs and scale them themselves (Rescaling, Normalization, then
Flatten for images), so a saved model needs no preprocessing. In a compiled epoch that
scaling is redone for every batch and for the whole test set every epoch: for the lab's MLP
on CIFAR images it is a fifth of the epoch's work, as much as the layers that learn. When the
scaled copy of the data is small (the lab's 1,800 images: 22 MB) the epochs train the rest of
the network on inputs scaled once, by the model's own layers; the function computed, the
updates and their order are unchanged (tests/test_speed_equivalence.py).
"""

from __future__ import annotations

import numpy as np

# Layers that only scale or reshape each example, the same in training and inference.
SCALING_LAYERS = ("InputLayer", "Rescaling", "Normalization", "Flatten", "Reshape")
SCALED_COPY_BYTES = 64 * 2**20  # the largest scaled copy of the data kept on the device
CHUNK = 1024  # examples scaled at a time


def split_input_scaling(model, examples: int):
    """(scaling, rest): two Keras models sharing `model`'s layers, with
    ``rest(scaling(x)) == model(x)``, when `model` starts with scaling layers whose output for
    `examples` examples fits in `SCALED_COPY_BYTES`; else None."""
    import keras

    layers = list(getattr(model, "layers", []))
    cut = 0
    while cut < len(layers) and type(layers[cut]).__name__ in SCALING_LAYERS:
        cut += 1
    if cut == len(layers) or all(type(layer).__name__ == "InputLayer" for layer in layers[:cut]):
        return None  # nothing to scale, or nothing after it
    try:
        scaled = layers[cut - 1].output
        size = int(np.prod(scaled.shape[1:])) * np.dtype(scaled.dtype).itemsize
        if size * examples > SCALED_COPY_BYTES or len(model.inputs) != 1:
            return None
        scaling = keras.Model(model.inputs, scaled)
        rest = keras.Model(scaled, model.outputs)
    except Exception:  # not a plain functional chain (a Sequential, a skip past the cut, ...)
        return None
    same = [id(v) for v in rest.trainable_variables] == [id(v) for v in model.trainable_variables]
    return (scaling, rest) if same else None


def agrees(model, scaling, rest, x: np.ndarray) -> bool:
    """Whether the split model gives the whole model's outputs on a few examples."""
    import tensorflow as tf

    sample = tf.cast(tf.constant(x[:8]), tf.float32)
    whole = tf.cast(model(sample, training=False), tf.float32).numpy()
    split = tf.cast(rest(scaling(sample, training=False), training=False), tf.float32).numpy()
    return whole.shape == split.shape and np.allclose(whole, split, rtol=1e-5, atol=1e-6)


def scale(scaling, x: np.ndarray) -> np.ndarray:
    """`scaling`'s outputs for `x`, `CHUNK` examples at a time (float32 or the policy's)."""
    import tensorflow as tf

    parts = [
        scaling(tf.cast(tf.constant(x[i : i + CHUNK]), tf.float32), training=False).numpy()
        for i in range(0, len(x), CHUNK)
    ]
    return np.concatenate(parts)
