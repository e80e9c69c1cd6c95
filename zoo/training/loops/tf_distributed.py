"""The tf.distribute epoch: each batch split between the replicas of a strategy."""

from __future__ import annotations

import numpy as np

from zoo.training.loops.common import EpochResult, EpochRunner, added_losses, correct_count


class DistributedEpochRunner(EpochRunner):
    """One epoch per call like `TFEpochRunner`, each batch split between the replicas.

    Every replica takes its slice of the batch and divides its summed loss by the whole
    batch's size; the optimizer sums the replicas' gradients, which makes the batch mean.
    The model's own losses (weight penalties) are the same on every replica: each adds its
    1/replicas share, so that they count once, as on one device.
    """

    def __init__(self, strategy, model, optimizer, objective, x, y, x_eval, y_eval, *, batch_size):
        import tensorflow as tf

        n_eval = 0 if x_eval is None else len(x_eval)
        super().__init__(model, optimizer, objective, len(x), batch_size, n_eval)
        self.strategy = strategy
        loss = self.loss_fn  # the batch mean, for the evaluation
        self.sum_loss = type(loss).from_config({**loss.get_config(), "reduction": "sum"})
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
            extra = added_losses(self.model.losses)
            if extra is not None:
                share = extra / replicas
                loss += share
                loss_sum += share * tf.cast(size, tf.float32)  # the epoch's mean adds it once
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
            outputs = self.model(tf.cast(self.x_eval, tf.float32), training=False)
            result.update(self.evaluation(self.y_eval, outputs, self.model.losses))
        return result

    def epoch(self, order: np.ndarray, steps: int) -> EpochResult:
        import tensorflow as tf

        out = self._epoch(tf.constant(order, dtype=tf.int32), tf.constant(steps, dtype=tf.int32))
        return self.result(out)
