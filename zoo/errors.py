"""Errors a user can cause, and the exit codes of the `zoo` command.

Every exception here is caught once, in the CLI, and turned into a one-line message and its
exit code. Anything else that escapes is a programming error: the CLI prints its traceback
and exits with `EXIT_CRASH`, never with a code that means something else.
"""

from __future__ import annotations

from pathlib import Path

from zoo.distribution import install_hint

EXIT_OK = 0
EXIT_DIVERGED = 1  # the run diverged: its folder is written and marked so
EXIT_USAGE = 2  # bad input: an option, a name, a file
EXIT_CRASH = 70  # a bug in the zoo (sysexits EX_SOFTWARE); the traceback is printed
EXIT_WRITE = 74  # a file could not be written (disk full, no permission; sysexits EX_IOERR)
# A signal ends a command with 128 + its number, as a shell reports it: Ctrl-C (SIGINT) 130,
# SIGTERM 143, SIGHUP 129.


class ZooError(Exception):
    """Base class of every error a user can cause (bad name, bad option, missing data...)."""

    exit_code = EXIT_USAGE


class UnknownNameError(ZooError, KeyError):
    """A model or dataset name that is not registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class OptionError(ZooError, ValueError):
    """An impossible value. `option` names it as Python does (`hidden`, `batch_size`);
    the CLI shows it as the flag (`--hidden`)."""

    def __init__(self, option: str, message: str):
        super().__init__(f"{option}: {message}")
        self.option = option
        self.message = message


class DataError(ZooError):
    """Data that cannot be found, read or trusted."""


class RunFolderError(ZooError):
    """A folder that is not a run folder, or one missing what a command needs."""


class WriteError(ZooError, OSError):
    """A file that could not be written; nothing is left under its name half-written."""

    exit_code = EXIT_WRITE

    def __init__(self, path: str | Path, reason: str):
        super().__init__(f"cannot write {path}: {reason}")
        self.path = Path(path)
        self.reason = reason

    def __str__(self) -> str:
        return str(self.args[0])


class ExportError(ZooError):
    """A model that cannot be exported, or whose exported file disagrees with it."""


class MissingExtraError(ZooError):
    """A command needs packages of an extra that is not installed (`pip install 'keras-zoo[x]'`)."""

    def __init__(self, what: str, modules: list[str], extra: str):
        listed = ", ".join(modules)
        super().__init__(
            f"{what} needs {listed}, which {'is' if len(modules) == 1 else 'are'} not "
            f"installed: {install_hint(extra)}"
        )
        self.modules = modules
        self.extra = extra
