"""Training in a fresh Python, as a notebook's first cell does, shows no C++ log lines."""

from __future__ import annotations

import os
import re
import subprocess
import sys

CPP_LOG = re.compile(r"^([IWEF]\d{4} |WARNING: All log messages before absl)", re.MULTILINE)


def test_training_in_a_fresh_python_prints_no_tensorflow_log_lines(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env |= {"ZOO_CACHE": str(tmp_path / "cache"), "MPLBACKEND": "Agg", "HOME": str(tmp_path)}
    code = (
        "import zoo\n"
        f"zoo.train('mlp', 'digits', epochs=1, out={str(tmp_path / 'runs')!r}, report=False)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "epoch 1/1" in result.stderr + result.stdout  # the run did train
    assert not CPP_LOG.search(result.stderr), result.stderr[-2000:]
    assert not CPP_LOG.search(result.stdout)
