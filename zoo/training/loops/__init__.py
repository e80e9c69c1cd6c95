"""Compiled training epochs, one implementation per Keras backend.

For the small networks of the course, `model.fit` spends nearly all its time on per-step
overhead. Here one call runs a whole epoch on the device - every update of the epoch and
the evaluation that draws the test curve - with the same optimizer, loss and order of
examples that `fit` would use. The trainer keeps the history, stopping rules and progress
display on the host between epochs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class EpochResult:
    loss: float
    accuracy: float | None
    val_loss: float | None = None
    val_accuracy: float | None = None


# XLA takes about a second to compile an epoch on a CPU, then saves 50-100 us per update
# and about a third of the time spent on each input value (it fuses the input scaling):
# below this much planned work a plain TensorFlow graph finishes first.
XLA_MIN_UPDATES = 2000
XLA_MIN_VALUES = 2 * 10**8  # updates x batch size x input values per example


def make_epoch_runner(
    model,
    optimizer,
    objective,
    x,
    y,
    x_eval=None,
    y_eval=None,
    *,
    batch_size,
    planned_updates: int | None = None,
    strategy=None,
):
    """The runner for the active Keras backend: `runner.epoch(order, steps) -> EpochResult`.

    `planned_updates` (the run's total) decides whether TensorFlow compiles with XLA;
    `strategy` (a `tf.distribute` strategy) splits every batch between its replicas.
    """
    import keras

    backend = keras.backend.backend()
    data = (model, optimizer, objective, x, y, x_eval, y_eval)
    if strategy is not None:
        from zoo.training.distribute import DistributedEpochRunner

        return DistributedEpochRunner(strategy, *data, batch_size=batch_size)
    if backend == "tensorflow":
        from zoo.training.loops.tf_loop import TFEpochRunner

        jit = worth_compiling(planned_updates, batch_size, x)
        return TFEpochRunner(*data, batch_size=batch_size, jit_compile=jit)
    if backend == "jax":
        from zoo.training.loops.jax_loop import JaxEpochRunner

        return JaxEpochRunner(*data, batch_size=batch_size)
    raise NotImplementedError(f"no compiled loop for the {backend} backend")


def worth_compiling(planned_updates: int | None, batch_size: int, x) -> bool:
    """Whether XLA's compile time pays for itself over the run (always, when unknown)."""
    if planned_updates is None:
        return True
    values = planned_updates * min(batch_size, len(x)) * int(np.prod(x.shape[1:]))
    return planned_updates >= XLA_MIN_UPDATES or values >= XLA_MIN_VALUES


def tall_kernels(model) -> list[bool] | None:
    """Which trainable variables the XLA:CPU loop takes transposed (None: none of them).

    XLA on a CPU computes the gradient of a tall kernel, x^T g for a 3072x10 weight matrix,
    with a slow generic loop (0.7-0.9 ms for a batch of 128); the gradient of its transpose,
    g^T x, goes to the fast matrix product (0.1 ms). So the loop differentiates with respect
    to the transposed kernels and transposes the gradients back, which halves the lab's
    epoch. The function and its gradients are the same, up to float summation order.
    """
    flip = [len(v.shape) == 2 and v.shape[0] > v.shape[1] for v in model.trainable_variables]
    return flip if any(flip) else None


def correct_count(objective, y_true, outputs):
    """How many outputs name the right class (keras.ops: works inside any backend's graph)."""
    from keras import ops

    if objective.units == 1:
        threshold = 0.0 if objective.from_logits else 0.5
        predicted = ops.cast(outputs[:, 0] > threshold, "int32")
        actual = ops.cast(y_true[:, 0] > 0.5, "int32")
    else:
        predicted = ops.argmax(outputs, axis=-1)
        actual = y_true if objective.sparse_targets else ops.argmax(y_true, axis=-1)
        predicted, actual = (
            ops.cast(predicted, "int32"),
            ops.cast(ops.reshape(actual, (-1,)), "int32"),
        )
    return ops.sum(ops.cast(ops.equal(predicted, actual), "float32"))


def as_float(value) -> float | None:
    return None if value is None else float(np.asarray(value))
