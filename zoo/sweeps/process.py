"""What a worker process keeps between runs: Keras started once, with its threads limited,
and every data set it loaded."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

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


def job_inputs(job: dict, **more):
    """(the data set, the run's plan) of a job (`more`: options the job does not carry, e.g.
    its folder); each data set is loaded once per process, however many runs train on it."""
    from zoo.training.plan import resolve

    plan = resolve(job["model"], job["dataset"], **job["options"], **more)
    key = json.dumps([job["dataset"], dict(plan.data_options)], sort_keys=True, default=str)
    if key not in _datasets:
        _datasets[key] = plan.load()
    return _datasets[key], plan


def job_viewers(job: dict):
    """The `zoo.training.Viewers` the sweep's caller chose for its runs (`job["viewers"]`, a
    function called here, in the worker), or None: the runs show nothing."""
    viewers = job.get("viewers")
    return viewers() if viewers is not None else None
