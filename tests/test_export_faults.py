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


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_an_export_never_replaces_what_another_wrote_while_it_worked(tmp_path, kind):
    from zoo.errors import OptionError
    from zoo.files import atomic_folder, atomic_path

    target = tmp_path / ("model.onnx" if kind == "file" else "saved_model")
    writing = atomic_path if kind == "file" else atomic_folder
    with pytest.raises(OptionError) as raised:
        with writing(target, "out") as part:
            if kind == "file":
                part.write_bytes(b"mine")
                target.write_bytes(b"theirs")  # another export finished first
            else:
                (part / "saved_model.pb").write_bytes(b"mine")
                target.mkdir()
                (target / "saved_model.pb").write_bytes(b"theirs")
    assert raised.value.option == "out" and "another process wrote it meanwhile" in str(
        raised.value
    )
    written = target if kind == "file" else target / "saved_model.pb"
    assert written.read_bytes() == b"theirs"
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]  # no part left
    # with nothing in the way (or an empty folder) it is written, and alone
    other = tmp_path / ("other.onnx" if kind == "file" else "other")
    if kind == "folder":
        other.mkdir()
    with writing(other, "out") as part:
        (part if kind == "file" else part / "saved_model.pb").write_bytes(b"mine")
    assert (other if kind == "file" else other / "saved_model.pb").read_bytes() == b"mine"
    umask = os.umask(0)
    os.umask(umask)
    assert other.stat().st_mode & 0o777 == (0o666 if kind == "file" else 0o777) & ~umask
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([target.name, other.name])
