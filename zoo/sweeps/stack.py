"""A stack job of a sweep: its runs trained together as one program
(`zoo.training.stack`), one answer per run, as `worker.train` gives them."""

from __future__ import annotations

import time
from pathlib import Path

from zoo.training.stack import CannotStack, Member

__all__ = ["CannotStack", "prepare", "train_together"]


def prepare(jobs: list[dict]) -> tuple[list[Member], list]:
    """Each job's member (its data, plan, Trainer and model) and the TensorBoard event logs
    to close afterwards; CannotStack unless the members can share one program."""
    from zoo.runfolder import TENSORBOARD, eval_split
    from zoo.sweeps.process import job_inputs, job_viewers, start
    from zoo.training.stack import member
    from zoo.training.trainer import Trainer

    members, logs = [], []
    for job in jobs:
        backend = start(job["options"].get("backend"), job.get("threads"))
        if backend != "tensorflow":
            raise CannotStack(f"the {backend} backend")
        events = None
        if job.get("tensorboard"):
            from zoo.sweeps.tensorboard import EventLog

            folder = Path(job["out"]) / job["name"] / TENSORBOARD
            events = EventLog(folder, eval_split(job["options"]))
            logs.append(events)
        data, plan = job_inputs(
            job, out=job["out"], run_name=job["name"], quiet=True, on_epoch=events
        )
        trainer = Trainer.from_plan(plan, data, backend, viewers=job_viewers(job))
        members.append(member(job["name"], trainer))
    return members, logs


def train_together(jobs: list[dict]) -> list[dict]:
    """Train the runs of `jobs` as one program; one answer per job, as `worker.train` gives.

    CannotStack (before any run folder is made) when they cannot share one.
    """
    from zoo.training.stack import train_together as train_members

    started = time.perf_counter()
    logs: list = []
    try:
        try:
            members, logs = prepare(jobs)
        except CannotStack:
            raise
        except Exception as err:  # anything before a folder is made: the runs go one by one
            raise CannotStack(f"{type(err).__name__}: {err}") from err
        outcomes = train_members(members)
    finally:
        for events in logs:
            events.close()
    seconds = (time.perf_counter() - started) / len(jobs)
    answers = []
    for job, outcome in zip(jobs, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            reason = f"{type(outcome).__name__}: {outcome}"
            answers.append({"name": job["name"], "status": "failed", "reason": reason})
        else:
            answers.append(
                {
                    "name": job["name"],
                    "status": outcome.status,
                    "reason": outcome.config.get("stop_reason"),
                }
            )
        answers[-1]["seconds"] = seconds
    return answers
