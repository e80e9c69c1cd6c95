"""Faults and bad input: signals, full disks, crashes, quiet runs, files that must not be lost.

Each check drives the real command (in this process with click's runner, or as a separate
process where a signal or a resource limit must hit a real one) and then reads what is left.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from run_fixtures import make_run_folder

from zoo import interrupts
from zoo.cli import cli
from zoo.errors import EXIT_CRASH, EXIT_WRITE

ZOO = "import sys; from zoo.cli import main; main(sys.argv[1:])"


def invoke(*args, env=None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


def popen(*args, env=None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", ZOO, *[str(a) for a in args]],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def only_folder(parent: Path) -> Path:
    (folder,) = [p for p in parent.iterdir() if p.is_dir()]
    return folder


def config_of(folder: Path) -> dict:
    return json.loads((folder / "config.json").read_text(encoding="utf-8"))


def wait_for(predicate, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


# -- signals ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_keep_what_was_trained_like_ctrl_c(signum, code, tmp_path):
    proc = popen("train", "mlp", "gaussians", "--epochs", "1000000", "--out", tmp_path)
    for line in proc.stderr:  # one line per epoch in a pipe
        if line.startswith("epoch 3/"):
            break
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    folder = only_folder(tmp_path)
    config = config_of(folder)
    assert config["status"] == "interrupted"
    assert config["stop_signal"] == signal.Signals(signum).name
    history = (folder / "history.csv").read_text().splitlines()
    assert len(history) > 3 and (folder / "model.keras").is_file()
    assert f"interrupted by {signal.Signals(signum).name}" in err


def test_a_run_killed_outright_reads_as_killed_once_its_process_is_gone(tmp_path):
    proc = popen("train", "mlp", "gaussians", "--epochs", "1000000", "-q", "--out", tmp_path)
    wait_for(lambda: any(tmp_path.glob("*/config.json")))
    proc.kill()
    proc.communicate(timeout=60)
    folder = only_folder(tmp_path)
    assert config_of(folder)["status"] == "running"  # nothing could record the end
    result = invoke("report", folder)
    assert result.exit_code == 0, result.output
    assert "killed" in result.stderr and "history.csv" in result.stderr
    result = invoke("compare", folder, "--out", tmp_path / "table.md")
    assert "[killed]" in result.output


def test_ctrl_c_during_tensorflows_import_exits_130_without_a_traceback(tmp_path):
    proc = popen("train", "mlp", "gaussians", "--epochs", "5", "--out", tmp_path)
    _wait_for_handlers(proc.pid)  # the zoo's handlers are in, TensorFlow is loading (~4 s)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err


def _wait_for_handlers(pid: int, timeout: float = 60) -> None:
    """Until process `pid` catches SIGTERM (the zoo's handlers are installed), however slowly
    a loaded machine starts it; /proc's SigCgt mask says which signals it catches."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = Path(f"/proc/{pid}/status").read_text()
        caught = int(
            next(ln for ln in status.splitlines() if ln.startswith("SigCgt:")).split()[1], 16
        )
        if caught >> (signal.SIGTERM - 1) & 1:
            return
        time.sleep(0.02)
    raise AssertionError("the command never installed its signal handlers")


def _patch_epoch(monkeypatch, on_second_call):
    from zoo.training.loops import tf_loop

    original, calls = tf_loop.TFEpochRunner.epoch, []

    def epoch(self, order, steps):
        calls.append(1)
        if len(calls) == 2:
            return on_second_call(lambda: original(self, order, steps))
        return original(self, order, steps)

    monkeypatch.setattr(tf_loop.TFEpochRunner, "epoch", epoch)


def _signal_self():
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.5)  # the handler runs here


def test_an_interrupt_a_library_turns_into_its_own_error_still_interrupts(tmp_path, monkeypatch):
    def converted(run):
        try:
            _signal_self()
        except KeyboardInterrupt:
            raise RuntimeError("an error of TensorFlow's own") from None
        return run()

    _patch_epoch(monkeypatch, converted)
    result = invoke("train", "mlp", "gaussians", "--epochs", "5", "--out", tmp_path)
    assert result.exit_code == 130, result.output
    assert config_of(only_folder(tmp_path))["status"] == "interrupted"
    assert interrupts.pending() is None


def test_an_interrupt_a_library_swallows_still_stops_the_run(tmp_path, monkeypatch):
    def swallowed(run):
        try:
            _signal_self()
        except KeyboardInterrupt:
            pass
        return run()

    _patch_epoch(monkeypatch, swallowed)
    result = invoke("train", "mlp", "gaussians", "--epochs", "50", "--out", tmp_path)
    assert result.exit_code == 130, result.output
    config = config_of(only_folder(tmp_path))
    assert config["status"] == "interrupted" and config["epochs_run"] == 2


def test_a_signal_while_an_epoch_is_traced_is_raised_after_the_epoch(tmp_path, monkeypatch):
    """An epoch's first call runs Python while TensorFlow traces it; an interrupt raised in
    the middle of tracing can leave the tracer's locks held. The signal waits for the epoch,
    whose row is kept, and stops the run right after it."""
    from zoo.training.loops import tf_loop

    original = tf_loop.TFEpochRunner.epoch

    def traced(self, order, steps):
        _signal_self()  # inside the first epoch: nothing may be raised here
        monkeypatch.setattr(tf_loop.TFEpochRunner, "epoch", original)
        return original(self, order, steps)

    monkeypatch.setattr(tf_loop.TFEpochRunner, "epoch", traced)
    result = invoke("train", "mlp", "gaussians", "--epochs", "50", "--out", tmp_path)
    assert result.exit_code == 130, result.output
    config = config_of(only_folder(tmp_path))
    assert config["status"] == "interrupted" and config["epochs_run"] == 1
    assert interrupts.pending() is None


def test_ctrl_c_while_the_report_is_drawn_leaves_an_honest_status(tmp_path, monkeypatch):
    import zoo.reporting.pdf as pdf

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pdf, "write_report", interrupted)
    result = invoke("train", "mlp", "gaussians", "--epochs", "3", "--out", tmp_path)
    assert result.exit_code == 130, result.output
    folder = only_folder(tmp_path)
    config = config_of(folder)
    assert config["status"] == "interrupted" and "report" in config["stop_reason"]
    assert (folder / "metrics.json").is_file() and not (folder / "report.pdf").exists()


def test_ctrl_c_during_zoo_report_exits_130_and_keeps_the_old_report(tmp_path, monkeypatch):
    import zoo.reporting.pdf as pdf

    folder = make_run_folder(tmp_path, "points")
    (folder / "report.pdf").write_bytes(b"%PDF- the earlier report")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pdf, "report_figures", interrupted)
    result = invoke("report", folder)
    assert result.exit_code == 130 and "Traceback" not in result.output
    assert (folder / "report.pdf").read_bytes() == b"%PDF- the earlier report"


# -- crashes and write failures ------------------------------------------------------------------
def test_a_crash_has_an_exit_code_of_its_own_and_the_folder_says_failed(tmp_path, monkeypatch):
    def crash(run):
        raise ValueError("a bug")

    _patch_epoch(monkeypatch, crash)
    result = invoke("train", "mlp", "gaussians", "--epochs", "5", "--out", tmp_path)
    assert result.exit_code == EXIT_CRASH != 1
    assert "Traceback" in result.stderr and "ValueError: a bug" in result.stderr
    config = config_of(only_folder(tmp_path))
    assert config["status"] == "failed" and "a bug" in config["stop_reason"]


def test_a_crash_after_the_epochs_also_leaves_the_folder_saying_failed(tmp_path, monkeypatch):
    """A model left broken by the last epoch (seen: an interrupt inside TensorFlow's tracer)
    fails while the results are computed: the folder must not go on saying "running"."""
    import zoo.training.results as results

    def crash(*args, **kwargs):
        raise AttributeError("'SymbolicTensor' object has no attribute '_type_spec'")

    monkeypatch.setattr(results, "evaluate", crash)
    result = invoke("train", "mlp", "gaussians", "--epochs", "2", "--out", tmp_path)
    assert result.exit_code == EXIT_CRASH, result.output
    config = config_of(only_folder(tmp_path))
    assert config["status"] == "failed" and "SymbolicTensor" in config["stop_reason"]
    assert config["epochs_run"] == 2


def _no_cut_files(folder: Path) -> None:
    assert not [p.name for p in folder.iterdir() if ".part" in p.name]
    for npz in folder.glob("*.npz"):  # whatever is there opens whole
        with np.load(npz) as arrays:
            assert arrays.files


def test_a_file_size_limit_mid_run_fails_with_a_message_and_no_cut_files(tmp_path):
    """Writes past RLIMIT_FSIZE fail with EFBIG, as a full disk fails with ENOSPC."""
    limit = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (12_000, 12_000))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", limit + ZOO, "train", "mlp", "gaussians", "--epochs", "3"]
        + ["--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == EXIT_WRITE, done.stderr
    assert "cannot write" in done.stderr and "Traceback" not in done.stderr
    folder = only_folder(tmp_path)
    config = config_of(folder)
    assert config["status"] == "failed" and "File too large" in config["stop_reason"]
    _no_cut_files(folder)
    result = invoke("report", folder)
    assert result.exit_code == 0, result.output
    assert "failed" in result.stderr and "model.keras" in result.stderr


def _can_mount() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("mount") is not None


@pytest.mark.skipif(not _can_mount(), reason="mounting a small tmpfs needs root")
def test_a_full_disk_fails_with_a_message_an_honest_status_and_no_cut_files(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)]).returncode:
        pytest.skip("this machine does not let tests mount a tmpfs")
    try:
        filler = disk / "filler"
        free = shutil.disk_usage(disk).free
        filler.write_bytes(b"\0" * (free - 420_000))  # room for the start, not the report
        result = invoke("train", "mlp", "gaussians", "--epochs", "3", "--out", disk / "runs")
        assert result.exit_code == EXIT_WRITE, result.output
        assert "No space left on device" in result.stderr
        folder = only_folder(disk / "runs")
        assert config_of(folder)["status"] == "failed"
        _no_cut_files(folder)
        filler.unlink()
        result = invoke("report", folder)
        assert result.exit_code == 0, result.output
        assert "failed" in result.stderr
    finally:
        subprocess.run(["umount", str(disk)], check=False)


# -- quiet, warnings, environment ----------------------------------------------------------------
def test_quiet_hides_progress_never_why_a_run_failed(tmp_path):
    result = invoke(
        "train", "mlp", "sigmoid-1d", "--head", "linear", "--lr", "100", "--epochs", "50", "-q",
        "--out", tmp_path,
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "too large" in result.stderr and str(only_folder(tmp_path)) in result.stderr


def test_a_bad_mplbackend_and_glyphs_missing_from_the_font_say_nothing(tmp_path):
    env = {**os.environ, "MPLBACKEND": "no-such-backend"}
    done = subprocess.run(
        [sys.executable, "-c", ZOO, "train", "mlp", "digits", "--epochs", "2", "-q", "--out",
         str(tmp_path), "--comment", "вариант 3 🙂 注释"],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and done.stdout == ""
    report = only_folder(tmp_path) / "report.pdf"
    assert report.is_file()
    report.unlink()  # drawn again by `zoo report`, which (no model to call) starts no Keras
    done = subprocess.run(
        [sys.executable, "-c", ZOO, "report", str(report.parent)],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and "report.pdf" in done.stdout and report.is_file()


def test_a_batch_larger_than_the_training_set_is_said_and_recorded(tmp_path):
    result = invoke("train", "mlp", "iris", "--batch-size", "1000", "--epochs", "2", "--out",
                    tmp_path)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "larger than the training set" in result.output
    config = config_of(only_folder(tmp_path))
    assert config["batch_size"] == config["train_size"] and config["batch_size_asked"] == 1000


def test_a_long_comment_is_cut_on_the_page_and_kept_whole_in_config(tmp_path):
    from pypdf import PdfReader

    comment = "a very long comment " * 60
    result = invoke("train", "logistic", "iris", "--epochs", "1", "--out", tmp_path, "--comment",
                    comment)  # fmt: skip
    assert result.exit_code == 0, result.output
    folder = only_folder(tmp_path)
    assert config_of(folder)["comment"] == comment
    text = " ".join(p.extract_text() for p in PdfReader(folder / "report.pdf").pages)
    assert "the whole comment is in config.json" in text.replace("\n", " ")


# -- nothing the user wrote is replaced ----------------------------------------------------------
def test_compare_never_replaces_a_file_unasked_nor_writes_into_a_run(tmp_path):
    first = make_run_folder(tmp_path / "runs", "points")
    notes = tmp_path / "thesis.md"
    notes.write_text("my thesis")
    result = invoke("compare", first, "--out", notes)
    assert (
        result.exit_code == 2 and "already exists" in result.output and "--force" in result.output
    )
    assert notes.read_text() == "my thesis"
    result = invoke("compare", first, "--out", first / "history.md")
    assert result.exit_code == 2 and "run folder" in result.output
    result = invoke("compare", first, "--out", notes, "--force")
    assert result.exit_code == 0 and notes.read_text().startswith("| #")


def test_a_bare_compare_and_lr_find_keep_their_earlier_outputs(tmp_path, monkeypatch):
    folder = make_run_folder(tmp_path / "runs", "points")
    for _ in range(2):
        assert invoke("compare", folder).exit_code == 0
    names = sorted(p.name for p in (tmp_path / "runs").iterdir() if p.is_file())
    assert names == [
        "comparison-2.md",
        "comparison-2_test_loss.png",
        "comparison.md",
        "comparison_test_loss.png",
    ]
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        result = invoke("explain", "forward")
        assert result.exit_code == 0, result.output
    assert (tmp_path / "reports" / "explain-forward" / "forward.json").is_file()
    assert (tmp_path / "reports" / "explain-forward-2" / "forward.json").is_file()
    result = invoke("explain", "forward", "--out", tmp_path / "reports" / "explain-forward")
    assert result.exit_code == 2 and "--force" in result.output


def test_files_written_through_a_temporary_name_get_the_usual_permissions(tmp_path, monkeypatch):
    # mkstemp makes its files private (0600); a report must be readable as any file is
    import os
    import stat

    from zoo import files

    monkeypatch.setattr(files, "_UMASK", None)  # read again, under the umask set here
    saved = os.umask(0o022)
    try:
        path = files.write_text(tmp_path / "notes.md", "| a |")
    finally:
        os.umask(saved)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
