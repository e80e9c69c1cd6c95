"""Ray: each job is a task on an existing cluster (`zoo[ray]`); run folders come back here.

A task trains on its node's local disk and returns the run folder's files, which are written
into the sweep folder on this machine; with `storage` (a folder every node and this machine
see) the task writes there and only the folder is moved. Ray reuses its worker processes, so
each imports TensorFlow and loads a data set once, as a local worker does.

A signal that stops the sweep is not passed on with `ray.cancel`: Ray drops a cancelled task's
return, and with it the run folder. The sweep sets a stop flag (a small actor) instead; each
task watches it and, once it is set, interrupts its own training as the signal would have, so
the run ends `interrupted` with its history and comes back like a finished one.
"""

from __future__ import annotations

import _thread
import os
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from zoo import interrupts
from zoo.distribution import install_hint
from zoo.errors import OptionError
from zoo.sweeps.worker import CPUS_PER_RUN

CONNECT_SECONDS = 5.0
WATCH_SECONDS = 0.5  # how often a task looks at the stop flag
# The head's control service (GCS) is looked at every PROBE_SECONDS while runs are out; gone
# for LOST_SECONDS, the cluster is given up: Ray itself ends a driver whose GCS is gone for
# a minute, abruptly, before the summary could be written.
PROBE_SECONDS = 2.0
LOST_SECONDS = 15.0
NOT_STARTED = "not_started"  # the answer of a task that found the sweep stopped before it began


class StopFlag:
    """The Ray actor a stopped sweep sets: the signal's number, 0 while the sweep goes on."""

    def __init__(self) -> None:
        self.signum = 0

    def set(self, signum: int) -> None:
        self.signum = int(signum)

    def get(self) -> int:
        return self.signum


def ray_job(job: dict) -> dict:
    """The task: check one configuration, or train a stack job in a Ray worker process."""
    from zoo.sweeps import worker

    flag = job.get("stop")
    job = {**{k: v for k, v in job.items() if k != "stop"}, "threads": CPUS_PER_RUN}
    if job["kind"] == "check":
        return worker.do(job)
    with StopWatch(flag) as watch:
        if watch.stopped_before_start():
            return {NOT_STARTED: True}
        if job.get("storage"):  # written where the sweep reads
            return watch.run(worker.do, job)
        scratch = tempfile.mkdtemp(prefix="zoo-run-")
        try:
            members = [{**member, "out": scratch} for member in job["members"]]
            answer = watch.run(worker.do, {**job, "members": members})
            for run in answer["answers"]:
                folder = Path(scratch) / run["name"]
                if folder.is_dir():
                    run["files"] = {
                        str(path.relative_to(folder)): path.read_bytes()
                        for path in sorted(folder.rglob("*"))
                        if path.is_file()
                    }
            return answer
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


class StopWatch:
    """Within the block, a thread watches the sweep's stop flag; once it is set, the task's
    training is interrupted as by the signal that stopped the sweep (a KeyboardInterrupt in
    the main thread, raised through Python's own SIGINT handling), so the trainer marks its
    run interrupted and the task returns normally. After `run` no interrupt is raised: one
    that comes too late is taken quietly before Ray's own handler is back."""

    def __init__(self, flag) -> None:
        self.flag = flag
        self.lock = threading.Lock()
        self.training = False
        self.signum = 0
        self.done = threading.Event()
        self.previous = None
        self.thread: threading.Thread | None = None

    def __enter__(self) -> StopWatch:
        if self.flag is None or threading.current_thread() is not threading.main_thread():
            self.flag = None  # nothing to watch, or no way to interrupt: as before
            return self
        self.previous = signal.signal(signal.SIGINT, self._on_interrupt)
        return self

    def stopped_before_start(self) -> bool:
        return self.flag is not None and bool(self._read())

    def run(self, do: Callable[[dict], dict], job: dict) -> dict:
        """`do(job)` with the flag watched; an interrupt that slipped past `do`'s own handling
        (between two runs of a stack) makes every run of the job interrupted."""
        if self.flag is not None:
            self.training = True
            self.thread = threading.Thread(target=self._watch, daemon=True)
            self.thread.start()
        try:
            try:
                return do(job)
            finally:
                with self.lock:
                    self.training = False
        except KeyboardInterrupt as err:
            interrupts.acknowledge()
            reason = f"interrupted by {interrupts.Interrupted(interrupts.signal_of(err)).name}"
            runs = job.get("members") or [job]
            return {
                "answers": [
                    {"name": m["name"], "status": "interrupted", "reason": reason, "seconds": 0.0}
                    for m in runs
                ]
            }

    def _read(self) -> int:
        ray = import_ray()
        return ray.get(self.flag.get.remote(), timeout=30)

    def _watch(self) -> None:
        while not self.done.wait(WATCH_SECONDS):
            try:
                signum = self._read()
            except Exception:  # noqa: BLE001 (the flag's actor is gone with its sweep: Ray ends this task)
                continue
            if not signum:
                continue
            with self.lock:
                if self.training:
                    self.signum = signum
                    _thread.interrupt_main(signal.SIGINT)
            return

    def _on_interrupt(self, signum, frame) -> None:
        if self.training:  # set and read in the main thread, where this handler runs
            interrupts.deliver(self.signum or signum)

    def __exit__(self, *exc) -> None:
        with self.lock:
            self.training = False
        self.done.set()
        if self.previous is not None:
            # signal.signal runs a pending handler first: a late interrupt is taken here
            signal.signal(signal.SIGINT, self.previous)


def check_address(address: str) -> None:
    """OptionError naming `address` unless something listens there (before Ray's own retries,
    which take a minute to give up)."""
    if address in ("auto", "local"):
        return
    parts = urlsplit(address if "://" in address else f"ray://{address}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if not host or not port:
        raise OptionError("address", f"{address!r} is not host:port (the head node's address)")
    try:
        speaks = _speaks_http2(host, port)
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise OptionError(
            "address", f"no Ray cluster answers at {address} ({reason}); is `ray start` running?"
        ) from None
    if not speaks:  # Ray would wait minutes for it, printing its own lines
        raise OptionError(
            "address",
            f"what listens at {address} is not a Ray cluster (it gave no gRPC answer within "
            f"{CONNECT_SECONDS:g} s); give the head node's address, as `ray start --head` "
            "prints it",
        )


# HTTP/2's client preface and an empty SETTINGS frame: a gRPC server (Ray's GCS) answers with a
# SETTINGS frame of its own; anything else answers otherwise, or not at all.
_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"


def _speaks_http2(host: str, port: int) -> bool:
    """Whether the server at host:port answers HTTP/2 (gRPC) within CONNECT_SECONDS."""
    with socket.create_connection((host, port), timeout=CONNECT_SECONDS) as conn:
        conn.sendall(_PREFACE)
        header = b""
        deadline = time.monotonic() + CONNECT_SECONDS
        try:
            while len(header) < 9 and time.monotonic() < deadline:
                chunk = conn.recv(9 - len(header))
                if not chunk:
                    break
                header += chunk
        except (TimeoutError, ConnectionResetError):
            return False
    return len(header) == 9 and header[3] == 0x04  # a frame of type SETTINGS


def _gcs_address(ray) -> tuple[str, int] | None:
    """(host, port) of the cluster's GCS this driver is connected to; None if not known."""
    try:
        host, _, port = ray.get_runtime_context().gcs_address.rpartition(":")
        return (host.strip("[]"), int(port)) if host else None
    except Exception:  # noqa: BLE001 (a Ray client connection, another Ray version)
        return None


def _shutdown_quietly(ray, seconds: float = 10.0) -> None:
    """`ray.shutdown()` without waiting more than `seconds` for a cluster that is gone."""
    thread = threading.Thread(target=ray.shutdown, daemon=True)
    thread.start()
    thread.join(seconds)


def import_ray():
    try:
        import ray
    except ImportError:
        raise OptionError("executor", f"ray is not installed here: {install_hint('ray')}") from None
    return ray


class RayPool:
    """The executor interface of `LocalPool` over Ray tasks."""

    def __init__(self, address: str | None, runs: Path, storage: Path | None = None):
        ray = import_ray()
        if address:
            check_address(address)
        self.runs, self.storage, self.ray = runs, storage, ray
        try:
            with interrupts.kept():  # a SIGTERM stops the sweep as the local executor's does
                ray.init(address=address, logging_level="ERROR", log_to_driver=False)
        except ray.exceptions.AuthenticationError:
            where = address or os.environ.get("RAY_ADDRESS") or "a local Ray instance"
            raise OptionError(
                "address",
                f"the Ray cluster at {where} refused this machine's token: give the token the "
                "cluster was started with in RAY_AUTH_TOKEN (or a file holding it in "
                "RAY_AUTH_TOKEN_PATH), as for `ray start`",
            ) from None
        except (ConnectionError, RuntimeError, ValueError) as err:
            where = address or os.environ.get("RAY_ADDRESS") or "a local Ray instance"
            first = str(err).splitlines()[0] if str(err) else type(err).__name__
            hint = ""
            if address and not (
                os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH")
            ):  # a cluster with token authentication refuses a driver without its token so
                hint = (
                    "; if the cluster was started with token authentication, give its token "
                    "in RAY_AUTH_TOKEN (or a file holding it in RAY_AUTH_TOKEN_PATH)"
                )
            raise OptionError(
                "address", f"cannot connect to Ray at {where}: {first}{hint}"
            ) from None
        self.task = ray.remote(num_cpus=CPUS_PER_RUN, max_retries=0)(ray_job)
        self.pending: dict = {}
        self.flag = None  # the stop flag, made with the first training job
        self.address = address or os.environ.get("RAY_ADDRESS") or "a local Ray instance"
        self.head = _gcs_address(ray)
        self.unreachable_since: float | None = None
        self.probed = 0.0
        self.lost: str | None = None  # why the cluster was given up, once it was

    def map(
        self,
        jobs: list[dict],
        on_answer: Callable[[dict, dict], None],
        tick: Callable[[], None] = lambda: None,
    ) -> None:
        if self.lost:  # Ray was let go: a task sent now would start a new local Ray
            for job in jobs:
                on_answer(job, self._lost_answer(job))
            return
        for job in jobs:
            sent = dict(job)
            if job["kind"] != "check":
                if self.flag is None:
                    self.flag = self.ray.remote(num_cpus=0)(StopFlag).remote()
                sent["stop"] = self.flag
            if job["kind"] == "stack" and self.storage is not None:
                sent["storage"] = True
                sent["members"] = [{**m, "out": str(self.storage)} for m in job["members"]]
                for member in job["members"]:  # what an earlier attempt left there
                    shutil.rmtree(self.storage / member["name"], ignore_errors=True)
            self.pending[self.task.remote(sent)] = job
        self._drain(on_answer, tick)

    def _drain(self, on_answer, tick, deadline: float | None = None) -> None:
        ray = self.ray
        while self.pending:
            if deadline is not None and time.monotonic() > deadline:
                return
            done, _ = ray.wait(list(self.pending), num_returns=1, timeout=1.0)
            for ref in done:
                job = self.pending.pop(ref)
                answer = self._answer(ref, job)
                if not answer.get(NOT_STARTED):  # as a local worker's queue after a signal
                    on_answer(job, answer)
            if self.pending and self._head_lost():
                self._give_up(on_answer)
            tick()

    def _head_lost(self) -> bool:
        """Whether the head's GCS has not taken a connection for LOST_SECONDS (looked at every
        PROBE_SECONDS; a cluster whose address is not known here is never given up)."""
        now = time.monotonic()
        if self.head is None or now - self.probed < PROBE_SECONDS:
            return False
        self.probed = now
        if self._head_answers():
            self.unreachable_since = None
            return False
        if self.unreachable_since is None:
            self.unreachable_since = now
        return now - self.unreachable_since >= LOST_SECONDS

    def _lost_answer(self, job: dict) -> dict:
        """What a job still out says once the cluster is given up: a check stops the sweep
        before anything trains (as an unreachable address does), a run is failed."""
        if job["kind"] == "check":
            return {"error": {"type": "ZooError", "text": self.lost, "exit_code": 2}}
        return {"status": "failed", "reason": f"{self.lost}; `zoo sweep FOLDER` trains it again"}

    def _head_answers(self) -> bool:
        if self.head is None:
            return True
        try:
            socket.create_connection(self.head, timeout=PROBE_SECONDS).close()
        except OSError:
            return False
        return True

    def _give_up(self, on_answer) -> None:
        """Every run still out is answered failed, saying why; Ray is let go, so that its own
        end of a driver without a head does not cut the sweep short."""
        host, port = self.head
        self.lost = (
            f"the Ray cluster at {self.address} stopped answering (its head, {host}:{port}, "
            f"was gone for {LOST_SECONDS:g} s)"
        )
        for job in list(self.pending.values()):
            on_answer(job, self._lost_answer(job))
        self.pending.clear()
        self.flag = None
        _shutdown_quietly(self.ray)

    def _answer(self, ref, job: dict) -> dict:
        ray = self.ray
        try:
            answer = ray.get(ref)
        except ray.exceptions.TaskCancelledError:
            return {"status": "interrupted", "reason": "cancelled"}
        except ray.exceptions.RayError as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            first = first.split(". ")[0].rstrip(".")  # Ray's advice on its logs is not for us
            reason = f"the Ray task failed: {type(err).__name__}: {first}"
            if job["kind"] == "check":  # unchecked is not checked: the sweep stops here
                return {"error": {"type": "ZooError", "text": reason, "exit_code": 2}}
            return {"status": "failed", "reason": reason}
        for run in answer.get("answers", []):
            self._bring_back(run["name"], run)
        return answer

    def _bring_back(self, name: str, answer: dict) -> None:
        """The run folder into runs/NAME on this machine, whole or not at all."""
        files = answer.pop("files", None)
        source = self.storage / name if self.storage else None
        if files is None and (source is None or not source.is_dir()):
            return
        part = self.runs / f".{name}.part"
        target = self.runs / name
        shutil.rmtree(part, ignore_errors=True)
        if files is not None:
            for relative, data in files.items():
                path = part / relative
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
        else:
            shutil.copytree(source, part)
        if target.exists():
            shutil.rmtree(target)
        os.replace(part, target)
        if source is not None:
            shutil.rmtree(source, ignore_errors=True)

    def interrupt(self, signum: int = signal.SIGINT) -> None:
        """Stop every task not yet answered: training ones mark their runs interrupted and
        return them, the others return without starting."""
        if self.flag is not None and self._head_answers():  # else waiting on Ray is in vain
            try:
                self.ray.get(self.flag.set.remote(signum or signal.SIGINT), timeout=10)
                return
            except Exception:  # noqa: BLE001 (the actor is gone: cancelling is what is left)
                pass
        for ref in list(self.pending):
            try:
                self.ray.cancel(ref)
            except Exception:  # noqa: BLE001 (already finished, or the cluster is gone)
                pass

    def finish(self, on_answer, tick=lambda: None) -> None:
        self._drain(on_answer, tick, deadline=time.monotonic() + 60)

    def close(self, kill: bool = False) -> None:
        if kill:
            for ref in list(self.pending):
                try:
                    self.ray.cancel(ref, force=True)
                except Exception:  # noqa: BLE001
                    pass
        self.pending.clear()
        if self.lost is None:
            self.ray.shutdown()
        if self.storage is not None:  # every run folder came home: the sweep's folder there goes
            try:
                self.storage.rmdir()
            except OSError:  # not empty (a run still there) or already gone
                pass
