"""The datasets that need no download: scikit-learn's bundled tables and the generated sets."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from zoo.cli import cli
from zoo.datasets import CLASSIFICATION, REGRESSION, list_datasets, load_dataset
from zoo.datasets.split import stratified_split
from zoo.errors import OptionError

# name -> (total examples, features, class names, test share)
EXPECTED = {
    "digits": (1797, 64, [str(d) for d in range(10)], 0.25),
    "iris": (150, 4, ["setosa", "versicolor", "virginica"], 0.25),
    "wine": (178, 13, ["class_0", "class_1", "class_2"], 0.25),
    "breast-cancer": (569, 30, ["malignant", "benign"], 0.25),
    "gaussians": (100, 2, ["0", "1"], 0.25),
    "circle": (500, 2, ["+1", "-1"], 0.5),
    "xor": (500, 2, ["+1", "-1"], 0.5),
    "gauss": (500, 2, ["+1", "-1"], 0.5),
    "spiral": (500, 2, ["+1", "-1"], 0.5),
    "moons": (500, 2, ["0", "1"], 0.25),
    "noisy-xor": (1000, 2, ["0", "1"], 0.25),
    "sigmoid-1d": (500, 1, [], 0.25),
}
GENERATED = ["gaussians", "circle", "xor", "gauss", "spiral", "moons", "noisy-xor", "sigmoid-1d"]
PLAYGROUND = ["circle", "xor", "gauss", "spiral"]


def whole(ds):
    """All examples of a dataset, train then test."""
    return np.concatenate([ds.x_train, ds.x_test]), np.concatenate([ds.y_train, ds.y_test])


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_offline_dataset_loads_with_its_shapes_dtypes_and_classes(name):
    total, features, class_names, test_share = EXPECTED[name]
    ds = load_dataset(name)
    assert ds.name == name
    assert ds.input_shape == (features,)
    assert len(ds.x_train) + len(ds.x_test) == total
    assert len(ds.x_test) == int(np.ceil(test_share * total))
    assert len(ds.y_train) == len(ds.x_train) and len(ds.y_test) == len(ds.x_test)
    assert ds.x_train.dtype == np.float32 and ds.x_test.dtype == np.float32
    assert ds.class_names == class_names
    assert ds.description and "\n" not in ds.description
    assert ds.normalization is None
    if name == "sigmoid-1d":
        assert ds.task == REGRESSION
        assert ds.y_train.dtype == np.float32 and ds.y_test.dtype == np.float32
    else:
        assert ds.task == CLASSIFICATION
        assert ds.y_train.dtype == np.int64 and ds.y_test.dtype == np.int64
        assert set(np.unique(whole(ds)[1])) == set(range(len(class_names)))


def test_digits_keep_their_raw_pixel_scale():
    x, _ = whole(load_dataset("digits"))
    assert x.min() == 0 and x.max() == 16


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_same_seed_gives_identical_arrays_and_another_seed_differs(name):
    a, b, c = load_dataset(name, seed=3), load_dataset(name, seed=3), load_dataset(name, seed=4)
    for part in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, part), getattr(b, part))
    assert not np.array_equal(a.x_train, c.x_train)
    assert a.options["seed"] == 3


def test_default_seed_is_zero():
    np.testing.assert_array_equal(load_dataset("iris").x_test, load_dataset("iris", seed=0).x_test)


@pytest.mark.parametrize("name", ["digits", "wine", "breast-cancer", "gaussians", "noisy-xor"])
def test_split_keeps_each_class_proportion_within_one_example(name):
    ds = load_dataset(name)
    counts = ds.counts()
    train, test = np.array(counts["train"]), np.array(counts["test"])
    share = len(ds.y_test) / (len(ds.y_train) + len(ds.y_test))
    assert np.all(np.abs(test - share * (train + test)) <= 1)


def test_stratified_split_uneven_classes_and_shuffled_order():
    y = np.repeat([0, 1, 2], [60, 30, 10])
    train, test = stratified_split(y, 0.25, np.random.default_rng(0))
    # 25 test examples: 15, 7.5 and 2.5 by proportion; the tie of remainders goes to class 1.
    assert np.bincount(y[test]).tolist() == [15, 8, 2]
    assert len(test) == 25 and len(train) == 75
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(100))
    # Not sorted by class: the classes are mixed in both parts.
    assert not np.all(np.diff(y[train]) >= 0)


def test_stratified_split_of_the_smallest_allowed_set_fills_both_parts():
    y = np.array([0, 0, 1, 1])
    train, test = stratified_split(y, 0.25, np.random.default_rng(0))
    assert len(test) == 1 and len(train) == 3
    assert set(y[train]) == {0, 1}


@pytest.mark.parametrize("name", GENERATED)
def test_samples_option_sets_the_total_even_when_odd(name):
    ds = load_dataset(name, samples=41)
    assert len(ds.x_train) + len(ds.x_test) == 41
    assert ds.options["samples"] == 41


def test_gaussians_are_the_lectures_two_clouds():
    x, y = whole(load_dataset("gaussians", samples=4000))
    assert np.bincount(y).tolist() == [2000, 2000]
    np.testing.assert_allclose(x[y == 0].mean(axis=0), [-1, -1], atol=0.05)
    np.testing.assert_allclose(x[y == 1].mean(axis=0), [1, 1], atol=0.05)
    np.testing.assert_allclose(x[y == 0].std(axis=0), [0.65, 0.65], atol=0.03)
    x, y = whole(load_dataset("gaussians", samples=4000, noise=0.3))
    np.testing.assert_allclose(x[y == 1].std(axis=0), [0.3, 0.3], atol=0.02)


def test_circle_without_noise_puts_class_0_inside_and_class_1_in_the_ring():
    x, y = whole(load_dataset("circle"))
    r = np.hypot(x[:, 0], x[:, 1])
    assert r[y == 0].max() < 2.5
    assert r[y == 1].min() >= 3.5 - 1e-5 and r[y == 1].max() <= 5 + 1e-5
    assert np.bincount(y).tolist() == [250, 250]


def test_circle_noise_flips_labels_but_not_points():
    x, y = whole(load_dataset("circle", noise=0.5))
    r = np.hypot(x[:, 0], x[:, 1])
    # Points keep their radii; the noisy copy the label is read from crosses the boundary.
    assert np.all((r < 2.5) | (r >= 3.5 - 1e-5))
    assert np.any((r >= 3.5 - 1e-5) & (y == 0)) and np.any((r < 2.5) & (y == 1))


def test_xor_labels_follow_the_quadrant_sign_rule_and_padding():
    x, y = whole(load_dataset("xor"))
    np.testing.assert_array_equal(y, np.where(x[:, 0] * x[:, 1] >= 0, 0, 1))
    assert np.abs(x).min() >= 0.3 - 1e-6 and np.abs(x).max() <= 5.3 + 1e-5
    noisy_x, noisy_y = whole(load_dataset("xor", noise=0.5))
    assert np.any(noisy_y != np.where(noisy_x[:, 0] * noisy_x[:, 1] >= 0, 0, 1))


@pytest.mark.parametrize("noise, variance", [(0.0, 0.5), (0.25, 2.25), (0.5, 4.0)])
def test_gauss_variance_follows_the_playground_noise_scale(noise, variance):
    x, y = whole(load_dataset("gauss", samples=8000, noise=noise))
    np.testing.assert_allclose(x[y == 0].mean(axis=0), [2, 2], atol=0.1)
    np.testing.assert_allclose(x[y == 1].mean(axis=0), [-2, -2], atol=0.1)
    np.testing.assert_allclose(x[y == 0].var(axis=0), [variance] * 2, rtol=0.08)


def test_spiral_has_two_arms_half_a_turn_apart():
    x, y = whole(load_dataset("spiral"))
    arm0, arm1 = x[y == 0], x[y == 1]
    assert len(arm0) == len(arm1) == 250
    # Arm -1 is arm +1 turned by pi, i.e. mirrored through the origin.
    key = np.lexsort
    a = arm0[key((arm0[:, 1], arm0[:, 0]))]
    b = -arm1[key((-arm1[:, 1], -arm1[:, 0]))]
    np.testing.assert_allclose(a, b, atol=1e-5)
    # Along an arm the angle grows with the radius: t = 1.75 turns * r / 5.
    r = np.hypot(arm0[:, 0], arm0[:, 1])
    t = np.arctan2(arm0[:, 0], arm0[:, 1])
    expected = 1.75 * 2 * np.pi * r / 5
    diff = np.angle(np.exp(1j * (t - expected)))
    assert r.max() < 5 and np.abs(diff[r > 0.05]).max() < 1e-3


def test_spiral_noise_moves_the_points():
    clean, _ = whole(load_dataset("spiral"))
    noisy, _ = whole(load_dataset("spiral", noise=0.5))
    assert not np.allclose(np.sort(clean, axis=0), np.sort(noisy, axis=0), atol=0.1)


def test_moons_without_noise_lie_on_unit_half_circles():
    x, y = whole(load_dataset("moons", noise=0.0))
    np.testing.assert_allclose(np.hypot(x[y == 0, 0], x[y == 0, 1]), 1, atol=1e-5)
    np.testing.assert_allclose(np.hypot(x[y == 1, 0] - 1, x[y == 1, 1] - 0.5), 1, atol=1e-5)


def test_noisy_xor_labels_are_the_rounded_corner_sum_mod_2():
    x, y = whole(load_dataset("noisy-xor"))
    corners = np.rint(x).astype(int)
    assert set(map(tuple, corners)) == {(0, 0), (0, 1), (1, 0), (1, 1)}
    np.testing.assert_array_equal(y, corners.sum(axis=1) % 2)
    np.testing.assert_allclose((x - corners).std(), 0.1, atol=0.01)


def test_sigmoid_1d_targets_scatter_around_the_sigmoid_with_sd_005():
    x, y = whole(load_dataset("sigmoid-1d"))
    assert x.shape == (500, 1) and x.min() >= -0.5 and x.max() < 0.5
    residual = y - 1 / (1 + np.exp(-10 * x[:, 0]))
    assert abs(residual.std() - 0.05) < 0.006 and abs(residual.mean()) < 0.01
    _, quiet = whole(load_dataset("sigmoid-1d", noise=0.0))
    assert quiet.min() > 0 and quiet.max() < 1


@pytest.mark.parametrize(
    "name, options, flag",
    [
        ("circle", {"samples": 3}, "samples"),
        ("noisy-xor", {"samples": 0}, "samples"),
        ("gaussians", {"noise": -0.1}, "noise"),
        ("sigmoid-1d", {"noise": -1.0}, "noise"),
        ("spiral", {"noise": 0.6}, "noise"),
        ("digits", {"seed": -1}, "seed"),
        ("moons", {"seed": -5}, "seed"),
        ("iris", {"samples": 10}, "samples"),
        ("gaussians", {"noise": float("nan")}, "noise"),  # would train on NaN points
        ("moons", {"noise": float("inf")}, "noise"),
        ("sigmoid-1d", {"noise": 1e300}, "noise"),  # overflows float32 targets
        ("gaussians", {"samples": 10**11}, "samples"),  # would exhaust memory
    ],
)
def test_impossible_options_raise_option_error_naming_the_argument(name, options, flag):
    with pytest.raises(OptionError) as err:
        load_dataset(name, **options)
    assert err.value.option == flag


def test_list_datasets_filters_with_shell_wildcards():
    assert set(EXPECTED) <= set(list_datasets())
    assert list_datasets("*xor") == ["noisy-xor", "xor"]
    assert list_datasets("gauss*") == ["gauss", "gaussians"]
    assert list_datasets("Sigmoid_*") == ["sigmoid-1d"]
    assert list_datasets("nothing*") == []


def test_zoo_datasets_lists_names_with_their_first_docstring_line():
    result = CliRunner().invoke(cli, ["datasets"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()}
    assert set(EXPECTED) <= set(lines)
    assert "Lecture dataset-1" in lines["gaussians"]
    assert "Playground" in lines["spiral"]
    filtered = CliRunner().invoke(cli, ["datasets", "*xor"])
    assert [line.split()[0] for line in filtered.output.splitlines()] == ["noisy-xor", "xor"]


def test_zoo_info_prints_sizes_and_class_counts():
    result = CliRunner().invoke(cli, ["info", "gaussians"])
    assert result.exit_code == 0, result.output
    assert "gaussians: classification, input 2 (float32)" in result.output
    assert "train: 75   test: 25" in result.output
    result = CliRunner().invoke(cli, ["info", "circle", "--samples", "40", "--noise", "0.1"])
    assert result.exit_code == 0, result.output
    assert "train: 20   test: 20" in result.output and "noise 0.1" in result.output
    result = CliRunner().invoke(cli, ["info", "sigmoid-1d"])
    assert result.exit_code == 0 and "regression" in result.output and "target:" in result.output


def test_zoo_info_names_classes_without_examples():
    from zoo.datasets.base import Dataset

    data = Dataset(
        "tiny",
        np.zeros((3, 2)),
        np.array([0, 1, 1]),
        np.zeros((1, 2)),
        np.array([1]),
        ["a", "b", "c"],
    )
    lines = data.summary().splitlines()
    assert "  no train examples of: 2 c" in lines
    assert "  no test examples of: 0 a, 2 c" in lines


@pytest.mark.parametrize(
    "args, expected",
    [
        (["info", "circle", "--samples", "0"], "--samples"),
        (["info", "circle", "--samples", "3"], "at least 4"),
        (["info", "circle", "--noise", "20"], "0..0.5"),
        (["info", "gaussians", "--noise", "-1"], "--noise"),
        (["info", "digits", "--classes", "1,2"], "--classes"),
        (["info", "digits", "--samples", "10"], "--samples"),
        (["info", "iris", "--seed", "-1"], "--seed"),
        (["info", "moons", "--noise", "inf"], "--noise"),
        (["info", "digitz"], "did you mean digits"),
    ],
)
def test_bad_dataset_input_exits_2_with_a_message(args, expected):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "Traceback" not in result.output


def test_listing_datasets_imports_neither_tensorflow_nor_sklearn():
    code = (
        "import sys\n"
        "from zoo.cli import main\n"
        "sys.argv = ['zoo', 'datasets']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'sklearn') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert "gaussians" in out
    assert "HEAVY []" in out
