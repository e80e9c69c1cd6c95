"""What the run driver's callbacks cost per epoch, against the epoch itself.

The driver (zoo/training/driver.py) calls each Keras callback once per epoch. This times
`drive` over an epoch that does nothing (a fixed history row) with the zoo's usual rules
(progress, interrupt check, divergence, target loss, patience) and with none, in the same
process, and prints the medians in microseconds per epoch. A zoo epoch of the lab's MLP takes
milliseconds (benchmarks/train_speed.py, "steady epoch ms"), so compare the difference with
that.

    python benchmarks/driver_overhead.py
"""

from __future__ import annotations

import io
import statistics
import time

import keras

from zoo.training import callbacks as zc
from zoo.training.driver import drive
from zoo.training.progress import Progress

EPOCHS = 2000


def row(epoch: int) -> dict:
    return {
        "epoch": epoch,
        "iterations": epoch,
        "loss": 1.0 / epoch,
        "accuracy": 0.5,
        "val_loss": 1.0,  # never lower: patience counts, never stops (patience > EPOCHS)
        "val_accuracy": 0.5,
        "lr": 0.01,
        "seconds": 0.0,
    }


def per_epoch_us(model, rules_of) -> float:
    state = zc.RunState()
    start = time.perf_counter()
    drive(row, model, rules_of(state), state, epochs=EPOCHS, steps=1)
    return (time.perf_counter() - start) / EPOCHS * 1e6


def main() -> None:
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])

    def zoo_rules(state):
        progress = Progress(EPOCHS, stream=io.StringIO())  # lines written, as on a pipe
        return [
            zc.ProgressBar(state, progress),
            zc.InterruptCheck(state),
            zc.Divergence(state),
            zc.TargetLoss(state, 0.0),
            zc.Patience(state, EPOCHS + 1, "test"),
        ]

    bare, rules = [], []
    for _ in range(7):
        bare.append(per_epoch_us(model, lambda state: []))
        rules.append(per_epoch_us(model, zoo_rules))
    b, r = statistics.median(bare), statistics.median(rules)
    print(f"driver, no callbacks:   {b:7.1f} us per epoch (median of 7 x {EPOCHS} epochs)")
    print(f"driver, zoo's 5 rules:  {r:7.1f} us per epoch; the rules add {r - b:.1f} us")


if __name__ == "__main__":
    main()
