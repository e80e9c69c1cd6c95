"""The run driver: `fit`'s short loop over an epoch runner, with Keras callbacks.

Every stopping rule and side effect is a `keras.callbacks.Callback` that reads the epoch's
`logs` and may set `model.stop_training` (`zoo.training.callbacks`); users' own callbacks
(CSVLogger, EarlyStopping, ModelCheckpoint, TensorBoard, MLflow's, ...) follow the zoo's.

A zoo epoch is one compiled call, so callbacks are called per epoch only:
`on_train_begin`, `on_epoch_begin`, `on_epoch_end`, `on_train_end`. Per-batch hooks
(`on_train_batch_end`, ...) cannot be called from inside a compiled epoch; a callback that
defines them is warned about once per run and its epoch hooks still run.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from zoo import interrupts
from zoo.training.callbacks import RunState, ZooCallback

logger = logging.getLogger("zoo")

LOG_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy", "lr")  # `fit`'s, and the rate
BATCH_HOOKS = (
    "on_batch_begin",
    "on_batch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_batch_begin",
    "on_test_batch_end",
)


def epoch_logs(row: dict) -> dict:
    """The `logs` callbacks get at an epoch's end: the history row's metrics that exist."""
    return {key: row[key] for key in LOG_KEYS if row.get(key) is not None}


def batch_hooks(callback: keras.callbacks.Callback) -> list[str]:
    """The per-batch hooks `callback` really uses (not Keras's empty defaults)."""
    if getattr(callback, "save_freq", "epoch") == "epoch" and isinstance(
        callback, keras.callbacks.ModelCheckpoint
    ):
        return []  # its batch hook only counts batches for `save_freq=<n>`
    used = []
    for name in BATCH_HOOKS:
        own = getattr(type(callback), name, None)
        if name in vars(callback) or own is not getattr(keras.callbacks.Callback, name):
            used.append(name)
    return used


def warn_batch_hooks(callbacks: Sequence[keras.callbacks.Callback]) -> None:
    """One warning naming the callbacks whose per-batch hooks a compiled epoch cannot call."""
    users = {}
    for callback in callbacks:
        if isinstance(callback, ZooCallback):
            continue
        hooks = batch_hooks(callback)
        if hooks:
            users[type(callback).__name__] = hooks
    if users:
        listed = "; ".join(f"{name} ({', '.join(hooks)})" for name, hooks in users.items())
        warnings.warn(
            f"a zoo epoch is one compiled call: per-batch hooks are not called, only the "
            f"epoch ones: {listed}",
            stacklevel=4,
        )


class Epochs:
    """What each epoch feeds its epoch runner, for a lone run and a stack alike: the order of
    the examples (reshuffled every epoch from `seed`, as `fit` does), the updates it takes
    (the last stops at `budget`, the run's `iterations`), and the call itself, timed, with
    signals held back while an epoch of a new length is traced (`interrupts.postponed`)."""

    def __init__(self, n: int, steps: int, *, seed: int, shuffle: bool, budget: int | None):
        self.n, self.steps, self.shuffle, self.budget = n, steps, shuffle, budget
        self.rng = np.random.default_rng(seed)
        self.done = 0  # updates so far
        self._traced: set[int] = set()

    def next(self) -> tuple[np.ndarray, int]:
        """The next epoch's order of examples and number of updates."""
        order = self.rng.permutation(self.n) if self.shuffle else np.arange(self.n)
        todo = self.steps if self.budget is None else min(self.steps, self.budget - self.done)
        return order.astype(np.int32), todo

    def run(self, runner, order: np.ndarray, todo: int, scope) -> tuple[Any, float]:
        """`runner.epoch(order, todo)` in `scope`: its result and the seconds it took."""
        # an epoch of a new length is traced first: no interrupt inside the tracer
        tracing = interrupts.postponed() if todo not in self._traced else nullcontext()
        self._traced.add(todo)
        start = time.perf_counter()
        with scope, tracing:
            result = runner.epoch(order, todo)
        seconds = time.perf_counter() - start
        self.done += todo
        return result, seconds


@dataclass
class Lane:
    """One run the driver drives: its model, its callbacks (the zoo's rules, then the
    user's) and its `RunState`. A lone run is one lane; runs trained together as one program
    (`zoo.training.stack`) are one lane each, every member with callbacks of its own."""

    model: Any
    callbacks: Sequence[keras.callbacks.Callback]
    state: RunState

    @property
    def live(self) -> bool:
        return not self.model.stop_training


def drive(
    run_epoch: Callable[[int], dict],
    model,
    callbacks: Sequence[keras.callbacks.Callback],
    state: RunState,
    *,
    epochs: int,
    steps: int,
) -> RunState:
    """Run up to `epochs` epochs of one run: `run_epoch(epoch)` trains one (1-based) and
    returns its history row; the callbacks see each epoch's logs and may stop the run."""
    drive_lanes(
        lambda epoch, lanes: [run_epoch(epoch)],
        [Lane(model, callbacks, state)],
        epochs=epochs,
        steps=steps,
    )
    return state


def drive_lanes(
    run_epoch: Callable[[int, list[Lane]], list[dict]],
    lanes: Sequence[Lane],
    *,
    epochs: int,
    steps: int,
) -> None:
    """The one training loop. Each epoch, `run_epoch(epoch, live)` trains the lanes still
    running (1-based epoch) and returns one history row per live lane, in order; each lane's
    callbacks see its own logs and may stop it (`model.stop_training`). The loop ends after
    `epochs` or when no lane runs.

    A callback of the user's that sets `model.stop_training` ends its run "stopped_early".
    An interrupt (Ctrl-C, SIGTERM) ends every running lane "interrupted"; `on_train_end` is
    called in every case but a crash, so best weights are restored and progress is closed.
    """
    params = {"epochs": epochs, "steps": steps, "verbose": 0}
    for lane in lanes:
        for callback in lane.callbacks:
            callback.set_model(lane.model)
            callback.set_params(params)
        warn_batch_hooks(lane.callbacks)
        lane.model.stop_training = False
    interrupts.acknowledge()
    logs: dict[int, dict] = {id(lane): {} for lane in lanes}
    live = list(lanes)
    try:
        try:
            for lane in lanes:
                for callback in lane.callbacks:
                    callback.on_train_begin({})
            for epoch in range(epochs):
                for lane in live:
                    for callback in lane.callbacks:
                        callback.on_epoch_begin(epoch, {})
                rows = run_epoch(epoch + 1, live)
                for lane, row in zip(live, rows, strict=True):
                    lane.state.history.append(row)
                for lane in live:
                    logs[id(lane)] = epoch_logs(lane.state.row)
                    _epoch_end(lane, epoch, logs[id(lane)])
                live = [lane for lane in live if lane.live]
                if not live:
                    break
        except Exception:
            # TensorFlow may turn an interrupt during tracing into an error of its own
            if not interrupts.pending():
                raise
            raise interrupts.Interrupted(interrupts.pending()) from None
    except KeyboardInterrupt as err:
        interrupts.acknowledge()
        name = interrupts.Interrupted(interrupts.signal_of(err)).name
        for lane in live:
            lane.state.stop_signal = name
            lane.state.stop(
                "interrupted", f"interrupted by {name} during epoch {len(lane.state.history) + 1}"
            )
    for lane in lanes:
        for callback in lane.callbacks:
            callback.on_train_end(logs[id(lane)])
        if lane.state.reason:
            logger.info("%s", lane.state.reason)


def _epoch_end(lane: Lane, epoch: int, logs: dict) -> None:
    """The lane's callbacks on the epoch's logs; the first to stop the run says why."""
    for callback in lane.callbacks:
        callback.on_epoch_end(epoch, logs)
        if lane.model.stop_training and lane.state.status == "completed":
            lane.state.stop(
                "stopped_early",
                f"{type(callback).__name__} stopped the run at epoch {epoch + 1}",
            )
