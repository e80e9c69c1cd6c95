"""The zoo's stopping rules and side effects, each a `keras.callbacks.Callback`.

Every rule reads the epoch's `logs` (loss, accuracy, val_loss, val_accuracy, lr, as `fit`
gives them) and may set `model.stop_training`; the driver (`zoo.training.driver`) calls them
in order, then the user's own callbacks. A rule of the zoo also says why the run stopped in
the shared `RunState`, which becomes the run folder's `status` and `stop_reason`; a rule
does nothing once an earlier one has stopped the run, so the first reason wins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from zoo import interrupts
from zoo.training.progress import Progress

# the statuses after which the best weights a patience rule kept are restored
RESTORE_BEST = ("stopped_early", "completed", "interrupted")


@dataclass
class RunState:
    """How a run is going: its history rows and, once it stops, why."""

    history: list = field(default_factory=list)
    status: str = "completed"
    reason: str | None = None
    diverged_epoch: int | None = None
    stop_signal: str | None = None

    def stop(self, status: str, reason: str) -> None:
        self.status, self.reason = status, reason

    @property
    def row(self) -> dict:
        """The last epoch's history row (epoch, iterations and seconds besides the logs)."""
        return self.history[-1]


class ZooCallback(keras.callbacks.Callback):
    """A callback of the zoo's own: it shares the run's `RunState` with the driver."""

    def __init__(self, state: RunState):
        super().__init__()
        self.state = state

    @property
    def stopped(self) -> bool:
        return bool(getattr(self.model, "stop_training", False))

    def _stop(self, status: str, reason: str) -> None:
        self.state.stop(status, reason)
        self.model.stop_training = True


def divergence_reason(loss: float, epoch: int, rate: Any) -> str:
    """Why a run whose loss stopped being finite stopped: one wording for every driver."""
    return f"the loss became {loss} at epoch {epoch}: the learning rate {rate} is too large"


def diverged(logs: dict) -> bool:
    """The training or evaluation loss is no longer a finite number."""
    val_loss = logs.get("val_loss")
    return not np.isfinite(logs["loss"]) or (val_loss is not None and not np.isfinite(val_loss))


class ProgressBar(ZooCallback):
    """The progress bar or lines (a notebook's live curves in their place); the stop reason."""

    def __init__(self, state: RunState, progress: Progress):
        super().__init__(state)
        self.progress = progress

    def on_epoch_end(self, epoch, logs=None):
        self.progress.update(self.state.row)

    def on_train_end(self, logs=None):
        self.progress.close()
        if self.state.reason:  # the reason a run stopped is shown even when quiet
            self.progress.message(self.state.reason, always=self.state.status != "completed")


class OnEpoch(ZooCallback):
    """`on_epoch=`: a function called with each epoch's history row."""

    def __init__(self, state: RunState, function: Callable[[dict], Any]):
        super().__init__(state)
        self.function = function

    def on_epoch_end(self, epoch, logs=None):
        self.function(self.state.row)


class InterruptCheck(ZooCallback):
    """A signal that a library swallowed during the epoch still stops the run."""

    def on_epoch_end(self, epoch, logs=None):
        if interrupts.pending():
            raise interrupts.Interrupted(interrupts.pending())


class Divergence(ZooCallback):
    """Stops at the first epoch whose loss is not finite (status "diverged")."""

    def on_epoch_end(self, epoch, logs=None):
        if self.stopped or not diverged(logs):
            return
        self.state.diverged_epoch = epoch + 1
        self._stop("diverged", divergence_reason(logs["loss"], epoch + 1, logs["lr"]))


class TargetLoss(ZooCallback):
    """Stops once the training loss is at most `target` (status "target_reached")."""

    def __init__(self, state: RunState, target: float):
        super().__init__(state)
        self.target = target

    def on_epoch_end(self, epoch, logs=None):
        if self.stopped or logs["loss"] > self.target:
            return
        self._stop(
            "target_reached",
            f"training loss {logs['loss']:.4g} <= {self.target} at epoch {epoch + 1}",
        )


class PlateauRate(ZooCallback):
    """Keras's ReduceLROnPlateau on the evaluation loss (`zoo.training.schedules.Plateau`)."""

    def __init__(self, state: RunState, optimizer, plateau, scope):
        super().__init__(state)
        self.optimizer, self.plateau, self.scope = optimizer, plateau, scope

    def on_epoch_end(self, epoch, logs=None):
        if self.stopped:
            return
        cut = self.plateau.new_rate(logs.get("val_loss"), logs["lr"])
        if cut is not None:
            with self.scope:
                self.optimizer.learning_rate = cut


class Patience(ZooCallback):
    """Stops after `patience` epochs without a lower evaluation loss (status
    "stopped_early"); the best weights are restored at the end of the run."""

    def __init__(self, state: RunState, patience: int, split: str):
        super().__init__(state)
        self.patience, self.split = patience, split
        self.best_loss, self.best_weights, self.since_best = np.inf, None, 0

    def on_epoch_end(self, epoch, logs=None):
        val_loss = logs.get("val_loss")
        if self.stopped or val_loss is None:
            return
        if val_loss < self.best_loss:
            self.best_loss, self.best_weights, self.since_best = (
                val_loss,
                self.model.get_weights(),
                0,
            )
            return
        self.since_best += 1
        if self.since_best >= self.patience:
            self._stop(
                "stopped_early",
                f"no lower {self.split} loss for {self.patience} epochs; weights of epoch "
                f"{epoch + 1 - self.since_best} restored",
            )

    def on_train_end(self, logs=None):
        if self.best_weights is not None and self.state.status in RESTORE_BEST:
            self.model.set_weights(self.best_weights)
