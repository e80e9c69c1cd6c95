"""`zoo explain` and `zoo lr-find`: the lecture's numbers, hand gradients, rates, figures, CLI."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from zoo.cli import cli
from zoo.datasets import load_dataset
from zoo.explain import backprop, descent, forward, lr, manual_regression
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
    assert oscillating[1.9] and oscillating[2.1] and not oscillating[0.5]
