"""A signal the zoo was started ignoring stays ignored (`nohup zoo train ...`)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ZOO = "import sys; from zoo.cli import main; main(sys.argv[1:])"


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP here")
def test_nohup_keeps_a_run_going_through_sighup(tmp_path):
    # what nohup does before it execs the command: SIGHUP ignored
    process = subprocess.Popen(
        ["nohup", sys.executable, "-c", ZOO, "train", "mlp", "gaussians", "--epochs", "400",
         "-q", "--out", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
             "MPLBACKEND": "Agg"},
    )  # fmt: skip
    try:
        for _ in range(600):  # until the run is training
            configs = list(tmp_path.glob("*/config.json"))
            if configs and json.loads(configs[0].read_text() or "{}").get("status") == "running":
                break
            if process.poll() is not None:
                break
            time.sleep(0.1)
        process.send_signal(signal.SIGHUP)
        assert process.wait(timeout=300) == 0
        assert json.loads(configs[0].read_text())["status"] == "completed"
    finally:
        if process.poll() is None:
            process.kill()
