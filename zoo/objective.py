"""What is minimised and how outputs become answers: the head, the loss and the targets.

The loss follows the head (softmax -> categorical cross-entropy, sigmoid -> binary
cross-entropy one-vs-rest, linear -> mean squared error) unless `loss` says otherwise.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from zoo.errors import OptionError
from zoo.models.layers import HEADS, check_head, output_units

LOSSES = ("crossentropy", "bce", "mse")
LOSS_ALIASES = {
    "cce": "crossentropy",
    "categorical-crossentropy": "crossentropy",
    "cross-entropy": "crossentropy",
    "binary-crossentropy": "bce",
    "mean-squared-error": "mse",
}
DEFAULT_LOSS = {"softmax": "crossentropy", "sigmoid": "bce", "linear": "mse"}


@dataclass(frozen=True)
class Objective:
    """How a model with `head` and `units` outputs is trained and read.

    >>> obj = Objective.create(head="sigmoid", task="classification", num_classes=2)
    >>> obj.units, obj.loss
    (1, 'bce')
    """

    head: str
    loss: str
    task: str
    num_classes: int
    units: int

    @classmethod
    def create(cls, *, head: str | None, task: str, num_classes: int, loss: str | None = None):
        if head is None:
            head = "softmax" if task == "classification" else "linear"
        head = check_head(head)
        if task == "regression" and head != "linear":
            raise OptionError("head", f"a {head} head cannot fit a regression target; use linear")
        loss = LOSS_ALIASES.get(loss, loss) if loss else DEFAULT_LOSS[head]
        if loss not in LOSSES:
            raise OptionError("loss", f"{loss!r} is not one of {', '.join(LOSSES)}")
        if task == "regression" and loss != "mse":
            raise OptionError("loss", f"{loss} needs classes; a regression target takes mse")
        units = 1 if task == "regression" else output_units(head, num_classes)
        return cls(head, loss, task, num_classes, units)

    @classmethod
    def for_model(cls, model, *, task: str, num_classes: int, loss: str | None = None):
        """Read the head from a model's last layer (its activation), e.g. a user's own model."""
        activation = getattr(model.layers[-1], "activation", None)
        name = getattr(activation, "__name__", "linear")
        head = name if name in HEADS else "linear"
        obj = cls.create(head=head, task=task, num_classes=num_classes, loss=loss)
        units = int(model.outputs[0].shape[-1])
        one_per_class = task == "classification" and head != "softmax" and units == num_classes
        if one_per_class and units != obj.units:  # two sigmoid outputs for two classes
            return dataclasses.replace(obj, units=units)
        if units != obj.units:
            raise OptionError(
                "model",
                f"its output has {units} units; a {head} head on this data needs {obj.units}",
            )
        return obj

    @property
    def from_logits(self) -> bool:
        return self.head == "linear" and self.loss != "mse"

    def keras_loss(self):
        """A Keras loss taking `encode(y)` and the model's outputs (mean over the batch)."""
        import keras

        if self.loss == "mse":
            return keras.losses.MeanSquaredError()
        if self.loss == "bce":
            return keras.losses.BinaryCrossentropy(from_logits=self.from_logits)
        if self.units == 1:  # cross-entropy on one sigmoid unit is the binary one
            return keras.losses.BinaryCrossentropy(from_logits=self.from_logits)
        if self.head == "sigmoid":
            return keras.losses.CategoricalCrossentropy()
        return keras.losses.SparseCategoricalCrossentropy(from_logits=self.from_logits)

    def mean_loss(self, y_encoded: np.ndarray, outputs: np.ndarray, logits_of=None) -> float:
        """The loss of a whole split, as history.csv, metrics.json and the report state it.

        One definition: the mean cross-entropy -log p(true class), unclipped, in float64 -
        what PyTorch's nn.CrossEntropyLoss gives from the logits, and what Keras computes
        inside `fit`'s compiled step (from the logits a softmax or sigmoid output carries
        there). Keras's loss called on stored probabilities instead clips them to [1e-7,
        1 - 1e-7], which caps a wrong answer's loss at 16.1. A probability too small for
        float32 to hold exactly (below 1e-30) is recomputed from the logits:
        `logits_of(rows)` gives the output layer's pre-activations of those examples
        (`output_logits`), or None, and then it counts at float32's smallest normal number.
        For the squared error, and for a linear head's logits, it is the Keras loss.
        """
        if self.loss == "mse" or self.from_logits:
            return float(np.asarray(self.keras_loss()(y_encoded, outputs)))
        p = np.asarray(outputs, dtype=np.float64)
        y = np.asarray(y_encoded)
        tiny = float(np.finfo(np.float32).tiny)
        binary = self.loss == "bce" or self.units == 1
        if not binary and not self.sparse_targets:  # a sigmoid head on several classes
            p = p / np.maximum(p.sum(axis=-1, keepdims=True), tiny)
        if binary:
            y = y.astype(np.float64).reshape(p.shape)
            right = np.where(y > 0.5, p, 1 - p)
        elif self.sparse_targets:
            right = p[np.arange(len(p)), y.astype(np.int64).reshape(-1)][:, None]
        else:
            right = np.where(y > 0.5, p, 1.0)
        per = -np.log(np.maximum(right, tiny))
        if binary:  # soft 0/1 targets: the two-sided form
            per = -(y * np.log(np.maximum(p, tiny)) + (1 - y) * np.log(np.maximum(1 - p, tiny)))
        per = per.sum(axis=-1) if not binary else per.mean(axis=-1)
        rows = np.flatnonzero((right < 1e-30).any(axis=-1))
        z = logits_of(rows) if (len(rows) and logits_of is not None) else None
        if z is not None:
            z = np.asarray(z, dtype=np.float64)
            if binary:
                t = y[rows]
                per[rows] = (np.maximum(z, 0) - z * t + np.log1p(np.exp(-np.abs(z)))).mean(-1)
            elif self.head == "softmax":
                shifted = z - z.max(axis=-1, keepdims=True)
                log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
                if self.sparse_targets:
                    picked = log_p[np.arange(len(z)), y[rows].astype(np.int64).reshape(-1)]
                else:
                    picked = (log_p * y[rows]).sum(axis=-1)
                per[rows] = -picked
        return float(per.mean())

    @property
    def sparse_targets(self) -> bool:
        """Integer labels go in as they are; every other loss wants one-hot or 0/1 columns."""
        return (
            self.task == "classification"
            and self.loss == "crossentropy"
            and self.head != "sigmoid"
            and self.units > 1
        )

    def encode(self, y: np.ndarray) -> np.ndarray:
        """Targets in the shape the loss expects."""
        y = np.asarray(y)
        if self.task == "regression":
            return y.astype("float32").reshape(-1, 1)
        if self.sparse_targets:
            return y.astype("int32")
        if self.units == 1:
            return y.astype("float32").reshape(-1, 1)
        return np.eye(self.num_classes, dtype="float32")[y.astype(np.int64)]

    def decode(self, outputs: np.ndarray) -> np.ndarray:
        """Class indices (classification) or values (regression) from model outputs."""
        outputs = np.asarray(outputs)
        if self.task == "regression":
            return outputs.reshape(-1)
        if outputs.shape[-1] == 1:
            threshold = 0.0 if self.from_logits else 0.5
            return (outputs[:, 0] > threshold).astype(np.int64)
        return outputs.argmax(axis=-1).astype(np.int64)

    def probabilities(self, outputs: np.ndarray) -> np.ndarray:
        """Outputs as probabilities: logits go through the sigmoid or softmax the loss implies."""
        outputs = np.asarray(outputs, dtype=np.float64)
        if not self.from_logits:
            return outputs
        if outputs.shape[-1] == 1 or self.loss == "bce":
            return 1.0 / (1.0 + np.exp(-outputs))
        shifted = np.exp(outputs - outputs.max(axis=-1, keepdims=True))
        return shifted / shifted.sum(axis=-1, keepdims=True)

    def confidence(self, outputs: np.ndarray) -> np.ndarray:
        """How sure each answer is: the predicted class's probability (one unit: p or 1 - p).

        >>> obj = Objective.create(head="sigmoid", task="classification", num_classes=2)
        >>> obj.confidence(np.array([[0.9], [0.2]])).round(2).tolist()
        [0.9, 0.8]
        """
        p = self.probabilities(outputs)
        if p.shape[-1] == 1:
            return np.abs(p[:, 0] - 0.5) + 0.5
        return p.max(axis=-1)

    def surest_mistakes(
        self, y_true: np.ndarray, outputs: np.ndarray, limit: int | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The wrong answers the model was surest of, surest first (ties: in the set's order):
        (their indices in the set, the classes predicted, the confidences), at most `limit`.

        >>> obj = Objective.create(head="softmax", task="classification", num_classes=2)
        >>> outputs = np.array([[0.6, 0.4], [0.1, 0.9], [0.3, 0.7]])
        >>> [a.tolist() for a in obj.surest_mistakes(np.array([1, 0, 0]), outputs)]
        [[1, 2, 0], [1, 1, 0], [0.9, 0.7, 0.6]]
        """
        predicted = self.decode(outputs)
        wrong = np.flatnonzero(np.asarray(y_true) != predicted)
        confidence = self.confidence(np.asarray(outputs)[wrong])
        order = np.argsort(-confidence, kind="stable")[:limit]
        return wrong[order], predicted[wrong[order]], confidence[order]


def model_outputs(model, x: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """`model`'s outputs for `x` (float32), in chunks, without `predict`'s per-call machinery:
    what `Objective.decode` turns into answers, in training and in reports alike."""
    from keras import ops

    parts = [
        ops.convert_to_numpy(model(np.asarray(x[i : i + chunk], "float32"), training=False))
        for i in range(0, len(x), chunk)
    ]
    return np.concatenate(parts).astype("float32") if parts else np.zeros((0, 1), "float32")


def output_logits(model, x: np.ndarray, chunk: int = 8192) -> np.ndarray | None:
    """The pre-activations of `model`'s last layer (float64) for `x` when it is a Dense layer
    with a softmax or sigmoid activation, as every registered model's head is; else None."""
    import keras

    layer = model.layers[-1] if getattr(model, "layers", None) else None
    if not isinstance(layer, keras.layers.Dense):
        return None
    if getattr(layer.activation, "__name__", "") not in ("softmax", "sigmoid"):
        return None
    try:
        features = keras.Model(model.input, layer.input)
    except Exception:  # a subclassed model has no graph to cut
        return None
    weights = [np.asarray(w, dtype=np.float64) for w in layer.get_weights()]
    z = model_outputs(features, x, chunk).astype(np.float64) @ weights[0]
    return z + weights[1] if layer.use_bias else z
