"""Starting weights: `init=` on every builder, PyTorch's bounds by arithmetic, the presets."""

from __future__ import annotations

import json
import math

import image_fixtures as fx
import numpy as np
import pytest
from click.testing import CliRunner

import zoo
from zoo.cli import cli
from zoo.errors import OptionError
from zoo.models import create_model

# every layer kind the zoo builds with weights: hidden and output Dense, Conv2D with and
# without explicit padding, a convolution's dense layers, logistic and linear outputs
TORCH_MODELS = [
    ("mlp", (32, 32, 3), 3, {"hidden": (64, 10)}),
    ("cnn", (32, 32, 3), 3, {"dense": (40,)}),
    ("cnn", (28, 28), 10, {"conv": (8, 16), "kernel": 3, "stride": 1, "padding": "same"}),
    ("logistic", (64,), 10, {}),
    ("linear", (2,), 1, {}),
]


def weighted_layers(model):
    import keras

    kinds = (keras.layers.Dense, keras.layers.Conv2D)
    return [layer for layer in model.layers if isinstance(layer, kinds)]


def fan_in(kernel: np.ndarray) -> int:
    """PyTorch's fan_in: a Dense kernel is (inputs, units); a Conv2D one (kh, kw, in, out)."""
    return int(np.prod(kernel.shape[:-1]))


@pytest.mark.parametrize(("name", "shape", "classes", "options"), TORCH_MODELS)
def test_torch_init_gives_every_layer_pytorchs_linear_and_conv2d_bounds(
    name, shape, classes, options
):
    import keras

    keras.utils.set_random_seed(0)
    model = create_model(name, input_shape=shape, num_classes=classes, init="torch", **options)
    layers = weighted_layers(model)
    assert layers
    for layer in layers:
        kernel, bias = (np.asarray(w) for w in layer.get_weights())
        bound = 1 / math.sqrt(fan_in(kernel))  # torch.nn.Linear / Conv2d's reset_parameters
        assert np.abs(kernel).max() <= bound * (1 + 1e-6), layer.name
        assert np.abs(bias).max() <= bound * (1 + 1e-6), layer.name
        # uniform over the whole interval: near the bound, and the spread of U(-b, b)
        if kernel.size >= 100:
            assert np.abs(kernel).max() >= 0.95 * bound, layer.name
            assert kernel.std() == pytest.approx(bound / math.sqrt(3), rel=0.2), layer.name
        else:
            assert np.abs(kernel).max() >= 0.3 * bound, layer.name
        assert np.any(bias != 0), layer.name  # PyTorch's biases are drawn, not zero
        if bias.size >= 32:
            assert np.abs(bias).max() >= 0.8 * bound, layer.name


def test_the_default_init_stays_keras_glorot_with_zero_biases():
    import keras

    keras.utils.set_random_seed(0)
    model = create_model("mlp", input_shape=(3072,), num_classes=3, hidden=(10,))
    kernel, bias = (np.asarray(w) for w in model.get_layer("hidden_1").get_weights())
    glorot = math.sqrt(6 / (3072 + 10))
    assert np.abs(kernel).max() <= glorot and np.abs(kernel).max() > 1 / math.sqrt(3072)
    assert not np.any(bias)


@pytest.mark.parametrize("init", ["he", "lecun"])
def test_he_and_lecun_draw_normal_kernels_scaled_by_fan_in(init):
    import keras

    keras.utils.set_random_seed(0)
    model = create_model("mlp", input_shape=(400,), num_classes=3, hidden=(200,), init=init)
    kernel, bias = (np.asarray(w) for w in model.get_layer("hidden_1").get_weights())
    gain = 2.0 if init == "he" else 1.0
    # Keras's truncated normal: the truncation at 2 sd takes about 12% off the spread
    assert kernel.std() == pytest.approx(math.sqrt(gain / 400), rel=0.1)
    assert not np.any(bias)


def test_an_unknown_init_names_the_choices():
    with pytest.raises(OptionError, match="torch"):
        create_model("mlp", input_shape=(4,), num_classes=3, init="xavier")
    result = CliRunner().invoke(cli, ["train", "mlp", "iris", "--init", "xavier"])
    assert result.exit_code == 2 and "torch" in result.output


def test_the_course_presets_give_torch_to_the_course_models_on_any_cifar100_classes(tmp_path):
    fx.write_cifar100_archive(tmp_path)
    lab = zoo.load_dataset("cifar100-3class", data_dir=str(tmp_path))
    subset = zoo.load_dataset("cifar100", classes="bed,cup,otter", data_dir=str(tmp_path))
    for data in (lab, subset):
        assert data.defaults_for("mlp")["init"] == "torch"
        assert data.defaults_for("cnn") == {
            "lr": 0.005, "momentum": 0.9, "batch_size": 128, "epochs": 500, "init": "torch"
        }  # fmt: skip
        assert "init" not in data.defaults_for("logistic")
    assert lab.defaults_for("logistic")["lr"] == 0.005  # lab 1's settings, other models too
    assert subset.defaults_for("logistic") == {}
    whole = zoo.load_dataset("cifar100", data_dir=str(tmp_path))
    assert whole.defaults_for("mlp") == {}


def test_train_mlp_on_the_lab_set_records_torch_and_starts_within_its_bound(tmp_path):
    fx.write_cifar100_archive(tmp_path)
    out = tmp_path / "reports"
    # a learning rate of 1e-9 moves no weight measurably: the kernel is the starting one
    args = ["train", "mlp", "cifar100-3class", "--data-dir", str(tmp_path), "--epochs", "1"]
    args += ["--lr", "1e-9", "--out", str(out), "--no-report", "-q"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    (folder,) = out.iterdir()
    config = json.loads((folder / "config.json").read_text())
    assert config["model_options"]["init"] == "torch"
    import keras

    (saved,) = folder.glob("*.keras")
    layer = keras.models.load_model(saved, compile=False).get_layer("hidden_1")
    kernel, bias = (np.asarray(w) for w in layer.get_weights())
    bound = 1 / math.sqrt(3072)
    assert np.abs(kernel).max() <= bound * 1.0001 and np.abs(kernel).max() > 0.95 * bound
    assert np.abs(bias).max() <= bound * 1.0001 and np.any(bias)


def test_an_init_given_wins_over_the_preset(tmp_path):
    fx.write_cifar100_archive(tmp_path)
    run = zoo.train(
        "mlp", "cifar100-3class", data_dir=str(tmp_path), epochs=1, init="glorot", out=None,
        quiet=True,
    )  # fmt: skip
    assert run.config["model_options"]["init"] == "glorot"
