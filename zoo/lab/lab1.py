"""`zoo lab 1`: the three tasks of lab 1 for a student's variant, in one lab folder
(see zoo/lab/folder.py for what the folder holds)."""

from __future__ import annotations

from pathlib import Path

from zoo.datasets.cifar import LAB1_SETTINGS
from zoo.lab.folder import (
    RUNS,
    TASK1,
    TASK2,
    close_lab,
    drop_unfinished,
    finished_run,
    new_lab,
    open_lab,
    stop_if_interrupted,
)
from zoo.lab.parts import TASK1_FILE, lab1_complete, lab_comments
from zoo.lab.variant import Rule

# The lab's settings: task 2 (noisy XOR, an MLP with 16 hidden neurons, binary cross-entropy)
# and task 3 (FC(10)-ReLU-FC(3), SGD lr 0.005, batch 128, 250 epochs)
TASK2_OPTIONS = {"hidden": 16, "head": "sigmoid", "loss": "bce", "lr": 0.1, "epochs": 100}
TASK3_OPTIONS = {"hidden": 10, **LAB1_SETTINGS}


def run_lab1(
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
    """Run the three tasks of lab 1 for a variant into a new lab folder; write its report.

    The variant's classes are worked out (and checked) first and the CIFAR-100 files read
    before anything trains, so a bad variant or missing data costs nothing. `epochs` replaces
    the base variant's 250 epochs (a quick try). Returns the lab folder.
    """
    import zoo
    from zoo.explain import manual_regression as task1
    from zoo.explain.output import write_json as write_example_json
    from zoo.i18n import t

    lab = new_lab(
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
        lab, out, data_dir=data_dir, source=source, quiet=quiet, echo=echo, complete=lab1_complete
    )
    try:
        echo(t("lab.running", lang, task=1))
        if not (folder / TASK1 / TASK1_FILE).is_file():
            from zoo.backend import start_backend

            start_backend()  # task 1 checks its gradients with TensorFlow: start it quietly
            result = task1.manual_regression()
            (folder / TASK1).mkdir(exist_ok=True)
            task1.plot(result, folder / TASK1, "png", lang)
            write_example_json(folder / TASK1, "manual-regression", result)

        echo(t("lab.running", lang, task=2))
        if finished_run(folder, TASK2) is None:
            drop_unfinished(folder, TASK2)
            comment = t("lab.task2_comment", lang)
            run = zoo.train(
                "mlp", "noisy-xor", out=str(folder / TASK2), comment=comment, **TASK2_OPTIONS,
                **common,
            )  # fmt: skip
            stop_if_interrupted(run)
        echo(t("lab.running", lang, task=3))
        if finished_run(folder, RUNS, lab_comments("lab.base_comment")) is None:
            drop_unfinished(folder, RUNS, lab_comments("lab.base_comment"))
            options = {**TASK3_OPTIONS, **({"epochs": epochs} if epochs else {})}
            comment = t("lab.base_comment", lang)
            run = zoo.train(
                "mlp", data, out=str(folder / RUNS), comment=comment, **options, **common
            )
            stop_if_interrupted(run)
        from zoo.lab.report import write_lab_report

        write_lab_report(folder, lang=lang)
        return folder
    finally:
        close_lab(folder)
