"""A report's figures drawn in a second process while this one lays out and writes the pages.

Drawing the figures (Agg, then PNG) and drawing the pages into the PDF take about the same
time and need nothing of each other until a page shows a figure. `Drawings(figures)` forks a
child that draws every figure in report order (the order the pages show them) and sends each
rendering back through a pipe; `drawings[name]` waits for that figure only, and meanwhile
draws here the figures the child has not begun, from the last one back (the child skips
them). Where a child cannot be had (not Linux, no spare core, `FORK = False`) or it fails,
the figures are drawn here, when first asked for: the same function, so the same pixels
either way.

    >>> with Drawings(figures, render) as drawn:   # doctest: +SKIP
    ...     pixels = drawn["learning_curves"].pixels
"""

from __future__ import annotations

import mmap
import os
import pickle
import signal
import stat
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

FORK = True  # whether a second process may draw; False draws every figure in this one
CHILD, PARENT = 1, 2  # who drew a figure, in the shared claims (0: nobody yet)
# seconds without a figure from the child after which it is ended and the rest drawn here (a
# figure takes well under a second; a child forked from a threaded process could hang)
STALLED = 60.0


def _can_fork() -> bool:
    # Linux only: macOS's system libraries are not safe in a child forked from a process with
    # threads (Python's multiprocessing spawns there), and Windows has no fork
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def _spare_core() -> bool:
    """Whether a core is free for the child: on a machine already busy the child only takes
    turns with the pages, and the report ends later than drawn in one process (measured:
    2.6 s against 2.46 s at load 4 on two cores; 1.7 against 2.4 CPU s of the writing
    process where a core is free).

    Busy means busy now: the cores that other processes kept busy since this module was
    imported (`others_busy`). The load average, which lags by a minute, decides only where
    that cannot be told (no /proc/stat, too short or too long a while): right after a busy
    minute it kept the CIFAR-10 report in one process on an idle machine (3.3 s against
    2.8 s)."""
    cores = _cores()
    if cores < 2:
        return False
    others = others_busy()
    if others is not None:
        return others < cores - 1.5  # this process has a core, the child needs another
    try:
        busy = os.getloadavg()[0]
    except OSError:
        busy = 0.0
    return busy < cores - 0.5


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


PROC_STAT = "/proc/stat"
MIN_SECONDS = 0.2  # a shorter while says too little (the kernel counts in 10 ms ticks)
MAX_SECONDS = 60.0  # a longer one says no more than the load average


def cpu_times() -> tuple[float, float] | None:
    """(busy, elapsed) seconds, summed over the CPUs this process may run on, since boot, from
    `PROC_STAT`; None where there is no such file."""
    try:
        allowed = os.sched_getaffinity(0)
    except (AttributeError, OSError):
        allowed = None
    try:
        with open(PROC_STAT, "rb") as lines:
            rows = [line.split() for line in lines if line.startswith(b"cpu")]
    except OSError:
        return None
    busy = elapsed = 0
    for row in rows:
        name = row[0].decode()
        if name == "cpu" or (allowed is not None and int(name[3:]) not in allowed):
            continue
        # user nice system idle iowait irq softirq steal (guest time is inside user and nice)
        ticks = [int(v) for v in row[1:9]]
        elapsed += sum(ticks)
        busy += sum(ticks) - ticks[3] - ticks[4]
    if not elapsed:
        return None
    hz = os.sysconf("SC_CLK_TCK")
    return busy / hz, elapsed / hz


def _own_seconds() -> float:
    times = os.times()
    return times.user + times.system


_since = (os.getpid(), cpu_times(), _own_seconds())  # where `others_busy` counts from


def others_busy() -> float | None:
    """How many cores, on average, processes other than this one kept busy since this module
    was imported or since the last call; None where /proc/stat cannot tell, or the while was
    under `MIN_SECONDS` or over `MAX_SECONDS` (or this is a process forked since, whose own
    CPU time started anew)."""
    global _since
    (pid, before, own_before), now, own_now = _since, cpu_times(), _own_seconds()
    if pid != os.getpid():
        _since = (os.getpid(), now, own_now)
        return None
    if before is None or now is None:
        return None
    busy, elapsed = now[0] - before[0], now[1] - before[1]
    wall = elapsed / _cores()
    if wall < MIN_SECONDS:
        return None  # the next call counts from the same start
    _since = (pid, now, own_now)
    if wall > MAX_SECONDS:
        return None
    return max(0.0, busy - (own_now - own_before)) / wall


def own_files() -> None:
    """Give this forked child an open file of its own for every regular file it inherited
    open for reading, at the same offset.

    A descriptor copied by fork shares its file offset with the parent's. matplotlib's font
    objects read their font file by seek-then-read, and some of those made before the fork are
    still used in the child (its own at-fork clearing reaches only its main cache): parent and
    child then read each other's bytes, and FreeType fails on the glyph ("invalid outline",
    "too many hints"). Measured before this: one `zoo report` in three failed on an idle
    machine. An archive read lazily (`np.load` of an .npz) has the same hazard."""
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:  # no /proc: nothing known to reopen
        return
    import fcntl

    for name in names:
        try:
            fd = int(name)
            if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE != os.O_RDONLY:
                continue  # the child writes nothing of the parent's
            before = os.fstat(fd)
            path = os.readlink(f"/proc/self/fd/{fd}")
            if not stat.S_ISREG(before.st_mode) or not path.startswith("/"):
                continue
            fresh = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except (OSError, ValueError):  # closed meanwhile (the listing's own), or not a path
            continue
        try:
            after = os.fstat(fresh)
            if (after.st_dev, after.st_ino) == (before.st_dev, before.st_ino):  # not replaced
                os.lseek(fresh, os.lseek(fd, 0, os.SEEK_CUR), os.SEEK_SET)
                os.dup2(fresh, fd, inheritable=False)
        except OSError:
            pass
        finally:
            os.close(fresh)


class Drawings(Mapping):
    """Figure name -> what `draw(figure)` gives (a `Rendered`, or an object holding one as
    `.rendered`); the child draws with `draw_in_child` (default: `draw`), which may add
    work that is done there rather than here."""

    def __init__(
        self,
        figures: Mapping,
        draw: Callable[[object], Any],
        fork: bool = True,
        draw_in_child: Callable[[object], Any] | None = None,
    ):
        self._figures, self._draw = dict(figures), draw
        self._draw_in_child = draw_in_child or draw
        self._done: dict[str, Any] = {}
        self._arrived = threading.Condition()
        self._pid: int | None = None
        self._reader = None
        self._receiving: threading.Thread | None = None
        # one byte a figure, shared with the child: which process drew (or draws) it
        self._claims: mmap.mmap | None = None
        self._index = {name: i for i, name in enumerate(self._figures)}
        if fork and FORK and len(self._figures) > 1 and _can_fork() and _spare_core():
            self._start()

    # -- the child ---------------------------------------------------------------------------
    def _start(self) -> None:
        read_fd, write_fd = os.pipe()
        claims = mmap.mmap(-1, len(self._figures))  # anonymous and shared: seen by both
        try:
            pid = os.fork()
        except OSError:  # no memory or no process left: draw here
            os.close(read_fd)
            os.close(write_fd)
            claims.close()
            return
        self._claims = claims
        if pid == 0:
            self._child(read_fd, write_fd)  # never returns
        os.close(write_fd)
        self._pid, self._reader = pid, os.fdopen(read_fd, "rb")
        self._receiving = threading.Thread(target=self._receive, name="zoo-figures", daemon=True)
        self._receiving.start()

    def _child(self, read_fd: int, write_fd: int) -> None:
        """Draw every figure and send it; leave at once, running nothing of the parent's
        (no atexit, no `finally` of the caller, no flush of its files)."""
        code = 1
        try:
            for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                signal.signal(number, signal.SIG_DFL)  # a Ctrl-C ends the child at once
            os.close(read_fd)
            own_files()
            with os.fdopen(write_fd, "wb") as out:
                for i, (name, figure) in enumerate(self._figures.items()):
                    if self._claims[i]:
                        continue  # drawn by the parent
                    self._claims[i] = CHILD
                    pickle.dump(
                        (name, self._draw_in_child(figure)), out, protocol=pickle.HIGHEST_PROTOCOL
                    )
                    out.flush()
            code = 0
        except BaseException:  # the parent draws what did not come
            pass
        finally:
            os._exit(code)

    # -- the parent --------------------------------------------------------------------------
    def _receive(self) -> None:
        """Take each rendering as it comes (the pipe holds far less than one figure, so the
        child would otherwise wait for the pages)."""
        try:
            while True:
                name, rendered = pickle.load(self._reader)
                with self._arrived:
                    self._done.setdefault(name, rendered)
                    self._arrived.notify_all()
        except Exception:  # EOF: all sent, or the child ended early
            pass
        finally:
            with self._arrived:
                self._receiving = None
                self._arrived.notify_all()

    def __getitem__(self, name: str):
        if name not in self._figures:
            raise KeyError(name)
        with self._arrived:
            while name not in self._done and self._receiving is not None:
                if self._claim(name):
                    break  # the child has not begun it: drawn here, now
                later = next(filter(self._claim, reversed(self._figures)), None)
                if later is not None:  # the child draws `name`: take one off its list
                    self._arrived.release()
                    try:
                        self._draw_here(later)
                    finally:
                        self._arrived.acquire()
                elif not self._arrived.wait(timeout=STALLED):
                    self._stop_child()  # nothing came for that long: draw here instead
            if name in self._done:
                return self._done[name]
        return self._draw_here(name)

    def _claim(self, name: str) -> bool:
        """Whether `name` is this process's to draw, while a child draws: it has not begun
        it. (The two may both begin one figure at the same moment: the first drawing is
        kept.)"""
        i = self._index[name]
        if self._claims[i]:
            return False
        self._claims[i] = PARENT
        return True

    def _draw_here(self, name: str):
        rendered = self._draw(self._figures[name])
        with self._arrived:
            return self._done.setdefault(name, rendered)

    def __iter__(self) -> Iterator[str]:
        return iter(self._figures)

    @property
    def forked(self) -> bool:
        """Whether a child draws the figures."""
        return self._pid is not None

    def replace(self, name: str, drawing) -> None:
        """Keep `drawing` for `name` instead of what was drawn (to let go of what is used)."""
        with self._arrived:
            self._done[name] = drawing

    def drawn(self) -> list:
        """The drawings at hand now (none is waited for)."""
        with self._arrived:
            return list(self._done.values())

    def __len__(self) -> int:
        return len(self._figures)

    def _stop_child(self) -> None:
        """End the child (its pipe then ends, and the receiving thread with it)."""
        if self._pid is not None:
            try:
                os.kill(self._pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def close(self) -> None:
        """End the child (if still drawing) and reap it."""
        self._stop_child()
        pid, self._pid = self._pid, None
        if pid is not None:
            os.waitpid(pid, 0)
        thread = self._receiving
        if thread is not None:
            thread.join()
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._claims is not None:
            self._claims.close()
            self._claims = None

    def __enter__(self) -> Drawings:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Pixels(Mapping):
    """The pages' view of `Drawings`: name -> the rendered pixels."""

    def __init__(self, drawings: Mapping):
        self._drawings = drawings

    def __getitem__(self, name: str):
        drawn = self._drawings[name]
        return getattr(drawn, "rendered", drawn).pixels

    def __iter__(self) -> Iterator[str]:
        return iter(self._drawings)

    def __len__(self) -> int:
        return len(self._drawings)
