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

from zoo.errors import OptionError
from zoo.training.options import DISTRIBUTE


def check_distribute(kind: str | None, backend: str, mode: str) -> None:
    """Fail early (naming `--distribute`) where a strategy cannot apply."""
    if kind is None:
        return
    if kind not in DISTRIBUTE:
        raise OptionError("distribute", f"{kind!r} is not one of {', '.join(DISTRIBUTE)}")
    if backend != "tensorflow":
        raise OptionError("distribute", "tf.distribute needs the tensorflow backend")
    if mode == "sample":
        raise OptionError("distribute", "per-sample descent has one example per update to split")


def replica_devices(device: str = "auto") -> list[str]:
    """Every local GPU, or every local (logical) CPU device when there is none or `cpu`."""
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    if device == "gpu" and not gpus:
        raise OptionError("device", "no GPU is visible to TensorFlow")
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
    raise OptionError("distribute", f"{kind!r} is not one of {', '.join(DISTRIBUTE)}")


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
