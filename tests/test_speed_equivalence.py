"""The compiled epochs make the same updates as Keras, step for step, on both backends.

Each check builds two copies of one small model with the same initial weights, trains one
with the zoo's epoch runner and the other with plain Keras (`train_on_batch` per example,
or `fit(shuffle=False)`) in the same order, and returns how far apart they end. On
TensorFlow the checks run here; on JAX in a subprocess with KERAS_BACKEND=jax (Keras picks
its backend once per process): `python tests/test_speed_equivalence.py` prints them as JSON.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
TOLERANCE = 2e-5  # float32 after ~100 updates; a wrong order or a missed step is 1e-2 or more
IMAGE_NORM = {"mean": (0.5, 0.45, 0.4), "std": (0.25, 0.2, 0.2), "scale": 1 / 255}


# -- the checks (backend-neutral: keras and numpy only) -----------------------------------------
def _problem(head: str, n: int, images: bool, seed: int = 0):
    """Data, the objective and a builder of identical models for `head`."""
    import keras

    from zoo.models.layers import Normalization
    from zoo.models.registry import create_model
    from zoo.objective import Objective

    rng = np.random.default_rng(seed)
    task = "regression" if head == "linear" else "classification"
    classes = {"softmax": 3, "sigmoid": 2, "linear": 1}[head]
    if images:  # CIFAR-like uint8 images, scaled and normalised inside the model
        x = rng.integers(0, 256, (n + 20, 4, 4, 3), dtype=np.uint8)
        norm = Normalization(**IMAGE_NORM)
        signal = x.reshape(len(x), -1)[:, :3].astype("float32") / 255
    else:
        x = rng.normal(size=(n + 20, 6)).astype("float32")
        norm, signal = None, x[:, :3]
    if task == "regression":
        y = signal.sum(axis=1) + 0.1 * rng.normal(size=len(x))
    else:
        y = np.argmax(signal + 0.3 * rng.normal(size=signal.shape), axis=1) % classes
    objective = Objective.create(head=head, task=task, num_classes=classes)

    def fresh():
        return create_model(
            "mlp",
            input_shape=x.shape[1:],
            num_classes=classes,
            hidden=(5,),
            head=head,
            normalization=norm,
        )

    keras.utils.set_random_seed(seed)
    weights = fresh().get_weights()

    def build():  # every trainer compared starts from the same weights
        model = fresh()
        model.set_weights(weights)
        return model

    data = (x[:n], objective.encode(y[:n]), x[n:], objective.encode(y[n:]))
    return objective, build, data


def _optimizer(name: str):
    import keras

    if name == "adam":
        return keras.optimizers.Adam(learning_rate=0.01)
    return keras.optimizers.SGD(learning_rate=0.05, momentum=0.5)


def _runner(build, objective, optimizer, data, batch_size, jit):
    from zoo.training.loops import make_epoch_runner
    from zoo.training.loops.common import XLA_MIN_UPDATES

    model = build()
    runner = make_epoch_runner(
        model,
        _optimizer(optimizer),
        objective,
        *data,
        batch_size=batch_size,
        planned_updates=XLA_MIN_UPDATES if jit else 1,
    )
    return model, runner


def _gap(a_weights, b_weights) -> float:
    return float(max(np.max(np.abs(a - b)) for a, b in zip(a_weights, b_weights, strict=True)))


def check_sample(optimizer: str = "sgd", jit: bool = True) -> dict:
    """Two per-sample epochs in shuffled orders against single-example `train_on_batch` steps."""
    objective, build, data = _problem("softmax", 48, images=True)
    x, y = data[0], data[1]
    model, runner = _runner(build, objective, optimizer, data, 1, jit)
    reference = build()
    reference.compile(optimizer=_optimizer(optimizer), loss=objective.keras_loss())
    rng = np.random.default_rng(1)
    losses = []
    for _ in range(2):
        order = rng.permutation(len(x)).astype(np.int32)
        result = runner.epoch(order, len(x))
        step_losses = [float(reference.train_on_batch(x[i : i + 1], y[i : i + 1])) for i in order]
        losses.append(abs(result.loss - float(np.mean(step_losses))))
    return {"weights": _gap(model.get_weights(), reference.get_weights()), "loss": max(losses)}


def check_minibatch(head: str = "softmax", batch_size: int = 16, jit: bool = True) -> dict:
    """Epochs over fixed batches (the last one smaller) against `fit(shuffle=False)`."""
    objective, build, data = _problem(head, 50, images=False)
    x, y, x_eval, y_eval = data
    model, runner = _runner(build, objective, "sgd", data, batch_size, jit)
    reference = build()
    metrics = ["accuracy"] if objective.task == "classification" else []
    reference.compile(optimizer=_optimizer("sgd"), loss=objective.keras_loss(), metrics=metrics)
    steps = -(-len(x) // batch_size)
    gaps = {}
    for _ in range(2):
        result = runner.epoch(np.arange(len(x), dtype=np.int32), steps)
        fit = reference.fit(
            x,
            y,
            batch_size=batch_size,
            epochs=1,
            shuffle=False,
            verbose=0,
            validation_data=(x_eval, y_eval),
        ).history
        for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
            if key in fit:
                ours = getattr(result, key)
                gaps[key] = max(gaps.get(key, 0.0), abs(ours - fit[key][-1]))
    gaps["weights"] = _gap(model.get_weights(), reference.get_weights())
    return gaps


def check_short_epoch(jit: bool = True) -> dict:
    """An epoch cut short by an iteration budget makes exactly its first updates."""
    objective, build, data = _problem("softmax", 50, images=False)
    x, y = data[0], data[1]
    model, runner = _runner(build, objective, "sgd", data, 16, jit)
    reference = build()
    reference.compile(optimizer=_optimizer("sgd"), loss=objective.keras_loss())
    order = np.random.default_rng(2).permutation(len(x)).astype(np.int32)
    runner.epoch(order, 2)
    for step in range(2):
        idx = order[step * 16 : (step + 1) * 16]
        reference.train_on_batch(x[idx], y[idx])
    return {"weights": _gap(model.get_weights(), reference.get_weights())}


def check_batch_norm(jit: bool = True) -> dict:
    """Batch-norm statistics (non-trainable state) move exactly as under `train_on_batch`."""
    import keras

    from zoo.objective import Objective
    from zoo.training.loops import make_epoch_runner

    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(40, 12)).astype("float32"), rng.integers(0, 3, 40).astype("int32")
    objective = Objective.create(head="softmax", task="classification", num_classes=3)

    def build():
        keras.utils.set_random_seed(6)
        return keras.Sequential(
            [
                keras.Input((12,)),
                keras.layers.Dense(4),
                keras.layers.BatchNormalization(),
                keras.layers.Activation("relu"),
                keras.layers.Dense(3, activation="softmax"),
            ]
        )

    model, reference = build(), build()
    runner = make_epoch_runner(
        model, _optimizer("sgd"), objective, x, y, batch_size=8, planned_updates=None if jit else 1
    )
    reference.compile(optimizer=_optimizer("sgd"), loss=objective.keras_loss())
    order = rng.permutation(40).astype(np.int32)
    runner.epoch(order, 5)
    for step in range(5):
        idx = order[step * 8 : (step + 1) * 8]
        reference.train_on_batch(x[idx], y[idx])
    return {"weights and statistics": _gap(model.get_weights(), reference.get_weights())}


def check_all() -> dict:
    """Every check with its default arguments (what the JAX subprocess runs)."""
    return {
        "sample-sgd": check_sample("sgd"),
        "sample-adam": check_sample("adam"),
        "minibatch-softmax": check_minibatch("softmax"),
        "minibatch-sigmoid": check_minibatch("sigmoid"),
        "minibatch-linear": check_minibatch("linear"),
        "full-batch": check_minibatch("softmax", batch_size=50),
        "short-epoch": check_short_epoch(),
        "batch-norm": check_batch_norm(),
    }


def assert_close(gaps: dict) -> None:
    for key, gap in gaps.items():
        assert gap < TOLERANCE, f"{key}: {gap}"


# -- TensorFlow, in this process -----------------------------------------------------------
@pytest.mark.parametrize(("optimizer", "jit"), [("sgd", True), ("adam", True), ("sgd", False)])
def test_sample_epoch_matches_train_on_batch_reference(optimizer, jit):
    assert_close(check_sample(optimizer, jit))


@pytest.mark.parametrize(("head", "jit"), [("softmax", True), ("sigmoid", True), ("linear", False)])
def test_minibatch_epoch_matches_fit_without_shuffle(head, jit):
    assert_close(check_minibatch(head, jit=jit))


def test_full_batch_epoch_matches_fit_with_the_whole_set_as_one_batch():
    assert_close(check_minibatch("softmax", batch_size=50))


@pytest.mark.parametrize("jit", [True, False])
def test_an_epoch_cut_short_makes_only_its_first_updates(jit):
    assert_close(check_short_epoch(jit))


@pytest.mark.parametrize("jit", [True, False])
def test_batch_norm_statistics_move_as_under_train_on_batch(jit):
    assert_close(check_batch_norm(jit))


def test_a_layer_xla_cannot_compile_falls_back_to_a_plain_graph():
    import keras
    import tensorflow as tf

    from zoo.objective import Objective
    from zoo.training.loops.tf_loop import TFEpochRunner

    class HostIdentity(keras.layers.Layer):  # runs in Python: XLA cannot compile it
        def call(self, x):
            y = tf.numpy_function(lambda a: a, [x], tf.float32)
            y.set_shape(x.shape)
            return y

    def build():
        keras.utils.set_random_seed(5)
        layers = [keras.Input((4,)), HostIdentity(), keras.layers.Dense(3, activation="softmax")]
        return keras.Sequential(layers)

    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(20, 4)).astype("float32"), rng.integers(0, 3, 20).astype("int32")
    objective = Objective.create(head="softmax", task="classification", num_classes=3)
    model, reference = build(), build()
    runner = TFEpochRunner(
        model, _optimizer("sgd"), objective, x, y, None, None, batch_size=5, jit_compile=True
    )
    result = runner.epoch(np.arange(20, dtype=np.int32), 4)
    assert not runner.jit_compile and np.isfinite(result.loss)
    reference.compile(optimizer=_optimizer("sgd"), loss=objective.keras_loss(), jit_compile=False)
    for start in range(0, 20, 5):
        reference.train_on_batch(x[start : start + 5], y[start : start + 5])
    assert _gap(model.get_weights(), reference.get_weights()) < TOLERANCE


def test_the_check_notices_a_different_order():
    # the reference must be able to fail: one swapped pair of examples shows up in the weights
    objective, build, data = _problem("softmax", 48, images=True)
    model, runner = _runner(build, objective, "sgd", data, 1, True)
    reference = build()
    reference.compile(optimizer=_optimizer("sgd"), loss=objective.keras_loss())
    order = np.arange(48, dtype=np.int32)
    runner.epoch(order, 48)
    swapped = order.copy()
    swapped[[0, 1]] = swapped[[1, 0]]
    for i in swapped:
        reference.train_on_batch(data[0][i : i + 1], data[1][i : i + 1])
    assert _gap(model.get_weights(), reference.get_weights()) > 10 * TOLERANCE


def test_a_lab_style_run_reaches_the_accuracy_of_fit():
    """Same model and settings, shuffled in different orders: test accuracy within noise."""
    import keras

    import zoo
    from zoo.datasets import Dataset

    rng = np.random.default_rng(3)
    centers = rng.normal(scale=2.0, size=(3, 8))
    y = rng.integers(0, 3, 900)
    x = (centers[y] + rng.normal(size=(900, 8))).astype("float32")
    data = Dataset("blobs", x[:600], y[:600], x[600:], y[600:], class_names=["a", "b", "c"])
    run = zoo.train("mlp", data, batch_size=32, lr=0.05, epochs=15, out=None, quiet=True)
    keras.utils.set_random_seed(0)
    model = zoo.create_model("mlp", input_shape=(8,), num_classes=3, normalization=None)
    model.compile(
        optimizer=keras.optimizers.SGD(0.05),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x[:600], y[:600], batch_size=32, epochs=15, verbose=0)
    fit_accuracy = model.evaluate(x[600:], y[600:], verbose=0)[1]
    assert run.metrics["test"]["accuracy"] > 0.8
    assert abs(run.metrics["test"]["accuracy"] - fit_accuracy) < 0.05


def test_mixed_precision_trains_in_float16_and_restores_the_policy():
    import keras

    import zoo

    plain = zoo.train("mlp", "gaussians", epochs=3, out=None, quiet=True)
    mixed = zoo.train("mlp", "gaussians", epochs=3, out=None, quiet=True, mixed_precision=True)
    assert mixed.config["dtype_policy"] == "mixed_float16"
    assert plain.config["dtype_policy"] == "float32"
    assert keras.config.dtype_policy().name == "float32"
    assert mixed.model.layers[-1].compute_dtype == "float16"
    assert mixed.model.layers[-1].kernel.dtype == "float32"
    for a, b in zip(plain.history, mixed.history, strict=True):
        assert a["loss"] == pytest.approx(b["loss"], abs=1e-2)


def test_distribute_refuses_what_it_cannot_split():
    from click.testing import CliRunner

    from zoo.cli import cli
    from zoo.errors import OptionError
    from zoo.training.distribute import check_distribute

    result = CliRunner().invoke(
        cli, ["train", "mlp", "gaussians", "--mode", "sample", "--distribute", "mirrored"]
    )
    assert result.exit_code == 2
    assert "--distribute" in result.output and "per-sample" in result.output
    with pytest.raises(OptionError, match="tensorflow backend"):
        check_distribute("mirrored", "jax", "minibatch")
    result = CliRunner().invoke(cli, ["train", "mlp", "gaussians", "--distribute", "ring"])
    assert result.exit_code == 2 and "--distribute" in result.output


MIRRORED_SCRIPT = """
import json, numpy as np, tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import zoo
runs = {kind: zoo.train("mlp", "gaussians", batch_size=15, epochs=3, momentum=0.5, seed=4,
                        distribute=kind, out=None, quiet=True)
        for kind in (None, "mirrored", "multiworker")}
plain = runs[None]
print(json.dumps({str(kind): {
    "device": run.config["device"],
    "weights": max(float(np.abs(a - b).max())
                   for a, b in zip(plain.model.get_weights(), run.model.get_weights())),
    "loss": max(abs(a["loss"] - b["loss"]) for a, b in zip(plain.history, run.history)),
    "val_accuracy": [row["val_accuracy"] for row in run.history],
} for kind, run in runs.items()}))
"""


def test_mirrored_strategy_on_two_cpu_devices_matches_one_device():
    out = _python(MIRRORED_SCRIPT, {})
    mirrored, worker, plain = out["mirrored"], out["multiworker"], out["None"]
    assert mirrored["device"].startswith("mirrored: 2 replicas")
    assert worker["device"].startswith("multiworker:")
    for run in (mirrored, worker):
        assert run["weights"] < TOLERANCE and run["loss"] < TOLERANCE
        assert run["val_accuracy"] == pytest.approx(plain["val_accuracy"])


# -- JAX, in a subprocess --------------------------------------------------------------------
def _python(code: str, env: dict[str, str]) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_jax_compiled_epochs_match_keras_on_jax():
    if importlib.util.find_spec("jax") is None:
        pytest.skip("jax is not installed (pip install 'zoo[jax]')")
    code = (
        f"import sys, json; sys.path.insert(0, {str(ROOT / 'tests')!r}); "
        "import test_speed_equivalence as t, keras; assert keras.backend.backend() == 'jax'; "
        "print(json.dumps(t.check_all()))"
    )
    gaps = _python(code, {"KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"})
    assert len(gaps) == 8 and "batch-norm" in gaps and "full-batch" in gaps
    for name, check in gaps.items():
        assert_close({f"{name}/{key}": gap for key, gap in check.items()})


if __name__ == "__main__":
    # `KERAS_BACKEND=jax python tests/test_speed_equivalence.py`: the checks on the backend's
    # default device (a GPU where there is one), as JSON, and whether they pass.
    import keras

    gaps = check_all()
    print(json.dumps(gaps))
    worst = max(gap for check in gaps.values() for gap in check.values())
    verdict = "pass" if worst < TOLERANCE else "FAIL"
    print(f"{keras.backend.backend()}: largest gap {worst:.2e} ({verdict}, tolerance {TOLERANCE})")
    sys.exit(0 if worst < TOLERANCE else 1)
