"""A lab folder: what `zoo lab` writes, read back for the report.

Lab 1:

    LABDIR/
      lab.json        the variant: group, variant, department, the classes and how the rule
                      gave them; the author and title of the report
      task1/          task 1: the 1->64->1 regression with hand-derived gradients (figure, JSON)
      task2/          task 2: a run folder, the lab's MLP on noisy XOR with binary cross-entropy
      runs/           task 3: one run folder per variant of the FC network on the variant's
                      classes; the base variant first, then whatever `zoo train --out
                      LABDIR/runs` adds
      report.pdf      the lab report: title page, the task, a section per task, the final table
                      and the facts behind each self-study question

Lab 2 (the same lab.json, with "lab": 2):

    LABDIR/
      runs/           lab 2's example CNN on the variant's classes, once per pooling tactic
                      (avg, the example's own, then max and stride); more with `zoo train cnn
                      ... --out LABDIR/runs`
      fc/             lab 1's fully connected network on the same classes, for the comparison
      shift/          `zoo shift` of the FC run and the best CNN run (shift.json, figures)
      onnx/           both models as ONNX for the course's web page, and exports.json: how
                      each was checked
      report.pdf

`write_lab_report(LABDIR)` rebuilds report.pdf from the folder alone (`--report-only`).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zoo.errors import OptionError, RunFolderError
from zoo.files import read_json
from zoo.lab.variant import Rule, variant_classes
from zoo.runfolder import CONFIG, RunFolder, read_run_folder

LAB_FILE = "lab.json"
LAB_LOCK = ".lab.lock"  # held by the `zoo lab` that works in the folder
TASK1, TASK2, RUNS = "task1", "task2", "runs"
FC, SHIFT, ONNX = "fc", "shift", "onnx"  # lab 2
EXPORTS = "exports.json"  # in ONNX: what was written and how it was checked
SHIFT_FILE = "shift.json"  # in SHIFT: what `zoo shift` measured
LABS = (1, 2)


@dataclass
class Lab:
    """lab.json: who, which variant, which classes; what the report's title page shows."""

    lab: int
    group: str
    variant: int
    department: str
    classes: list[dict[str, Any]]
    rule: dict[str, Any]
    lang: str = "ru"
    author: str | None = None
    title: str | None = None
    created: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S"))

    @property
    def class_ids(self) -> list[int]:
        return [int(c["index"]) for c in self.classes]


def read_lab(folder: str | Path) -> Lab:
    path = Path(folder) / LAB_FILE
    if not path.is_file():
        raise RunFolderError(f"{folder} is not a lab folder: it has no {LAB_FILE}")
    try:
        data = read_json(path)
        lab = Lab(**data)
    except (ValueError, TypeError) as err:
        raise RunFolderError(f"{path} is not what `zoo lab` writes: {err}") from None
    problem = _lab_problem(lab)
    if problem:
        raise RunFolderError(f"{path} is not what `zoo lab` writes: {problem}")
    return lab


def _lab_problem(lab: Lab) -> str | None:
    """What is wrong with an edited lab.json, naming the key; None if every field is usable."""
    from zoo.i18n import languages
    from zoo.lab.variant import DEPARTMENTS

    def whole(value) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    if not whole(lab.lab) or lab.lab not in LABS:
        return f'"lab" is {lab.lab!r}, not one of {", ".join(map(str, LABS))}'
    if not isinstance(lab.group, str) or not lab.group.strip():
        return f'"group" is {lab.group!r}, not a group\'s name as text'
    if not whole(lab.variant) or lab.variant < 0:
        return f'"variant" is {lab.variant!r}, not a whole number'
    if lab.department not in DEPARTMENTS:
        return f'"department" is {lab.department!r}, not one of {", ".join(DEPARTMENTS)}'
    if lab.lang not in languages():
        return f'"lang" is {lab.lang!r}, not one of {", ".join(languages())}'
    for key in ("author", "title"):
        if getattr(lab, key) is not None and not isinstance(getattr(lab, key), str):
            return f'"{key}" is {getattr(lab, key)!r}, not text'
    if not isinstance(lab.rule, dict):
        return f'"rule" is {lab.rule!r}, not the rule\'s offsets'
    if not isinstance(lab.classes, list) or not lab.classes:
        return '"classes" is not a list of the variant\'s classes'
    for number, found in enumerate(lab.classes, 1):
        if not (
            isinstance(found, dict)
            and whole(found.get("index"))
            and 0 <= found["index"] < 100  # CIFAR-100's fine labels
            and isinstance(found.get("name"), str)
            and isinstance(found.get("how"), str)
        ):
            return f'class {number} of "classes" is not an index 0-99 with its name and rule'
    return None


def lab_runs(folder: Path, task: str = RUNS) -> list[RunFolder]:
    """The run folders of a task, oldest first (the base variant is the first of task 3)."""
    parent = Path(folder) / task
    if not parent.is_dir():
        return []
    found = [read_run_folder(p) for p in parent.iterdir() if (p / CONFIG).is_file()]
    return sorted(found, key=lambda run: (str(run.config.get("created") or ""), run.name))


def new_lab(
    *,
    lab: int = 1,
    group: str,
    variant: int,
    group_number: int | None = None,
    department: str = "iu5",
    rule: Rule | None = None,
    lang: str = "ru",
    author: str | None = None,
    title: str | None = None,
) -> Lab:
    rule = rule or Rule()
    number = group if group_number is None else group_number
    classes = variant_classes(number, variant, department, rule)
    return Lab(
        lab=lab,
        group=str(group),
        variant=int(variant),
        department=department,
        classes=[dataclasses.asdict(c) for c in classes],
        rule=dataclasses.asdict(rule),
        lang=lang,
        author=author,
        title=title,
    )


def check_same_variant(lab: Lab, group: str | None, variant: int | None, folder: Path) -> None:
    """A lab folder belongs to one variant: another one is refused, naming both."""
    if variant is not None and int(variant) != lab.variant:
        raise OptionError(
            "variant",
            f"{folder} holds variant {lab.variant} (group {lab.group}), not {variant}",
        )
    if group is not None and str(group) != lab.group:
        raise OptionError("group", f"{folder} holds group {lab.group}, not {group}")


def finished_run(folder: Path, task: str, comments: set[str] | None = None) -> RunFolder | None:
    """The newest finished run of `task` (whose comment is one of `comments`, if given)."""
    runs = [r for r in lab_runs(folder, task) if r.finished]
    if comments is not None:
        runs = [r for r in runs if r.config.get("comment") in comments]
    return runs[-1] if runs else None


def drop_unfinished(folder: Path, task: str, comments: set[str] | None = None) -> None:
    """Remove the lab's own runs of `task` that an interruption left unfinished (a resumed lab
    trains them again); runs a student added are never touched."""
    import shutil

    for run in lab_runs(folder, task):
        if run.finished or (comments is not None and run.config.get("comment") not in comments):
            continue
        if run.status == "running":  # a live process still writes it
            raise OptionError(
                "out", f"{run.path} is still being trained by process {run.config.get('pid')}"
            )
        shutil.rmtree(run.path)


def _holds_this_lab(folder: Path, lab: Lab) -> bool:
    """True if `folder` holds this very lab (same lab, group and variant); OptionError if it
    holds another one; False if it holds none."""
    if not (folder / LAB_FILE).exists():
        return False
    theirs = read_lab(folder)
    if theirs.lab != lab.lab:
        raise OptionError("out", f"{folder} holds lab {theirs.lab}, not lab {lab.lab}")
    check_same_variant(theirs, lab.group, lab.variant, folder)
    return True


def prepare_folder(out: str | Path | None, lab: Lab, create: bool = True, complete=None) -> Path:
    """The lab's folder: `out`, or reports/lab<N>-<group>-v<variant>. A folder that holds this
    very lab, unfinished, is resumed (`complete(folder)` says whether it is finished); a finished
    one or another lab is refused; an unrelated folder under the default name gets a number.
    `create=False` only checks that it can be one."""
    from zoo.files import free_path

    if out is None:
        slug = "".join(ch if ch.isalnum() else "-" for ch in lab.group).strip("-") or "group"
        folder = Path("reports") / f"lab{lab.lab}-{slug}-v{lab.variant}"
        try:
            resumable = _holds_this_lab(folder, lab) and not (complete and complete(folder))
        except OptionError:
            resumable = False
        if not resumable:
            folder = free_path(folder)
    else:
        folder = Path(out)
        if _holds_this_lab(folder, lab):
            if complete is None or complete(folder):
                raise OptionError(
                    "out",
                    f"{folder} already holds a lab; add runs with `zoo train ... --out "
                    f"{folder / RUNS}` and rebuild its report with `report_only=True`",
                )
        elif folder.is_dir() and any(p.name != LAB_LOCK for p in folder.iterdir()):
            raise OptionError("out", f"{folder} already holds files; choose an empty folder")
    if not create:
        return folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OptionError("out", f"cannot make folder {str(folder)!r}: {err.strerror}") from None
    return folder


def open_lab(
    lab: Lab, out, *, data_dir, source, quiet: bool, echo, complete=None
) -> tuple[Path, object, dict]:
    """Start `lab` for real: print the variant's classes, check the folder can be made, read
    the classes' CIFAR-100 images (before anything is written: a missing archive costs
    nothing), then make the folder with lab.json, or resume the unfinished lab it holds
    (`complete(folder)`: whether a folder's lab is finished). The folder is locked against
    another `zoo lab` until `close_lab(folder)`. Returns the folder, the data and the options
    every run of the lab shares."""
    import zoo
    from zoo.files import write_json
    from zoo.i18n import t

    names = ", ".join(f"{c['index']} {c['name']}" for c in lab.classes)
    echo(t("lab.classes_line", lab.lang, group=lab.group, variant=lab.variant, classes=names))
    # a taken folder fails before the data is read
    folder = prepare_folder(out, lab, create=False, complete=complete)
    if folder.is_dir():
        _lock(folder).check_free()
    data = zoo.load_dataset(
        "cifar100", classes=[str(i) for i in lab.class_ids], data_dir=data_dir, source=source
    )
    folder = prepare_folder(folder, lab, complete=complete)
    lock = _lock(folder)
    lock.acquire()  # until `close_lab`: two labs never work in one folder
    _HELD[folder] = lock
    try:
        prepare_folder(folder, lab, create=False, complete=complete)  # as it is now, locked
    except BaseException:
        close_lab(folder)
        raise
    resumed = (folder / LAB_FILE).exists()
    if resumed:  # lab.json stays as the lab began; what is finished is kept
        echo(t("lab.resumed", lab.lang, folder=folder))
    else:
        write_json(folder / LAB_FILE, dataclasses.asdict(lab))
    common = {"lang": lab.lang, "quiet": quiet, "author": lab.author, "group": lab.group}
    common["variant"] = str(lab.variant)
    return folder, data, common


_HELD: dict[Path, Any] = {}  # lab folders this process works in, and their locks


def _lock(folder: Path):
    from zoo.sweeps.folder import Lock

    return Lock(folder, LAB_LOCK, "a lab")


def close_lab(folder: Path) -> None:
    """Let the folder `open_lab` gave go (its lock), however the lab ended."""
    lock = _HELD.pop(folder, None)
    if lock is not None:
        lock.release()


def stop_if_interrupted(run) -> None:
    """A task stopped by a signal stops the lab: its folder keeps what was done."""
    if run.status == "interrupted":
        import signal

        from zoo.interrupts import Interrupted

        raise Interrupted(getattr(signal, run.config.get("stop_signal") or "SIGINT"))
