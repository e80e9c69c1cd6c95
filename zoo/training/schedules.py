"""Learning-rate schedules, set in epochs: Keras's own schedules inside the compiled epochs,
ReduceLROnPlateau's rule between them, and the rate each epoch really used.

    step         lr · lr_decay^⌊epoch / lr_step⌋         (ExponentialDecay, staircase)
    exponential  lr · lr_decay^(epoch / lr_step)          (ExponentialDecay), per update
    cosine       lr · ½(1 + cos(π·t/T)) over the run      (CosineDecay), after `warmup` epochs
                 of a linear rise from 0 to lr
    plateau      lr · lr_decay after `lr_step` epochs without a lower test (validation) loss
                 (ReduceLROnPlateau: min_delta 1e-4, no cooldown)

The per-update schedules (step, exponential, cosine) are the Keras objects the optimizer
evaluates at its update count, inside the compiled epoch; `Schedule.rates` computes the same
numbers on the host for the history's `lr` column.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from zoo.errors import OptionError

DEFAULT_DECAY = 0.1  # step, exponential, plateau: the rate falls tenfold per lr_step
PLATEAU_PATIENCE = 10  # ReduceLROnPlateau's default patience, in epochs
PLATEAU_MIN_DELTA = 1e-4  # ReduceLROnPlateau's default: a smaller fall is no improvement


@dataclass(frozen=True)
class Schedule:
    """A run's schedule with every default resolved (what config.json records)."""

    kind: str
    lr: float
    decay: float | None = None  # lr_decay
    every: int | None = None  # lr_step, in epochs (plateau: its patience)
    warmup: int = 0  # epochs
    steps: int = 1  # updates per epoch
    updates: int = 1  # updates in the whole run

    @classmethod
    def plan(cls, opts, steps: int, epochs: int) -> Schedule:
        """The schedule `opts` ask for over a run of `epochs` epochs of `steps` updates.

        Defaults: step cuts the rate tenfold every third of the run; exponential reaches a
        tenth of it at the end; plateau waits 10 epochs; cosine warms up for 0 epochs.
        """
        kind = opts.lr_schedule
        updates = opts.iterations or steps * epochs
        decay = opts.lr_decay if opts.lr_decay is not None else DEFAULT_DECAY
        if kind == "step":
            every = opts.lr_step or max(1, math.ceil(epochs / 3))
            return cls(kind, opts.lr, decay, every, 0, steps, updates)
        if kind == "exponential":
            return cls(kind, opts.lr, decay, opts.lr_step or epochs, 0, steps, updates)
        if kind == "plateau":
            return cls(kind, opts.lr, decay, opts.lr_step or PLATEAU_PATIENCE, 0, steps, updates)
        if kind == "cosine":
            warmup = opts.warmup or 0
            if warmup * steps >= updates:
                raise OptionError(
                    "warmup",
                    f"{warmup} epochs of warm-up leave nothing of a run of {epochs} epochs "
                    "to decay over",
                )
            return cls(kind, opts.lr, None, None, warmup, steps, updates)
        return cls("constant", opts.lr, steps=steps, updates=updates)

    @property
    def per_update(self) -> bool:
        """Whether the optimizer computes the rate at each update (else a plain variable)."""
        return self.kind in ("step", "exponential", "cosine")

    def keras(self):
        """The optimizer's `learning_rate=`: a float, or a Keras schedule of the update count."""
        from keras.optimizers import schedules

        if self.kind in ("step", "exponential"):
            return schedules.ExponentialDecay(
                self.lr,
                decay_steps=self.every * self.steps,
                decay_rate=self.decay,
                staircase=self.kind == "step",
            )
        if self.kind == "cosine":
            warm = self.warmup * self.steps
            if not warm:
                return schedules.CosineDecay(self.lr, decay_steps=self.updates)
            return schedules.CosineDecay(
                0.0, decay_steps=self.updates - warm, warmup_target=self.lr, warmup_steps=warm
            )
        return float(self.lr)

    def rates(self, first: int, count: int) -> np.ndarray:
        """The rates of updates first .. first + count - 1 (counted from 0), as the Keras
        schedule gives them (float32); for constant and plateau, the starting rate."""
        step = np.arange(first, first + count, dtype=np.float32)
        lr = np.float32(self.lr)
        if self.kind in ("step", "exponential"):
            p = step / np.float32(self.every * self.steps)
            if self.kind == "step":
                p = np.floor(p)
            return lr * np.power(np.float32(self.decay), p)
        if self.kind == "cosine":
            warm = np.float32(self.warmup * self.steps)
            total = np.float32(self.updates) - warm
            step = np.minimum(step, total + warm)
            decayed = lr * np.float32(0.5) * (1 + np.cos(np.float32(np.pi) * (step - warm) / total))
            if not warm:
                return decayed.astype(np.float32)
            rising = lr * step / warm
            return np.where(step < warm, rising, decayed).astype(np.float32)
        return np.full(count, lr, dtype=np.float32)

    def record(self) -> dict:
        """The schedule as config.json keeps it (lr_schedule, lr_decay, lr_step, warmup)."""
        data = asdict(self)
        return {
            "lr_schedule": data["kind"],
            "lr_decay": data["decay"],
            "lr_step": data["every"],
            "warmup": data["warmup"] if self.kind == "cosine" else None,
        }


class Plateau:
    """Keras's ReduceLROnPlateau on the test (validation) loss, between epochs.

    After `patience` epochs in a row whose loss is not lower than the best by `min_delta`,
    the rate is multiplied by `factor` and the count starts again.
    """

    def __init__(self, factor: float, patience: int, min_delta: float = PLATEAU_MIN_DELTA):
        self.factor, self.patience, self.min_delta = factor, patience, min_delta
        self.best: float | None = None
        self.wait = 0

    def new_rate(self, val_loss: float | None, rate: float) -> float | None:
        """The rate for the next epoch when this epoch's loss calls for a cut, else None."""
        if val_loss is None:
            return None
        if self.best is None or val_loss < self.best - self.min_delta:
            self.best, self.wait = val_loss, 0
            return None
        self.wait += 1
        if self.wait < self.patience or not rate > 0:
            return None
        self.wait = 0
        return rate * self.factor


def current_rate(optimizer) -> float:
    """The optimizer's rate variable now (a schedule's rate at its current update)."""
    from keras import ops

    return float(ops.convert_to_numpy(optimizer.learning_rate))


def float32_text(value) -> float:
    """A float32 rate as the shortest decimal that is that float32: 0.01, not
    0.009999999776482582 (the history and the report print it)."""
    return float(str(np.float32(value)))
