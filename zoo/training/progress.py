"""Progress display: a bar redrawn each epoch on a terminal, a line per epoch otherwise."""

from __future__ import annotations

import sys
from typing import TextIO


def _fmt(value, digits=4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def metrics_text(row: dict) -> str:
    """ "loss 0.1234 acc 0.9800  val_loss 0.2345 val_acc 0.9600": one epoch's numbers."""
    metrics = f"loss {_fmt(row['loss'])}"
    if row.get("accuracy") is not None:
        metrics += f" acc {_fmt(row['accuracy'])}"
    if row.get("val_loss") is not None:
        metrics += f"  val_loss {_fmt(row['val_loss'])}"
    if row.get("val_accuracy") is not None:
        metrics += f" val_acc {_fmt(row['val_accuracy'])}"
    return metrics


class Progress:
    """`Progress(epochs).update(row)` after each epoch; `close()` at the end.

    `display`: an observer that shows the epochs in place of the text lines (a notebook's
    live curves, `zoo.notebook.live`); it gets `update(row, metrics_text)` and `close()`.
    Messages still go to the stream.
    """

    def __init__(
        self,
        epochs: int,
        *,
        quiet: bool = False,
        stream: TextIO | None = None,
        width: int = 24,
        display=None,
    ):
        self.epochs, self.quiet, self.width = epochs, quiet, width
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.display = display
        self._open = False

    def update(self, row: dict) -> None:
        if self.display is not None:
            self.display.update(row, metrics_text(row))
            return
        if self.quiet:
            return
        metrics = metrics_text(row)
        epoch = row["epoch"]
        if self.tty:
            done = int(self.width * epoch / self.epochs)
            bar = "=" * done + (">" if done < self.width else "") + " " * (self.width - done - 1)
            line = f"\repoch {epoch:>{len(str(self.epochs))}}/{self.epochs} [{bar}] {metrics}"
            self.stream.write(line + " " * 4)
            self._open = True
        else:
            self.stream.write(f"epoch {epoch}/{self.epochs} {metrics} ({row['seconds']:.3f}s)\n")
        self.stream.flush()

    def message(self, text: str, always: bool = False) -> None:
        """A line of its own; `always`: shown even when quiet (why a run failed or stopped)."""
        if self.quiet and not always:
            return
        self._end_line()
        self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.display is not None:
            self.display.close()
            self.display = None  # closed once
        self._end_line()

    def _end_line(self) -> None:
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False
