"""A run's history: its rows, as the run folder's history.csv has them, and Keras's view."""

from __future__ import annotations

HISTORY_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy", "lr", "iterations", "seconds")


class History(list):
    """One dict per epoch (`run.history[-1]["val_loss"]`), and what `fit`'s `History` gives:
    `history.history["val_loss"]` (one value per epoch) and `history.epoch` (from 0).

    >>> h = History([{"epoch": 1, "loss": 0.5, "val_loss": None}, {"epoch": 2, "loss": 0.25}])
    >>> h.history["loss"], h.epoch
    ([0.5, 0.25], [0, 1])
    """

    @property
    def history(self) -> dict[str, list]:
        """Each metric that was measured, as a list over the epochs (None where it was not)."""
        keys = [k for k in HISTORY_KEYS if any(row.get(k) is not None for row in self)]
        return {key: [row.get(key) for row in self] for key in keys}

    @property
    def epoch(self) -> list[int]:
        return [row["epoch"] - 1 for row in self]
