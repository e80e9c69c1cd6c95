"""Sweeps under races and abuse: the folder's lock, sizes checked from the axes, a resume that
never shares a run with a live writer, and workers that stop when their sweep is killed."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from zoo.cli import cli
from zoo.errors import OptionError
from zoo.sweeps import SweepSpec
from zoo.sweeps.folder import LOCK, Lock

ROOT = Path(__file__).resolve().parents[1]


def zoo(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.output


# -- the lock ----------------------------------------------------------------------------------
def _contend(folder: str, holders, most, start, rounds: int) -> None:
    start.wait()
    won = 0
    while won < rounds:
        lock = Lock(Path(folder))
        try:
            lock.acquire()
        except OptionError:
            continue
        with holders.get_lock():
            holders.value += 1
            most.value = max(most.value, holders.value)
        time.sleep(0.001)
        with holders.get_lock():
            holders.value -= 1
        lock.release()
        won += 1


def test_many_concurrent_acquirers_never_hold_the_lock_together(tmp_path):
    context = multiprocessing.get_context("fork")
    holders, most = context.Value("i", 0), context.Value("i", 0)
    start = context.Barrier(8)
    procs = [
        context.Process(target=_contend, args=(str(tmp_path), holders, most, start, 25))
        for _ in range(8)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
    assert [proc.exitcode for proc in procs] == [0] * 8
    assert most.value == 1
    assert not (tmp_path / LOCK).exists()


def test_a_lock_file_left_behind_is_free_and_a_held_one_names_its_holder(tmp_path):
    (tmp_path / LOCK).write_text("")  # what a sweep killed between create and write leaves
    first = Lock(tmp_path)
    first.acquire()
    with pytest.raises(OptionError, match="already running") as caught:
        Lock(tmp_path).acquire()
    assert f"{socket.gethostname()} {os.getpid()}" in caught.value.message
    first.release()
    second = Lock(tmp_path)
    second.acquire()
    second.release()


def test_a_second_sweep_while_the_first_checks_its_data_is_told_it_is_running(tmp_path):
    folder = tmp_path / "sweep"
    folder.mkdir()
    holder = Lock(folder)
    holder.acquire()  # the first sweep, before it has written sweep.toml
    try:
        code, output = zoo("sweep", "mlp", "gaussians", "--epochs", "1", "--out", folder)
    finally:
        holder.release()
    assert code == 2 and "already running" in output, output


# -- sizes -------------------------------------------------------------------------------------
def test_a_huge_grid_is_refused_from_its_axes_at_once(tmp_path):
    values = ",".join(str(v) for v in range(1, 11))
    args = [
        a
        for name in ("hidden", "epochs", "batch-size", "l2", "lr", "patience")
        for a in ("--grid", f"{name}={values}")
    ]
    started = time.perf_counter()
    code, output = zoo("sweep", "mlp", "digits", *args, "--out", tmp_path / "s")
    assert code == 2 and "1,000,000 runs" in output and "100,000" in output, output
    assert time.perf_counter() - started < 5  # nothing was expanded
    code, output = zoo("sweep", "mlp", "digits", "--seeds", "1000000000000", "--out", tmp_path)
    assert code == 2 and "at most 100,000 seeds" in output, output
    assert not (tmp_path / "s").exists()


def test_more_than_a_thousand_runs_ask_for_yes_before_anything_is_built(tmp_path):
    code, output = zoo(
        "sweep",
        "mlp",
        "digits",
        "--grid",
        "lr=0.1,0.2",
        "--grid",
        "hidden=" + ",".join(str(h) for h in range(1, 26)),
        "--seeds",
        "30",
        "--out",
        tmp_path / "s",
    )
    assert code == 2 and "1,500 runs (2 lr × 25 hidden × 30 seeds)" in output, output
    assert "--yes" in output and not (tmp_path / "s").exists()


def test_same_variants_are_found_without_expanding_the_grid():
    with pytest.raises(OptionError, match="configurations 1 and 4 are the same"):
        SweepSpec.create(
            "mlp",
            "digits",
            grid={"lr": [0.1, 0.2, 0.3]},
            variants=[{"mode": "batch"}, {"mode": "batch"}],
        )
    spec = SweepSpec.create(
        "mlp",
        "digits",
        grid={"lr": [0.1, 0.2], "hidden": [3, 5, 7]},
        variants=[{"mode": "batch"}, {"mode": "sample"}],
        seeds=2,
    )
    assert spec.size() == len(spec.runs()) == 24


def test_infinite_and_nan_grid_values_are_named(tmp_path):
    toml = tmp_path / "g.toml"
    toml.write_text('model = "mlp"\ndataset = "digits"\n[grid]\nlr = [inf, nan]\n')
    code, output = zoo("sweep", toml, "--out", tmp_path / "s")
    assert code == 2 and "takes a finite number, not inf" in output, output


# -- a resume and a live writer ----------------------------------------------------------------
def test_a_resume_never_retrains_a_run_another_process_still_writes(tmp_path):
    spec = SweepSpec.create("mlp", "gaussians", options={"epochs": 1}, grid={"hidden": [3]})
    folder = tmp_path / "sweep"
    (folder / "runs").mkdir(parents=True)
    (folder / "sweep.toml").write_text(spec.to_toml(), encoding="utf-8")
    run = spec.runs()[0]
    writer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        run_folder = folder / "runs" / run.name
        run_folder.mkdir()
        config = {
            "status": "running",
            "pid": writer.pid,
            "host": socket.gethostname(),
            "model": "mlp",
            "dataset": "gaussians",
            "format_version": 1,
        }
        (run_folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
        code, output = zoo("sweep", folder)
        assert code == 2 and "still being written by process" in output, output
        assert json.loads((run_folder / "config.json").read_text())["pid"] == writer.pid
    finally:
        writer.kill()
        writer.wait()


def test_more_jobs_than_cores_are_capped_with_a_message(tmp_path, monkeypatch):
    from zoo.sweeps import local

    monkeypatch.setattr(local, "cores", lambda: 2)
    said: list[str] = []
    assert local.worker_count(64, 10, said.append) == 2
    assert said == ["sweep: --jobs 64 capped at 2, the cores this process may use"]
    assert local.worker_count(None, 10, said.append) == 2 and len(said) == 1
    assert local.worker_count(2, 1, said.append) == 1 and len(said) == 1
    monkeypatch.undo()
    args = ["mlp", "gaussians", "--grid", "hidden=3", "--epochs", "1", "--no-tensorboard"]
    code, output = zoo("sweep", *args, "--jobs", "100000", "--out", tmp_path / "s")
    assert code == 0, output
    assert "--jobs 100000 capped at" in output and "on 1 worker process" in output, output


def test_a_resume_takes_options_as_the_trainer_records_them():
    from zoo.sweeps.resume import option_differences

    config = {"loss": "crossentropy", "mode": "minibatch", "lr": 0.1, "batch_size_asked": 16}
    config["model_options"] = {"hidden": [5], "activation": "relu"}
    config["dataset_options"] = {"seed": 3, "noise": 0.5}
    same = {"loss": "cce", "mode": "mini-batch", "lr": 0.1, "batch_size": 16, "hidden": 5}
    same |= {"activation": "relu", "data_seed": 3, "noise": 0.5, "seed": 0, "title": "x"}
    assert option_differences(config, same, "mlp", "gaussians") == []
    changed = {**same, "loss": "mse", "batch_size": 32, "hidden": [5, 5], "data_seed": 4}
    assert sorted(n for n, _, _ in option_differences(config, changed, "mlp", "gaussians")) == [
        "batch_size",
        "data_seed",
        "hidden",
        "loss",
    ]


# many options of every kind (training, model, data set), so that none is taken as changed
MANY = "mode=mini-batch batch-size=16 momentum=0.5 nesterov=true weight-decay=0.001 "
MANY += "clip-norm=1.0 samples=80 noise=0.5 data-seed=3 activation=tanh lr=0.05"


def test_a_resume_of_an_edited_sweep_toml_names_the_option_its_runs_were_not_trained_with(
    tmp_path,
):
    out = tmp_path / "s"
    args = ["--grid", "hidden=[[3],[4,2]]", "--epochs", "2", "--jobs", "1", "--no-tensorboard"]
    code, output = zoo("sweep", "mlp", "gaussians", "--variant", MANY, *args, "--out", out)
    assert code == 0, output
    code, output = zoo("sweep", out)  # unchanged: every run is kept
    assert code == 0 and "nothing to train" in output, output
    configs = {p: p.read_bytes() for p in out.glob("runs/*/config.json")}
    toml = (out / "sweep.toml").read_text(encoding="utf-8")
    assert "epochs = 2" in toml
    (out / "sweep.toml").write_text(toml.replace("epochs = 2", "epochs = 3"), encoding="utf-8")
    code, output = zoo("sweep", out)
    assert code == 2, output
    assert "was trained with epochs=2, but sweep.toml now asks for epochs=3" in output, output
    assert {p: p.read_bytes() for p in out.glob("runs/*/config.json")} == configs


def test_a_resume_notices_an_option_taken_out_of_or_added_to_the_spec():
    from zoo.sweeps.resume import NOT_GIVEN, option_differences

    config = {"lr": 0.05, "momentum": 0.0, "seed": 0, "model_options": {"hidden": [5]}}
    config["dataset_options"] = {"seed": 0, "noise": 0.5, "samples": 100}
    config["options_given"] = ["hidden", "lr", "noise", "out", "quiet", "seed"]
    same = {"lr": 0.05, "hidden": 5, "noise": 0.5, "seed": 0, "title": "t", "lang": "ru"}
    assert option_differences(config, same, "mlp", "gaussians") == []
    removed = {"hidden": 5, "seed": 0}
    assert option_differences(config, removed, "mlp", "gaussians") == [
        ("lr", 0.05, NOT_GIVEN),
        ("noise", 0.5, NOT_GIVEN),
    ]
    # added: compared with the value the run took where config.json records it (a data set's
    # default, the momentum); a model option it does not record was not given
    added = {**same, "samples": 100, "momentum": 0.5, "activation": "tanh"}
    assert option_differences(config, added, "mlp", "gaussians") == [
        ("momentum", 0.0, 0.5),
        ("activation", NOT_GIVEN, "tanh"),
    ]
    del config["options_given"]  # a run folder of an older zoo: only values are compared
    assert option_differences(config, removed, "mlp", "gaussians") == []


def test_a_resume_of_a_sweep_toml_an_option_was_taken_out_of_names_it(tmp_path):
    out = tmp_path / "s"
    args = ["--grid", "hidden=3", "--lr", "0.05", "--epochs", "1", "--no-tensorboard"]
    code, output = zoo("sweep", "mlp", "digits", *args, "--out", out)
    assert code == 0, output
    config = json.loads(next(out.glob("runs/*/config.json")).read_text("utf-8"))
    assert {"hidden", "lr", "epochs", "seed"} <= set(config["options_given"])
    toml = (out / "sweep.toml").read_text(encoding="utf-8")
    assert "lr = 0.05\n" in toml
    # digits' preset sets lr=0.1: without the line the run would train otherwise
    (out / "sweep.toml").write_text(toml.replace("lr = 0.05\n", ""), encoding="utf-8")
    code, output = zoo("sweep", out)
    assert code == 2, output
    message = "run 'hidden=3,seed=0' was trained with lr=0.05, but sweep.toml now leaves lr not"
    assert message in output, output
    added = toml.replace("[options]\n", '[options]\nactivation = "tanh"\n')
    (out / "sweep.toml").write_text(added, encoding="utf-8")
    code, output = zoo("sweep", out)
    assert code == 2, output
    assert "activation not given, but sweep.toml now asks for activation=tanh" in output, output
    (out / "sweep.toml").write_text(toml, encoding="utf-8")
    code, output = zoo("sweep", out)
    assert code == 0 and "nothing to train" in output, output


def _proc_state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux's")
def test_a_worker_stops_and_marks_its_run_when_its_sweep_is_killed(tmp_path):
    out = tmp_path / "sweep"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [
        "sweep",
        "mlp",
        "gaussians",
        "--grid",
        "hidden=3,5",
        "--epochs",
        "30000",
        "--no-stack",
        "--jobs",
        "1",
        "--out",
        str(out),
        "-q",
    ]
    sweep = subprocess.Popen(
        [sys.executable, "-c", "from zoo.cli import main; main()", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    config_path, pid = None, None
    try:
        for _ in range(600):
            for path in out.glob("runs/*/config.json"):
                config = json.loads(path.read_text("utf-8") or "{}")
                if config.get("status") == "running" and config.get("pid"):
                    config_path, pid = path, config["pid"]
            if pid or sweep.poll() is not None:
                break
            time.sleep(0.2)
        assert pid, "no run started"
        sweep.send_signal(signal.SIGKILL)
        sweep.wait()
        for _ in range(300):  # the orphan stops and says so
            if _proc_state(pid) in (None, "Z"):
                break
            time.sleep(0.1)
        assert _proc_state(pid) in (None, "Z"), "the worker outlived its sweep"
        assert json.loads(config_path.read_text("utf-8"))["status"] == "interrupted"
    finally:
        if sweep.poll() is None:
            sweep.kill()
        if pid and _proc_state(pid) not in (None, "Z"):
            os.kill(pid, signal.SIGKILL)


# -- an address that is not Ray -----------------------------------------------------------------
@pytest.mark.parametrize("kind", ["silent", "http"])
def test_an_address_where_no_ray_cluster_listens_is_named_at_once(tmp_path, kind):
    import http.server
    import threading

    pytest.importorskip("ray")
    if kind == "http":
        server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
        port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        close = server.shutdown
    else:  # accepts and never answers
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        close = listener.close
    try:
        started = time.perf_counter()
        code, output = zoo("sweep", "mlp", "digits", "--executor", "ray", "--address",
                           f"127.0.0.1:{port}", "--out", tmp_path / "s")  # fmt: skip
    finally:
        close()
    assert code == 2 and "is not a Ray cluster" in output and str(port) in output, output
    assert time.perf_counter() - started < 30


@pytest.mark.slow
def test_a_cluster_with_token_authentication_takes_the_token_from_ray_auth_token(tmp_path):
    """Ray's token authentication: the zoo's driver uses RAY_AUTH_TOKEN, as `ray start` does,
    and without it says what to set. Ray runs with a HOME and temp folder of its own."""
    import tempfile

    pytest.importorskip("ray")
    from ray_fixtures import free_port, wait_for_port

    temp = tempfile.mkdtemp(prefix="zt", dir="/tmp")  # Ray's socket paths must stay short
    port = free_port()
    token = "0123456789abcdef0123456789abcdef"
    home = Path(temp) / "home"
    home.mkdir()
    base = {**os.environ, "HOME": str(home), "RAY_USAGE_STATS_ENABLED": "0",
            "PYTHONPATH": str(ROOT)}  # fmt: skip
    for key in ("RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH", "RAY_AUTH_MODE", "RAY_ADDRESS"):
        base.pop(key, None)
    with_token = {**base, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token}
    ray_cli = str(Path(sys.executable).with_name("ray"))
    head = subprocess.Popen(
        [ray_cli, "start", "--head", "--block", f"--port={port}", "--num-cpus=1",
         f"--temp-dir={temp}", "--include-dashboard=false", "--disable-usage-stats",
         "--object-store-memory=100000000"],
        env=with_token, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    zoo_cmd = [sys.executable, "-c", "from zoo.cli import main; main()", "sweep", "mlp",
               "gaussians", "--epochs", "1", "--executor", "ray", "--address",
               f"127.0.0.1:{port}", "--no-tensorboard"]  # fmt: skip
    try:
        wait_for_port(port)
        refused = subprocess.run([*zoo_cmd, "--out", str(tmp_path / "a")], env=base,
                                 capture_output=True, text=True, timeout=300)  # fmt: skip
        assert refused.returncode == 2, refused.stderr
        assert "RAY_AUTH_TOKEN" in refused.stderr
        done = subprocess.run([*zoo_cmd, "--out", str(tmp_path / "b")], env=with_token,
                              capture_output=True, text=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert (tmp_path / "b" / "summary.md").is_file()
    finally:
        head.send_signal(signal.SIGTERM)
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(head.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        head.wait()
        import shutil

        shutil.rmtree(temp, ignore_errors=True)
