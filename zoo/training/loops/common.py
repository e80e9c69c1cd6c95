"""What the compiled epochs of every backend share: the result, the base runner, the rules."""

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

# Examples per call when the trained model's outputs are computed for the metrics, figures and
# predictions.npz: large enough that per-call overhead vanishes, small enough that one batch
# cast to float32 stays small (1024 CIFAR images: 12 MB).
OUTPUT_ROWS = 1024
# From this many examples on, the outputs are worth an XLA program of their own (compiled
# once, then kept with the epochs'); a small set keeps the plain graph, whose outputs are
# those of calling the model, bit for bit.
XLA_OUTPUT_ROWS = 8 * OUTPUT_ROWS


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


class EpochRunner:
    """What the backends' runners share: the model and its objective, the evaluation that
    draws the test curve, and the host-side result. Subclasses define `epoch(order, steps)`."""

    def __init__(self, model, optimizer, objective, n: int, batch_size: int, n_eval: int = 0):
        self.model, self.optimizer, self.objective = model, optimizer, objective
        self.loss_fn = objective.keras_loss()
        self.n = int(n)
        self.batch_size = min(int(batch_size), self.n)
        self.n_eval = int(n_eval)
        self.classify = objective.task == "classification"

    def outputs(self, x: np.ndarray) -> np.ndarray:
        """The model's float32 outputs for `x`, in batches of `OUTPUT_ROWS` (one pass).

        Backends override this with a compiled call that reads the training or evaluation
        data already on the device; this fallback calls the model batch by batch."""
        from zoo.objective import model_outputs

        return model_outputs(self.model, x, chunk=OUTPUT_ROWS)

    def release(self) -> None:
        """Let go of the data on the device and the compiled programs (after the outputs,
        before the report: their memory goes back before the figures take theirs). The
        runner is of no more use afterwards; the model keeps its trained weights."""

    def evaluation(self, y_eval, outputs) -> dict:
        """Loss and accuracy of the evaluation outputs (keras.ops: inside any backend's graph)."""
        from keras import ops

        outputs = ops.cast(outputs, "float32")
        return {
            "val_loss": ops.cast(self.loss_fn(y_eval, outputs), "float32"),
            "val_accuracy": correct_count(self.objective, y_eval, outputs) / float(self.n_eval),
        }

    def result(self, out: dict) -> EpochResult:
        classify = self.classify
        return EpochResult(
            loss=as_float(out["loss"]),
            accuracy=as_float(out["accuracy"]) if classify else None,
            val_loss=as_float(out.get("val_loss")),
            val_accuracy=as_float(out.get("val_accuracy")) if classify else None,
        )
