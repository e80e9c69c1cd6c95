"""Compiled training epochs, one implementation per Keras backend.

For the small networks of the course, `model.fit` spends nearly all its time on per-step
overhead. Here one call runs a whole epoch on the device - every update of the epoch and
the evaluation that draws the test curve - with the same optimizer, loss and order of
examples that `fit` would use. The trainer keeps the history, stopping rules and progress
display on the host between epochs.
"""

from __future__ import annotations

from zoo.training.loops.common import EpochResult, worth_compiling

__all__ = ["EpochResult", "make_epoch_runner"]


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
        from zoo.training.loops.tf_distributed import DistributedEpochRunner

        return DistributedEpochRunner(strategy, *data, batch_size=batch_size)
    if backend == "tensorflow":
        from zoo.training.loops.tf_loop import TFEpochRunner

        jit = worth_compiling(planned_updates, batch_size, x)
        return TFEpochRunner(*data, batch_size=batch_size, jit_compile=jit)
    if backend == "jax":
        from zoo.training.loops.jax_loop import JaxEpochRunner

        return JaxEpochRunner(*data, batch_size=batch_size)
    raise NotImplementedError(f"no compiled loop for the {backend} backend")
