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
    lr: float | None = None  # the rate of the epoch's updates, where the runner reads it


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


def convolutional(model) -> bool:
    """Whether the model has kernels of more than two dimensions (convolutions).

    XLA on a CPU runs a convolution inside a loop (a `while` of the epoch's updates) as a
    slow generic loop nest, 30x slower than the same convolution outside one (9 s against
    0.3 s for an epoch of lab 2's network): the loops keep such models out of XLA loops on
    a CPU (see `TFEpochRunner`, `JaxEpochRunner`)."""
    return any(len(v.shape) > 2 for v in model.trainable_variables)


def tall_kernels(model) -> list[bool] | None:
    """Which trainable variables the XLA:CPU loop takes transposed (None: none of them).

    XLA on a CPU computes the gradient of a tall kernel, x^T g for a 3072x10 weight matrix,
    with a slow generic loop (0.7-0.9 ms for a batch of 128); the gradient of its transpose,
    g^T x, goes to the fast matrix product (0.1 ms). So the loop differentiates with respect
    to the transposed kernels and transposes the gradients back, which halves the lab's
    epoch. The function and its gradients are the same, up to float summation order.
    """
    flip = [
        len(v.shape) == 2 and v.shape[0] > v.shape[1] and _transposable(v.regularizer)
        for v in model.trainable_variables
    ]
    return flip if any(flip) else None


# Layers whose outputs for an example depend on that example alone (and on no other in its
# batch), with no losses of their own that sum over the batch.
PER_EXAMPLE_LAYERS = (
    "InputLayer", "Dense", "Dropout", "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax",
    "Flatten", "Reshape", "Rescaling", "Normalization",
)  # fmt: skip


def per_example(model) -> bool:
    """Whether a batch can be filled up with examples weighted 0 without changing what the
    others compute: a functional or sequential model of `PER_EXAMPLE_LAYERS` only, none with
    an activity penalty. Batch normalization, a user's own layer or model: no. (Dropout
    draws masks for the padding too, so the last batch's masks are not those an unpadded
    step would draw; they are as random.)"""
    if type(model).__name__ not in ("Functional", "Sequential"):
        return False
    for layer in model.layers:
        if getattr(layer, "layers", None) is not None:
            if not per_example(layer):
                return False
        elif not _known(layer, PER_EXAMPLE_LAYERS) or layer.activity_regularizer:
            return False
    return True


def _known(layer, names) -> bool:
    """Whether `layer` is one of Keras's (or the zoo's) layers named in `names`, not a user's
    layer of the same name."""
    kind = type(layer)
    return kind.__name__ in names and kind.__module__.startswith(("keras.", "zoo."))


def _transposable(regularizer) -> bool:
    """Whether a kernel's penalty is the same on its transpose (none, L1, L2, L1L2: sums of
    |w| and w²); a kernel with any other penalty is left as it is."""
    if regularizer is None:
        return True
    from keras import regularizers

    return type(regularizer) in (regularizers.L1, regularizers.L2, regularizers.L1L2)


def flipped_penalties(model, losses, params_t, flip) -> list:
    """`losses` from `stateless_call` with the penalties of the kernels computed again on the
    transposed kernels the gradient is taken against (see `tall_kernels`).

    Keras computes a kernel's penalty on the very tensor the layer multiplies by; through it,
    the penalty's gradient would meet the product's in the kernel's own layout and bring back
    the slow product (an L2 penalty doubled the lab's epoch). Keras appends the weight
    penalties last, one per penalised variable in `trainable_variables` order; the penalties
    allowed on flipped kernels are sums over the elements, the same on the transpose.
    """
    variables = model.trainable_variables
    penalised = [(v, p) for v, p in zip(variables, params_t, strict=True) if v.regularizer]
    if not any(f and v.regularizer for v, f in zip(variables, flip, strict=True)):
        return losses
    own = list(losses)[: len(losses) - len(penalised)]
    return own + [v.regularizer(p) for v, p in penalised]


def correct_count(objective, y_true, outputs, weights=None):
    """How many outputs name the right class (keras.ops: works inside any backend's graph);
    with `weights`, only those of the examples weighted 1 (padding is weighted 0)."""
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
    right = ops.cast(ops.equal(predicted, actual), "float32")
    return ops.sum(right if weights is None else right * weights)


def added_losses(losses):
    """The model's own losses (weight penalties, `add_loss` terms) as `fit` adds them to the
    loss: each summed and taken in float32; None for a model that has none.

    keras.ops: works inside any backend's graph. `losses` is `model.losses` right after the
    call (TensorFlow), or what `stateless_call(..., return_losses=True)` returned.
    """
    from keras import ops

    total = None
    for loss in losses or ():
        term = ops.sum(ops.cast(loss, "float32"))
        total = term if total is None else total + term
    return total


def as_float(value) -> float | None:
    return None if value is None else float(np.asarray(value))


class EpochRunner:
    """What the backends' runners share: the model and its objective, the evaluation that
    draws the test curve, and the host-side result. Subclasses define `epoch(order, steps)`."""

    # Whether `epoch` reads the optimizer's rate before its updates and returns it as
    # `EpochResult.lr`; else the trainer reads it on the host before the epoch.
    reads_rate = False

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

    def evaluation(self, y_eval, outputs, losses=None) -> dict:
        """Loss and accuracy of the evaluation outputs (keras.ops: inside any backend's graph).

        `losses`: the model's own losses from the evaluation call; as in `fit`'s val_loss,
        they are part of the loss (a weight penalty counts on the test set too)."""
        from keras import ops

        outputs = ops.cast(outputs, "float32")
        loss = ops.cast(self.loss_fn(y_eval, outputs), "float32")
        extra = added_losses(losses)
        return {
            "val_loss": loss if extra is None else loss + extra,
            "val_accuracy": correct_count(self.objective, y_eval, outputs) / float(self.n_eval),
        }

    def result(self, out: dict) -> EpochResult:
        classify = self.classify
        return EpochResult(
            loss=as_float(out["loss"]),
            accuracy=as_float(out["accuracy"]) if classify else None,
            val_loss=as_float(out.get("val_loss")),
            val_accuracy=as_float(out.get("val_accuracy")) if classify else None,
            lr=as_float(out.get("lr")),
        )
