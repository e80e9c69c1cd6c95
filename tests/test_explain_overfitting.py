"""`zoo explain overfitting`: the U of test error against capacity, three cures, and the
numbers it prints."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from zoo.cli import cli
from zoo.explain import overfitting as module


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """The command at its defaults: what it printed and the JSON it wrote."""
    out = tmp_path_factory.mktemp("overfitting")
    run = CliRunner().invoke(cli, ["explain", "overfitting", "--out", str(out)])
    assert run.exit_code == 0, run.output
    numbers = json.loads((out / "overfitting.json").read_text(encoding="utf-8"))
    return run.output, numbers, out


def test_the_numpy_network_trains_as_keras_does_with_its_penalty():
    import keras

    rng = np.random.default_rng(3)
    x = rng.normal(size=(1, 16, 2))
    y = (rng.random((1, 16)) > 0.5).astype(float)
    start = module.init(np.random.default_rng(5), 1, 4)  # what `train` draws first
    ours, _ = module.train(x, y, 4, np.random.default_rng(5), steps=30, lr=0.05, l2=0.01)
    model = keras.Sequential(
        [
            keras.Input((2,)),
            keras.layers.Dense(
                4, activation="relu", kernel_regularizer=keras.regularizers.L2(0.01)
            ),
            keras.layers.Dense(1, kernel_regularizer=keras.regularizers.L2(0.01)),
        ]
    )
    model.set_weights([start["W1"][0], start["b1"][0], start["W2"][0], start["b2"][0]])
    model.compile(
        optimizer=keras.optimizers.Adam(0.05),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
    )
    for _ in range(30):
        model.train_on_batch(x[0].astype("float32"), y[0].astype("float32"))
    for theirs, key in zip(model.get_weights(), ("W1", "b1", "W2", "b2"), strict=True):
        np.testing.assert_allclose(ours[key][0], theirs, atol=5e-5)


def test_test_error_against_capacity_is_u_shaped_and_training_error_falls(printed):
    _, numbers, _ = printed
    models = numbers["models"]
    test = [m["test_error"] for m in models]
    best = numbers["best"]
    assert test[best] == min(test) and 0 < best < len(models) - 1
    assert test[0] > test[best] + 0.1  # logistic regression cannot draw an XOR: bias
    assert test[-1] > test[best] + 0.01  # the widest fits the noise: variance
    assert models[-1]["train_error"] < 0.01 < models[best]["train_error"]
    train = [m["train_error"] for m in models]
    assert train[0] > 0.3 and train[-1] < train[best] < train[0]


def test_each_cure_lowers_the_widest_networks_test_error(printed):
    _, numbers, _ = printed
    plain, *cures = numbers["cures"]
    assert [c["label"] for c in cures] == ["l2", "dropout", "early_stopping"]
    for cure in cures:
        assert cure["test_error"] < plain["test_error"], cure["label"]
        assert cure["train_error"] > plain["train_error"]  # they stop the noise being learnt
    stopped = cures[-1]["stopped_at"]
    # most draws stop long before the last step (their held-out loss stops falling)
    assert len(stopped) == numbers["draws"] and np.median(stopped) < numbers["steps"] / 10


def test_the_printed_table_is_the_json(printed):
    output, numbers, out = printed
    lines = output.splitlines()
    for model in numbers["models"]:
        name = (
            "logistic regression" if not model["hidden"] else f"hidden layer of {model['hidden']}"
        )
        (line,) = [ln for ln in lines if ln.strip().startswith(name + " ")]
        params, train, test = line[len(name) + 2 :].split()[:3]
        assert int(params) == model["params"]
        assert float(train) == pytest.approx(model["train_error"], abs=5e-4)
        assert float(test) == pytest.approx(model["test_error"], abs=5e-4)
        # a mean over the training sets of the share misclassified on 2000 points
        assert model["test_error"] == pytest.approx(np.mean(model["test_errors"]))
    best = numbers["models"][numbers["best"]]
    assert (
        f"Lowest test error: hidden layer of {best['hidden']} ({best['test_error']:.3f})" in output
    )
    assert (out / "overfitting.png").stat().st_size > 50_000


def test_in_russian_with_a_pdf_figure(tmp_path):
    args = ["explain", "overfitting", "--lang", "ru", "--format", "pdf", "--draws", "2"]
    args += ["--steps", "200", "--widths", "0,4,32", "--out", str(tmp_path)]
    run = CliRunner().invoke(cli, args)
    assert run.exit_code == 0, run.output
    assert "логистическая регрессия" in run.output and "скрытый слой из 32" in run.output
    assert (tmp_path / "overfitting.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--widths", "8,4"], "--widths"),
        (["--widths", "2,x"], "--widths"),
        (["--widths", "0,99999"], "--widths"),
        (["--points", "3"], "--points"),
        (["--dropout", "1"], "--dropout"),
        (["--l2", "-1"], "--l2"),
        (["--lr", "nan"], "--lr"),
        (["--draws", "0"], "--draws"),
        (["--noise", "inf"], "--noise"),
    ],
)
def test_bad_values_exit_2_naming_the_option(args, flag, tmp_path):
    run = CliRunner().invoke(cli, ["explain", "overfitting", *args, "--out", str(tmp_path)])
    assert run.exit_code == 2, run.output
    assert flag in run.output
