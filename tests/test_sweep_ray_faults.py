"""A Ray sweep that loses part of its cluster: a worker process killed while it trains a run,
the head node killed while runs are out. Each on a real local cluster of its own (own HOME,
own Ray temp folder, a free port), stopped however the test ends."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ray_fixtures import ray_cluster_started

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds Ray's processes in /proc"),
]


SWEEP = ["mlp", "digits", "--no-stack", "--no-tensorboard", "--grid"]


def read_csv(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def start_sweep(cluster, *args: str) -> subprocess.Popen:
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


def test_a_ray_worker_killed_while_it_trains_fails_its_run_and_a_resume_trains_it(tmp_path):
    out = tmp_path / "lost-worker"
    with ray_cluster_started(workers=1) as cluster:
        sweep = start_sweep(cluster, *SWEEP, "hidden=5,10", "--epochs", "3000", "--out", out)
        try:
            pids = training(cluster, sweep, 2)
            assert "hidden=5,seed=0" in pids, sweep.communicate(timeout=60)
            os.kill(pids["hidden=5,seed=0"], signal.SIGKILL)
            stdout, stderr = finish(sweep, 300)
        finally:
            if sweep.poll() is None:
                sweep.kill()
        assert sweep.returncode == 1, stderr  # a sweep some of whose runs did not finish
        assert "1 of 2 runs did not finish (failed)" in stderr, stderr
        assert "Traceback" not in stderr + stdout
        summary = (out / "summary.md").read_text(encoding="utf-8")
        assert "hidden=5,seed=0: failed: the Ray task failed: WorkerCrashedError" in summary
        assert [p.name for p in (out / "runs").iterdir()] == ["hidden=10,seed=0"]
        finished = json.loads((out / "runs" / "hidden=10,seed=0" / "config.json").read_text())
        assert finished["status"] == "completed"
        assert [row["finished"] for row in read_csv(out / "summary.csv")] == ["0", "1"]

        resume = start_sweep(cluster, out)  # the folder: its own sweep.toml
        stdout, stderr = finish(resume, 300)
        assert resume.returncode == 0, stderr
        assert "1 finished before; training 1" in stderr, stderr
    config = json.loads((out / "runs" / "hidden=5,seed=0" / "config.json").read_text())
    assert config["status"] == "completed"
    assert [row["finished"] for row in read_csv(out / "summary.csv")] == ["1", "1"]


def _processes(temp: Path, *patterns: str) -> list[int]:
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


@pytest.mark.parametrize("killed", ["gcs_server", "raylet"])
def test_a_ray_sweep_whose_head_dies_ends_with_its_summary_in_bounded_time(tmp_path, killed):
    out = tmp_path / "lost-head"
    with ray_cluster_started(workers=1) as cluster:
        # two short runs finish first; the two long ones are training when the head dies
        grid = ["hidden=5,10", "--grid", "epochs=20,1000000", "--out", out]
        sweep = start_sweep(cluster, *SWEEP, *grid)
        try:
            for _ in range(1200):
                if len(list(out.glob("runs/*/config.json"))) >= 2 or sweep.poll() is not None:
                    break
                time.sleep(0.2)
            pids = training(cluster, sweep, 2)
            assert len(pids) == 2, sweep.communicate(timeout=60)
            time.sleep(1)
            head = _processes(cluster.temp, f"/{killed} ", *([" --head "] * (killed == "raylet")))
            assert head, f"no {killed} of the head found"
            for pid in head:
                os.kill(pid, signal.SIGKILL)
            killed_at = time.monotonic()
            stdout, stderr = finish(sweep, 120)
            ended = time.monotonic() - killed_at
        finally:
            if sweep.poll() is None:
                sweep.kill()
    # Ray's own end of a driver without its head comes after 60 s, with no summary
    assert ended < 55, (ended, stderr)
    assert sweep.returncode == 1, stderr
    assert "stopped answering" in stderr and "Traceback" not in stderr + stdout, stderr
    assert "2 of 4 runs did not finish (failed)" in stderr, stderr
    assert sorted(p.name for p in (out / "runs").iterdir()) == [
        "hidden=10,epochs=20,seed=0",
        "hidden=5,epochs=20,seed=0",
    ]
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert summary.count("epochs=1000000,") == 2 and "failed: the Ray" in summary, summary
    rows = read_csv(out / "summary.csv")
    assert [row["finished"] for row in rows] == ["1", "0", "1", "0"], rows


def test_a_ray_head_lost_while_the_sweep_checks_its_data_stops_it_before_training(tmp_path):
    out = tmp_path / "lost-in-check"
    with ray_cluster_started(workers=1) as cluster:
        sweep = start_sweep(cluster, *SWEEP, "hidden=5,10", "--epochs", "100000", "--out", out)
        try:
            for _ in range(1200):  # the folder is locked just before the checks are sent
                if (out / ".sweep.lock").exists() or sweep.poll() is not None:
                    break
                time.sleep(0.05)
            time.sleep(0.5)  # a worker still imports TensorFlow for the first check
            for pid in _processes(cluster.temp, "/gcs_server "):
                os.kill(pid, signal.SIGKILL)
            killed_at = time.monotonic()
            stdout, stderr = finish(sweep, 120)
            ended = time.monotonic() - killed_at
        finally:
            if sweep.poll() is None:
                sweep.kill()
    assert ended < 55, (ended, stderr)
    assert sweep.returncode == 2, stderr
    assert "the Ray" in stderr and "(configuration " in stderr, stderr
    assert "Traceback" not in stderr + stdout and "training 2" not in stderr, stderr
    assert not out.exists()  # nothing was trained: the folder goes
