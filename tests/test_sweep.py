"""Sweeps: the spec, bad input refused before anything trains, the summary's numbers, a real
sweep on local workers (resume, divergence, Ctrl-C) and the same sweep on a real Ray cluster.

The training tests share one small sweep (gaussians, 2 epochs): worker processes import
TensorFlow, which costs seconds, so every check that can look at the same folder does.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner
from run_fixtures import make_run_folder

from zoo.cli import cli
from zoo.sweeps import SweepSpec, load_spec, read_sweep
from zoo.sweeps.progress import SweepProgress, clock
from zoo.sweeps.spec import spec_from_dict

ROOT = Path(__file__).resolve().parents[1]
# hidden is the complexity curve, lr=1e9 diverges in its first epoch: a failure amid successes
SMALL = ["mlp", "gaussians", "--grid", "hidden=3,5", "--grid", "lr=0.05,1e9", "--seeds", "2"]
SMALL += ["--epochs", "2"]


def zoo(*args, env=None):
    result = CliRunner().invoke(cli, [str(a) for a in args], env=env)
    return result.exit_code, result.output


def read_csv(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def without_times(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in row.items() if not k.startswith("train_seconds")} for row in rows]


# -- the spec ---------------------------------------------------------------------------------
def test_variants_cross_the_grid_and_every_configuration_gets_each_seed():
    spec = SweepSpec.create(
        "mlp",
        "gaussians",
        options={"epochs": 5, "seed": 7},
        grid={"lr": [0.01, 0.1]},
        variants=[{"mode": "batch"}, {"mode": "minibatch", "batch-size": 16}],
        seeds=2,
    )
    assert spec.seeds == [7, 8]
    assert spec.swept() == ["mode", "batch_size", "lr"]
    confs = spec.configurations()
    assert [c.values for c in confs] == [
        {"mode": "batch", "lr": 0.01},
        {"mode": "batch", "lr": 0.1},
        {"mode": "minibatch", "batch_size": 16, "lr": 0.01},
        {"mode": "minibatch", "batch_size": 16, "lr": 0.1},
    ]
    assert all(c.options["epochs"] == 5 for c in confs)
    names = [run.name for run in spec.runs()]
    assert names[:2] == ["mode=batch,lr=0.01,seed=7", "mode=batch,lr=0.01,seed=8"]
    assert "mode=minibatch,batch-size=16,lr=0.1,seed=8" in names
    assert len(set(names)) == len(names) == 8


def test_sweep_toml_reads_back_as_the_same_spec():
    spec = SweepSpec.create(
        "mlp",
        "cifar100-3class",
        options={"comment": 'the "lab" run\\', "hidden": [64, 32]},
        grid={"lr": [0.001, 5e-05], "mixed_precision": [True, False]},
        variants=[{"optimizer": "adam"}, {"optimizer": "sgd", "momentum": 0.9}],
        seeds=[0, 5],
    )
    again = spec_from_dict(tomllib.loads(spec.to_toml()))
    assert again.to_dict() == spec.to_dict()
    assert again.same_runs_as(spec)


@pytest.mark.parametrize(
    "kwargs, option, message",
    [
        ({"grid": {"hidden": []}}, "grid", "hidden has no values"),
        ({"grid": {"lr": 0.1}}, "grid", "give a list of values"),
        ({"grid": {"seed": [1, 2]}}, "seed", "seeds="),
        ({"grid": {"hidden": [5, 5]}}, "grid", "lists 5 twice"),
        ({"grid": {"lr": [0.1]}, "options": {"lr": 0.2}}, "grid", "set for every run"),
        ({"variants": [{"lr": 0.1}, {"lr": 0.1}]}, "variants", "configurations 1 and 2"),
        ({"grid": {"backend": ["jax", "tensorflow"]}}, "backend", "one worker process"),
        ({"seeds": 0}, "seeds", "at least 1"),
    ],
)
def test_a_spec_that_cannot_be_a_sweep_names_its_part(kwargs, option, message):
    from zoo.errors import OptionError

    with pytest.raises(OptionError, match=message) as info:
        SweepSpec.create("mlp", "digits", **kwargs)
    assert info.value.option == option


# -- bad input: exit 2 before anything trains -------------------------------------------------
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


@pytest.mark.parametrize(
    "args, message",
    [
        (["--grid", "hiden=5,10"], "has no such option"),
        (["--grid", "lr=0.1,-1"], "'--grid lr'"),
        (["--grid", "hidden="], "hidden has no values"),
        (["--grid", "hidden=5,x"], "not a list of sizes"),
        (["--variant", "hidden=10 momentum"], "NAME=VALUE"),
        (["--grid", "momentum=0.5", "--optimizer", "adam"], "configuration 1: momentum=0.5"),
        (["--seeds", "1001"], "--yes"),
        (["--executor", "ray", "--address", f"127.0.0.1:{closed_port()}"], "no Ray cluster"),
        (["--jobs", "2", "--executor", "ray"], "--jobs"),
        (["--address", "10.0.0.1:6379"], "--executor ray"),
    ],
)
def test_bad_input_exits_2_before_anything_is_made(tmp_path, args, message):
    out = tmp_path / "sweep"
    code, output = zoo("sweep", "mlp", "gaussians", "--epochs", "2", "--out", out, *args)
    assert code == 2, output
    assert message in output
    assert "Traceback" not in output
    assert not out.exists()


def test_a_folder_holding_another_sweep_is_refused(tmp_path):
    out = tmp_path / "sweep"
    (out / "runs").mkdir(parents=True)
    spec = SweepSpec.create("mlp", "gaussians", grid={"hidden": [3, 5]})
    (out / "sweep.toml").write_text(spec.to_toml(), encoding="utf-8")
    code, output = zoo("sweep", "mlp", "gaussians", "--grid", "hidden=3,8", "--out", out)
    assert code == 2
    assert "holds another sweep" in output and "[3, 5]" in output and "[3, 8]" in output
    assert load_spec(out).same_runs_as(spec)  # untouched


def test_a_bad_sweep_file_is_a_message(tmp_path):
    path = tmp_path / "lab1.toml"
    path.write_text('model = "mlp"\ndataset = "gaussians"\n[grid]\nlr = ["fast"]\n')
    code, output = zoo("sweep", path, "--out", tmp_path / "out")
    assert code == 2 and "lr" in output and "'fast'" in output
    path.write_text('model = "mlp"\ndatset = "gaussians"\n')
    code, output = zoo("sweep", path)
    assert code == 2 and "unknown key 'datset'" in output


def test_a_value_only_the_model_refuses_stops_the_sweep_before_training(tmp_path):
    path = tmp_path / "lab1.toml"
    path.write_text('model = "mlp"\ndataset = "gaussians"\n[grid]\nhidden = [5, 0]\n')
    out = tmp_path / "out"
    code, output = zoo("sweep", path, "--jobs", "1", "--out", out, "-q")
    assert code == 2, output
    assert "'--hidden'" in output and "configuration 2: hidden=0" in output
    assert not out.exists()  # nothing was trained: not even an empty folder is left


def test_sweep_help_imports_nothing_heavy():
    code = (
        "import sys; from zoo.cli import main\n"
        "try:\n    main(['sweep', '--help'])\nexcept SystemExit:\n    pass\n"
        "print('HEAVY', [m for m in ('tensorflow', 'keras', 'matplotlib', 'ray')"
        " if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout and "--grid" in out.stdout


# -- the summary, from run folders alone ------------------------------------------------------
def test_the_summary_is_mean_and_sd_over_finished_seeds_and_marks_the_best(tmp_path):
    spec = SweepSpec.create("mlp", "gaussians", grid={"hidden": [5, 10]}, seeds=3)
    (tmp_path / "sweep.toml").write_text(spec.to_toml(), encoding="utf-8")
    accuracies = {("5", 0): 0.6, ("5", 1): 0.7, ("5", 2): 0.8, ("10", 0): 0.9, ("10", 1): 0.8}
    for run in spec.runs():
        key = (run.name.split(",")[0].split("=")[1], run.seed)
        status = "completed" if key in accuracies else "diverged"
        make_run_folder(
            tmp_path / "runs",
            "points",
            name=run.name,
            status=status,
            test_acc=accuracies.get(key, 0.5),
            seed=run.seed,
        )
    summary = read_sweep(tmp_path)
    first, second = summary.rows
    tests = [
        json.loads((tmp_path / "runs" / o.name / "metrics.json").read_text())["test"]["accuracy"]
        for o in first.outcomes
    ]
    assert first.stats["test_accuracy"].mean == pytest.approx(statistics.mean(tests))
    assert first.stats["test_accuracy"].sd == pytest.approx(statistics.stdev(tests))
    assert (first.finished, second.finished) == (3, 2)
    assert second.best and not first.best
    code, output = zoo("compare", tmp_path)
    assert code == 0, output
    table = output.split("\n\n")[2]
    assert "| 2* | 10 |" in table and "| 3/3 |" in table and "| 2/3 |" in table
    assert "hidden=10,seed=2: diverged: loss became NaN" in output
    rows = read_csv(tmp_path / "summary.csv")
    assert [r["best"] for r in rows] == ["0", "1"]
    assert float(rows[0]["test_accuracy_mean"]) == pytest.approx(statistics.mean(tests))
    assert r"\textbf{2*}" in (tmp_path / "summary.tex").read_text(encoding="utf-8")
    assert (tmp_path / "report.pdf").is_file() and (tmp_path / "metrics_vs_hidden.png").is_file()


def test_progress_is_one_line_on_a_terminal_and_a_line_per_run_otherwise():
    import io

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    lines = io.StringIO()
    progress = SweepProgress(4, done=1, stream=lines)
    progress.ended()
    progress.ended(failed=True, note="lr=1e9,seed=0: diverged")
    text = lines.getvalue().splitlines()
    assert text[0].startswith("sweep: 2/4 runs, ") and "left" in text[0]
    assert text[1].startswith("sweep: 3/4 runs, 1 failed, ") and text[1].endswith("diverged")
    terminal = Terminal()
    progress = SweepProgress(2, stream=terminal)
    progress.ended()
    progress.ended()
    progress.close()
    assert terminal.getvalue().count("\r") == 2 and terminal.getvalue().count("\n") == 1
    quiet = io.StringIO()
    SweepProgress(2, quiet=True, stream=quiet).ended(failed=True)
    assert quiet.getvalue() == ""
    assert (clock(42), clock(3725)) == ("0:42", "1:02:05")


# -- a real sweep on local workers -------------------------------------------------------------
@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("local") / "sweep"
    code, output = zoo("sweep", *SMALL, "--jobs", "2", "--threads", "1", "--out", out)
    return out, code, output


def test_a_sweep_writes_its_folder_and_records_the_runs_that_diverged(local_sweep):
    out, code, output = local_sweep
    assert code == 1, output  # two configurations diverged: recorded, the rest went on
    assert "4 of 8 runs did not finish (diverged)" in output
    assert sorted(p.name for p in (out / "runs").iterdir()) == sorted(
        run.name for run in load_spec(out).runs()
    )
    rows = read_csv(out / "summary.csv")
    assert [(r["hidden"], r["lr"], r["finished"]) for r in rows] == [
        ("3", "0.05", "2"),
        ("3", "1000000000.0", "0"),
        ("5", "0.05", "2"),
        ("5", "1000000000.0", "0"),
    ]
    assert sum(int(r["best"]) for r in rows) == 1 and rows[1]["best"] == "0"
    markdown = (out / "summary.md").read_text(encoding="utf-8")
    assert "hidden=3,lr=1000000000.0,seed=0: diverged: the loss became" in markdown
    for name in ("report.pdf", "test_loss_curves.png", "metrics_vs_hidden.png"):
        assert (out / name).is_file(), name
    assert (out / "heatmap_hidden_lr.png").is_file()


def test_stacked_runs_match_a_lone_run_up_to_rounding(local_sweep):
    import zoo

    run_dir = local_sweep[0] / "runs" / "hidden=5,lr=0.05,seed=1"
    config = json.loads((run_dir / "config.json").read_text())
    # trained as one program with the other configurations of seed 1, two of which diverged
    assert sorted(config["stacked_with"]) == [
        "hidden=3,lr=0.05,seed=1",
        "hidden=3,lr=1000000000.0,seed=1",
        "hidden=5,lr=1000000000.0,seed=1",
    ]
    lone = zoo.train("mlp", "gaussians", hidden=5, lr=0.05, epochs=2, seed=1, out=None, quiet=True)
    history = read_csv(run_dir / "history.csv")
    assert len(history) == len(lone.history) == 2
    for row, lone_row in zip(history, lone.history, strict=True):
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            assert float(row[key]) == pytest.approx(lone_row[key], rel=1e-5), key
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] == pytest.approx(lone.metrics["test"]["accuracy"])


def test_every_run_writes_tensorboard_event_files(local_sweep):
    from tensorflow.core.util import event_pb2

    out = local_sweep[0]
    files = sorted((out / "runs" / "hidden=5,lr=0.05,seed=1" / "tensorboard").glob("*/events.*"))
    assert [f.parent.name for f in files] == ["test", "train"]
    history = read_csv(out / "runs" / "hidden=5,lr=0.05,seed=1" / "history.csv")
    values = {}
    for path in files:
        data = path.read_bytes()
        while data:  # TFRecord: length, its CRC, the record, its CRC
            length = int.from_bytes(data[:8], "little")
            event = event_pb2.Event.FromString(data[12 : 12 + length])
            data = data[16 + length :]
            for value in event.summary.value:
                assert value.metadata.plugin_data.plugin_name == "scalars"
                values[(path.parent.name, value.tag, event.step)] = value.tensor.float_val[0]
    assert values[("train", "epoch_loss", 2)] == pytest.approx(float(history[1]["loss"]))
    assert values[("test", "epoch_accuracy", 1)] == pytest.approx(float(history[0]["val_accuracy"]))


def test_running_the_same_sweep_again_trains_nothing(local_sweep, tmp_path):
    import zoo

    out = local_sweep[0]
    before = {p.name: (p / "config.json").stat().st_mtime_ns for p in (out / "runs").iterdir()}
    result = zoo.sweep(out / "sweep.toml", quiet=True)
    assert result.folder == out and result.trained == 0 and result.skipped == 8
    after = {p.name: (p / "config.json").stat().st_mtime_ns for p in (out / "runs").iterdir()}
    assert after == before


def workers_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"sweeps.local" in cmdline:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads worker processes from /proc")
@pytest.mark.slow
def test_ctrl_c_keeps_what_finished_and_the_next_run_resumes(tmp_path):
    import zoo

    out = tmp_path / "sweep"
    # three stacks (one per seed) on two workers: the third starts when the first ends
    args = ["mlp", "gaussians", "--grid", "hidden=3,5", "--seeds", "3", "--epochs", "200"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = "from zoo.cli import main; main()"
    sweep = subprocess.Popen(
        [sys.executable, "-c", code, "sweep", *args, "--jobs", "2", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    workers: set[int] = set()
    try:
        for _ in range(600):  # until the first run has finished
            workers.update(workers_of(sweep.pid))
            done = [
                p for p in out.glob("runs/*/config.json") if '"completed"' in p.read_text("utf-8")
            ]
            if done or sweep.poll() is not None:
                break
            time.sleep(0.2)
        sweep.send_signal(signal.SIGINT)
        stdout, stderr = sweep.communicate(timeout=120)
    finally:
        if sweep.poll() is None:
            sweep.kill()
    assert sweep.returncode == 130, stderr
    assert "stopped by SIGINT" in stderr
    assert workers and not [pid for pid in workers if alive(pid)]
    summary = read_sweep(out)
    statuses = [o.status for o in summary.outcomes]
    assert "completed" in statuses and set(statuses) - {"completed"}, statuses
    assert (out / "summary.md").is_file()
    finished_before = statuses.count("completed")
    result = zoo.sweep(*args[:2], grid={"hidden": [3, 5]}, seeds=3, epochs=200, out=out, quiet=True)
    assert result.trained == 6 - finished_before and result.skipped == finished_before
    assert [o.status for o in result.summary.outcomes] == ["completed"] * 6


# -- the same sweep on a real Ray cluster -----------------------------------------------------
@pytest.fixture(scope="module")
def ray_cluster():
    """A head and one worker node started with `ray start`, one CPU each (2 in all): (its
    address, the tasks' scratch folder); stopped after the module's tests, passed or not."""
    from ray_fixtures import ray_cluster_started

    with ray_cluster_started(workers=1) as cluster:
        yield cluster.address, cluster.scratch


@pytest.mark.slow
def test_a_sweep_on_a_ray_cluster_gives_the_local_summary(ray_cluster, local_sweep, tmp_path):
    out = tmp_path / "ray"
    ray = ["--executor", "ray", "--address", ray_cluster[0], "--no-tensorboard"]
    code, output = zoo("sweep", *SMALL, *ray, "--out", out)
    assert code == 1, output  # the same two diverged configurations
    assert sorted(p.name for p in (out / "runs").iterdir()) == sorted(
        p.name for p in (local_sweep[0] / "runs").iterdir()
    )
    assert without_times(read_csv(out / "summary.csv")) == without_times(
        read_csv(local_sweep[0] / "summary.csv")
    )
    config = json.loads((out / "runs" / "hidden=3,lr=0.05,seed=0" / "config.json").read_text())
    assert config["status"] == "completed" and (out / "metrics_vs_hidden.png").is_file()
    assert not list(out.glob("runs/*/tensorboard"))


@pytest.mark.slow
def test_sigterm_stops_a_ray_sweep_like_a_local_one(ray_cluster, tmp_path):
    """The runs still training come back marked interrupted by SIGTERM, with their history."""
    address, scratch = ray_cluster
    out = tmp_path / "ray-term"
    args = [
        "sweep",
        "mlp",
        "digits",
        "--grid",
        "hidden=5,10",
        "--epochs",
        "1000000",
        "--no-stack",
        "--executor",
        "ray",
        "--address",
        address,
        "--out",
        str(out),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_USAGE_STATS_ENABLED": "0"}
    sweep = subprocess.Popen(
        [sys.executable, "-c", "from zoo.cli import main; main()", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        for _ in range(900):  # until both runs train on their nodes
            if len(list(scratch.glob("zoo-run-*/*/config.json"))) >= 2 or sweep.poll() is not None:
                break
            time.sleep(0.2)
        time.sleep(3)  # in or past the first epoch, whose row a stop keeps
        sweep.send_signal(signal.SIGTERM)
        stdout, stderr = sweep.communicate(timeout=180)
    finally:
        if sweep.poll() is None:
            sweep.kill()
    assert sweep.returncode == 143, stderr
    assert "stopped by SIGTERM" in stderr and "SIGTERM received" not in stderr + stdout
    assert (out / "summary.md").is_file()
    runs = sorted(p.name for p in (out / "runs").iterdir())
    assert runs == ["hidden=10,seed=0", "hidden=5,seed=0"], stderr
    for name in runs:
        config = json.loads((out / "runs" / name / "config.json").read_text())
        assert config["status"] == "interrupted" and config["stop_signal"] == "SIGTERM"
        assert len(read_csv(out / "runs" / name / "history.csv")) >= 1
    assert [row["finished"] for row in read_csv(out / "summary.csv")] == ["0", "0"]
    assert "interrupted" in (out / "summary.md").read_text()
