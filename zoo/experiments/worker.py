"""What a worker does, in a local process or a Ray task: start Keras once, keep each data set
it loaded, and train one run after another.

A job is plain data (picklable, the same for every executor):
    {"kind": "check" | "train", "model": "mlp", "dataset": "digits",
     "options": {...every option of the run, its seed too...},
     "name": "hidden=5,seed=0", "out": "<folder holding the run folders>",
     "tensorboard": True}
and so is the answer: {"name", "status", "reason", "seconds"} (plus "error" for a check that
failed, and "files" when the run folder travels back to another machine).
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from zoo.errors import OptionError, ZooError

CPUS_PER_RUN = 1  # of a Ray task: a small model trains best on one core, runs side by side
_started: dict[str, Any] = {}
_datasets: dict[str, Any] = {}


def limit_threads(threads: int) -> None:
    """Threads of this process's numerical libraries: set before they start, so that `jobs`
    workers of `threads` each fill the cores without fighting over them."""
    n = str(max(1, int(threads)))
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = n
    os.environ["TF_NUM_INTRAOP_THREADS"] = n
    os.environ["TF_NUM_INTEROP_THREADS"] = "1" if n == "1" else "2"
    if n == "1":  # XLA's CPU client (JAX) runs its own pool otherwise
        flags = os.environ.get("XLA_FLAGS", "")
        if "xla_cpu_multi_thread_eigen" not in flags:
            os.environ["XLA_FLAGS"] = (flags + " --xla_cpu_multi_thread_eigen=false").strip()


def start(backend: str | None, threads: int | None) -> str:
    """Keras on `backend`, TensorFlow limited to `threads` (once per process)."""
    if "backend" in _started:
        return _started["backend"]
    from zoo.backend import start_backend

    if threads and "tensorflow" not in sys.modules:
        limit_threads(threads)
    name = start_backend(backend)
    if threads and "tensorflow" in sys.modules:
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(1 if threads == 1 else 2)
        except RuntimeError:  # TensorFlow already ran an op here: its pools are fixed
            pass
    _started["backend"] = name
    return name


def _split(job: dict):
    """(the data set, training options, model options) of a job; each data set is loaded once
    per process, however many runs train on it."""
    from zoo.training.trainer import _load, split_options

    options = dict(job["options"])
    data_seed = options.pop("data_seed", None)
    train_opts, model_opts, data_opts = split_options(job["model"], job["dataset"], options)
    key = json.dumps([job["dataset"], data_opts, data_seed], sort_keys=True, default=str)
    if key not in _datasets:
        _datasets[key] = _load(job["dataset"], data_opts, data_seed)
    return _datasets[key], train_opts, model_opts


def check(job: dict) -> dict:
    """Everything a run does before its first update, without training: the data, the model
    built with its options, the options against the data. Returns {"error": ...} or {}."""
    try:
        start(job["options"].get("backend"), job.get("threads"))
        from zoo.training.build import build_model, holdout
        from zoo.training.options import TrainOptions

        data, train_opts, model_opts = _split(job)
        opts = TrainOptions(**train_opts)
        opts.check()
        opts = opts.with_defaults(data.train_defaults)
        if opts.validation:
            data = holdout(data, opts.validation, opts.seed)[0]
        build_model(
            job["model"], data, loss=opts.loss, normalize=opts.normalize, model_options=model_opts
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
        from zoo.training.trainer import train as train_run

        data, train_opts, model_opts = _split(job)
        if job.get("tensorboard"):
            from zoo.experiments.tensorboard import EventLog

            folder = Path(job["out"]) / job["name"] / TENSORBOARD
            events = EventLog(folder, eval_split(train_opts))
        run = train_run(
            job["model"],
            data,
            **train_opts,
            **model_opts,
            out=job["out"],
            run_name=job["name"],
            quiet=True,
            on_epoch=events,
        )
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
    """Train the runs of a stack job together (see `zoo.experiments.stack`), or one by one
    when they cannot share one program. {"answers": [one answer per run]}."""
    members = [{**member, "threads": job.get("threads")} for member in job["members"]]
    if len(members) > 1:
        from zoo.experiments.stack import CannotStack, train_together

        try:
            return {"answers": train_together(members)}
        except CannotStack as err:
            print(f"zoo: training {len(members)} runs one by one: {err}", file=sys.stderr)
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
