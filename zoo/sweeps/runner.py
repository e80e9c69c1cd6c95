"""Running a sweep: check every configuration, skip what finished before, train the rest on
local worker processes or a Ray cluster, then hand the summary to the writer of the tables,
figures and report.

The runner draws nothing itself: its caller hands it `write_outputs` (the sweep's tables,
figures and report.pdf) and `viewers` (what shows each run: its report.pdf), as `zoo.sweep`
does with `zoo.reporting.sweep.write_outputs` and `zoo.api.standard_viewers`, the way
`zoo.train` hands the engine its viewers. So `zoo.sweeps` imports nothing that draws.

Order matters here. Everything that can be wrong with the input is found before anything
trains: names and values in this process, then (in the workers, which load the data and
build each model once) what only the data or the model can tell. A sweep folder holds one
spec; running the same spec again resumes it. Ctrl-C stops the busy workers, whose runs are
marked interrupted, and the summary of what finished is still written.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from zoo import interrupts
from zoo.errors import OptionError, ZooError
from zoo.files import read_json, write_text
from zoo.runfolder import CONFIG, RunFolder
from zoo.runfolder.format import FINISHED
from zoo.sweeps.folder import RUNS, SPEC_FILE, WORKER_LOG, Lock, is_sweep_folder
from zoo.sweeps.options import EXECUTORS
from zoo.sweeps.resume import check_finished_runs
from zoo.sweeps.spec import MAX_RUNS, SweepSpec, load_spec
from zoo.sweeps.summary import Outcome, SweepSummary, summarize
from zoo.sweeps.worker import CPUS_PER_RUN

MAX_THREADS = 1024  # threads of one local worker: more only costs memory and start-up

# A run that ended so is not trained again on resume: divergence is the configuration's result
# (the same seed diverges again), not an accident.
FINAL = (*FINISHED, "diverged")
# What a check of the data and the model depends on: configurations alike in these are
# checked once.
CHECKED_TRAIN_OPTIONS = ("loss", "normalize", "validation", "backend", "mode", "batch_size")

# The sweep's own outputs from its summary, in a language: the paths written
OutputWriter = Callable[[SweepSummary, str], list[Path]]


@dataclass
class SweepResult:
    """What a sweep did: its folder, the summary, and how many runs this call trained."""

    folder: Path
    spec: SweepSpec
    summary: SweepSummary
    trained: int = 0  # runs trained by this call
    skipped: int = 0  # runs that had finished before
    written: list[Path] = field(default_factory=list)
    interrupted: bool = False

    @property
    def rows(self):
        return self.summary.rows

    @property
    def best(self):
        return self.summary.best

    @property
    def unfinished(self) -> list[Outcome]:
        """Runs that did not finish (diverged, failed, interrupted or not trained)."""
        return self.summary.unfinished()

    def markdown(self, lang: str = "en") -> str:
        return self.summary.markdown(lang)


def default_folder(spec: SweepSpec, out: str | Path = "reports") -> Path:
    """reports/sweep-mlp-digits-hidden: the same sweep lands in the same folder (and resumes)."""
    parts = ["sweep", spec.model, spec.dataset, *(name.replace("_", "-") for name in spec.swept())]
    return Path(out) / "-".join(parts)


def check_configurations(spec: SweepSpec) -> dict[str, dict]:
    """OptionError naming the option and the configuration, for anything this process can
    tell without the data or Keras (each configuration is resolved as `zoo.train` resolves
    it: `zoo.training.plan`). Returns one check job per group of configurations that the
    workers must check (the data and the model), keyed by what they share."""
    from zoo.datasets.registry import DATASETS
    from zoo.models.registry import MODELS
    from zoo.training.plan import resolve

    MODELS.get(spec.model)  # unknown names: a message with the close ones
    DATASETS.get(spec.dataset)
    groups: dict[str, dict] = {}
    for conf in spec.configurations():
        try:
            plan = resolve(spec.model, spec.dataset, **{**conf.options, "seed": spec.seeds[0]})
        except OptionError as err:
            raise OptionError(err.option, f"{err.message} ({_where(conf)})") from None
        shared = {k: getattr(plan.training, k) for k in CHECKED_TRAIN_OPTIONS}
        key = json.dumps(
            [dict(plan.model_options), dict(plan.data_options), shared],
            sort_keys=True,
            default=str,
        )
        groups.setdefault(key, _job("check", spec, conf.options, spec.seeds[0], conf=conf))
    return groups


def _where(conf) -> str:
    return f"configuration {conf.number}: {conf.label}"


def _job(kind: str, spec: SweepSpec, options: dict, seed: int, **more) -> dict:
    return {
        "kind": kind,
        "model": spec.model,
        "dataset": spec.dataset,
        "options": {**options, "seed": seed},
        **more,
    }


def _error_from(answer: dict, conf) -> ZooError:
    """The ZooError a worker's check described, naming the configuration."""
    error = answer["error"]
    if error["type"] == "OptionError":
        return OptionError(error["option"], f"{error['message']} ({_where(conf)})")
    if error["type"] == "Interrupted":
        raise interrupts.Interrupted()
    err = ZooError(f"{error['text']} ({_where(conf)})")
    if error["type"] not in ("ZooError",):  # a bug or the machine: not the user's input
        err.exit_code = 70
    else:
        err.exit_code = error.get("exit_code", 2)
    return err


def _status(path: Path) -> str | None:
    """A run folder's status from its config.json alone (None: not there or unreadable)."""
    try:
        config = read_json(path / CONFIG)
    except (OSError, ValueError):
        return None
    if not isinstance(config, dict):
        return None
    return RunFolder(path=path, config=config).status


def _no_live_writer(folder: Path, todo: list, statuses: dict) -> None:
    """OptionError if a process still writes one of the runs a resume would retrain (a worker of
    an earlier sweep on this host, alive, or one on another host): two writers would share it."""
    for run in todo:
        if statuses[run.name] != "running":
            continue
        try:
            config = read_json(folder / RUNS / run.name / CONFIG)
        except (OSError, ValueError):
            continue
        raise OptionError(
            "out",
            f"run {run.name!r} is still being written by process {config.get('pid')} on "
            f"{config.get('host')!r} (a worker of an earlier sweep); stop it or wait for it, "
            "then resume",
        )


def _prepare(folder: Path, spec: SweepSpec) -> bool:
    """OptionError unless `folder` is free or holds this very sweep; True if it existed."""
    if folder.exists() and not folder.is_dir():
        raise OptionError("out", f"{str(folder)!r} is a file, not a sweep folder")
    if is_sweep_folder(folder):
        try:
            theirs = load_spec(folder)
        except ZooError as err:
            raise OptionError(
                "out", f"{str(folder)!r} holds a sweep.toml that cannot be read: {err}"
            ) from None
        if not theirs.same_runs_as(spec):
            raise OptionError(
                "out",
                f"{str(folder)!r} holds another sweep ({spec.difference(theirs)}); a sweep folder "
                "resumes only its own spec: choose another folder",
            )
        return True
    if folder.is_dir() and any(folder.iterdir()):
        Lock(folder).check_free()  # a sweep still checking its data has no sweep.toml yet
        raise OptionError("out", f"{str(folder)!r} exists and is not a sweep folder")
    return folder.is_dir()


def _check_settings(executor, jobs, threads, address, storage) -> None:
    if executor not in EXECUTORS:
        raise OptionError("executor", f"{executor!r} is not one of {', '.join(EXECUTORS)}")
    if executor == "local":
        for name, value in (("address", address), ("storage", storage)):
            if value is not None:
                raise OptionError(name, "applies to `executor='ray'`")
    elif jobs is not None:
        raise OptionError("jobs", "Ray gives each run a core of the cluster; set no `jobs=`")
    for name, value in (("jobs", jobs), ("threads", threads)):
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 1
        ):
            raise OptionError(name, f"must be a whole number, at least 1, got {value!r}")
    if threads is not None and threads > MAX_THREADS:  # TensorFlow's pools would take minutes
        raise OptionError("threads", f"at most {MAX_THREADS:,}, got {threads:,}")
    if executor == "ray" and threads not in (None, CPUS_PER_RUN):
        raise OptionError("threads", f"a Ray task trains on {CPUS_PER_RUN} core; set no `threads=`")


def run_sweep(
    spec: SweepSpec,
    *,
    out: str | Path | None = None,
    jobs: int | None = None,
    threads: int | None = None,
    executor: str = "local",
    address: str | None = None,
    storage: str | Path | None = None,
    tensorboard: bool = True,
    lang: str = "en",
    run_reports: bool = False,
    stack: bool = True,
    quiet: bool = False,
    yes: bool = False,
    write_outputs: OutputWriter | None = None,
    viewers: Callable | None = None,
) -> SweepResult:
    """Run (or resume) `spec` into the folder `out`; see `zoo.sweeps.sweep` for the arguments.

    `write_outputs(summary, lang)`: writes the sweep's tables, figures and report at the end
    and returns their paths (None: only the run folders and sweep.toml are written).
    `viewers`: a function of no arguments returning the `zoo.training.Viewers` of each run,
    called in the worker that trains it; it travels there by its name, so it must be a
    module's own function (None: no run shows itself, so `run_reports` draws nothing).
    """
    from zoo.i18n import table
    from zoo.sweeps.progress import SweepProgress

    table(lang)
    _check_settings(executor, jobs, threads, address, storage)
    if spec.size() > MAX_RUNS and not yes:  # from the axes, before any run is listed
        raise OptionError(
            "yes",
            f"the sweep has {spec.size():,} runs ({spec.axes_text()}), more than "
            f"{MAX_RUNS:,}; pass `yes=True` to train them all",
        )
    planned = spec.runs()
    checks = check_configurations(spec)
    folder = Path(out) if out is not None else default_folder(spec)
    existed = _prepare(folder, spec)
    pool = None
    if executor == "ray":  # an unreachable cluster is bad input: said before any folder is made
        from zoo.sweeps.ray_pool import RayPool

        shared = None
        if storage is not None:
            shared = Path(storage) / f"{folder.name}-{spec.digest()}"
            try:
                shared.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise OptionError(
                    "storage", f"cannot make {str(shared)!r}: {err.strerror}"
                ) from None
        pool = RayPool(address, folder / RUNS, shared)
    lock = Lock(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / RUNS).mkdir(exist_ok=True)
    except OSError as err:
        if pool is not None:
            pool.close()
        raise OptionError("out", f"cannot make {str(folder)!r}: {err.strerror or err}") from None
    try:
        lock.acquire()
    except BaseException:
        if pool is not None:
            pool.close()
        raise
    progress = None
    try:
        statuses = {run.name: _status(folder / RUNS / run.name) for run in planned}
        todo = [run for run in planned if statuses[run.name] not in FINAL]
        _no_live_writer(folder, todo, statuses)
        finished = [run for run in planned if statuses[run.name] in FINAL]
        check_finished_runs(folder / RUNS, finished, spec.model, spec.dataset)
        skipped = len(planned) - len(todo)
        progress = SweepProgress(len(planned), skipped, quiet=quiet)
        known: dict[str, tuple[str, str]] = {}
        trained = 0
        interrupted = None
        if todo:
            train_jobs = _stack_jobs(
                spec, todo, folder, stack, tensorboard, run_reports, lang, viewers
            )
            if pool is None:
                from zoo.sweeps.local import LocalPool, threads_per_worker, worker_count

                workers = worker_count(jobs, len(train_jobs), progress.message)
                per_worker = threads or threads_per_worker(workers)
                pool = LocalPool(workers, per_worker, folder / WORKER_LOG)
                where = f"{workers} worker process{'es' if workers > 1 else ''}"
            else:
                where = "the Ray cluster"
            confs = {run.configuration.number for run in todo}
            checks = {k: job for k, job in checks.items() if job["conf"].number in confs}
            _check(pool, checks)
            if not existed or not (folder / SPEC_FILE).exists():
                write_text(folder / SPEC_FILE, spec.to_toml())
            for run in todo:  # an unfinished folder gives way to the new run
                if (folder / RUNS / run.name).exists():
                    shutil.rmtree(folder / RUNS / run.name)
            before = f", {skipped} finished before" if skipped else ""
            together = sum(len(job["names"]) for job in train_jobs if len(job["names"]) > 1)
            stacked = f" ({together} in stacks trained together)" if together else ""
            progress.message(
                f"sweep: {len(planned)} runs ({len(spec.configurations())} configurations × "
                f"{len(spec.seeds)} seeds){before}; training {len(todo)}{stacked} on {where}"
            )

            def on_answer(job: dict, answer: dict) -> None:
                nonlocal trained
                # a stack job answers for each run; a worker that died, for all of them
                runs = answer.get("answers") or [{**answer, "name": n} for n in job["names"]]
                for run in runs:
                    trained += 1
                    name, status = run["name"], run.get("status", "failed")
                    if not (folder / RUNS / name).is_dir():
                        known[name] = (status, run.get("reason"))
                    note = name if status in FINISHED else f"{name}: {status}"
                    progress.ended(failed=status not in (*FINISHED, "interrupted"), note=note)

            try:
                pool.map(train_jobs, on_answer, progress.redraw)
                if getattr(pool, "lost", None):
                    progress.message(f"sweep: {pool.lost}; the runs still out are failed")
            except KeyboardInterrupt as err:
                interrupted = interrupts.signal_of(err)
                interrupts.acknowledge()
                progress.message(f"sweep: stopping ({interrupts.Interrupted(interrupted).name}) …")
                pool.interrupt(interrupted)
                try:
                    pool.finish(on_answer, progress.redraw)
                except KeyboardInterrupt:  # asked twice: no more waiting
                    interrupts.acknowledge()
                    pool.close(kill=True)
                    pool = None
        else:
            if not (folder / SPEC_FILE).exists():
                write_text(folder / SPEC_FILE, spec.to_toml())
            progress.message(f"sweep: all {len(planned)} runs finished before; nothing to train")
        if pool is not None:
            pool.close()
            pool = None
        progress.close()
        summary = summarize(folder, spec, known)
        written = write_outputs(summary, lang) if write_outputs is not None else []
    except BaseException:
        if pool is not None:
            pool.close(kill=True)
        if progress is not None:
            progress.close()
        if not existed and not (folder / SPEC_FILE).exists():
            # nothing was trained: the folder goes, so that a corrected spec may use its name
            lock.release()
            shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        lock.release()
    result = SweepResult(folder, spec, summary, trained, skipped, written, interrupted is not None)
    if interrupted is not None:
        raise interrupts.Interrupted(interrupted)
    return result


def _stack_jobs(spec, todo, folder, stack, tensorboard, run_reports, lang, viewers) -> list[dict]:
    """One job per stack of runs that train together (each run alone when `stack` is off)."""
    from zoo.sweeps.stack_plan import plan_stacks, stack_key

    members = [
        _job(
            "train",
            spec,
            {"report": run_reports, "lang": lang, **run.configuration.options},
            run.seed,
            name=run.name,
            out=str(folder / RUNS),
            tensorboard=tensorboard,
            viewers=viewers,
        )
        for run in todo
    ]
    keys = [stack_key(spec.model, spec.dataset, m["options"]) if stack else None for m in members]
    return [
        {
            "kind": "stack",
            "names": [members[i]["name"] for i in group],
            "members": [members[i] for i in group],
        }
        for group in plan_stacks(keys)
    ]


def _check(pool, checks: dict[str, dict]) -> None:
    """Every group's data and model, built in the workers; the first error is raised."""
    errors: list[ZooError] = []

    def on_answer(job: dict, answer: dict) -> None:
        if answer.get("error") and not errors:
            errors.append(_error_from(answer, job["conf"]))

    pool.map(list(checks.values()), on_answer)
    if errors:
        raise errors[0]
