"""Training: the three regimes, stopping rules, the run folder and metrics equal to sklearn's."""

from __future__ import annotations

import csv
import json
import os

import numpy as np
import pytest

import zoo
from zoo.errors import OptionError
from zoo.runfolder import HISTORY_COLUMNS


def read_history(folder):
    with (folder / "history.csv").open() as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs")
    return zoo.train("mlp", "digits", epochs=8, lr=0.1, out=str(out), quiet=True, comment="base")


@pytest.mark.parametrize(
    ("mode", "batch_size", "updates_per_epoch"),
    [
        ("batch", None, 1),
        ("minibatch", 16, 5),
        ("sample", None, 75),
        ("sgd", None, 75),
        ("full", None, 1),
        ("mini-batch", None, 3),
    ],
)
def test_each_regime_makes_its_number_of_updates(mode, batch_size, updates_per_epoch):
    run = zoo.train(
        "mlp", "gaussians", mode=mode, batch_size=batch_size, epochs=2, out=None, quiet=True
    )
    assert [row["iterations"] for row in run.history] == [updates_per_epoch, 2 * updates_per_epoch]
    assert np.isfinite(run.history[-1]["loss"])


def test_iterations_decide_the_epochs_and_the_last_epoch_stops_short():
    run = zoo.train("logistic", "gaussians", batch_size=32, iterations=10, out=None, quiet=True)
    # 75 examples in batches of 32: 3 updates per epoch, so 10 updates take 4 epochs
    assert [row["iterations"] for row in run.history] == [3, 6, 9, 10]
    assert run.config["iterations"] == 10 and run.config["epochs"] == 4


def test_same_seed_gives_an_identical_history():
    runs = [zoo.train("mlp", "moons", epochs=3, seed=7, out=None, quiet=True) for _ in range(2)]
    strip = [[{k: v for k, v in row.items() if k != "seconds"} for row in r.history] for r in runs]
    assert strip[0] == strip[1]
    other = zoo.train("mlp", "moons", epochs=3, seed=8, out=None, quiet=True)
    assert other.history[-1]["loss"] != runs[0].history[-1]["loss"]


def test_run_folder_holds_everything_a_report_needs(digits_run):
    folder = digits_run.folder
    for name in (
        "config.json",
        "history.csv",
        "metrics.json",
        "classification_report.txt",
        "learning_curves.png",
        "confusion_matrix.png",
        "model.keras",
        "predictions.npz",
        "report.pdf",
    ):
        assert (folder / name).is_file(), name
    config = json.loads((folder / "config.json").read_text())
    assert config["model"] == "mlp" and config["dataset"] == "digits"
    assert config["status"] == "completed" and config["comment"] == "base"
    assert config["versions"]["tensorflow"] and config["versions"]["keras"].startswith("3")
    assert config["device"] == "CPU" and config["seed"] == 0
    dense = [layer for layer in config["layers"] if layer["type"] == "Dense"]
    assert [(d["inputs"], d["units"], d["weights"], d["biases"]) for d in dense] == [
        (64, 10, 640, 10),
        (10, 10, 100, 10),
    ]
    rows = read_history(folder)
    assert tuple(rows[0]) == HISTORY_COLUMNS
    assert [int(r["epoch"]) for r in rows] == list(range(1, 9))
    assert all(float(r["seconds"]) > 0 for r in rows)


def test_metrics_equal_scikit_learns(digits_run):
    from sklearn.metrics import classification_report, confusion_matrix

    folder = digits_run.folder
    metrics = json.loads((folder / "metrics.json").read_text())
    saved = np.load(folder / "predictions.npz")
    names = [str(d) for d in range(10)]
    for split in ("train", "test"):
        y, pred = saved[f"y_{split}"], saved[f"pred_{split}"]
        np.testing.assert_array_equal(pred, saved[f"p_{split}"].argmax(axis=1))
        expected = classification_report(y, pred, target_names=names, output_dict=True)
        for key in names + ["macro avg", "weighted avg"]:
            for field in ("precision", "recall", "f1-score", "support"):
                assert metrics[split][key][field] == pytest.approx(expected[key][field])
        assert metrics[split]["accuracy"] == pytest.approx(expected["accuracy"])
        assert metrics[split]["confusion_matrix"] == confusion_matrix(y, pred).tolist()
    text = (folder / "classification_report.txt").read_text()
    assert (
        classification_report(saved["y_test"], saved["pred_test"], target_names=names, digits=4)
        in text
    )
    best = min(digits_run.history, key=lambda r: r["val_loss"])["epoch"]
    assert metrics["best_epoch"] == best


def test_a_new_run_never_overwrites_an_old_folder(tmp_path):
    folders = {
        zoo.train("logistic", "iris", epochs=1, out=str(tmp_path), quiet=True, report=False).folder
        for _ in range(2)
    }
    assert len(folders) == 2


def test_saved_model_takes_raw_inputs(digits_run):
    import keras

    model = keras.saving.load_model(digits_run.folder / "model.keras")
    data = zoo.load_dataset("digits")
    p = np.asarray(model(data.x_test[:20].astype("float32")))
    np.testing.assert_allclose(
        p, np.load(digits_run.folder / "predictions.npz")["p_test"][:20], rtol=1e-5, atol=1e-6
    )


def test_divergence_stops_at_once_and_keeps_the_folder(tmp_path):
    run = zoo.train(
        "linear",
        "sigmoid-1d",
        mode="batch",
        lr=1e4,
        epochs=50,
        out=str(tmp_path),
        quiet=True,
        report=False,
    )
    assert run.status == "diverged"
    assert len(run.history) == run.config["diverged_epoch"] < 50
    config = json.loads((run.folder / "config.json").read_text())
    assert config["status"] == "diverged" and "too large" in config["stop_reason"]
    assert len(read_history(run.folder)) == len(run.history)


def test_target_loss_stops_training():
    run = zoo.train("mlp", "gaussians", epochs=200, lr=0.1, target_loss=0.3, out=None, quiet=True)
    assert run.status == "target_reached"
    assert run.history[-1]["loss"] <= 0.3 < run.history[-2]["loss"]


def test_patience_stops_and_restores_the_best_weights():
    # few noisy points and a wide network: the test loss turns upwards within a few dozen epochs
    run = zoo.train(
        "mlp",
        "moons",
        samples=60,
        noise=0.5,
        hidden=(64, 64),
        optimizer="adam",
        lr=0.05,
        epochs=500,
        patience=3,
        out=None,
        quiet=True,
    )
    assert run.status == "stopped_early"
    best = min(run.history, key=lambda r: r["val_loss"])
    assert run.history[-1]["epoch"] == best["epoch"] + 3
    assert run.metrics["test"]["loss"] == pytest.approx(best["val_loss"], rel=1e-4)


def test_validation_fraction_is_held_out_of_train():
    run = zoo.train("logistic", "iris", epochs=2, validation=0.2, out=None, quiet=True)
    assert run.config["validation_size"] == 23 and run.config["train_size"] == 89


def test_interrupt_keeps_a_folder_with_what_was_trained(tmp_path, monkeypatch):
    from zoo.training.loops import tf_loop

    original = tf_loop.TFEpochRunner.epoch
    calls = {"n": 0}

    def epoch(self, order, steps):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(self, order, steps)

    monkeypatch.setattr(tf_loop.TFEpochRunner, "epoch", epoch)
    run = zoo.train("mlp", "gaussians", epochs=10, out=str(tmp_path), quiet=True)
    assert run.status == "interrupted" and len(run.history) == 2
    assert json.loads((run.folder / "config.json").read_text())["status"] == "interrupted"
    assert (run.folder / "model.keras").exists()


def test_regression_metrics_and_figure(tmp_path):
    from sklearn.metrics import mean_squared_error, r2_score

    run = zoo.train(
        "mlp",
        "sigmoid-1d",
        hidden=(16,),
        activation="tanh",
        epochs=30,
        lr=0.1,
        out=str(tmp_path),
        quiet=True,
    )
    saved = np.load(run.folder / "predictions.npz")
    assert run.config["head"] == "linear" and run.config["loss"] == "mse"
    assert run.metrics["test"]["mse"] == pytest.approx(
        mean_squared_error(saved["y_test"], saved["pred_test"]), rel=1e-5
    )
    assert run.metrics["test"]["r2"] == pytest.approx(
        r2_score(saved["y_test"], saved["pred_test"]), rel=1e-5
    )
    assert (run.folder / "regression_fit.png").exists()


def test_two_dimensional_sets_get_a_decision_boundary(tmp_path):
    run = zoo.train("mlp", "circle", epochs=2, out=str(tmp_path), quiet=True)
    assert (run.folder / "decision_boundary.png").exists()
    data = np.load(run.folder / "data.npz")
    assert data["x_train"].shape == (250, 2)


@pytest.mark.parametrize(
    ("options", "flag"),
    [
        ({"lr": 0}, "lr"),
        ({"lr": -1}, "lr"),
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"mode": "batch", "batch_size": 8}, "batch_size"),
        ({"mode": "turbo"}, "mode"),
        ({"head": "sigmoid"}, "head"),
        ({"momentum": 1.5}, "momentum"),
        ({"validation": 1.0}, "validation"),
        ({"colour": "red"}, "colour"),
        ({"target_loss": float("inf")}, "target_loss"),  # "reached" by any loss at once
        ({"seed": -1}, "seed"),  # NumPy's legacy seeding (Keras's) takes 0..2**32-1
        ({"seed": 2**32}, "seed"),
        ({"hidden": "10,,5"}, "hidden"),  # a typo, not two layers
    ],
)
def test_impossible_training_options_name_the_option(options, flag):
    with pytest.raises(OptionError) as err:
        zoo.train("mlp", "sigmoid-1d", out=None, quiet=True, **options)
    assert err.value.option == flag


def test_an_out_folder_that_cannot_be_made_names_out_and_spares_what_is_there(tmp_path):
    blocker = tmp_path / "runs"
    blocker.write_text("my notes")
    with pytest.raises(OptionError) as err:
        zoo.train("logistic", "gaussians", epochs=1, out=str(blocker / "sub"), quiet=True)
    assert err.value.option == "out" and "cannot make a run folder" in str(err.value)
    assert blocker.read_text() == "my notes"


def test_a_users_own_keras_model_trains_too():
    import keras

    data = zoo.load_dataset("iris")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    run = zoo.train(model, data, epochs=3, out=None, quiet=True)
    assert run.config["head"] == "softmax" and len(run.history) == 3


def test_the_lab_run_on_an_official_format_archive(tmp_path):
    from image_fixtures import write_cifar100_archive

    (tmp_path / "data").mkdir()
    write_cifar100_archive(tmp_path / "data", train_per_class=6, test_per_class=2)
    run = zoo.train(
        "mlp",
        "cifar100-3class",
        data_dir=str(tmp_path / "data"),
        epochs=2,
        out=str(tmp_path / "runs"),
        quiet=True,
    )
    config = run.config
    assert config["class_names"] == ["apple", "otter", "pickup_truck"]
    assert config["class_ids"] == [0, 55, 58]
    # the lab's settings apply where none were given; --epochs given wins over the preset's 250
    assert (config["lr"], config["batch_size"], config["epochs"]) == (0.005, 18, 2)
    assert config["normalization"]["mean"] == pytest.approx([0.5074, 0.4867, 0.4411])
    assert "pickup_truck" in (run.folder / "classification_report.txt").read_text()
    assert (run.folder / "samples.png").exists()
    data = np.load(run.folder / "data.npz")
    assert data["sample_x"].dtype == np.uint8 and data["sample_x"].shape[1:] == (32, 32, 3)


def test_xla_reads_the_zoos_flags_at_its_first_compile_and_no_later_process_inherits_them(
    monkeypatch,
):
    from importlib.metadata import version

    from zoo.training.loops import tf_loop

    flag = tf_loop.XLA_FLAGS
    monkeypatch.setattr(tf_loop, "XLA_FLAGS_RELEASES", (version("tensorflow"),))
    for before, during in (
        (None, flag),
        ("--xla_dump_to=/somewhere", f"--xla_dump_to=/somewhere {flag}"),
        ("--xla_cpu_use_fusion_emitters=true", "--xla_cpu_use_fusion_emitters=true"),
    ):
        monkeypatch.setattr(tf_loop, "_xla_flags_given", False)
        if before is None:
            monkeypatch.delenv("XLA_FLAGS", raising=False)
        else:
            monkeypatch.setenv("XLA_FLAGS", before)
        with tf_loop.xla_flags(False, 128):  # a plain graph's call: not XLA's first compile
            assert os.environ.get("XLA_FLAGS") == before
        with tf_loop.xla_flags(True, 128):
            assert os.environ.get("XLA_FLAGS") == during
        assert os.environ.get("XLA_FLAGS") == before
        with tf_loop.xla_flags(True, 128):  # read once: later compiles are given nothing
            assert os.environ.get("XLA_FLAGS") == before

    # a first program that does not want them (the per-sample loop) decides for the process
    monkeypatch.setattr(tf_loop, "_xla_flags_given", False)
    monkeypatch.delenv("XLA_FLAGS", raising=False)
    for batch_size in (1, 128):
        with tf_loop.xla_flags(True, batch_size):
            assert "XLA_FLAGS" not in os.environ

    # a TensorFlow release whose XLA was not seen to have the flag is not given it
    monkeypatch.setattr(tf_loop, "XLA_FLAGS_RELEASES", ("0.0.",))
    monkeypatch.setattr(tf_loop, "_xla_flags_given", False)
    with tf_loop.xla_flags(True, 128):
        assert "XLA_FLAGS" not in os.environ
