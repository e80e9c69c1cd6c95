"""The convolutional network of lab 2: its builder, its presets, its report and `zoo shift`."""

from __future__ import annotations

import json
from pathlib import Path

import image_fixtures as fx
import numpy as np
import pytest
from click.testing import CliRunner

import zoo
from zoo.cli import cli
from zoo.errors import OptionError

# The lab's network as torchsummary prints it (notebooks/Lab2.ipynb), for 3 classes
LAB2_SHAPES = {
    "Conv2d-2": (32, 8, 8),
    "Conv2d-4": (64, 8, 8),
    "AvgPool2d-6": (64, 2, 2),
    "Flatten-7": (256,),
    "Linear-8": (3,),
}
LAB2_PARAMS = {"Conv2d-2": 2432, "Conv2d-4": 18496, "Linear-8": 771}


def invoke(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.output


def pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    return " ".join(" ".join((page.extract_text() or "").split()) for page in PdfReader(path).pages)


# -- the builder ---------------------------------------------------------------------------------
def test_the_default_cnn_is_lab_2s_example_with_21699_parameters():
    model = zoo.create_model("cnn", input_shape=(32, 32, 3), num_classes=3)
    assert model.count_params() == 21_699
    weighted = [layer for layer in model.layers if layer.count_params() or "pool" in layer.name]
    weighted.insert(3, model.get_layer("flatten"))
    shapes = [tuple(layer.output.shape[1:]) for layer in weighted]
    # Keras keeps channels last: (C, H, W) in PyTorch is (H, W, C) here
    torch_order = [s[1:] + s[:1] if len(s) == 3 else s for s in LAB2_SHAPES.values()]
    assert shapes == torch_order
    params = [layer.count_params() for layer in weighted if layer.count_params()]
    assert params == list(LAB2_PARAMS.values())


def test_explicit_padding_pads_as_pytorch_does():
    """conv_1 (5x5, stride 4, padding 2) against the convolution computed by hand."""
    model = zoo.create_model("cnn", input_shape=(32, 32, 3), num_classes=3)
    conv = model.get_layer("conv_1")
    x = np.random.default_rng(0).normal(size=(1, 32, 32, 3)).astype("float32")
    import keras

    ours = np.asarray(keras.Model(model.input, conv.output)(x))[0]
    kernel, bias = (np.asarray(w) for w in conv.get_weights())
    padded = np.pad(x[0], ((2, 2), (2, 2), (0, 0)))
    expected = np.zeros((8, 8, 32), dtype="float64")
    for i in range(8):
        for j in range(8):
            window = padded[4 * i : 4 * i + 5, 4 * j : 4 * j + 5, :]
            expected[i, j] = np.tensordot(window, kernel, axes=3) + bias
    np.testing.assert_allclose(ours, np.maximum(expected, 0), atol=1e-4)


@pytest.mark.parametrize("pooling", ["max", "stride"])
def test_the_three_pooling_tactics_keep_the_maps_and_the_parameters(pooling):
    model = zoo.create_model("cnn", input_shape=(32, 32, 3), num_classes=3, pooling=pooling)
    assert model.count_params() == 21_699
    assert tuple(model.get_layer("flatten").output.shape[1:]) == (256,)
    pools = [layer for layer in model.layers if "Pooling" in type(layer).__name__]
    if pooling == "stride":  # no pooling layer: conv_2 strides 4 instead
        assert pools == [] and model.get_layer("conv_2").strides == (4, 4)
    else:
        assert [type(p).__name__ for p in pools] == ["MaxPooling2D"]


def test_every_option_shapes_the_network():
    model = zoo.create_model(
        "cnn", input_shape=(28, 28), num_classes=10, conv="8,16,16", kernel=3, stride=1,
        padding="same", pool_size=2, batch_norm=True, dense=(20,), dropout="0.3,0.2",
        l1=1e-4, l2=1e-3, augment="flip,translate=0.1",
    )  # fmt: skip
    names = [layer.name for layer in model.layers]
    assert names[:4] == ["inputs", "channels", "augment_flip", "augment_translate"]
    assert [tuple(model.get_layer(f"pool_{i}").output.shape[1:3]) for i in (1, 2, 3)] == [
        (14, 14),
        (7, 7),
        (3, 3),
    ]
    assert model.get_layer("conv_1").use_bias is False  # the batch norm's shift is the bias
    assert model.get_layer("dropout_0").rate == 0.3 and model.get_layer("dropout_1").rate == 0.2
    convs = [layer for layer in model.layers if type(layer).__name__ == "Conv2D"]
    assert all(c.kernel_regularizer.get_config()["l2"] == pytest.approx(1e-3) for c in convs)
    assert model.get_layer("output").kernel_regularizer is not None


@pytest.mark.parametrize(
    ("options", "option", "words"),
    [
        ({"kernel": (5, 3, 3)}, "kernel", "3 values for 2 conv blocks"),
        ({"padding": "2,x"}, "padding", "not a number of pixels"),
        ({"pool_size": 16}, "pool_size", "smaller than the 16×16 pooling"),
        (
            {"conv": (8,) * 4, "kernel": 3, "stride": 4, "padding": 0, "pool_size": 1},
            "kernel",
            "larger",
        ),
        ({"pooling": "sum"}, "pooling", "not one of avg, max, stride, none"),
        ({"augment": "flip,blur"}, "augment", "'blur' is not one of"),
        ({"augment": "translate=2"}, "augment", "not a number in (0, 1]"),
        ({"dropout": (0.1, 0.2, 0.3)}, "dropout", "3 rates"),
    ],
)
def test_impossible_cnn_options_name_the_option(options, option, words):
    with pytest.raises(OptionError) as err:
        zoo.create_model("cnn", input_shape=(32, 32, 3), num_classes=3, **options)
    assert err.value.option == option and words in err.value.message


def test_a_cnn_on_vectors_exits_2_saying_why():
    code, out = invoke("train", "cnn", "iris", "--epochs", "1", "-q", "--out", "unused")
    assert code == 2 and "cnn convolves images" in out and "use mlp" in out
    with pytest.raises(OptionError, match="convolves images"):
        zoo.create_model("cnn", input_shape=(2,), num_classes=2)


@pytest.mark.parametrize("dataset", ["mnist", "fashion-mnist", "cifar10"])
def test_the_cnn_trains_on_every_image_set(tmp_path, dataset):
    if dataset == "cifar10":
        fx.write_cifar10_archive(tmp_path)
    else:  # MNIST's files in the folder itself, Fashion-MNIST's in a folder of their own
        fx.write_mnist_files(tmp_path / ("fashion-mnist" if dataset == "fashion-mnist" else ""))
    data_dir = tmp_path
    run = zoo.train(
        "cnn", dataset, data_dir=str(data_dir), conv=(4,), kernel=3, stride=2, padding=1,
        pool_size=2, epochs=2, batch_size=8, out=None, quiet=True,
    )  # fmt: skip
    assert run.status == "completed" and np.isfinite(run.history[-1]["loss"])
    assert run.model.input_shape[1:] == run.dataset.input_shape


def test_the_same_seed_augments_the_same_way():
    from zoo.datasets import Dataset

    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 256, (48, 8, 8, 3), dtype=np.uint8), rng.integers(0, 3, 48)
    data = Dataset("tiny", x[:36], y[:36], x[36:], y[36:], class_names=["a", "b", "c"])
    options = {
        "conv": (4,), "kernel": 3, "stride": 1, "padding": 1, "pool_size": 2, "epochs": 2,
        "batch_size": 12, "out": None, "quiet": True, "augment": "flip,translate=0.2,contrast",
    }  # fmt: skip
    runs = {
        name: zoo.train("cnn", data, seed=seed, **options)
        for name, seed in (("first", 1), ("again", 1), ("other", 2))
    }
    losses = {name: [row["loss"] for row in run.history] for name, run in runs.items()}
    assert losses["first"] == losses["again"]
    assert losses["first"] != losses["other"]


# -- presets ---------------------------------------------------------------------------------------
def test_each_model_family_gets_its_labs_settings_and_options_given_win(tmp_path):
    from zoo.training.options import TrainOptions

    fx.write_cifar100_archive(tmp_path)
    data = zoo.load_dataset("cifar100-3class", data_dir=str(tmp_path))
    cnn = TrainOptions.checked({}, data.defaults_for("cnn"))
    mlp = TrainOptions.checked({}, data.defaults_for("mlp"))
    assert (cnn.lr, cnn.momentum, cnn.batch_size, cnn.epochs) == (0.005, 0.9, 128, 500)
    assert (mlp.lr, mlp.momentum, mlp.batch_size, mlp.epochs) == (0.005, 0.0, 128, 250)
    given = TrainOptions.checked({"momentum": 0.5, "epochs": 3}, data.defaults_for("cnn"))
    assert (given.momentum, given.epochs, given.lr) == (0.5, 3, 0.005)
    adam = TrainOptions.checked({"optimizer": "adam"}, data.defaults_for("cnn"))
    assert adam.momentum == 0.0  # SGD's momentum means nothing to Adam
    code, out = invoke("info", "cifar100-3class", "--data-dir", tmp_path)
    assert code == 0, out
    assert "cnn" in out and "--momentum 0.9" in out and "--epochs 500" in out
    assert "other models" in out and "--epochs 250" in out


# -- one trained lab 2 run, reported ---------------------------------------------------------------
@pytest.fixture(scope="module")
def lab_runs(tmp_path_factory):
    """A cnn and an mlp run on the CIFAR-100 fixture, with the presets (2 epochs)."""
    root = tmp_path_factory.mktemp("cnn")
    fx.write_cifar100_archive(root, train_per_class=8, test_per_class=4)
    out = root / "reports"
    common = ("--data-dir", root, "--epochs", "2", "--out", out, "-q")
    code, text = invoke("train", "cnn", "cifar100-3class", *common, "--comment", "avg")
    assert code == 0, text
    code, text = invoke("train", "mlp", "cifar100-3class", *common, "--no-report")
    assert code == 0, text
    folders = sorted(out.iterdir())
    return {"cnn": folders[0], "mlp": folders[1], "root": root}


def test_the_cnn_run_records_lab_2s_settings(lab_runs):
    config = json.loads((lab_runs["cnn"] / "config.json").read_text())
    assert (config["lr"], config["momentum"], config["batch_size_asked"]) == (0.005, 0.9, 128)
    conv = next(layer for layer in config["layers"] if layer["name"] == "conv_1")
    assert conv["pad"] == 2 and conv["strides"] == [4, 4] and conv["kernel_size"] == [5, 5]
    assert (conv["neurons"], conv["connections"], conv["weights"]) == (2048, 153600, 2400)
    mlp = json.loads((lab_runs["mlp"] / "config.json").read_text())
    assert (mlp["momentum"], mlp["epochs"]) == (0.0, 2)


def test_the_report_counts_a_convolutions_neurons_connections_and_shared_weights(lab_runs):
    folder = lab_runs["cnn"]
    text = pdf_text(folder / "report.pdf")
    assert "Lab work No. 2" in text
    assert "Conv(32, 5×5, s4, p2), Conv(64, 3×3, s1, p1), AvgPool(4), FC(3)" in text
    assert "conv_1 75 2048 153600 2400 32 2432" in text
    assert "Total 6147 1334016 21600 99 21699" in text
    assert "Weight sharing" in text and "153600 connections carry only 2400 weights" in text
    for name in ("conv_filters", "feature_maps"):
        assert (folder / f"{name}.png").stat().st_size > 5000


def test_compare_puts_parameters_and_connections_of_fc_and_cnn_side_by_side(lab_runs):
    code, out = invoke("compare", lab_runs["cnn"], lab_runs["mlp"], "--lang", "en")
    assert code == 0, out
    rows = [line for line in out.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert "| 21699 / 1334016 |" in rows[0] and "| 30763 / 30750 |" in rows[1]
    assert "gap = " in rows[0]


def test_shifted_images_move_and_leave_a_black_border():
    from zoo.evaluation.shift import shift_images

    x = np.arange(1, 10, dtype=np.uint8).reshape(1, 3, 3)
    assert shift_images(x, 1, 0)[0].tolist() == [[0, 1, 2], [0, 4, 5], [0, 7, 8]]
    assert shift_images(x, 0, -1)[0].tolist() == [[4, 5, 6], [7, 8, 9], [0, 0, 0]]
    assert not shift_images(x, 3, 0).any()


def test_zoo_shift_compares_fc_and_cnn_in_one_figure(lab_runs, tmp_path):
    code, out = invoke(
        "shift", lab_runs["mlp"], lab_runs["cnn"], "--max", "2", "--out", tmp_path, "--lang", "ru"
    )
    assert code == 0, out
    assert "Без сдвига" in out and "21699" in out
    result = json.loads((tmp_path / "shift.json").read_text())
    assert result["shifts"] == [-2, -1, 0, 1, 2]
    for run, folder in zip(result["runs"], (lab_runs["mlp"], lab_runs["cnn"]), strict=True):
        metrics = json.loads((folder / "metrics.json").read_text())
        assert run["unshifted"] == pytest.approx(metrics["test"]["accuracy"])  # the same rule
        assert len(run["x_curve"]) == 5 and np.shape(run["accuracy"]) == (5, 5)
        assert run["network"] and run["connections"] > 0  # added by the report to the numbers
    for name in ("shift_curves.png", "shift_heatmaps.png"):
        assert (tmp_path / name).stat().st_size > 5000
    code, out = invoke("shift", lab_runs["mlp"], "--max", "2", "--out", tmp_path)
    assert code == 2 and "--force" in out  # the files written are not replaced
