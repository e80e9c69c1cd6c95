"""A real local Ray cluster for a test, and a `zoo sweep` on it. The cluster: a head and worker
nodes started with `ray start`, each with one CPU, in a HOME and a Ray temp folder of their own,
on a free port; every process it started is stopped when the block ends, passed or failed.

    with ray_cluster_started(workers=1) as cluster:
        zoo("sweep", ..., "--executor", "ray", "--address", cluster.address)
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STOP_SECONDS = 5  # a node's time to stop on SIGTERM before its process group is killed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, seconds: float = 60) -> None:
    """Until something listens on 127.0.0.1:`port` (at most `seconds`)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.25)


@dataclass
class Cluster:
    address: str
    temp: Path  # Ray's temp folder (its sessions, logs and sockets)
    scratch: Path  # the tasks' TMPDIR: their run folders, where a test can see them train
    env: dict  # the environment the nodes run in (and a driver should)
    nodes: list = field(default_factory=list)  # the `ray start --block` processes, head first


@contextlib.contextmanager
def ray_cluster_started(workers: int = 1) -> Iterator[Cluster]:
    """A head and `workers` worker nodes, one CPU each, all alive when the block starts."""
    import ray

    temp = Path(tempfile.mkdtemp(prefix="zr", dir="/tmp"))  # Ray's socket paths must stay short
    port = free_port()
    address = f"127.0.0.1:{port}"
    # a HOME of its own: Ray keeps state there (~/.ray, an auth token in newer versions) that
    # must neither come from nor reach the machine's user
    home = temp / "home"
    home.mkdir()
    old_home = os.environ.get("HOME")
    os.environ["HOME"] = str(home)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_USAGE_STATS_ENABLED": "0"}
    env["TMPDIR"] = str(temp / "s")
    Path(env["TMPDIR"]).mkdir()
    common = ["--block", "--num-cpus=1", "--object-store-memory=100000000"]
    common += ["--disable-usage-stats"]
    ray_cli = str(Path(sys.executable).with_name("ray"))
    cluster = Cluster(address, temp, Path(env["TMPDIR"]), env)

    def start(*args, log):
        cluster.nodes.append(
            subprocess.Popen(
                [ray_cli, "start", *args, *common],
                env=env,
                stdout=open(temp / log, "w"),  # noqa: SIM115
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: stopped below, whatever happens
            )
        )

    try:
        start("--head", f"--port={port}", f"--temp-dir={temp}", "--include-dashboard=false",
              log="head.log")  # fmt: skip
        wait_for_port(port)
        for number in range(workers):
            start(f"--address={address}", log=f"worker{number}.log")
        ray.init(address=address, logging_level="ERROR", log_to_driver=False)
        try:
            for _ in range(240):
                if sum(node["Alive"] for node in ray.nodes()) >= 1 + workers:
                    break
                time.sleep(0.25)
            assert sum(node["Alive"] for node in ray.nodes()) == 1 + workers
        finally:
            ray.shutdown()
        yield cluster
    finally:
        for node in reversed(cluster.nodes):  # the workers first, then the head
            if node.poll() is None:
                node.send_signal(signal.SIGTERM)
            try:  # a node whose head a test killed waits a minute for it: not that long
                node.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                pass
        for node in cluster.nodes:
            try:
                os.killpg(node.pid, signal.SIGKILL)  # anything of that group still running
            except ProcessLookupError:
                pass
            node.wait()
        shutil.rmtree(temp, ignore_errors=True)
        if old_home is None:
            os.environ.pop("HOME", None)
        else:
            os.environ["HOME"] = old_home


# -- a sweep on the cluster ------------------------------------------------------------------
SWEEP = ["mlp", "digits", "--no-stack", "--no-tensorboard", "--grid"]


def read_csv(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def start_sweep(cluster: Cluster, *args: str) -> subprocess.Popen:
    """`zoo sweep ARGS` on `cluster`, in a process of its own."""
    command = ["sweep", *map(str, args), "--executor", "ray", "--address", cluster.address]
    return subprocess.Popen(
        [sys.executable, "-c", "from zoo.cli import main; main()", *command],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cluster.env,
    )  # fmt: skip


def training(cluster, sweep: subprocess.Popen, count: int) -> dict[str, int]:
    """{run name: pid of the Ray worker process training it}, once `count` runs train."""
    pids: dict[str, int] = {}
    for _ in range(1200):
        for path in cluster.scratch.glob("zoo-run-*/*/config.json"):
            try:
                config = json.loads(path.read_text("utf-8") or "{}")
            except (OSError, ValueError):
                continue
            if config.get("status") == "running" and config.get("pid"):
                pids[path.parent.name] = config["pid"]
        if len(pids) >= count or sweep.poll() is not None:
            return pids
        time.sleep(0.2)
    return pids


def finish(sweep: subprocess.Popen, seconds: float) -> tuple[str, str]:
    try:
        return sweep.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        sweep.kill()
        stdout, stderr = sweep.communicate()
        pytest.fail(f"the sweep did not end within {seconds:g} s:\n{stderr}")


def kill_and_finish(
    pids: list[int], sweep: subprocess.Popen, seconds: float = 120
) -> tuple[str, str, float]:
    """SIGKILL `pids` (a node's processes), then `finish` the sweep: its stdout, its stderr and
    the seconds it took to end after the kill."""
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    killed_at = time.monotonic()
    stdout, stderr = finish(sweep, seconds)
    return stdout, stderr, time.monotonic() - killed_at


def processes(temp: Path, *patterns: str) -> list[int]:
    """The pids of the processes of the cluster in `temp` whose command line holds each of
    `patterns`."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(temp) in command and all(pattern in command for pattern in patterns):
            found.append(int(proc.name))
    return found
