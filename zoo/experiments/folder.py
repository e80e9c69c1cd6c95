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
from zoo.runfolder.reader import process_alive

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
    """`.sweep.lock` holds the host and process id of the sweep running in the folder.

    A lock whose process is gone (killed, power loss) is stale and taken over.
    """

    def __init__(self, folder: Path):
        self.path = folder / LOCK
        self.held = False

    def acquire(self) -> None:
        me = f"{socket.gethostname()} {os.getpid()}\n"
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                if self._holder_alive():
                    raise OptionError(
                        "out",
                        f"a sweep is already running in {str(self.path.parent)!r} "
                        f"({self.path.read_text(encoding='utf-8').strip()}); wait for it, "
                        "or choose another folder",
                    ) from None
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(me)
            self.held = True
            return
        raise OptionError("out", f"cannot lock {str(self.path.parent)!r}")

    def _holder_alive(self) -> bool:
        try:
            host, pid = self.path.read_text(encoding="utf-8").split()
            return host != socket.gethostname() or process_alive(int(pid))
        except (OSError, ValueError):
            return False  # unreadable or half-written: nobody can be holding it

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False
