"""What a worker does, in a local process or a Ray task: check a configuration, train one
run, or train a stack of runs together; `zoo.sweeps.process` keeps Keras started and the
data sets loaded between jobs.

A job is plain data (picklable, the same for every executor):
    {"kind": "check" | "train", "model": "mlp", "dataset": "digits",
     "options": {...every option of the run, its seed too...},
     "name": "hidden=5,seed=0", "out": "<folder holding the run folders>",
     "tensorboard": True, "viewers": <a module's function returning the run's Viewers, or None>}
or {"kind": "stack", "names": [...], "members": [train jobs]}; an answer is plain data too:
{"name", "status", "reason", "seconds"} for a run ({"answers": [...]} for a stack, "files"
when a run folder travels back from another machine), {"error": ...} for a failed check.
"""

from __future__ import annotations

import logging
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from zoo.errors import OptionError, ZooError
from zoo.sweeps.process import job_inputs, job_viewers, start

log = logging.getLogger(__name__)

CPUS_PER_RUN = 1  # of a Ray task: a small model trains best on one core, runs side by side


def check(job: dict) -> dict:
    """Everything a run does before its first update, without training: the data, the model
    built with its options, the options against the data. Returns {"error": ...} or {}."""
    try:
        start(job["options"].get("backend"), job.get("threads"))
        from zoo.training.build import build_model, holdout

        data, plan = job_inputs(job)
        opts = plan.preset(data)
        if opts.validation:
            data = holdout(data, opts.validation, opts.seed)[0]
        build_model(
            job["model"],
            data,
            loss=opts.loss,
            normalize=opts.normalize,
            model_options=dict(plan.model_options),
        )
        return {}
    except (Exception, KeyboardInterrupt) as err:  # every failure goes back to the sweep
        return {"error": describe_error(err)}


def train(job: dict) -> dict:
    """Train one run into `job["out"]/job["name"]`; the answer says how it ended."""
    started = time.perf_counter()
    answer: dict[str, Any] = {"name": job["name"], "status": "failed", "reason": None}
    events = None
    try:
        start(job["options"].get("backend"), job.get("threads"))
        from zoo.runfolder import TENSORBOARD, eval_split
        from zoo.training.trainer import run_plan

        if job.get("tensorboard"):
            from zoo.sweeps.tensorboard import EventLog

            folder = Path(job["out"]) / job["name"] / TENSORBOARD
            events = EventLog(folder, eval_split(job["options"]))
        data, plan = job_inputs(
            job, out=job["out"], run_name=job["name"], quiet=True, on_epoch=events
        )
        run = run_plan(plan, data, viewers=job_viewers(job))
        answer.update(status=run.status, reason=run.config.get("stop_reason"))
    except KeyboardInterrupt as err:
        from zoo import interrupts

        interrupts.acknowledge()
        answer.update(status="interrupted", reason=f"interrupted by {_signal_name(err)}")
    except Exception as err:  # a failed run is recorded, and the rest go on
        answer["reason"] = describe_error(err)["text"]
    finally:
        if events is not None:
            events.close()
        _forget_models()
    answer["seconds"] = time.perf_counter() - started
    return answer


def describe_error(err: BaseException) -> dict[str, Any]:
    """An error as plain data: its kind, the option it names, and a one-line text; a bug's
    traceback goes to this process's stderr (workers.log for local workers)."""
    if isinstance(err, KeyboardInterrupt):
        return {"type": "Interrupted", "text": f"interrupted by {_signal_name(err)}"}
    if isinstance(err, OptionError):
        return {
            "type": "OptionError",
            "option": err.option,
            "message": err.message,
            "text": str(err),
        }
    if isinstance(err, ZooError):
        return {"type": "ZooError", "text": str(err), "exit_code": err.exit_code}
    traceback.print_exception(err, file=sys.stderr)
    sys.stderr.flush()
    first = str(err).splitlines()[0] if str(err) else ""
    return {"type": type(err).__name__, "text": f"{type(err).__name__}: {first}".rstrip(": ")}


def _signal_name(err: BaseException) -> str:
    from zoo import interrupts

    return interrupts.Interrupted(interrupts.signal_of(err)).name


def _forget_models() -> None:
    """Keras keeps every model's graph state until told: a worker trains hundreds."""
    if "keras" in sys.modules:
        import gc

        import keras

        keras.backend.clear_session()
        gc.collect()


def train_stack(job: dict) -> dict:
    """Train the runs of a stack job together (see `zoo.sweeps.stack`), or one by one
    when they cannot share one program. {"answers": [one answer per run]}."""
    members = [{**member, "threads": job.get("threads")} for member in job["members"]]
    if len(members) > 1:
        from zoo.sweeps.stack import CannotStack, train_together

        try:
            return {"answers": train_together(members)}
        except CannotStack as err:
            log.warning("training %d runs one by one: %s", len(members), err)
        except KeyboardInterrupt as err:
            from zoo import interrupts

            interrupts.acknowledge()
            reason = f"interrupted by {_signal_name(err)}"
            return {"answers": [_stopped(m, reason) for m in members]}
    answers: list[dict] = []
    for member in members:
        if answers and answers[-1]["status"] == "interrupted":  # Ctrl-C stops the rest too
            answers.append(_stopped(member, answers[-1]["reason"]))
        else:
            answers.append(train(member))
    return {"answers": answers}


def _stopped(job: dict, reason: str | None) -> dict:
    return {"name": job["name"], "status": "interrupted", "reason": reason, "seconds": 0.0}


def do(job: dict) -> dict:
    """Run one job: "check", "train" (one run) or "stack" (runs trained together)."""
    if job["kind"] == "check":
        return check(job)
    if job["kind"] == "stack":
        return train_stack(job)
    return train(job)
