"""A Ray sweep whose head node dies (its GCS server or its raylet) while runs are out: the sweep
ends in bounded time with its summary. Each on a real local cluster of its own; a module apart
from test_sweep_ray_faults.py so that xdist runs the two side by side."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from ray_fixtures import (
    SWEEP,
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
            head = processes(cluster.temp, f"/{killed} ", *([" --head "] * (killed == "raylet")))
            assert head, f"no {killed} of the head found"
            stdout, stderr, ended = kill_and_finish(head, sweep)
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
