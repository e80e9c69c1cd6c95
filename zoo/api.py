"""The facade over the engine and the sweeps: `train` and `sweep` with the viewers and
writers that `zoo.training` and `zoo.sweeps` do not import.

`zoo.training` trains and writes the run folder; the notebook's live curves, report.pdf and
a run's HTML belong to `zoo.notebook` and `zoo.reporting`, which sit above it. `train` here
hands them to the engine, and `sweep` hands the sweep runner its report writer and the same
viewers for its workers, so `zoo.train`, `zoo.sweep`, the CLI and sweep workers get the
same runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def standard_viewers():
    """The notebook's live curves and the PDF report, as `zoo.training.Viewers`."""
    from zoo.training.trainer import Viewers

    def display(live, *, quiet, epochs, config):
        from zoo.notebook.live import live_display

        return live_display(live, quiet=quiet, epochs=epochs, config=config)

    def report(folder, *, lang, model):
        from zoo.reporting.pdf import write_report

        return write_report(folder, lang=lang, model=model)

    def prepare():
        from zoo.reporting.pdf import prepare

        prepare()

    return Viewers(display=display, report=report, prepare=prepare)


def train(
    model: Any,
    dataset: Any,
    *,
    callbacks: Sequence[Any] = (),
    tensorboard: bool = False,
    **options: Any,
):
    """`zoo.training.train` with the live curves, the report, and a run that shows itself as
    HTML in a notebook. `tensorboard=True` writes TensorBoard's event files (the curves and
    the run's hyperparameters) into the run folder's tensorboard/. See `zoo.training.train`
    for the options."""
    from zoo.errors import OptionError
    from zoo.training.trainer import train as train_run

    events = None
    if tensorboard:
        if options.get("out", "reports") is None:
            raise OptionError("tensorboard", "writes into the run folder: give out= a folder")
        from zoo.runfolder.tensorboard import RunEvents

        events = options["on_epoch"] = RunEvents(options.get("on_epoch"))
    viewers = standard_viewers()
    try:
        return _shown(
            lambda: train_run(model, dataset, callbacks=callbacks, viewers=viewers, **options)
        )
    finally:
        if events is not None:
            events.close()


def sweep(model: Any, dataset: Any = None, **options: Any):
    """`zoo.sweeps.sweep` with the sweep's tables, figures and report.pdf
    (`zoo.reporting.sweep`) and each run's viewers (`standard_viewers`, in the workers)."""
    from zoo.reporting.sweep import write_outputs
    from zoo.sweeps import sweep as run_sweep

    return run_sweep(
        model, dataset, write_outputs=write_outputs, viewers=standard_viewers, **options
    )


def run_plan(plan, data=None, *, callbacks: Sequence[Any] = ()):
    """`zoo.training.run_plan` with the live curves and the report, as `train` gives them."""
    from zoo.training.trainer import run_plan as run_engine

    return _shown(lambda: run_engine(plan, data, callbacks=callbacks, viewers=standard_viewers()))


def _shown(train):
    from zoo.errors import WriteError
    from zoo.notebook.runs import shown

    try:
        run = train()
    except WriteError as err:
        if getattr(err, "run", None) is not None:
            err.run = shown(err.run)
        raise
    return shown(run)
