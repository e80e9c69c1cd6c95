"""zoo export on a full disk: every format (and the labels file) fails with the write contract's
message and exit 74, leaving nothing under the final names."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from click.testing import CliRunner
from run_fixtures import make_run_folder

from zoo.cli import cli
from zoo.errors import EXIT_WRITE


def _can_mount() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("mount") is not None


@pytest.fixture
def full_disk(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)]).returncode:
        pytest.skip("this machine does not let tests mount a tmpfs")
    try:
        free = shutil.disk_usage(disk).free
        (disk / "filler").write_bytes(b"\0" * (free - 8192))
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=False)


@pytest.mark.skipif(not _can_mount(), reason="mounting a small tmpfs needs root")
@pytest.mark.parametrize("fmt", ["onnx", "litert", "savedmodel"])
def test_export_on_a_full_disk_exits_74_and_leaves_nothing(tmp_path, full_disk, fmt):
    pytest.importorskip({"onnx": "tf2onnx", "litert": "ai_edge_litert"}.get(fmt, "tensorflow"))
    run = make_run_folder(tmp_path / "runs", "image", with_model=True)
    out = full_disk / {"onnx": "model.onnx", "litert": "model.tflite"}.get(fmt, "model")
    result = CliRunner().invoke(cli, ["export", str(run), "--format", fmt, "--out", str(out)])
    assert result.exit_code == EXIT_WRITE, result.output
    assert "cannot write" in result.output and "No space left on device" in result.output
    assert "Traceback" not in result.output
    assert sorted(p.name for p in full_disk.iterdir()) == ["filler"]


def test_a_run_still_training_is_not_exported(tmp_path):
    import json
    import socket

    run = make_run_folder(tmp_path / "runs", "image", with_model=True)
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    config.update(status="running", pid=os.getpid(), host=socket.gethostname())
    (run / "config.json").write_text(json.dumps(config), encoding="utf-8")
    result = CliRunner().invoke(cli, ["export", str(run)])
    assert result.exit_code == 2, result.output
    assert f"is still training (process {os.getpid()} on" in result.output
    assert not list(run.glob("model.onnx*")) and not list(run.glob("*.labels.txt"))
