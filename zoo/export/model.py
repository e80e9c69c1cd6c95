"""The Keras model that is exported: the run's model, its logits or probabilities, with the
input named `input` and the output named `output` whatever the format."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from zoo.errors import ExportError, OptionError
from zoo.objective import Objective

INPUT = "input"
OUTPUT = "output"
SQUASHING = ("softmax", "sigmoid")


def default_logits(fmt: str, is_image: bool, is_classification: bool) -> bool:
    """Logits for ONNX of an image classifier (what the course's page takes), else the model's
    own outputs (probabilities for a softmax or sigmoid head)."""
    return fmt == "onnx" and is_image and is_classification


def _squashing(objective: Objective) -> str:
    """The activation that turns this objective's logits into probabilities."""
    return "sigmoid" if objective.units == 1 or objective.loss == "bce" else "softmax"


@contextmanager
def _without_activation(model, head: str) -> Iterator:
    """The model's pre-`head` outputs: its last layer's activation (a Dense or Conv layer's, or
    an Activation layer) switched off while the block runs, then put back.

    The head is read from the last layer's activation when a run starts (`Objective`), so
    this is the layer that turns logits into the run's answers."""
    import keras

    last = model.layers[-1] if model.layers else None
    activation = getattr(last, "activation", None)
    if getattr(activation, "__name__", None) == head:
        try:
            last.activation = keras.activations.linear
            yield model
        finally:
            last.activation = activation
        return
    kind = type(last).__name__ if last is not None else "nothing"
    raise ExportError(
        f"cannot take the logits of model {model.name!r}: its last layer "
        f"{getattr(last, 'name', '')!r} ({kind}) applies no {head} that can be removed; "
        "export its probabilities instead"
    )


@contextmanager
def _nothing(model) -> Iterator:
    yield model


@contextmanager
def export_model(
    model, objective: Objective, input_shape: tuple[int, ...], *, logits: bool
) -> Iterator:
    """A functional model over `model`: input `input`, outputs {"output": logits or outputs}.

    `logits` removes the head's softmax or sigmoid; without it a linear head trained on
    logits gets the softmax or sigmoid its loss implies, so the output is probabilities.
    Used as a context: removing an activation lasts only while the block runs.
    """
    import keras

    if logits and objective.task != "classification":
        raise OptionError("logits", "a regression has no logits: its output is the value itself")
    add = None
    if not logits and objective.from_logits:
        add = _squashing(objective)
    if logits and objective.head in SQUASHING:
        context = _without_activation(model, objective.head)
    else:
        context = _nothing(model)
    with context as core:
        inputs = keras.Input(shape=input_shape, name=INPUT, dtype="float32")
        outputs = core(inputs)
        if add:
            outputs = keras.layers.Activation(add, name="probabilities")(outputs)
        yield keras.Model(inputs, {OUTPUT: outputs}, name=f"{model.name}_export")


def predict(model, x: np.ndarray, chunk: int = 1024) -> np.ndarray:
    """The export model's `output` for `x`, in chunks, as float32."""
    from keras import ops

    parts = [
        ops.convert_to_numpy(model(np.asarray(x[i : i + chunk], "float32"), training=False)[OUTPUT])
        for i in range(0, len(x), chunk)
    ]
    return np.concatenate(parts).astype("float32")


def softmax_matches(logits: np.ndarray, probabilities: np.ndarray, squash: str) -> float:
    """Largest difference between the model's probabilities and those of the exported logits:
    proof that the logits are the ones the model's head turns into its answers."""
    logits = logits.astype(np.float64)
    if squash == "sigmoid":
        p = 1 / (1 + np.exp(-logits))
    else:
        e = np.exp(logits - logits.max(axis=-1, keepdims=True))
        p = e / e.sum(axis=-1, keepdims=True)
    return float(np.max(np.abs(p - probabilities))) if p.size else 0.0
