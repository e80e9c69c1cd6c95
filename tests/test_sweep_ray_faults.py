"""A Ray sweep that loses part of its cluster: a worker process killed while it trains a run,
the head node killed while the sweep checks its data (killed while runs are out:
test_sweep_ray_head.py). Each on a real local cluster of its own (own HOME, own Ray temp
folder, a free port), stopped however the test ends."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest
from ray_fixtures import (
    SWEEP,
    finish,
    kill_and_finish,
    processes,
    ray_cluster_started,
    read_csv,
    start_sweep,
    training,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds Ray's processes in /proc"),
]


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
            head = processes(cluster.temp, "/gcs_server ")
            stdout, stderr, ended = kill_and_finish(head, sweep)
        finally:
            if sweep.poll() is None:
                sweep.kill()
    assert ended < 55, (ended, stderr)
    assert sweep.returncode == 2, stderr
    assert "the Ray" in stderr and "(configuration " in stderr, stderr
    assert "Traceback" not in stderr + stdout and "training 2" not in stderr, stderr
    assert not out.exists()  # nothing was trained: the folder goes
