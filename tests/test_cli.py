"""The click CLI: help stays light, bad input exits 2 with a message, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from zoo.cli import cli


def invoke(*args):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.mark.parametrize("argv", [["--help"], ["models"], ["datasets"], ["train", "--help"]])
def test_cold_commands_do_not_import_tensorflow(argv):
    code = (
        "import sys; from zoo.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'matplotlib', 'sklearn')\n"
        "         if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout


def test_every_command_has_help_with_an_example():
    from zoo.cli import COMMANDS

    for name in COMMANDS:
        code, out = invoke(name, "--help")
        assert code == 0, name
        assert "zoo " in out and "Example" in out, name


def test_models_lists_with_a_pattern():
    code, out = invoke("models", "l*")
    assert code == 0
    assert [line.split()[0] for line in out.splitlines()] == ["lecture-net", "linear", "logistic"]


def test_train_writes_a_run_folder_and_prints_the_reports(tmp_path):
    code, out = invoke("train", "logistic", "iris", "--epochs", "3", "--out", str(tmp_path), "-q")
    assert code == 0 and out == ""
    (folder,) = tmp_path.iterdir()
    config = json.loads((folder / "config.json").read_text())
    assert config["epochs_run"] == 3 and config["model"] == "logistic"
    code, out = invoke(
        "train",
        "mlp",
        "gaussians",
        "--mode",
        "per-sample",
        "--epochs",
        "2",
        "--out",
        str(tmp_path),
        "--comment",
        "stochastic",
    )
    assert code == 0
    assert "Test" in out and "precision" in out and "run folder:" in out
    assert "epoch 2/2" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lr", "0"], "--lr"),
        (["--lr", "-0.1"], "--lr"),
        (["--epochs", "0"], "--epochs"),
        (["--batch-size", "0"], "--batch-size"),
        (["--hidden", "0"], "--hidden"),
        (["--hidden", "ten"], "--hidden"),
        (["--mode", "turbo"], "--mode"),
        (["--mode", "batch", "--batch-size", "8"], "--batch-size"),
        (["--epochs", "3", "--iterations", "9"], "--iterations"),
        (["--validation", "1.5"], "--validation"),
        (["--seed", "-1"], "--seed"),
        (["--data-seed", "-1"], "--data-seed"),
        (["--target-loss", "inf"], "--target-loss"),
        (["--hidden", "10,,5"], "--hidden"),
        (["--noise", "nan"], "--noise"),
    ],
)
def test_impossible_options_are_usage_errors_naming_the_option(args, message, tmp_path):
    code, out = invoke("train", "mlp", "gaussians", "--out", str(tmp_path), *args)
    assert code == 2
    assert message in out and "Traceback" not in out
    assert not any(tmp_path.iterdir())  # nothing half-written


def test_a_model_too_large_for_memory_is_a_message(tmp_path, monkeypatch):
    import tensorflow as tf

    import zoo.models.mlp

    def exhausted(*args, **kwargs):  # what TensorFlow raises for --hidden 99999999999
        raise tf.errors.ResourceExhaustedError(None, None, "OOM when allocating tensor")

    monkeypatch.setattr(zoo.models.mlp, "output_layer", exhausted)
    code, out = invoke("train", "mlp", "iris", "--hidden", "64", "--out", str(tmp_path))
    assert code == 2 and "does not fit in memory" in out and "hidden=(64,)" in out
    assert not any(tmp_path.iterdir())


def test_a_junk_keras_backend_in_the_environment_is_named(tmp_path):
    import os

    code = f"from zoo.cli import main; main(['explain', 'forward', '--out', {str(tmp_path)!r}])"
    env = {**os.environ, "KERAS_BACKEND": "junk"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.returncode == 2
    assert "KERAS_BACKEND" in out.stderr and "'junk'" in out.stderr
    assert "Traceback" not in out.stderr


def test_zoo_data_dir_in_the_environment_does_not_stop_sets_without_files(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path))  # as the help suggests, for CIFAR
    code, out = invoke("info", "digits")
    assert code == 0 and "train: 1347" in out


def test_a_bad_value_from_the_environment_names_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_LANG", "xx")
    code, out = invoke("train", "mlp", "iris", "--out", str(tmp_path))
    assert code == 2 and "'xx' is not one of" in out and "$ZOO_LANG" in out
    code, out = invoke("train", "mlp", "iris", "--lang", "de", "--out", str(tmp_path))
    assert code == 2 and "$ZOO_LANG" not in out  # typed, not inherited


@pytest.mark.parametrize("command", ["models", "datasets"])
def test_a_pattern_that_matches_nothing_says_so(command):
    code, out = invoke(command, "zz*")
    assert code == 2 and "matches 'zz*'" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "logistic", "iris", "--hidden", "10"], "model 'logistic' has no such option"),
        (["info", "cifar10", "--label", "coarse"], "(it takes --classes, --data-dir, --source)"),
    ],
)
def test_an_option_the_model_or_set_does_not_take_lists_what_it_does(args, message, tmp_path):
    code, out = invoke(*args, "--out", str(tmp_path)) if args[0] == "train" else invoke(*args)
    assert code == 2 and message in out and "--normalization" not in out


def test_the_fixed_lecture_net_on_other_data_says_what_it_takes(tmp_path):
    code, out = invoke("train", "lecture-net", "iris", "--out", str(tmp_path))
    assert code == 2 and "'MODEL'" in out
    assert "fixed at 3 inputs and 2 sigmoid outputs" in out and "4 inputs, 3 outputs" in out


def test_sigmoid_head_on_a_regression_set_is_refused(tmp_path):
    code, out = invoke("train", "mlp", "sigmoid-1d", "--head", "sigmoid", "--out", str(tmp_path))
    assert code == 2 and "--head" in out and "regression" in out


@pytest.mark.parametrize(
    ("kind", "name", "close"), [("model", "mpl", "mlp"), ("dataset", "digitz", "digits")]
)
def test_unknown_names_exit_2_with_close_names(kind, name, close, tmp_path):
    args = [name, "digits"] if kind == "model" else ["mlp", name]
    code, out = invoke("train", *args, "--out", str(tmp_path))
    assert code == 2
    assert f"unknown {kind}" in out and close in out


def test_divergence_is_reported_not_raised(tmp_path):
    code, out = invoke(
        "train",
        "linear",
        "sigmoid-1d",
        "--mode",
        "batch",
        "--lr",
        "10000",
        "--epochs",
        "50",
        "--out",
        str(tmp_path),
    )
    assert code == 1
    assert "too large" in out and "epoch" in out and "Traceback" not in out
    (folder,) = tmp_path.iterdir()
    assert json.loads((folder / "config.json").read_text())["status"] == "diverged"


def test_ctrl_c_keeps_the_folder_but_does_not_exit_0(tmp_path, monkeypatch):
    from zoo.training.loops import tf_loop

    original, calls = tf_loop.TFEpochRunner.epoch, []

    def epoch(self, order, steps):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(self, order, steps)

    monkeypatch.setattr(tf_loop.TFEpochRunner, "epoch", epoch)
    code, out = invoke("train", "mlp", "gaussians", "--epochs", "5", "--out", str(tmp_path))
    assert code == 130 and "interrupted by SIGINT during epoch 2" in out
    (folder,) = tmp_path.iterdir()
    assert json.loads((folder / "config.json").read_text())["status"] == "interrupted"


def test_asking_for_a_gpu_that_is_not_there_is_a_usage_error(tmp_path):
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU")
    code, out = invoke("train", "mlp", "gaussians", "--device", "gpu", "--out", str(tmp_path))
    assert code == 2 and "--device" in out and "no GPU" in out


def test_progress_is_a_bar_on_a_terminal_and_lines_otherwise():
    import io

    from zoo.training.progress import Progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    row = {
        "epoch": 1,
        "loss": 0.5,
        "accuracy": 0.75,
        "val_loss": 0.6,
        "val_accuracy": 0.7,
        "seconds": 0.01,
    }
    tty, pipe, quiet = Terminal(), io.StringIO(), io.StringIO()
    for stream, is_quiet in ((tty, False), (pipe, False), (quiet, True)):
        progress = Progress(4, stream=stream, quiet=is_quiet)
        progress.update(row)
        progress.update({**row, "epoch": 2})
        progress.close()
    assert tty.getvalue().startswith("\repoch 1/4 [======>") and "\repoch 2/4" in tty.getvalue()
    assert tty.getvalue().count("\n") == 1
    assert pipe.getvalue().splitlines()[1].startswith("epoch 2/4 loss 0.5000 acc 0.7500")
    assert quiet.getvalue() == ""


def test_best_epoch_names_the_split_it_was_chosen_on(tmp_path):
    code, out = invoke(
        "train",
        "logistic",
        "iris",
        "--epochs",
        "3",
        "--validation",
        "0.2",
        "--no-report",
        "--out",
        str(tmp_path),
    )
    assert code == 0 and "(lowest validation loss)" in out


def test_info_keeps_columns_aligned_with_source_indices():
    import numpy as np

    from zoo.datasets.base import Dataset

    data = Dataset(
        "lab",
        np.zeros((4, 2)),
        np.array([0, 1, 2, 2]),
        np.zeros((2, 2)),
        np.array([0, 1]),
        ["apple", "otter", "pickup_truck"],
        class_ids=[0, 55, 58],
    )
    rows = data.summary().splitlines()[-4:]
    assert rows[1].split() == ["0", "apple", "[0]", "1", "1"]
    assert len({len(row) for row in rows}) == 1  # the count columns end at the same place


def test_python_dash_m_zoo_is_the_zoo_command():
    from pathlib import Path

    done = subprocess.run(
        [sys.executable, "-m", "zoo", "models"], capture_output=True, text=True, timeout=120,
        cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "mlp" in done.stdout and "Traceback" not in done.stderr


def test_missing_extras_name_the_distribution():
    from zoo.distribution import DISTRIBUTION, install_hint

    assert DISTRIBUTION == "keras-zoo"
    assert install_hint("ray") == "pip install 'keras-zoo[ray]'"
