"""The sweep's progress: one line, redrawn on a terminal, a line per finished run otherwise.

sweep: 7/18 runs, 1 failed, 0:42 elapsed, ~1:10 left
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def clock(seconds: float) -> str:
    """0:42, 12:05, 1:02:03."""
    seconds = int(round(max(0.0, seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class SweepProgress:
    """`SweepProgress(total, done=skipped)`; `ended(failed)` after each run; `close()`."""

    def __init__(
        self,
        total: int,
        done: int = 0,
        *,
        quiet: bool = False,
        stream: TextIO | None = None,
    ):
        self.total, self.done, self.failed = total, done, 0
        self.skipped = done  # finished before: they cost nothing now
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.monotonic()
        self._open = False
        self._last = ""

    def line(self) -> str:
        elapsed = time.monotonic() - self.start
        parts = [f"sweep: {self.done}/{self.total} runs"]
        if self.failed:
            parts.append(f"{self.failed} failed")
        parts.append(f"{clock(elapsed)} elapsed")
        trained = self.done - self.skipped
        left = self.total - self.done
        if trained and left:
            parts.append(f"~{clock(elapsed / trained * left)} left")
        return ", ".join(parts)

    def ended(self, failed: bool = False, note: str = "") -> None:
        """A run ended (failed: it did not finish); `note` is shown beside it off a terminal."""
        self.done += 1
        self.failed += int(failed)
        if self.quiet:
            return
        if self.tty:
            self.redraw()
        else:
            self.stream.write(self.line() + (f"  {note}" if note else "") + "\n")
            self.stream.flush()

    def redraw(self) -> None:
        """The line again, with the time that passed (a terminal only; called each second)."""
        if self.quiet or not self.tty:
            return
        line = self.line()
        pad = " " * max(0, len(self._last) - len(line))
        self.stream.write("\r" + line + pad)
        self.stream.flush()
        self._last, self._open = line, True

    def message(self, text: str) -> None:
        """A line of its own above the progress line (shown unless quiet)."""
        if self.quiet:
            return
        self.close()
        self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self._open:
            self.stream.write("\n")
            self.stream.flush()
            self._open = False
            self._last = ""
