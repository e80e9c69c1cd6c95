"""Which parts of a lab a folder holds: what `zoo lab N` keeps when it resumes an interrupted
lab, and what the report of an unfinished one says is missing.

A lab's own runs are told from the runs a student added by their comment, in any of the
languages the zoo speaks (a lab may be resumed with another `--lang`).
"""

from __future__ import annotations

from pathlib import Path

from zoo.i18n import languages, t
from zoo.lab.folder import (
    EXPORTS,
    FC,
    ONNX,
    RUNS,
    SHIFT,
    SHIFT_FILE,
    TASK1,
    TASK2,
    finished_run,
)
from zoo.runfolder import REPORT

TASK1_FILE = "manual-regression.json"  # task 1's result, written last
TACTICS = ("avg", "max", "stride")  # lab 2's pooling tactics, the example's own first


def lab_comments(key: str) -> set[str]:
    """The comment the lab gives one of its own runs, in every language."""
    return {t(key, lang) for lang in languages()}


def lab1_missing(folder: Path) -> list[str]:
    """The locale keys of the parts of lab 1 that `folder` lacks (none: every task finished)."""
    missing = []
    if not (folder / TASK1 / TASK1_FILE).is_file():
        missing.append("lab.part.task1")
    if finished_run(folder, TASK2) is None:
        missing.append("lab.part.task2")
    if finished_run(folder, RUNS, lab_comments("lab.base_comment")) is None:
        missing.append("lab.part.base")
    return missing


def lab2_missing(folder: Path) -> list[str]:
    """The locale keys of the parts of lab 2 that `folder` lacks (none: every step finished)."""
    missing = [
        f"lab2.tactic.{tactic}"
        for tactic in TACTICS
        if finished_run(folder, RUNS, lab_comments(f"lab2.comment.{tactic}")) is None
    ]
    if finished_run(folder, FC) is None:
        missing.append("lab2.fc_name")
    if not (folder / SHIFT / SHIFT_FILE).is_file():
        missing.append("lab.part.shift")
    if not (folder / ONNX / EXPORTS).is_file():
        missing.append("lab.part.onnx")
    return missing


def lab1_complete(folder: Path) -> bool:
    """Whether every task of lab 1 in `folder` finished and its report was written."""
    return not lab1_missing(folder) and (folder / REPORT).is_file()


def lab2_complete(folder: Path) -> bool:
    """Whether every step of lab 2 in `folder` finished and its report was written."""
    return not lab2_missing(folder) and (folder / REPORT).is_file()
