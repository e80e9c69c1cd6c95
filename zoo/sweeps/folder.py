"""The sweep folder's layout, and the lock that keeps two processes from running one sweep.

reports/sweep-mlp-digits-hidden/
  sweep.toml            the spec: `zoo sweep sweep.toml` reruns (resumes) it
  runs/hidden=5,seed=0/ one ordinary run folder per configuration and seed
  summary.md .csv .tex  one row per configuration, mean ± sd over seeds
  *.png report.pdf      the figures, and the report that holds the table and them
  workers.log           what the local worker processes printed (TensorFlow's notes)
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from zoo.errors import OptionError

SPEC_FILE = "sweep.toml"
RUNS = "runs"
SUMMARY = "summary"  # summary.md, summary.csv, summary.tex
REPORT = "report.pdf"
WORKER_LOG = "workers.log"
LOCK = ".sweep.lock"


def is_sweep_folder(path: str | Path) -> bool:
    """Whether `path` is a folder a sweep wrote (it holds sweep.toml)."""
    return (Path(path) / SPEC_FILE).is_file()


class Lock:
    """`.sweep.lock`: an exclusive `flock` on the file, which holds the host and process id of
    the sweep running in the folder (for the message a second sweep gets). `name` and `what`
    make it another command's (`.lab.lock`, "a lab").

    The kernel drops the lock with its process, whatever killed it, so a lock left by a dead
    sweep is free without any guess about staleness, and two acquirers can never both win.
    """

    def __init__(self, folder: Path, name: str = LOCK, what: str = "a sweep"):
        self.path = Path(folder) / name
        self.what = what
        self.fd: int | None = None

    @property
    def held(self) -> bool:
        return self.fd is not None

    def acquire(self) -> None:
        import fcntl

        for _ in range(100):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o644)
            except OSError as err:
                raise OptionError(
                    "out", f"cannot lock {str(self.path.parent)!r}: {err.strerror or err}"
                ) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_all(fd).strip() or "starting"
                os.close(fd)
                raise OptionError(
                    "out",
                    f"{self.what} is already running in {str(self.path.parent)!r} ({holder}); "
                    "wait for it, or choose another folder",
                ) from None
            except OSError as err:
                os.close(fd)
                raise OptionError(
                    "out", f"cannot lock {str(self.path.parent)!r}: {err.strerror or err}"
                ) from None
            # the holder before us may have removed the file between our open and our lock:
            # a lock on a file no longer at this path guards nothing, so take the new one
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            os.write(fd, f"{socket.gethostname()} {os.getpid()}\n".encode())
            self.fd = fd
            return
        raise OptionError("out", f"cannot lock {str(self.path.parent)!r}")

    def check_free(self) -> None:
        """OptionError "already running" if a sweep holds the lock now; the lock is not kept."""
        if not self.path.exists():
            return
        self.acquire()
        self.release()

    def release(self) -> None:
        if self.fd is not None:
            # removed while still locked, so nobody can lock this file after it is gone
            self.path.unlink(missing_ok=True)
            os.close(self.fd)
            self.fd = None


def _read_all(fd: int) -> str:
    try:
        return os.pread(fd, 4096, 0).decode("utf-8", "replace")
    except OSError:
        return ""
