"""Local worker processes: each imports TensorFlow once, keeps its data sets loaded and trains
one job after another, with its threads limited so that the workers share the cores.

Workers are fresh Python processes (`python -c ...`), not forks or multiprocessing spawns: a
forked Keras is not safe, and a spawn re-runs the caller's script, which a student's script
without an `if __name__ == "__main__"` guard does not survive. Jobs and answers are pickled
over two pipes. Workers run in sessions of their own, so a Ctrl-C at the terminal reaches
the sweep alone, which passes it on to the busy workers once: each marks its run interrupted
and answers. A worker that dies (killed, out of memory) fails the job it held, and a new
one takes its place.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

# The signal a worker gets when its sweep is gone (taken as SIGTERM, once)
PARENT_GONE = getattr(signal, "SIGUSR1", None)
SERVE = "import sys; from zoo.sweeps.local import serve; serve(int(sys.argv[1]), int(sys.argv[2]))"


def cores() -> int:
    """The cores this process may use (its affinity, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def worker_count(jobs: int | None, runs: int, say: Callable[[str], None]) -> int:
    """The local workers of a sweep: `jobs` (default one per core), at most one per core and
    per job. More workers than cores would only take turns on them, each holding TensorFlow and
    the data in memory (a few hundred MB apiece): `say` tells the user so when it caps `jobs`."""
    have = cores()
    if jobs is not None and jobs > have:
        say(f"sweep: --jobs {jobs} capped at {have}, the cores this process may use")
        jobs = have
    return max(1, min(jobs or have, runs))


def threads_per_worker(jobs: int) -> int:
    return max(1, cores() // max(1, jobs))


def serve(jobs_fd: int, answers_fd: int) -> None:
    """A worker process: answer jobs until told to stop or the sweep is gone."""
    from zoo import interrupts
    from zoo.sweeps import worker

    _stop_with_parent(int(os.environ.get("ZOO_SWEEP_PID", "0")))
    _log_to_stderr()
    jobs = Connection(jobs_fd, writable=False)
    answers = Connection(answers_fd, readable=False)
    threads = int(os.environ.get("ZOO_WORKER_THREADS", "0")) or None
    with interrupts.handled():
        while True:
            try:
                job = jobs.recv()
            except (EOFError, OSError, KeyboardInterrupt):  # the sweep is gone
                return
            if job is None:
                return
            answer = worker.do({**job, "threads": threads})
            interrupts.acknowledge()
            try:
                answers.send(answer)
            except (OSError, KeyboardInterrupt):
                return


def _log_to_stderr() -> None:
    """The zoo's log records at WARNING and above as "zoo: ..." lines on this worker's
    stderr (workers.log), as the `zoo` program shows them."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("zoo: %(message)s"))
    handler.setLevel(logging.WARNING)
    logging.getLogger("zoo").addHandler(handler)


def _stop_with_parent(parent: int) -> None:
    """Stop as if sent SIGTERM when the sweep dies (Linux's parent-death signal): a sweep
    killed outright must not leave a worker writing into a run that a resume retrains. The
    worker marks its run interrupted, as on a SIGTERM from the sweep.

    The kernel sends the parent-death signal each time a thread of the sweep ends (the worker
    passes from one thread to the next), so it comes as often as the sweep had threads. It is
    SIGUSR1, taken once: a second SIGTERM would cut the marking of the run short."""
    if not sys.platform.startswith("linux"):
        return
    from zoo import interrupts

    def parent_gone(signum, frame):
        signal.signal(PARENT_GONE, signal.SIG_IGN)  # the sweep's other threads say it again
        # as a SIGTERM is taken: held back while an epoch is traced (raised inside
        # TensorFlow's tracer it left the model unusable, and the run's results unwritten)
        interrupts.deliver(signal.SIGTERM)

    signal.signal(PARENT_GONE, parent_gone)
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, PARENT_GONE)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if parent and os.getppid() != parent:  # it died before the line above: nothing to do
        raise SystemExit(0)


class Worker:
    """One worker process and its two pipes; `job` is the job it holds, if any."""

    def __init__(self, threads: int, log: Path | None):
        jobs_read, jobs_write = os.pipe()
        answers_read, answers_write = os.pipe()
        env = dict(os.environ)
        # the zoo this process runs, whatever the worker's own sys.path would find first
        source = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (source, env.get("PYTHONPATH")) if p)
        env["ZOO_WORKER_THREADS"] = str(threads)
        env["ZOO_SWEEP_PID"] = str(os.getpid())
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        output = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-c", SERVE, str(jobs_read), str(answers_write)],
                pass_fds=(jobs_read, answers_write),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                env=env,
                start_new_session=True,  # Ctrl-C reaches the sweep, which passes it on once
            )
        finally:
            os.close(jobs_read)
            os.close(answers_write)
            if log:
                output.close()
        self.jobs = Connection(jobs_write, readable=False)
        self.answers = Connection(answers_read, writable=False)
        self.job: Any = None

    def close(self) -> None:
        for conn in (self.jobs, self.answers):
            try:
                conn.close()
            except OSError:
                pass


class LocalPool:
    """`jobs` worker processes; `map(jobs, on_answer)` hands each job to the first free one."""

    def __init__(self, jobs: int, threads: int, log: Path | None = None):
        self.size, self.threads, self.log = jobs, threads, log
        self.workers: list[Worker] = []

    def _start(self) -> Worker:
        worker = Worker(self.threads, self.log)
        self.workers.append(worker)
        return worker

    def map(
        self,
        jobs: list[dict],
        on_answer: Callable[[dict, dict], None],
        tick: Callable[[], None] = lambda: None,
    ) -> None:
        """Run every job; `on_answer(job, answer)` as each ends; `tick()` about once a second."""
        waiting = deque(jobs)
        while len(self.workers) < min(self.size, len(waiting)):
            self._start()
        self._drain(waiting, on_answer, tick)

    def _drain(self, waiting: deque, on_answer, tick) -> None:
        while waiting or self.busy():
            for worker in list(self.workers):
                if worker.job is None and waiting:
                    worker.job = waiting.popleft()
                    try:
                        worker.jobs.send(worker.job)
                    except OSError:  # it died while idle: the answer below says so
                        pass
            busy = self.busy()
            ready = wait([w.answers for w in busy], timeout=1.0)
            for worker in busy:
                if worker.answers not in ready:
                    continue
                job = worker.job
                try:
                    answer = worker.answers.recv()
                except (EOFError, OSError):  # the pipe closed: the process is gone
                    answer = self._died(worker)
                worker.job = None
                on_answer(job, answer)
            tick()

    def _died(self, worker: Worker) -> dict:
        """The answer for the job a dead worker held; a fresh worker takes its place."""
        try:
            code = worker.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.process.kill()
            code = worker.process.wait()
        how = f"signal {-code}" if code < 0 else f"exit code {code}"
        self.workers.remove(worker)
        worker.close()
        self._start()
        return {"status": "failed", "reason": f"the worker process died ({how}) while training"}

    def busy(self) -> list[Worker]:
        return [w for w in self.workers if w.job is not None]

    def interrupt(self, signum: int = signal.SIGINT) -> None:
        """Pass a signal on to the busy workers: each marks its run interrupted and answers."""
        for worker in self.busy():
            try:
                os.kill(worker.process.pid, signum)
            except ProcessLookupError:
                pass

    def finish(self, on_answer, tick=lambda: None) -> None:
        """Wait for the busy workers' answers (after `interrupt`), giving them no new jobs."""
        self._drain(deque(), on_answer, tick)

    def close(self, kill: bool = False) -> None:
        """Stop every worker: asked to, or (kill, or still busy) at once."""
        for worker in self.workers:
            if kill or worker.job is not None:
                worker.process.kill()
                continue
            try:
                worker.jobs.send(None)
            except OSError:
                pass
        for worker in self.workers:
            try:
                worker.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()
            worker.close()
        self.workers.clear()
