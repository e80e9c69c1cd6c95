"""Against overfitting: penalties and dropout in the builders, optimizers, learning-rate
schedules as Keras runs them, the bad values that name their option, and what the report
and the comparison table say about them."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from click.testing import CliRunner

import zoo
from zoo.cli import cli
from zoo.datasets import Dataset
from zoo.errors import OptionError

TOLERANCE = 2e-5  # as in test_speed_equivalence: float32 after tens of updates


def blobs(n_train: int = 60, n_test: int = 30, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=1.5, size=(3, 5))
    y = rng.integers(0, 3, n_train + n_test)
    x = (centers[y] + rng.normal(size=(len(y), 5))).astype("float32")
    return Dataset(
        "blobs", x[:n_train], y[:n_train], x[n_train:], y[n_train:], class_names=["a", "b", "c"]
    )


def twin_models(seed: int = 3):
    """Two copies of one small Keras model with the same initial weights."""
    import keras

    def build():
        keras.utils.set_random_seed(seed)
        return keras.Sequential(
            [
                keras.Input((5,)),
                keras.layers.Dense(8, activation="relu"),
                keras.layers.Dense(3, activation="softmax"),
            ]
        )

    return build(), build()


def gap(a, b) -> float:
    return float(max(np.max(np.abs(x - y)) for x, y in zip(a, b, strict=True)))


def fit_reference(model, data: Dataset, *, optimizer, batch_size: int, epochs: int, **fit):
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    return model.fit(
        data.x_train,
        data.y_train,
        batch_size=batch_size,
        epochs=epochs,
        shuffle=False,
        verbose=0,
        validation_data=(data.x_test, data.y_test),
        **fit,
    ).history


def keras_epoch_rates(schedule, steps: int, epochs: int) -> list[float]:
    """The mean of a Keras schedule over each epoch's updates, from Keras itself."""
    from keras import ops

    rates = [float(ops.convert_to_numpy(schedule(step))) for step in range(steps * epochs)]
    return [float(np.mean(rates[e * steps : (e + 1) * steps])) for e in range(epochs)]


# -- schedules: the weights of fit with Keras's own schedule or callback --------------------
def test_step_schedule_trains_as_fit_with_keras_exponential_decay_in_stairs():
    import keras

    data, (model, reference) = blobs(), twin_models()
    run = zoo.train(
        model, data, shuffle=False, batch_size=16, epochs=4, lr=0.2, momentum=0.5,
        lr_schedule="step", lr_step=1, lr_decay=0.5, out=None, quiet=True,
    )  # fmt: skip
    schedule = keras.optimizers.schedules.ExponentialDecay(0.2, 4, 0.5, staircase=True)
    optimizer = keras.optimizers.SGD(schedule, momentum=0.5)
    fit_reference(reference, data, optimizer=optimizer, batch_size=16, epochs=4)
    assert gap(model.get_weights(), reference.get_weights()) < TOLERANCE
    assert [row["lr"] for row in run.history] == [0.2, 0.1, 0.05, 0.025]
    assert run.config["lr_schedule"] == "step" and run.config["lr_step"] == 1


def test_cosine_with_warmup_trains_as_fit_and_the_history_has_each_epochs_mean_rate():
    import keras

    data, (model, reference) = blobs(), twin_models()
    run = zoo.train(
        model, data, shuffle=False, batch_size=16, epochs=5, lr=0.3, optimizer="adam",
        lr_schedule="cosine", warmup=1, out=None, quiet=True,
    )  # fmt: skip
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=16, warmup_target=0.3, warmup_steps=4
    )
    fit_reference(
        reference, data, optimizer=keras.optimizers.Adam(schedule), batch_size=16, epochs=5
    )
    assert gap(model.get_weights(), reference.get_weights()) < TOLERANCE
    expected = keras_epoch_rates(schedule, steps=4, epochs=5)
    assert [row["lr"] for row in run.history] == pytest.approx(expected, rel=1e-5)
    assert run.history[0]["lr"] < run.history[1]["lr"] > run.history[-1]["lr"]


def test_exponential_schedule_rates_are_kerass():
    import keras

    data, (model, _) = blobs(), twin_models()
    run = zoo.train(
        model, data, batch_size=32, epochs=6, lr=0.1, lr_schedule="exponential",
        lr_decay=0.1, out=None, quiet=True,
    )  # fmt: skip
    # lr_step defaults to the whole run: a tenth of the rate by its end
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 12, 0.1)
    expected = keras_epoch_rates(schedule, steps=2, epochs=6)
    assert [row["lr"] for row in run.history] == pytest.approx(expected, rel=1e-5)
    assert run.config["lr_step"] == 6 and run.config["lr_decay"] == 0.1


def test_plateau_cuts_the_rate_as_reduce_lr_on_plateau_does():
    import keras

    data, (model, reference) = blobs(seed=4), twin_models()
    run = zoo.train(
        model, data, shuffle=False, batch_size=8, epochs=10, lr=0.8, lr_schedule="plateau",
        lr_step=1, lr_decay=0.5, out=None, quiet=True,
    )  # fmt: skip
    callback = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1)
    history = fit_reference(
        reference,
        data,
        optimizer=keras.optimizers.SGD(0.8),
        batch_size=8,
        epochs=10,
        callbacks=[callback],
    )
    rates = [row["lr"] for row in run.history]
    assert len(set(rates)) > 2  # the test loss did stall: the rate was cut more than once
    assert rates == pytest.approx(history["learning_rate"])
    assert gap(model.get_weights(), reference.get_weights()) < TOLERANCE


def test_schedule_rates_on_the_host_equal_kerass_schedules():
    from zoo.training.options import TrainOptions
    from zoo.training.schedules import Schedule

    for given in (
        {"lr_schedule": "step", "lr_step": 2, "lr_decay": 0.3},
        {"lr_schedule": "exponential", "lr_step": 3, "lr_decay": 0.5},
        {"lr_schedule": "cosine"},
        {"lr_schedule": "cosine", "warmup": 2},
    ):
        opts = TrainOptions(lr=0.05, **given)
        opts.check()
        schedule = Schedule.plan(opts, steps=7, epochs=9)
        keras_schedule = schedule.keras()
        expected = [float(keras_schedule(step)) for step in range(7 * 9 + 3)]
        assert schedule.rates(0, 7 * 9 + 3) == pytest.approx(expected, rel=1e-5, abs=5e-9)


# -- optimizers --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("options", "keras_name", "settings"),
    [
        ({"optimizer": "adamw"}, "AdamW", {"weight_decay": 0.004}),
        ({"optimizer": "adamw", "weight_decay": 0.01}, "AdamW", {"weight_decay": 0.01}),
        ({"momentum": 0.9, "nesterov": True, "weight_decay": 1e-4}, "SGD", {"nesterov": True}),
        ({"optimizer": "rmsprop", "momentum": 0.5}, "RMSprop", {"momentum": 0.5}),
        ({"optimizer": "adagrad", "clip_norm": 1.0}, "Adagrad", {"global_clipnorm": 1.0}),
    ],
)
def test_each_optimizer_is_kerass_with_its_settings(options, keras_name, settings):
    from zoo.training.build import make_optimizer

    opts = zoo.training.options.TrainOptions(**options)
    opts.check()
    optimizer = make_optimizer(
        opts.optimizer, 0.01, opts.momentum, nesterov=opts.nesterov,
        weight_decay=opts.decay, clip_norm=opts.clip_norm,
    )  # fmt: skip
    assert type(optimizer).__name__ == keras_name
    config = optimizer.get_config()
    for key, value in settings.items():
        assert config[key] == pytest.approx(value)


def test_weight_decay_and_clipping_train_as_fit():
    import keras

    data, (model, reference) = blobs(), twin_models()
    zoo.train(
        model, data, shuffle=False, batch_size=16, epochs=3, lr=0.1, momentum=0.9,
        nesterov=True, weight_decay=0.01, clip_norm=0.5, out=None, quiet=True,
    )  # fmt: skip
    optimizer = keras.optimizers.SGD(
        0.1, momentum=0.9, nesterov=True, weight_decay=0.01, global_clipnorm=0.5
    )
    fit_reference(reference, data, optimizer=optimizer, batch_size=16, epochs=3)
    assert gap(model.get_weights(), reference.get_weights()) < TOLERANCE


# -- the builders ----------------------------------------------------------------------------
def test_mlp_puts_the_penalty_on_every_kernel_and_dropout_after_each_hidden_layer():
    import keras

    model = zoo.create_model(
        "mlp", input_shape=(6,), num_classes=3, hidden=(8, 4), l2=1e-3, l1=1e-4, dropout="0.2,0.5"
    )
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert all(d.kernel_regularizer.get_config() == {"l1": 1e-4, "l2": 1e-3} for d in dense)
    assert all(d.bias_regularizer is None for d in dense)
    drops = [layer for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
    assert [(d.name, d.rate) for d in drops] == [("dropout_1", 0.2), ("dropout_2", 0.5)]
    names = [layer.name for layer in model.layers]
    assert names.index("dropout_1") == names.index("hidden_1") + 1
    # the penalty is the one model.losses holds: l1·Σ|w| + l2·Σw² over the kernels
    kernels = [np.asarray(d.kernel) for d in dense]
    expected = sum(1e-4 * np.abs(k).sum() + 1e-3 * np.square(k).sum() for k in kernels)
    assert float(sum(np.asarray(v) for v in model.losses)) == pytest.approx(expected, rel=1e-5)


def test_no_penalty_and_no_dropout_is_the_plain_model():
    import keras

    keras.utils.set_random_seed(1)
    plain = zoo.create_model("mlp", input_shape=(6,), num_classes=3)
    keras.utils.set_random_seed(1)
    zero = zoo.create_model("mlp", input_shape=(6,), num_classes=3, l2=0, l1=0.0, dropout=0)
    assert [type(x).__name__ for x in zero.layers] == [type(x).__name__ for x in plain.layers]
    assert gap(zero.get_weights(), plain.get_weights()) == 0.0 and not zero.losses
    logistic = zoo.create_model("logistic", input_shape=(4,), num_classes=3, l2=0.01)
    assert logistic.layers[-1].kernel_regularizer.get_config()["l2"] == pytest.approx(0.01)


def test_run_records_the_penalty_in_the_loss_and_the_regularisation_in_its_config(tmp_path):
    run = zoo.train(
        "mlp", blobs(), epochs=2, l2=0.5, dropout=0.3, out=str(tmp_path), quiet=True, report=False
    )
    plain = zoo.train("mlp", blobs(), epochs=2, out=None, quiet=True)
    # a large penalty: the training loss of the first epoch is far above the plain run's
    assert run.history[0]["loss"] > plain.history[0]["loss"] + 1.0
    config = json.loads((run.folder / "config.json").read_text())
    assert config["model_options"]["l2"] == 0.5 and config["model_options"]["dropout"] == 0.3
    layers = {layer["name"]: layer for layer in config["layers"]}
    assert layers["hidden_1"]["l2"] == 0.5 and layers["output"]["l2"] == 0.5
    assert layers["dropout_1"]["rate"] == 0.3
    with (run.folder / "history.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert float(rows[0]["loss"]) == pytest.approx(run.history[0]["loss"])


# -- bad values ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("options", "option"),
    [
        ({"l2": -1e-3}, "l2"),
        ({"l1": float("nan")}, "l1"),
        ({"l2": float("inf")}, "l2"),
        ({"dropout": 1.0}, "dropout"),
        ({"dropout": -0.1}, "dropout"),
        ({"dropout": "0.2,0.5"}, "dropout"),  # two rates, one hidden layer
        ({"dropout": "0.2,,0.5", "hidden": (4, 4)}, "dropout"),
        ({"optimizer": "nadam"}, "optimizer"),
        ({"optimizer": "adam", "momentum": 0.9}, "momentum"),
        ({"optimizer": "adamw", "nesterov": True}, "nesterov"),
        ({"nesterov": True}, "nesterov"),  # no momentum
        ({"weight_decay": -0.1}, "weight_decay"),
        ({"optimizer": "adam", "weight_decay": 0.01}, "weight_decay"),
        ({"clip_norm": 0}, "clip_norm"),
        ({"lr_schedule": "linear"}, "lr_schedule"),
        ({"lr_schedule": "step", "lr_decay": 1.0}, "lr_decay"),
        ({"lr_schedule": "step", "lr_decay": 0}, "lr_decay"),
        ({"lr_schedule": "step", "lr_step": 0}, "lr_step"),
        ({"lr_schedule": "exponential", "lr_step": 2.5}, "lr_step"),
        ({"lr_schedule": "step", "warmup": 2}, "warmup"),
        ({"lr_schedule": "cosine", "lr_step": 2}, "lr_step"),
        ({"lr_decay": 0.5}, "lr_decay"),  # the constant rate takes none
        ({"lr_schedule": "cosine", "warmup": -1}, "warmup"),
        ({"lr_schedule": "cosine", "warmup": 5, "epochs": 5}, "warmup"),
    ],
)
def test_every_bad_value_names_its_option(options, option):
    with pytest.raises(OptionError) as err:
        zoo.train("mlp", "gaussians", out=None, quiet=True, **options)
    assert err.value.option == option


def test_builder_options_on_a_users_own_model_say_where_they_apply():
    model, _ = twin_models()
    with pytest.raises(OptionError, match="registered model") as err:
        zoo.train(model, blobs(), dropout=0.2, out=None, quiet=True)
    assert err.value.option == "dropout"


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--l2", "-1"], "--l2"),
        (["--l1", "nan"], "--l1"),
        (["--dropout", "1"], "--dropout"),
        (["--dropout", "0.2,x"], "--dropout"),
        (["--dropout", "0.2,0.5"], "--dropout"),
        (["--weight-decay", "-1"], "--weight-decay"),
        (["--optimizer", "adam", "--weight-decay", "0.1"], "--weight-decay"),
        (["--optimizer", "nadam"], "--optimizer"),
        (["--optimizer", "adagrad", "--momentum", "0.9"], "--momentum"),
        (["--nesterov"], "--nesterov"),
        (["--clip-norm", "0"], "--clip-norm"),
        (["--lr-schedule", "linear"], "--lr-schedule"),
        (["--lr-schedule", "step", "--lr-decay", "1.5"], "--lr-decay"),
        (["--lr-schedule", "step", "--lr-step", "0"], "--lr-step"),
        (["--lr-schedule", "cosine", "--lr-decay", "0.5"], "--lr-decay"),
        (["--lr-schedule", "plateau", "--warmup", "3"], "--warmup"),
        (["--lr-schedule", "cosine", "--warmup", "-1"], "--warmup"),
        (["--lr-schedule", "cosine", "--warmup", "9", "--epochs", "3"], "--warmup"),
        (["--lr-step", "3"], "--lr-step"),
    ],
)
def test_every_bad_value_exits_2_naming_the_flag(args, flag, tmp_path):
    argv = ["train", "mlp", "gaussians", "--epochs", "2", "-q", "--out", str(tmp_path), *args]
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 2, result.output
    assert flag in result.output
    assert not list(tmp_path.iterdir())  # refused before any run folder


def test_penalty_and_dropout_on_models_that_do_not_take_them_exit_2(tmp_path):
    for argv, flag in (
        (["train", "logistic", "iris", "--dropout", "0.2"], "--dropout"),
        (["train", "lecture-net", "gaussians", "--l2", "0.1"], "--l2"),
    ):
        result = CliRunner().invoke(cli, [*argv, "-q", "--out", str(tmp_path)])
        assert result.exit_code == 2 and flag in result.output, result.output


# -- the report and the table ------------------------------------------------------------------
@pytest.fixture(scope="module")
def regularised_run(tmp_path_factory):
    """The issue's command, shortened: its report and folder."""
    out = tmp_path_factory.mktemp("runs")
    argv = [
        "train", "mlp", "digits", "--l2", "1e-3", "--dropout", "0.2", "--lr-schedule", "cosine",
        "--optimizer", "adamw", "--epochs", "6", "--out", str(out),
    ]  # fmt: skip
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 0, result.output
    (folder,) = out.iterdir()
    return folder


def test_the_report_shows_the_regularisation_the_schedule_and_the_gap(regularised_run):
    from pypdf import PdfReader

    pages = [page.extract_text() for page in PdfReader(regularised_run / "report.pdf").pages]
    training = " ".join(pages[4].split())
    for text in (
        "ADAMW",
        "L2 0.001 (kernels)",
        "dropout 0.2",
        "weight decay 0.004",
        "cosine: down to 0 by the last update",
    ):
        assert text in training, text
    gap_page = " ".join(pages[5].split())
    assert "generalisation gap and learning rate" in gap_page
    history = list(csv.DictReader((regularised_run / "history.csv").open()))
    best = json.loads((regularised_run / "metrics.json").read_text())["best_epoch"]
    row = next(r for r in history if int(r["epoch"]) == best)
    loss_gap = float(row["val_loss"]) - float(row["loss"])
    assert f"At the best epoch ({best}): loss on the test set − training loss = {loss_gap:.4f}" in (
        gap_page
    )
    for name in ("generalization_gap", "learning_rate"):
        assert (regularised_run / f"{name}.png").stat().st_size > 10_000
    rates = [float(r["lr"]) for r in history]
    assert rates == sorted(rates, reverse=True) and rates[-1] < rates[0] / 10


def test_compare_lists_the_new_hyperparameters(regularised_run, tmp_path):
    result = CliRunner().invoke(
        cli, ["compare", str(regularised_run), "--out", str(tmp_path / "table.csv")]
    )
    assert result.exit_code == 0, result.output
    for text in ("optimizer = adamw", "l2 = 0.001", "dropout = 0.2", "lr_schedule = cosine"):
        assert text in result.output, text
    (row,) = list(csv.DictReader((tmp_path / "table.csv").open()))
    assert (row["optimizer"], row["l2"], row["dropout"], row["lr_schedule"]) == (
        "adamw",
        "0.001",
        "0.2",
        "cosine",
    )
    assert float(row["weight_decay"]) == pytest.approx(0.004)


JAX_SCHEDULES = """
import json, sys
sys.path.insert(0, {tests!r})
import keras
import test_regularization as t
import zoo
assert keras.backend.backend() == "jax"
gaps = {{}}
data, (model, reference) = t.blobs(seed=4), t.twin_models()
run = zoo.train(model, data, shuffle=False, batch_size=8, epochs=10, lr=0.8, out=None,
                quiet=True, lr_schedule="plateau", lr_step=1, lr_decay=0.5, l2=None)
callback = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1)
fit = t.fit_reference(reference, data, optimizer=keras.optimizers.SGD(0.8), batch_size=8,
                      epochs=10, callbacks=[callback])
gaps["plateau"] = t.gap(model.get_weights(), reference.get_weights())
gaps["plateau_rates"] = max(abs(a["lr"] - b) for a, b in zip(run.history, fit["learning_rate"]))
gaps["cuts"] = len(set(row["lr"] for row in run.history))
data, (model, reference) = t.blobs(), t.twin_models()
zoo.train(model, data, shuffle=False, batch_size=16, epochs=5, lr=0.3, optimizer="adam",
          lr_schedule="cosine", warmup=1, out=None, quiet=True)
schedule = keras.optimizers.schedules.CosineDecay(0.0, 16, warmup_target=0.3, warmup_steps=4)
t.fit_reference(reference, data, optimizer=keras.optimizers.Adam(schedule), batch_size=16,
                epochs=5)
gaps["cosine"] = t.gap(model.get_weights(), reference.get_weights())
print(json.dumps(gaps))
"""


def test_schedules_and_plateau_train_as_fit_on_jax_too():
    import importlib.util
    import os
    import subprocess
    import sys
    from pathlib import Path

    if importlib.util.find_spec("jax") is None:
        pytest.skip("jax is not installed (pip install 'keras-zoo[jax]')")
    tests = str(Path(__file__).parent)
    done = subprocess.run(
        [sys.executable, "-c", JAX_SCHEDULES.format(tests=tests)],
        env={**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"},
        capture_output=True,
        text=True,
        timeout=900,  # a guard against a hang; a loaded 2-core machine takes minutes
    )
    assert done.returncode == 0, done.stderr[-3000:]
    gaps = json.loads(done.stdout.strip().splitlines()[-1])
    assert gaps["cuts"] > 2  # the rate variable, cut between epochs, reached the updates
    assert gaps["plateau"] < TOLERANCE and gaps["cosine"] < TOLERANCE
    assert gaps["plateau_rates"] < 1e-6
