"""The TensorFlow backend's compiled epoch: a `tf.function` looping over `tf.range`."""

from __future__ import annotations

import numpy as np

from zoo.training.loops import EpochResult, as_float, correct_count


class TFEpochRunner:
    """Runs one epoch of updates (and the evaluation) per call, as one TensorFlow graph."""

    def __init__(self, model, optimizer, objective, x, y, x_eval, y_eval, *, batch_size: int):
        import tensorflow as tf

        self.model, self.optimizer, self.objective = model, optimizer, objective
        self.loss_fn = objective.keras_loss()
        self.batch_size = int(batch_size)
        self.n = len(x)
        # The data lives on the device once; images stay uint8 there and are cast per batch.
        self.x, self.y = tf.constant(x), tf.constant(y)
        self.has_eval = x_eval is not None
        if self.has_eval:
            self.x_eval, self.y_eval = tf.constant(x_eval), tf.constant(y_eval)
        self.classify = objective.task == "classification"
        optimizer.build(model.trainable_variables)
        self._epoch = tf.function(self._epoch_graph, reduce_retracing=True)

    def _epoch_graph(self, order, steps):
        import tensorflow as tf

        model, variables, bs = self.model, self.model.trainable_variables, self.batch_size
        full_batch = bs >= self.n
        total_loss = tf.constant(0.0)
        total_correct = tf.constant(0.0)
        seen = tf.constant(0.0)
        for step in tf.range(steps):
            if full_batch:
                xb, yb = self.x, self.y
            else:
                idx = order[step * bs : (step + 1) * bs]
                xb, yb = tf.gather(self.x, idx), tf.gather(self.y, idx)
            xb = tf.cast(xb, tf.float32)
            with tf.GradientTape() as tape:
                outputs = model(xb, training=True)
                loss = self.loss_fn(yb, outputs)
            grads = tape.gradient(loss, variables)
            self.optimizer.apply(grads, variables)
            size = tf.cast(tf.shape(xb)[0], tf.float32)
            total_loss += tf.cast(loss, tf.float32) * size
            seen += size
            if self.classify:
                total_correct += correct_count(self.objective, yb, outputs)
        result = {"loss": total_loss / seen, "accuracy": total_correct / seen}
        if self.has_eval:
            outputs = model(tf.cast(self.x_eval, tf.float32), training=False)
            n_eval = tf.cast(tf.shape(self.x_eval)[0], tf.float32)
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
