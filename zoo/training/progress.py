"""Progress display: a bar redrawn each epoch on a terminal, a line per epoch otherwise."""

from __future__ import annotations

import sys
from typing import TextIO

from zoo.i18n import decimal, reason, t


def _fmt(value, digits=4, lang: str = "en") -> str:
    return "-" if value is None else decimal(value, f".{digits}f", lang)


def metrics_text(row: dict, lang: str = "en") -> str:
    """ "loss 0.1234 acc 0.9800  val_loss 0.2345 val_acc 0.9600": one epoch's numbers, named
    in `lang` (the names from the locale files' progress.* keys)."""
    metrics = f"{t('progress.loss', lang)} {_fmt(row['loss'], lang=lang)}"
    for key, name, gap in (
        ("accuracy", "progress.acc", " "),
        ("val_loss", "progress.val_loss", "  "),
        ("val_accuracy", "progress.val_acc", " "),
    ):
        if row.get(key) is not None:
            metrics += f"{gap}{t(name, lang)} {_fmt(row[key], lang=lang)}"
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
        lang: str = "en",
    ):
        self.epochs, self.quiet, self.width, self.lang = epochs, quiet, width, lang
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
        metrics = metrics_text(row, self.lang)
        epoch = row["epoch"]
        word = t("progress.epoch", self.lang)
        if self.tty:
            done = int(self.width * epoch / self.epochs)
            bar = "=" * done + (">" if done < self.width else "") + " " * (self.width - done - 1)
            line = f"\r{word} {epoch:>{len(str(self.epochs))}}/{self.epochs} [{bar}] {metrics}"
            self.stream.write(line + " " * 4)
            self._open = True
        else:
            seconds = t("progress.seconds", self.lang, s=decimal(row["seconds"], ".3f", self.lang))
            self.stream.write(f"{word} {epoch}/{self.epochs} {metrics} ({seconds})\n")
        self.stream.flush()

    def message(self, text: str, always: bool = False) -> None:
        """A line of its own; `always`: shown even when quiet (why a run failed or stopped).
        A stop reason the engine words in English is said in the progress's language."""
        if self.quiet and not always:
            return
        self._end_line()
        self.stream.write(reason(text, self.lang) + "\n")
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
