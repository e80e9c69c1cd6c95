"""`zoo lab 2`: lab 2 for a student's variant, in one lab folder (see zoo/lab/folder.py).

The course's task (notebooks/Lab2.ipynb): train the example convolutional network on the
variant's classes (the classes of lab 1), then three times with three pooling tactics - by
the convolution's stride, max pooling, average pooling - and compare the quality, the
training time and the overfitting; choose the best; save it; convert the models of lab 1 and
lab 2 to ONNX for the course's web page and check there that the convolutional network,
unlike the fully connected one, keeps its answer when the picture moves.
"""

from __future__ import annotations

from pathlib import Path

from zoo.datasets.cifar import LAB2_SETTINGS
from zoo.errors import ZooError
from zoo.files import write_json
from zoo.lab.folder import (
    EXPORTS,
    FC,
    ONNX,
    RUNS,
    SHIFT,
    SHIFT_FILE,
    close_lab,
    drop_unfinished,
    finished_run,
    lab_runs,
    new_lab,
    open_lab,
    stop_if_interrupted,
)
from zoo.lab.lab1 import TASK3_OPTIONS as FC_OPTIONS
from zoo.lab.parts import TACTICS, lab2_complete, lab_comments
from zoo.lab.variant import Rule
from zoo.runfolder import RunFolder

SHIFT_MAX = 8
ONNX_NAMES = {"fc": "fc.onnx", "cnn": "cnn.onnx"}


def export_models(folder: Path, fc: RunFolder | None, cnn: RunFolder | None, echo=print) -> dict:
    """fc.onnx and cnn.onnx in LABDIR/onnx, each checked by onnxruntime; exports.json says what
    was written, or why not (a missing extra or another backend is a note, not a failure)."""
    from zoo.export import export_run

    record: dict = {}
    for key, run in (("fc", fc), ("cnn", cnn)):
        if run is None:
            continue
        entry = {"run": str(run.path), "file": ONNX_NAMES[key]}
        try:
            exported = export_run(run.path, "onnx", out=folder / ONNX / ONNX_NAMES[key], force=True)
        except ZooError as err:
            entry["error"] = str(err)
            echo(f"{ONNX_NAMES[key]}: {err}")
        else:
            entry.update(
                description=exported.describe(),
                facts=exported.facts(),  # the report words them in its own language
                difference=exported.difference,
                checked=exported.checked,
                course_contract=exported.course_contract,
            )
        record[key] = entry
    (folder / ONNX).mkdir(exist_ok=True)
    write_json(folder / ONNX / EXPORTS, record)
    return record


def shift_models(folder: Path, fc, cnn, lang: str, max_shift: int = SHIFT_MAX):
    """`zoo shift` of the FC run and the best CNN run into LABDIR/shift."""
    from zoo.reporting.shift import write_shift

    runs = [run.path for run in (fc, cnn) if run is not None]
    if runs:
        write_shift(runs, max_shift=max_shift, out=folder / SHIFT, lang=lang, force=True)


def run_lab2(
    *,
    group: str,
    variant: int,
    group_number: int | None = None,
    department: str = "iu5",
    rule: Rule | None = None,
    data_dir: str | None = None,
    source: str | None = None,
    out: str | Path | None = None,
    lang: str = "ru",
    author: str | None = None,
    title: str | None = None,
    epochs: int | None = None,
    quiet: bool = False,
    echo=print,
) -> Path:
    """Lab 2 for a variant into a new lab folder: the example CNN with each pooling tactic,
    lab 1's FC network on the same classes, `zoo shift` of FC against the best CNN, both as
    ONNX; then the lab's report. `epochs` replaces the 500 (CNN) and 250 (FC) epochs of the
    course (a quick try). Returns the lab folder."""
    import zoo
    from zoo.i18n import t
    from zoo.lab.report import write_lab_report
    from zoo.lab.report2 import best_run

    lab = new_lab(
        lab=2,
        group=group,
        variant=variant,
        group_number=group_number,
        department=department,
        rule=rule,
        lang=lang,
        author=author,
        title=title,
    )
    folder, data, common = open_lab(
        lab, out, data_dir=data_dir, source=source, quiet=quiet, echo=echo, complete=lab2_complete
    )
    try:
        shorter = {"epochs": epochs} if epochs else {}

        trained = False  # a run trained now changes the best CNN: shift and ONNX follow it
        for tactic in TACTICS:
            echo(t("lab2.running", lang, what=t(f"lab2.tactic.{tactic}", lang)))
            mine = lab_comments(f"lab2.comment.{tactic}")
            if finished_run(folder, RUNS, mine) is not None:
                continue
            drop_unfinished(folder, RUNS, mine)
            run = zoo.train(
                "cnn", data, pooling=tactic, out=str(folder / RUNS),
                comment=t(f"lab2.comment.{tactic}", lang), **{**LAB2_SETTINGS, **shorter}, **common,
            )  # fmt: skip
            stop_if_interrupted(run)
            trained = True
        echo(t("lab2.running", lang, what=t("lab2.fc_name", lang)))
        if finished_run(folder, FC) is None:
            drop_unfinished(folder, FC)
            run = zoo.train(
                "mlp", data, out=str(folder / FC), comment=t("lab2.comment.fc", lang),
                **{**FC_OPTIONS, **shorter}, **common,
            )  # fmt: skip
            stop_if_interrupted(run)
            trained = True
        fc, cnn = finished_run(folder, FC), best_run(lab_runs(folder, RUNS))
        echo(t("lab2.running", lang, what="zoo shift"))
        if trained or not (folder / SHIFT / SHIFT_FILE).is_file():
            shift_models(folder, fc, cnn, lang)
        echo(t("lab2.running", lang, what="ONNX"))
        if trained or not (folder / ONNX / EXPORTS).is_file():
            export_models(folder, fc, cnn, echo=echo)
        write_lab_report(folder, lang=lang)
        return folder
    finally:
        close_lab(folder)
