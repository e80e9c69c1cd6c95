"""`zoo explain optimizers`: Keras's update rules, the paths, and the numbers it prints."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner

from zoo.cli import cli
from zoo.explain import optimizers as module


@pytest.fixture(scope="module")
def result():
    return module.optimizers()


@pytest.mark.parametrize("method", module.METHODS)
def test_each_update_rule_is_the_keras_optimizers(method):
    import keras

    h = module.valley()
    start = np.array(module.QUADRATIC_START)
    lr = 0.05 if method in ("rmsprop", "adam") else 0.1
    ours = module.descend(method, lambda theta: h @ theta, start, 25, lr, 0.9)
    optimizer = {
        "sgd": lambda: keras.optimizers.SGD(lr),
        "momentum": lambda: keras.optimizers.SGD(lr, momentum=0.9),
        "nesterov": lambda: keras.optimizers.SGD(lr, momentum=0.9, nesterov=True),
        "rmsprop": lambda: keras.optimizers.RMSprop(lr),
        "adam": lambda: keras.optimizers.Adam(lr),
    }[method]()
    theta = keras.Variable(start.astype("float32"))
    path = [np.asarray(theta)]
    for _ in range(25):
        grad = h.astype("float32") @ np.asarray(theta)
        optimizer.apply([keras.ops.convert_to_tensor(grad)], [theta])
        path.append(np.asarray(theta))
    np.testing.assert_allclose(ours, np.array(path), atol=2e-5)


def test_momentum_crosses_the_narrow_valley_many_times_sooner_than_sgd(result):
    valley = result.surfaces["quadratic"]
    steps = valley.steps_to_target
    assert steps["sgd"] is None  # not within the 300 steps
    assert steps["momentum"] is not None and steps["momentum"] < 100
    assert steps["nesterov"] is not None and steps["nesterov"] <= steps["momentum"]
    errors = {m: valley.errors[m][-1] - valley.optimum_error for m in module.METHODS}
    assert errors["sgd"] > 1e6 * errors["momentum"]
    # the valley: dataset-1's largest curvature, a hundred times less across the floor
    eig = valley.eigenvalues
    assert eig[-1] / eig[0] == pytest.approx(module.CONDITION)
    assert eig[-1] == pytest.approx(result.surfaces["dataset-1"].eigenvalues[-1])


def test_on_dataset_1_every_method_gets_near_the_least_squares_optimum(result):
    surface = result.surfaces["dataset-1"]
    best = np.array(surface.optimum)
    for method in ("sgd", "momentum", "nesterov", "adam"):
        assert np.allclose(surface.paths[method][-1], best, atol=1e-5), method
        assert surface.steps_to_target[method] is not None
    # RMSprop at a fixed rate keeps stepping about η: it hovers instead of settling
    excess = np.array(surface.errors["rmsprop"][-50:]) - surface.optimum_error
    assert excess.min() > 1e-4


def test_the_printed_table_is_the_json(tmp_path):
    run = CliRunner().invoke(cli, ["explain", "optimizers", "--out", str(tmp_path)])
    assert run.exit_code == 0, run.output
    numbers = json.loads((tmp_path / "optimizers.json").read_text(encoding="utf-8"))
    assert (tmp_path / "optimizers.png").stat().st_size > 50_000
    blocks = run.output.split("\n\n")
    for key, block in zip(("dataset-1", "quadratic"), blocks[1:3], strict=True):
        surface = numbers["surfaces"][key]
        rows = {line.split()[0].lower(): line.split()[1:] for line in block.splitlines()[2:]}
        for method in module.METHODS:
            cells = rows[method]
            best = surface["optimum_error"]
            for step, cell in zip((10, 50, 100, 300), cells[:4], strict=True):
                excess = max(surface["errors"][method][step] - best, 0.0)
                assert float(cell) == pytest.approx(excess, rel=1e-3, abs=1e-300)
            reached = surface["steps_to_target"][method]
            assert " ".join(cells[4:]) == (str(reached) if reached is not None else "not reached")


def test_in_russian_with_a_pdf_figure(tmp_path):
    run = CliRunner().invoke(
        cli, ["explain", "optimizers", "--lang", "ru", "--format", "pdf", "--out", str(tmp_path)]
    )
    assert run.exit_code == 0, run.output
    assert "шагов до цели" in run.output and "Узкая квадратичная долина" in run.output
    assert (tmp_path / "optimizers.pdf").read_bytes().startswith(b"%PDF")
    assert re.search(r"не достигнута", run.output)


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--steps", "0"], "--steps"),
        (["--lr", "0"], "--lr"),
        (["--adaptive-lr", "-1"], "--adaptive-lr"),
        (["--momentum", "1"], "--momentum"),
        (["--target", "1"], "--target"),
        (["--lr", "nan"], "--lr"),
    ],
)
def test_bad_values_exit_2_naming_the_option(args, flag, tmp_path):
    run = CliRunner().invoke(cli, ["explain", "optimizers", *args, "--out", str(tmp_path)])
    assert run.exit_code == 2, run.output
    assert flag in run.output
