"""Errors a user can cause.

Every exception here is caught once, in the CLI, and turned into a one-line message and exit
code 2. Anything else that escapes is a programming error and keeps its traceback.
"""

from __future__ import annotations


class ZooError(Exception):
    """Base class of every error a user can cause (bad name, bad option, missing data...)."""

    exit_code = 2


class UnknownNameError(ZooError, KeyError):
    """A model or dataset name that is not registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class OptionError(ZooError, ValueError):
    """An option whose value is impossible; `option` names it as the user typed it."""

    def __init__(self, option: str, message: str):
        super().__init__(f"{option}: {message}")
        self.option = option
        self.message = message


class DataError(ZooError):
    """Data that cannot be found, read or trusted."""


class RunFolderError(ZooError):
    """A folder that is not a run folder, or one missing what a command needs."""
