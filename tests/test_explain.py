"""`zoo explain` and `zoo lr-find`: the lecture's numbers, hand gradients, rates, figures, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from zoo.cli import cli
from zoo.datasets import load_dataset
from zoo.explain import backprop, descent, forward, landscape, lr, lr_find, manual_regression
from zoo.explain.output import fmt2
from zoo.models.lecture import HIDDEN_WEIGHTS, INPUTS, OUTPUT_WEIGHTS


def logistic(z):
    """S(z) written another way than the library's: 0.5·(1 + tanh(z/2))."""
    return 0.5 * (1.0 + np.tanh(np.asarray(z, dtype=float) / 2.0))


def reference_pass():
    """The lecture's pass neuron by neuron with plain loops (no matrices)."""
    hidden_sums = [sum(w * x for w, x in zip(ws, INPUTS, strict=True)) for ws in HIDDEN_WEIGHTS]
    hidden = [float(logistic(s)) for s in hidden_sums]
    output_sums = [sum(w * h for w, h in zip(ws, hidden, strict=True)) for ws in OUTPUT_WEIGHTS]
    return hidden_sums, hidden, output_sums, [float(logistic(s)) for s in output_sums]


def invoke(*args):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result


def assert_figure(path):
    """A real picture: at least 400 px each way and not one flat colour."""
    import matplotlib.image

    assert path.is_file(), path
    pixels = matplotlib.image.imread(path)
    assert min(pixels.shape[:2]) >= 400
    assert pixels[..., :3].std() > 0


# -- forward -------------------------------------------------------------------------------


def test_forward_prints_the_lectures_two_digit_numbers():
    result = forward.forward()
    assert [fmt2(s) for s in result.hidden_sums] == ["-1.90", "3.10", "-0.40"]
    assert [fmt2(h) for h in result.hidden] == ["0.13", "0.96", "0.40"]
    # The slide computes the outputs from the rounded hidden values
    assert [fmt2(s) for s in result.rounded_output_sums] == ["-0.63", "1.76"]
    assert [fmt2(o) for o in result.rounded_outputs] == ["0.35", "0.85"]
    assert [fmt2(o) for o in result.outputs] == ["0.35", "0.85"]


def test_forward_matches_an_independent_computation_to_1e6():
    result = forward.forward()
    hidden_sums, hidden, output_sums, outputs = reference_pass()
    np.testing.assert_allclose(result.hidden_sums, hidden_sums, atol=1e-6)
    np.testing.assert_allclose(result.hidden, hidden, atol=1e-6)
    np.testing.assert_allclose(result.output_sums, output_sums, atol=1e-6)
    np.testing.assert_allclose(result.outputs, outputs, atol=1e-6)


def test_forward_notes_that_rounding_first_moves_o1s_sum():
    result = forward.forward()
    # Full precision: -0.637 prints as -0.64, the slide's rounded hidden values give -0.63
    assert result.rounding_changes == ["O1 sum: -0.63 / -0.64"]


def test_forward_registered_lecture_net_computes_the_same_outputs():
    result = forward.forward(keras_check=True)
    np.testing.assert_allclose(result.keras_outputs, reference_pass()[3], atol=1e-6)


# -- backprop ------------------------------------------------------------------------------


def test_backprop_lecture_formula_for_h1_to_o1():
    result = backprop.backprop(target=(0.9,))
    assert round(result.output_grads[0][0], 4) == -0.0163
    assert result.lecture_example.endswith("= -0.0163")
    _, hidden, _, outputs = reference_pass()
    o1 = outputs[0]
    # ∂E/∂w = I·(O − T)·O·(1 − O) for every weight into O1
    for j in range(3):
        expected = hidden[j] * (o1 - 0.9) * o1 * (1 - o1)
        assert result.output_grads[0][j] == pytest.approx(expected, abs=1e-6)
    assert result.output_grads[1] == [0.0, 0.0, 0.0]  # O2 has no target


@pytest.mark.parametrize("target", [(0.9,), (0.9, 0.1)])
def test_backprop_hand_gradients_equal_gradient_tape(target):
    result = backprop.backprop(target=target)
    np.testing.assert_allclose(result.output_grads, result.autodiff_output_grads, atol=1e-6)
    np.testing.assert_allclose(result.hidden_grads, result.autodiff_hidden_grads, atol=1e-6)
    assert result.max_difference < 1e-6


def test_backprop_hand_gradients_match_finite_differences():
    result = backprop.backprop(target=(0.9, 0.1))
    w_h, w_o = np.array(HIDDEN_WEIGHTS), np.array(OUTPUT_WEIGHTS)
    x, t = np.array(INPUTS), np.array([0.9, 0.1])

    def error(w_h, w_o):
        return 0.5 * np.sum((logistic(w_o @ logistic(w_h @ x)) - t) ** 2)

    eps = 1e-6
    for k, j in [(0, 0), (1, 2), (2, 1)]:
        up, down = w_h.copy(), w_h.copy()
        up[k, j] += eps
        down[k, j] -= eps
        numeric = (error(up, w_o) - error(down, w_o)) / (2 * eps)
        assert result.hidden_grads[k][j] == pytest.approx(numeric, abs=1e-6)


def test_backprop_step_moves_against_the_gradient_and_lowers_the_error():
    result = backprop.backprop(target=(0.9,), lr=0.5)
    expected = np.array(OUTPUT_WEIGHTS) - 0.5 * np.array(result.output_grads)
    np.testing.assert_allclose(result.new_output_weights, expected, atol=1e-12)
    assert result.new_error < result.error


# -- manual regression ---------------------------------------------------------------------


def test_manual_regression_hand_gradients_equal_autodiff_and_the_fit_improves():
    result = manual_regression.manual_regression(iterations=300, every=100, samples=120)
    assert set(result.gradient_difference) == {"W1", "b1", "W2", "b2"}
    assert result.max_difference < 1e-6
    assert result.snapshots == [0, 100, 200, 300]
    assert result.final_loss < 0.2 * result.losses[0]
    assert len(result.curves) == 4 and len(result.curves[0]) == len(result.curve_x)


def test_manual_regression_hand_gradient_matches_finite_differences():
    rng = np.random.default_rng(3)
    params = manual_regression.init_params(8, rng)
    x = rng.uniform(-0.5, 0.5, (20, 1))
    y = manual_regression.true_curve(x)
    _, grads = manual_regression.hand_gradients(params, x, y)
    eps = 1e-6
    for name, index in [("W1", (0, 3)), ("b1", (5,)), ("W2", (2, 0)), ("b2", (0,))]:
        up = {k: v.copy() for k, v in params.items()}
        down = {k: v.copy() for k, v in params.items()}
        up[name][index] += eps
        down[name][index] -= eps
        numeric = (
            manual_regression.hand_gradients(up, x, y)[0]
            - manual_regression.hand_gradients(down, x, y)[0]
        ) / (2 * eps)
        assert grads[name][index] == pytest.approx(numeric, abs=1e-6)


# -- descent and learning rates ------------------------------------------------------------


def dataset_1_matrix():
    data = load_dataset("gaussians", seed=0)
    x = np.vstack([data.x_train, data.x_test])
    t = np.concatenate([data.y_train, data.y_test]).astype(float)
    return np.hstack([x, np.ones((len(x), 1))]), t


def test_descent_stochastic_gets_further_per_epoch_and_batch_is_smooth():
    result = descent.descent(lr=0.05, epochs=5)
    assert result.samples == 100
    assert len(result.batch_path) == 6 and len(result.sample_path) == 5 * 100 + 1
    batch, sample = result.epoch_errors("batch"), result.epoch_errors("sample")
    assert np.all(np.diff(result.batch_errors) < 0)  # a quadratic bowl, a small step
    assert np.any(np.diff(result.sample_errors) > 0)  # single examples pull the other way
    assert sample[1] < batch[1]
    xb, t = dataset_1_matrix()
    best = np.linalg.lstsq(xb, t, rcond=None)[0]
    np.testing.assert_allclose(result.optimum, best, atol=1e-9)


def test_eta_opt_is_one_over_the_largest_eigenvalue():
    result = lr.learning_rates(epochs=5)
    xb, _ = dataset_1_matrix()
    lambda_max = np.linalg.eigvalsh(2.0 / len(xb) * xb.T @ xb).max()
    assert result.lambda_max == pytest.approx(lambda_max, rel=1e-12)
    assert result.eta_opt == pytest.approx(1.0 / lambda_max, rel=1e-12)
    assert result.eta_max == pytest.approx(2.0 / lambda_max, rel=1e-12)


def test_rate_19_eta_opt_converges_and_21_diverges():
    result = lr.learning_rates(factors=(0.5, 1.0, 1.9, 2.1), epochs=60)
    converged = dict(zip(result.factors, result.converged, strict=True))
    diverged = dict(zip(result.factors, result.diverged, strict=True))
    assert converged[1.9] and not diverged[1.9]
    assert diverged[2.1] and not converged[2.1]
    assert result.errors[2][-1] == pytest.approx(result.optimum_error, rel=1e-4)
    assert result.errors[3][-1] > 100 * result.errors[3][0]
    oscillating = dict(zip(result.factors, result.oscillating, strict=True))
    assert oscillating[1.9] and oscillating[2.1]
    assert not oscillating[0.5] and not oscillating[1.0]


# -- landscape -----------------------------------------------------------------------------


def test_filter_normalised_direction_matches_each_filters_norm_and_skips_biases():
    rng = np.random.default_rng(0)
    kernel, bias = rng.normal(size=(5, 3)) * [1.0, 10.0, 0.1], rng.normal(size=3)
    d_kernel, d_bias = landscape.filter_normalised_direction([kernel, bias], rng)
    # A filter of a Dense kernel is one neuron's incoming weights: a column
    np.testing.assert_allclose(
        np.linalg.norm(d_kernel, axis=0), np.linalg.norm(kernel, axis=0), rtol=1e-12
    )
    assert not np.allclose(d_kernel / np.linalg.norm(d_kernel, axis=0), 0)
    assert np.all(d_bias == 0)


def write_run_folder(root):
    """A run folder written by the trainer, and its model and data reloaded independently."""
    import keras

    from zoo import train

    run = train("mlp", "gaussians", hidden=(6,), epochs=20, lr=0.2, quiet=True, out=str(root))
    model = keras.saving.load_model(run.folder / "model.keras", compile=False)
    return run.folder, model, load_dataset("gaussians", seed=0)


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    return write_run_folder(tmp_path_factory.mktemp("runs"))


def test_landscape_is_centred_on_the_trained_models_loss(run_folder):
    folder, model, data = run_folder
    result = landscape.landscape(folder, points=5, seed=1)
    p = np.asarray(model(data.x_train.astype("float32")), dtype=float)
    cross_entropy = -np.mean(np.log(p[np.arange(len(p)), data.y_train]))
    assert result.center_loss == pytest.approx(cross_entropy, rel=1e-4)
    assert result.examples == len(data.x_train) and result.loss == "crossentropy"
    middle = len(result.alphas) // 2
    assert result.alphas[middle] == 0.0
    assert result.losses_1d[middle] == pytest.approx(result.center_loss, rel=1e-6)
    assert result.losses_2d[2][2] == pytest.approx(result.center_loss, rel=1e-6)
    assert np.array(result.losses_2d).shape == (5, 5)
    # A trained model sits low: moving by the weights' own norm raises the loss somewhere
    assert max(result.losses_1d) > result.center_loss


# -- lr-find -------------------------------------------------------------------------------


def test_lr_find_raises_the_rate_exponentially_and_suggests_one_in_range():
    result = lr_find.lr_find("logistic", "gaussians", steps=40, start_lr=1e-4, end_lr=100.0)
    lrs = np.array(result.lrs)
    ratios = lrs[1:] / lrs[:-1]
    np.testing.assert_allclose(ratios, (100.0 / 1e-4) ** (1 / 39), rtol=1e-9)
    assert lrs[0] == pytest.approx(1e-4)
    assert result.suggested_lr is not None and lrs[0] <= result.suggested_lr <= lrs[-1]
    assert result.suggested_lr < result.min_loss_lr
    assert min(result.smoothed) < result.smoothed[0]


def test_lr_find_suggests_where_the_smoothed_loss_falls_fastest():
    lrs = np.geomspace(1e-4, 10, 50)
    # A loss that is flat, falls fastest around 1e-2, then flattens and blows up at the end
    losses = 1.0 - 0.8 / (1 + np.exp(-3 * (np.log10(lrs) + 2))) + np.where(lrs > 3, 5.0, 0.0)
    steepest, lowest = lr_find.suggest(lrs, losses)
    assert steepest == pytest.approx(1e-2, rel=0.3)
    assert 1e-1 < lowest <= 3


# -- the commands --------------------------------------------------------------------------

COMMANDS = {
    "forward": (
        ["explain", "forward"],
        [
            "S(-1.90) = 0.13",
            "S(3.10) = 0.96",
            "S(-0.40) = 0.40",
            "S(-0.63) = 0.35",
            "S(1.76) = 0.85",
            "0.345841",
        ],
    ),
    "backprop": (
        ["explain", "backprop", "--target", "0.9", "--lr", "0.5"],
        ["-0.0163", "GradientTape", "-0.016312"],
    ),
    "manual-regression": (
        ["explain", "manual-regression", "--iterations", "200", "--every", "100"],
        ["dW1", "MSE"],
    ),
    "descent": (["explain", "descent", "--epochs", "3"], ["per-sample", "0.205794"]),
    "lr": (
        ["explain", "lr", "--epochs", "30"],
        [
            "λ_max = 4.540227",
            "η_opt = 1/λ_max = 0.220253",
            "η_max = 2/λ_max = 0.440507",
            "diverges",
        ],
    ),
    "lr-find": (["lr-find", "logistic", "gaussians", "--steps", "30"], ["Suggested rate"]),
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_command_prints_its_numbers_and_writes_figure_and_json(name, tmp_path):
    args, expected = COMMANDS[name]
    result = invoke(*args, "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    for text in expected:
        assert text in result.output
    assert_figure(tmp_path / f"{name}.png")  # named like its command and its JSON
    numbers = json.loads((tmp_path / f"{name}.json").read_text(encoding="utf-8"))
    assert numbers


def test_lr_command_writes_the_rates_to_json(tmp_path):
    assert invoke("explain", "lr", "--epochs", "10", "--out", str(tmp_path)).exit_code == 0
    numbers = json.loads((tmp_path / "lr.json").read_text(encoding="utf-8"))
    assert numbers["eta_opt"] == pytest.approx(1 / numbers["lambda_max"])
    assert numbers["eta_max"] == pytest.approx(2 / numbers["lambda_max"])


def test_landscape_command_on_a_run_folder(run_folder, tmp_path):
    folder = run_folder[0]
    result = invoke("explain", "landscape", str(folder), "--points", "5", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "crossentropy" in result.output and "5×5" in result.output
    assert_figure(tmp_path / "landscape.png")
    assert len(json.loads((tmp_path / "landscape.json").read_text())["losses_2d"]) == 5


def test_russian_texts_and_pdf_figures(tmp_path):
    result = invoke("explain", "forward", "--lang", "ru", "--format", "pdf", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "Скрытый слой" in result.output
    assert (tmp_path / "forward.pdf").read_bytes().startswith(b"%PDF")
    assert not (tmp_path / "forward.png").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["explain", "forward", "--inputs", "1,2"], "give 3 numbers"),
        (["explain", "backprop", "--target", "high"], "not a comma-separated list"),
        (["explain", "backprop", "--target", "0.9,0.1,0.5"], "give 1 or 2 numbers"),
        (["explain", "backprop", "--lr", "0"], "--lr"),
        (["explain", "descent", "--epochs", "0"], "--epochs"),
        (["explain", "lr", "--factors", "0.5,-1"], "--factors"),
        (["explain", "lr", "--format", "gif"], "--format"),
        (["explain", "forward", "--lang", "de"], "--lang"),
        (["explain", "nonsense"], "No such command"),
        (["lr-find", "nonsense", "gaussians"], "unknown model"),
        (["lr-find", "logistic", "gaussians", "--start-lr", "1", "--end-lr", "0.1"], "--start-lr"),
        (["explain", "forward", "--inputs", "1,,2,3"], "not a comma-separated list"),
        (["explain", "manual-regression", "--hidden", "99999999999"], "--hidden"),
        (["lr-find", "logistic", "gaussians", "--seed", "-1"], "--seed"),
    ],
)
def test_bad_input_exits_2_with_a_message(args, message, tmp_path):
    result = invoke(*args, "--out", str(tmp_path))
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_an_out_folder_that_cannot_be_made_is_a_usage_error(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    result = invoke("explain", "forward", "--out", str(notes / "figures"))
    assert (
        result.exit_code == 2 and "--out" in result.output and "cannot make folder" in result.output
    )
    assert notes.read_text() == "mine"


def test_a_descent_that_diverges_far_is_drawn_until_it_leaves_the_range(tmp_path):
    result = descent.descent(lr=10.0, epochs=200)  # E overflows: Matplotlib's log axis failed
    assert not np.isfinite(result.batch_errors[-1])
    (path,) = descent.plot(result, tmp_path)
    assert_figure(path)


def test_lr_find_on_an_official_image_set_with_a_fixed_split(tmp_path):
    import image_fixtures as fx

    fx.write_mnist_files(tmp_path / "data" / "mnist")
    args = ["lr-find", "logistic", "mnist", "--data-dir", str(tmp_path / "data")]
    result = invoke(*args, "--source", "local", "--steps", "8", "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output  # mnist takes no seed: none is passed to it
    assert "Suggested rate" in result.output


def test_tape_examples_run_on_tensorflow_whatever_keras_backend_says(tmp_path):
    import os
    import subprocess
    import sys

    first, second = str(tmp_path / "lr-find"), str(tmp_path / "backprop")
    code = (
        "from zoo.cli import cli\n"
        f"cli.main(['lr-find', 'logistic', 'gaussians', '--steps', '5', '--out', {first!r}],"
        " standalone_mode=False)\n"
        f"cli.main(['explain', 'backprop', '--out', {second!r}], standalone_mode=False)\n"
    )
    env = {**os.environ, "KERAS_BACKEND": "jax"}  # as the README suggests for training
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "lr-find" / "lr-find.json").exists()
    assert (tmp_path / "backprop" / "backprop.json").exists()


def test_landscape_of_a_diverged_run_says_so(run_folder, tmp_path):
    import shutil

    folder = shutil.copytree(run_folder[0], tmp_path / "run")
    config = json.loads((folder / "config.json").read_text())
    config.update(status="diverged", stop_reason="the loss became inf at epoch 3")
    (folder / "config.json").write_text(json.dumps(config))
    result = invoke("explain", "landscape", str(folder), "--out", str(tmp_path / "out"))
    assert (
        result.exit_code == 2 and "diverged" in result.output and "inf at epoch 3" in result.output
    )
    assert not (tmp_path / "out").exists()


def test_landscape_of_a_folder_that_is_not_a_run_folder_exits_2(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    result = invoke("explain", "landscape", str(tmp_path), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "is not a run folder" in result.output
    missing = tmp_path / "run"
    missing.mkdir()
    (missing / "config.json").write_text(
        json.dumps(
            {
                "model": "mlp",
                "dataset": "gaussians",
                "task": "classification",
                "class_names": ["0", "1"],
            }
        )
    )
    result = invoke("explain", "landscape", str(missing), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "model.keras" in result.output
