"""Data-parallel training over several GPUs or hosts with `tf.distribute` (`--distribute`).

`mirrored` keeps a copy of the model on every local GPU (every local CPU device where there
is no GPU, e.g. a CPU split with `tf.config.set_logical_device_configuration`);
`multiworker` does the same across hosts described by `TF_CONFIG`. Each update splits its
batch between the replicas, sums their gradients and applies the same step everywhere, so
the updates are those of one device training on the whole batch (to float rounding).

    zoo train mlp cifar100-3class --distribute mirrored --batch-size 256
"""

from __future__ import annotations

import contextlib

import numpy as np

from zoo.errors import OptionError
from zoo.training.loops import EpochResult, as_float, correct_count

STRATEGIES = ("mirrored", "multiworker")


def check_distribute(kind: str | None, backend: str, mode: str) -> None:
    """Fail early (naming `--distribute`) where a strategy cannot apply."""
    if kind is None:
        return
    if kind not in STRATEGIES:
        raise OptionError("--distribute", f"{kind!r} is not one of {', '.join(STRATEGIES)}")
    if backend != "tensorflow":
        raise OptionError("--distribute", "tf.distribute needs the tensorflow backend")
    if mode == "sample":
        raise OptionError("--distribute", "per-sample descent has one example per update to split")


def replica_devices(device: str = "auto") -> list[str]:
    """Every local GPU, or every local (logical) CPU device when there is none or `cpu`."""
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    if device == "gpu" and not gpus:
        raise OptionError("--device", "no GPU is visible to TensorFlow")
    chosen = gpus if gpus and device != "cpu" else tf.config.list_logical_devices("CPU")
    return [d.name for d in chosen]


def make_strategy(kind: str, device: str = "auto"):
    """The `tf.distribute` strategy for `kind` and a short description for the record.

    >>> strategy, name = make_strategy("mirrored", "cpu")  # doctest: +SKIP
    >>> name
    'mirrored: 2 replicas (/job:localhost/replica:0/task:0/device:CPU:0, ...)'
    """
    import tensorflow as tf

    if kind == "mirrored":
        devices = replica_devices(device)
        strategy = tf.distribute.MirroredStrategy(devices)
        return strategy, f"mirrored: {len(devices)} replicas ({', '.join(devices)})"
    if kind == "multiworker":
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        return strategy, f"multiworker: {strategy.num_replicas_in_sync} replicas"
    raise OptionError("--distribute", f"{kind!r} is not one of {', '.join(STRATEGIES)}")


class strategy_scope(contextlib.AbstractContextManager):
    """`strategy.scope()` that can be entered again and again (the trainer enters it each epoch).

    Inside it the model, the optimizer and the runner are made, their variables mirrored.
    """

    def __init__(self, strategy):
        self.strategy = strategy
        self._open: list = []

    def __enter__(self):
        scope = self.strategy.scope()
        self._open.append(scope)
        return scope.__enter__()

    def __exit__(self, *exc):
        return self._open.pop().__exit__(*exc)


class DistributedEpochRunner:
    """One epoch per call like `TFEpochRunner`, each batch split between the replicas.

    Every replica takes its slice of the batch and divides its summed loss by the whole
    batch's size; the optimizer sums the replicas' gradients, which makes the batch mean.
    """

    def __init__(self, strategy, model, optimizer, objective, x, y, x_eval, y_eval, *, batch_size):
        import tensorflow as tf

        self.strategy = strategy
        self.model, self.optimizer, self.objective = model, optimizer, objective
        loss = objective.keras_loss()
        self.loss_fn = loss  # the batch mean, for the evaluation
        self.sum_loss = type(loss).from_config({**loss.get_config(), "reduction": "sum"})
        self.n = len(x)
        self.batch_size = min(int(batch_size), self.n)
        self.classify = objective.task == "classification"
        with strategy.scope():
            # Mirrored, so each replica reads its own copy rather than one host tensor.
            self.x = tf.Variable(x, trainable=False)
            self.y = tf.Variable(y, trainable=False)
            optimizer.build(model.trainable_variables)
        self.has_eval = x_eval is not None
        if self.has_eval:
            self.x_eval, self.y_eval = tf.constant(x_eval), tf.constant(y_eval)
        self._epoch = tf.function(self._epoch_graph)

    def _replica_step(self, idx):
        import tensorflow as tf

        context = tf.distribute.get_replica_context()
        replicas, rank = context.num_replicas_in_sync, context.replica_id_in_sync_group
        size = tf.shape(idx)[0]
        share = (size + replicas - 1) // replicas
        local = idx[rank * share : (rank + 1) * share]
        xb = tf.cast(tf.gather(self.x, local), tf.float32)
        yb = tf.gather(self.y, local)
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            outputs = tf.cast(self.model(xb, training=True), tf.float32)
            loss_sum = tf.cast(self.sum_loss(yb, outputs), tf.float32)
            # over the whole batch: the replicas' gradients add up to the batch mean's
            loss = loss_sum / tf.cast(size, tf.float32)
        self.optimizer.apply(tape.gradient(loss, variables), variables)
        correct = correct_count(self.objective, yb, outputs) if self.classify else 0.0
        return loss_sum, tf.cast(correct, tf.float32)

    def _epoch_graph(self, order, steps):
        import tensorflow as tf

        strategy, bs = self.strategy, self.batch_size
        total_loss, total_correct, seen = tf.constant(0.0), tf.constant(0.0), tf.constant(0.0)
        for step in tf.range(steps):
            idx = order[step * bs : (step + 1) * bs]
            loss_sum, correct = strategy.run(self._replica_step, args=(idx,))
            total_loss += strategy.reduce("SUM", loss_sum, axis=None)
            total_correct += strategy.reduce("SUM", correct, axis=None)
            seen += tf.cast(tf.shape(idx)[0], tf.float32)
        result = {"loss": total_loss / seen, "accuracy": total_correct / seen}
        if self.has_eval:
            outputs = tf.cast(
                self.model(tf.cast(self.x_eval, tf.float32), training=False), "float32"
            )
            n_eval = float(self.x_eval.shape[0])
            result["val_loss"] = tf.cast(self.loss_fn(self.y_eval, outputs), tf.float32)
            result["val_accuracy"] = correct_count(self.objective, self.y_eval, outputs) / n_eval
        return result

    def epoch(self, order: np.ndarray, steps: int) -> EpochResult:
        import tensorflow as tf

        out = self._epoch(tf.constant(order, dtype=tf.int32), tf.constant(steps, dtype=tf.int32))
        return EpochResult(
            loss=as_float(out["loss"]),
            accuracy=as_float(out["accuracy"]) if self.classify else None,
            val_loss=as_float(out.get("val_loss")),
            val_accuracy=as_float(out.get("val_accuracy")) if self.classify else None,
        )
