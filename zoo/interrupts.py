"""Signals that end a command, all handled like Ctrl-C: Ctrl-C itself, SIGTERM and SIGHUP.

A closed terminal (SIGHUP), `kill`, `timeout` or a cluster scheduler (SIGTERM) must leave a
run folder as honest as Ctrl-C does: what was trained is kept and the status says
"interrupted". Inside `handled()` each of these signals raises `Interrupted`, a
KeyboardInterrupt that knows its signal, and is remembered until acknowledged, so that an
interrupt swallowed by a library (TensorFlow, while it builds a graph) is still noticed.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)
_pending: list[int] = []


class Interrupted(KeyboardInterrupt):
    """A signal asked the command to stop; `exit_code` is what a shell reports for it."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def signal_of(err: BaseException) -> int:
    """The signal behind a KeyboardInterrupt: its own, else the one received and not yet
    acknowledged (a library that catches an interrupt and raises a plain KeyboardInterrupt
    loses it; Ray's wait does), else SIGINT (Python's own Ctrl-C)."""
    return getattr(err, "signum", None) or pending() or signal.SIGINT


def pending() -> int | None:
    """The signal received and not yet acknowledged, if any."""
    return _pending[-1] if _pending else None


def acknowledge() -> None:
    """The interrupt has been dealt with (the run is marked interrupted)."""
    _pending.clear()


def stop(signum: int) -> None:
    """Raise `Interrupted` as if `signum` had arrived (from a handler of another signal)."""
    _pending.append(signum)
    raise Interrupted(signum)


_postponed = [0]  # depth of `postponed()` blocks


def deliver(signum: int) -> None:
    """What the handlers do with a signal: remember it, and raise `Interrupted` unless an
    epoch is being traced (`postponed`), where the driver raises it after the epoch."""
    if _postponed[0]:
        _pending.append(signum)
        return
    stop(signum)


def _raise(signum, frame):
    deliver(signum)


@contextmanager
def postponed() -> Iterator[None]:
    """Within the block a signal is only remembered (`pending()`); whoever checks after the
    block raises it (the run driver's `InterruptCheck`, once the epoch's row is recorded).

    For an epoch's first call: while TensorFlow traces the epoch's Python into a graph, a
    KeyboardInterrupt raised in the middle can leave the tracer's locks held and the process
    hung. Later calls are not postponed (JAX's convolutional epochs loop in Python).
    """
    _postponed[0] += 1
    try:
        yield
    finally:
        _postponed[0] -= 1


@contextmanager
def handled() -> Iterator[None]:
    """Within the block SIGINT, SIGTERM and SIGHUP raise `Interrupted` (main thread only).

    A signal the process was started ignoring stays ignored: `nohup zoo train ...` goes on
    when the terminal closes, and a job started with `&` by a script is not stopped by Ctrl-C.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {
        s: signal.signal(s, _raise) for s in SIGNALS if signal.getsignal(s) is not signal.SIG_IGN
    }
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextmanager
def kept() -> Iterator[None]:
    """The block may install signal handlers of its own (Ray's driver does, over SIGTERM, with a
    C++ handler that prints a stack and exits 1): the handlers in force before it come back."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = {s: signal.getsignal(s) for s in SIGNALS}
    try:
        yield
    finally:
        for s, handler in before.items():
            if handler is not None:  # None: set outside Python, nothing to put back
                signal.signal(s, handler)


@contextmanager
def deferred() -> Iterator[None]:
    """Signals wait until the block is done (the last, short write of a run's status)."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
