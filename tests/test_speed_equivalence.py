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


def _penalised(seed: int = 7, dropout: float | None = None):
    """Data, objective and a builder of identical small models with L1 and L2 kernel penalties
    and an `add_loss` term (or, with `dropout`, a Dropout layer and no penalties)."""
    import keras

    from zoo.objective import Objective

    class ActivityPenalty(keras.layers.Layer):
        """Adds 0.01 · mean(x²) of what passes through: an `add_loss` term that depends on
        the batch (a mean, so fit's batched val_loss and a whole-set one agree)."""

        def call(self, x):
            self.add_loss(0.01 * keras.ops.mean(keras.ops.square(x)))
            return x

    rng = np.random.default_rng(seed)
    x = rng.normal(size=(70, 6)).astype("float32")
    y = (np.argmax(x[:, :3] + 0.5 * rng.normal(size=(70, 3)), axis=1)).astype("int32")
    objective = Objective.create(head="softmax", task="classification", num_classes=3)

    def build(rate=dropout):
        keras.utils.set_random_seed(seed)
        if rate is None:
            middle = [
                keras.layers.Dense(
                    5,
                    activation="relu",
                    kernel_regularizer=keras.regularizers.L1L2(l1=0.01, l2=0.02),
                ),
                ActivityPenalty(),
            ]
            top = {"kernel_regularizer": keras.regularizers.L2(0.05)}
        else:
            middle = [keras.layers.Dense(5, activation="relu"), keras.layers.Dropout(rate)]
            top = {}
        return keras.Sequential(
            [keras.Input((6,)), *middle, keras.layers.Dense(3, activation="softmax", **top)]
        )

    return objective, build, (x[:50], y[:50], x[50:], y[50:])


def check_penalties_minibatch(jit: bool = True) -> dict:
    """Penalised epochs against `fit(shuffle=False)`: weights, loss and val_loss (both with
    the penalties, as fit reports them), accuracies."""
    return _against_fit(*_penalised(), jit=jit, epochs=3, steps=4)


def check_penalties_sample(optimizer: str = "adam", jit: bool = True) -> dict:
    """Penalised per-sample epochs against single-example `train_on_batch` steps."""
    return _against_train_on_batch(*_penalised(), optimizer=optimizer, jit=jit, seed=3)


def _against_fit(objective, build, data, *, jit: bool, epochs: int, steps: int, **compile_options):
    """The largest gaps over `epochs` epochs of `steps` batches of 16 between the runner and
    `fit(shuffle=False)` of the same model: loss, val_loss, accuracies; weights at the end."""
    x, y, x_eval, y_eval = data
    model, reference = build(), build()
    runner = make_runner(model, objective, data, batch_size=16, jit=jit)
    reference.compile(
        optimizer=_optimizer("sgd"), loss=objective.keras_loss(), metrics=["accuracy"],
        **compile_options,
    )  # fmt: skip
    gaps = {}
    for _ in range(epochs):
        result = runner.epoch(np.arange(len(x), dtype=np.int32), steps)
        fit = reference.fit(
            x, y, batch_size=16, epochs=1, shuffle=False, verbose=0,
            validation_data=(x_eval, y_eval),
        ).history  # fmt: skip
        for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
            gaps[key] = max(gaps.get(key, 0.0), abs(getattr(result, key) - fit[key][-1]))
    gaps["weights"] = _gap(model.get_weights(), reference.get_weights())
    return gaps


def _against_train_on_batch(objective, build, data, *, optimizer: str, jit: bool, seed: int):
    """One per-sample epoch of the runner, in a shuffled order, against `train_on_batch` on
    one example at a time in that order: weights and the mean loss."""
    x, y = data[0], data[1]
    model, reference = build(), build()
    runner = make_runner(model, objective, data, batch_size=1, jit=jit, optimizer=optimizer)
    reference.compile(optimizer=_optimizer(optimizer), loss=objective.keras_loss())
    order = np.random.default_rng(seed).permutation(len(x)).astype(np.int32)
    result = runner.epoch(order, len(x))
    losses = [float(reference.train_on_batch(x[i : i + 1], y[i : i + 1])) for i in order]
    return {
        "weights": _gap(model.get_weights(), reference.get_weights()),
        "loss": abs(result.loss - float(np.mean(losses))),
    }


def check_dropout(jit: bool = True) -> dict:
    """Dropout runs in training mode in the updates and in evaluation mode in the test loss.

    At a learning rate of 0 nothing moves, so with the training set as the test set an
    epoch's training loss and its test loss differ only by the dropout masks. Returns
    `mode_difference` (large with dropout 0.5), `mask_change` (the masks change from epoch
    to epoch), `eval_gap` (the test loss against Keras's `evaluate`) and `rate_0_gap` (a
    Dropout(0) layer trains exactly like none: weights after two epochs at a real rate).
    """
    import keras

    objective, build, data = _penalised(dropout=0.5)
    x, y = data[0], data[1]
    model = build()
    frozen = keras.optimizers.SGD(learning_rate=0.0)
    runner = make_runner(model, objective, (x, y, x, y), batch_size=10, jit=jit, optimizer=frozen)
    first = runner.epoch(np.arange(len(x), dtype=np.int32), 5)
    second = runner.epoch(np.arange(len(x), dtype=np.int32), 5)
    model.compile(loss=objective.keras_loss())
    evaluated = float(model.evaluate(x, y, batch_size=len(x), verbose=0))
    out = {
        "mode_difference": abs(first.loss - first.val_loss),
        "mask_change": abs(first.loss - second.loss),
        "eval_gap": abs(first.val_loss - evaluated),
    }
    weights = []
    for rate in (0.0, None):  # Dropout(0) against no layer at all (and no penalties)
        model = build(rate) if rate is not None else _without_dropout(build)
        runner = make_runner(model, objective, data, batch_size=16, jit=jit)
        for _ in range(2):
            runner.epoch(np.arange(len(x), dtype=np.int32), 4)
        weights.append(model.get_weights())
    out["rate_0_gap"] = _gap(*weights)
    return out


def _without_dropout(build):
    """The model `build(0.0)` makes with its Dropout layer taken out (same weights)."""
    import keras

    with_layer = build(0.0)
    layers = [layer for layer in with_layer.layers if not isinstance(layer, keras.layers.Dropout)]
    return keras.Sequential([keras.Input((6,)), *layers])


# -- convolutional networks ---------------------------------------------------------------------
CONV = {"conv": (4, 6), "kernel": 3, "stride": (2, 1), "padding": 1, "pool_size": (1, 2)}


def _conv_problem(seed: int = 3, **options):
    """Tiny uint8 images (8x8x3) and a builder of identical small `cnn` models: an explicit
    padding (ZeroPadding2D), a strided and a "same" convolution, average pooling, a kernel
    penalty; `options` change the network (e.g. `augment=`)."""
    import keras

    from zoo.models.layers import Normalization
    from zoo.models.registry import create_model
    from zoo.objective import Objective

    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (60, 8, 8, 3), dtype=np.uint8)
    y = (x[:, :4, :4, 0].mean(axis=(1, 2)) // 86).astype("int32")  # something to learn
    objective = Objective.create(head="softmax", task="classification", num_classes=3)
    norm = Normalization(**IMAGE_NORM)

    def build():
        keras.utils.set_random_seed(seed)  # the same weights and the same augmentation seeds
        options.setdefault("l2", 0.01)
        return create_model(
            "cnn", input_shape=(8, 8, 3), num_classes=3, normalization=norm, **CONV, **options
        )

    return objective, build, (x[:40], y[:40], x[40:], y[40:])


def check_conv_minibatch(jit: bool = True, **options) -> dict:
    """A convolutional network's epochs against `fit(shuffle=False)`: weights, loss, val_loss,
    accuracies (`augment=` too: the random layers draw the same numbers from the same seeds)."""
    import keras

    # TensorFlow's own random ops, as in the loop: XLA's draw other numbers (on JAX, `fit`
    # without jit would run op by op)
    own_ops = keras.backend.backend() == "tensorflow"
    return _against_fit(
        *_conv_problem(**options), jit=jit, epochs=2, steps=3,
        jit_compile=False if own_ops else "auto",
    )  # fmt: skip


def check_conv_sample(optimizer: str = "adam", jit: bool = True) -> dict:
    """A convolutional network's per-sample epoch against single-example `train_on_batch`."""
    return _against_train_on_batch(*_conv_problem(), optimizer=optimizer, jit=jit, seed=4)


AUGMENT = "flip,translate=0.2,rotate=20,zoom=0.2,contrast=0.3"
CONV_EVERYTHING = {"batch_norm": True, "dense": 5, "dropout": 0.0, "augment": AUGMENT}


def check_augmentation_is_live() -> dict:
    """The random layers change the training batches and nothing else: at a learning rate of
    0, with the training set as the test set, an augmented network's training loss differs
    from its test loss, while the same network without augmentation has the two equal."""
    import keras

    out = {}
    for name, spec in (("augmented", AUGMENT), ("plain", None)):
        objective, build, data = _conv_problem(augment=spec)
        x, y = data[0], data[1]
        frozen = keras.optimizers.SGD(learning_rate=0.0)
        runner = make_runner(build(), objective, (x, y, x, y), batch_size=40, jit=True,
                             optimizer=frozen)  # fmt: skip
        result = runner.epoch(np.arange(len(x), dtype=np.int32), 1)
        out[name] = abs(result.loss - result.val_loss)
    return out


def make_runner(model, objective, data, *, batch_size: int, jit: bool, optimizer="sgd"):
    from zoo.training.loops import make_epoch_runner
    from zoo.training.loops.common import XLA_MIN_UPDATES

    if isinstance(optimizer, str):
        optimizer = _optimizer(optimizer)
    return make_epoch_runner(
        model,
        optimizer,
        objective,
        *data,
        batch_size=batch_size,
        planned_updates=XLA_MIN_UPDATES if jit else 1,
    )


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
        "penalties-minibatch": check_penalties_minibatch(),
        "penalties-sample": check_penalties_sample(),
        # one network with the builder's layer kinds; JAX compiles the geometric random layers
        # (affine transforms) in about 20 s, so here the random layers are flip and contrast
        # (check_augmentation_is_live runs all five)
        "conv-minibatch": check_conv_minibatch(**{**CONV_EVERYTHING, "augment": "flip,contrast"}),
        "conv-sample": check_conv_sample(),
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


def test_later_epochs_called_with_flat_tensors_train_as_the_public_call():
    # After its first call, a traced epoch gets its tensors straight (TensorFlow's
    # `_call_flat`); a release where that fails before the graph runs takes the public call.
    from zoo.training.loops.tf_loop import TFEpochRunner

    objective, build, data = _problem("softmax", 60, images=True)
    orders = [np.random.default_rng(seed).permutation(60).astype(np.int32) for seed in (1, 2, 3)]

    def train(runner, fail_flat: bool):
        results = [runner.epoch(orders[0], 4)]
        if fail_flat:
            concrete = runner._traced[True]
            real, tries = concrete._call_flat, []

            def fails_once(*args, **kwargs):  # as a `_call_flat` of another signature
                if not tries:
                    tries.append(args)
                    raise TypeError("no such signature")
                return real(*args, **kwargs)

            concrete._call_flat = fails_once
        results += [runner.epoch(order, 4) for order in orders[1:]]
        return results

    runs = {}
    for fail in (False, True):
        model = build()
        runner = TFEpochRunner(
            model, _optimizer("sgd"), objective, *data, batch_size=16, jit_compile=True
        )
        runs[fail] = (train(runner, fail), model.get_weights(), runner._flat_calls)
    (flat, flat_weights, flat_calls), (public, public_weights, public_calls) = runs.values()
    assert flat_calls and not public_calls
    assert [r.loss for r in flat] == [r.loss for r in public]
    assert [r.val_loss for r in flat] == [r.val_loss for r in public]
    assert _gap(flat_weights, public_weights) == 0.0


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


@pytest.mark.parametrize("jit", [True, False])
def test_penalties_and_add_loss_train_as_under_fit(jit):
    gaps = check_penalties_minibatch(jit)
    assert_close(gaps)


@pytest.mark.parametrize(("optimizer", "jit"), [("adam", True), ("sgd", False)])
def test_penalised_per_sample_steps_match_train_on_batch(optimizer, jit):
    assert_close(check_penalties_sample(optimizer, jit))


@pytest.mark.parametrize("jit", [True, False])
def test_dropout_trains_in_training_mode_and_is_evaluated_without_it(jit):
    assert_dropout(check_dropout(jit))


def test_the_xla_epoch_draws_keras_dropout_masks_with_philox_named_and_the_same_bits(
    monkeypatch,
):
    # see `philox_dropout`: a speed change only, so the run must be the same bit for bit
    import contextlib

    import keras

    if keras.backend.backend() != "tensorflow":
        pytest.skip("TensorFlow's epoch")
    from keras.src.backend.tensorflow import random as keras_random

    from zoo.training.loops import tf_loop

    keras_dropout = keras_random.dropout
    with tf_loop.philox_dropout(True):
        assert keras_random.dropout is not keras_dropout  # it does take effect
    assert keras_random.dropout is keras_dropout  # and is undone
    objective, build, data = _penalised(dropout=0.3)
    runs = []
    for named in (True, False):
        if not named:
            monkeypatch.setattr(tf_loop, "philox_dropout", lambda _: contextlib.nullcontext())
        model = build()
        runner = make_runner(model, objective, data, batch_size=16, jit=True)
        assert runner.jit_compile
        losses = [runner.epoch(np.arange(len(data[0]), dtype=np.int32), 4).loss for _ in "ab"]
        runs.append((losses, model.get_weights()))
    (losses, weights), (keras_losses, keras_weights) = runs
    assert losses == keras_losses and _gap(weights, keras_weights) == 0.0


def assert_dropout(out: dict) -> None:
    assert out["mode_difference"] > 0.01  # half the hidden units dropped: another loss
    assert out["mask_change"] > 1e-4  # new masks every step, not one mask for ever
    assert out["eval_gap"] < TOLERANCE
    assert out["rate_0_gap"] == 0.0


@pytest.mark.parametrize("options", [{}, CONV_EVERYTHING])
def test_convolutional_epochs_match_fit_without_shuffle(options):
    # on a CPU the loop keeps convolutions out of XLA (see `convolutional`): both runners
    # take TensorFlow's own graph, so one check covers them
    assert_close(check_conv_minibatch(**options))


def test_convolutional_per_sample_steps_match_train_on_batch():
    assert_close(check_conv_sample())


def test_augmentation_changes_the_training_batches_only():
    out = check_augmentation_is_live()
    assert out["augmented"] > 0.01 and out["plain"] < TOLERANCE


def test_a_penalty_of_a_users_own_on_a_tall_kernel_trains_as_under_fit():
    # not a sum over the elements: the loop keeps the kernel as it is (see `tall_kernels`)
    import keras

    class ColumnNorms(keras.regularizers.Regularizer):
        def __call__(self, w):
            return 0.05 * keras.ops.sum(keras.ops.sqrt(keras.ops.sum(w * w, axis=0)))

    objective, build, data = _penalised()
    x, y = data[0], data[1]

    def own():
        model = build()
        model.layers[0].kernel.regularizer = ColumnNorms()
        return model

    model, reference = own(), own()
    runner = make_runner(model, objective, data, batch_size=16, jit=True)
    assert runner.flip is not None and not runner.flip[0]  # the 6x5 kernel stays upright
    reference.compile(optimizer=_optimizer("sgd"), loss=objective.keras_loss())
    for _ in range(2):
        result = runner.epoch(np.arange(len(x), dtype=np.int32), 4)
        fit = reference.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0).history
        assert abs(result.loss - fit["loss"][-1]) < TOLERANCE
    assert _gap(model.get_weights(), reference.get_weights()) < TOLERANCE


def test_the_penalty_check_notices_a_loop_without_penalties():
    # the same check against a model whose penalties the loop would have ignored
    import keras

    objective, build, data = _penalised()
    x, y = data[0], data[1]
    bare = build()
    for layer in bare.layers:
        if isinstance(layer, keras.layers.Dense):
            layer.kernel_regularizer = None
            layer.kernel.regularizer = None
    model = build()
    runner = make_runner(bare, objective, data, batch_size=16, jit=False)
    reference = model
    reference.compile(optimizer=_optimizer("sgd"), loss=objective.keras_loss())
    runner.epoch(np.arange(len(x), dtype=np.int32), 4)
    reference.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    assert _gap(bare.get_weights(), reference.get_weights()) > 10 * TOLERANCE


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
# with an L2 penalty: each replica adds its share, so that it counts once, as on one device
runs = {kind: zoo.train("mlp", "gaussians", batch_size=15, epochs=3, momentum=0.5, seed=4,
                        l2=0.05, distribute=kind, out=None, quiet=True)
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


@pytest.mark.slow
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
        # a guard against a hang, not a speed check: on a shared 2-core machine the JAX checks
        # took 105 s alone and over 300 s inside the whole suite
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_jax_calls_keep_xla_defaults_where_its_options_are_unknown():
    # The convolutions' options (`OWN_CONVOLUTIONS`) are experimental XLA flags: a JAX whose
    # XLA renamed or dropped them still trains, with XLA's defaults. JAX alone, no Keras:
    # its XLA and TensorFlow's are not loaded into one process here.
    if importlib.util.find_spec("jax") is None:
        pytest.skip("jax is not installed (pip install 'keras-zoo[jax]')")
    code = """
import json, jax.numpy as jnp
from zoo.training.loops.jax_loop import OWN_CONVOLUTIONS, Jitted
double = lambda a: a * 2
calls = {
    "own": Jitted(double, OWN_CONVOLUTIONS),
    "unknown option": Jitted(double, {"xla_cpu_no_such_option": "1"}),
    "unknown value": Jitted(double, {"xla_cpu_experimental_ynn_fusion_type": "NO_SUCH"}),
    "defaults": Jitted(double, None),
}
out = {name: [float(call(jnp.arange(3.0)).sum()), call.plain] for name, call in calls.items()}
try:
    Jitted(lambda a: a @ a, OWN_CONVOLUTIONS)(jnp.ones((2, 3)))
except Exception as err:  # any other error is the caller's
    out["shapes"] = type(err).__name__
print(json.dumps(out))
"""
    out = _python(code, {"JAX_PLATFORMS": "cpu"})
    assert out["unknown option"] == [6.0, True] and out["unknown value"] == [6.0, True]
    assert out["defaults"] == [6.0, True] and out["own"][0] == 6.0
    assert out["shapes"] == "TypeError"


@pytest.mark.slow
def test_jax_compiled_epochs_match_keras_on_jax():
    if importlib.util.find_spec("jax") is None:
        pytest.skip("jax is not installed (pip install 'keras-zoo[jax]')")
    code = (
        f"import sys, json; sys.path.insert(0, {str(ROOT / 'tests')!r}); "
        "import test_speed_equivalence as t, keras; assert keras.backend.backend() == 'jax'; "
        "print(json.dumps({'gaps': t.check_all(), 'dropout': t.check_dropout(), "
        "'augmentation': t.check_augmentation_is_live()}))"
    )
    out = _python(code, {"KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"})
    gaps = out["gaps"]
    assert len(gaps) == 12 and "batch-norm" in gaps and "conv-minibatch" in gaps
    for name, check in gaps.items():
        assert_close({f"{name}/{key}": gap for key, gap in check.items()})
    assert_dropout(out["dropout"])
    live = out["augmentation"]
    assert live["augmented"] > 0.01 and live["plain"] < TOLERANCE


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


def test_only_models_that_compute_each_example_apart_fill_their_last_batch_with_padding():
    import keras

    from zoo.models.registry import create_model
    from zoo.training.loops.common import per_example

    def mlp(**options):
        return create_model("mlp", input_shape=(4, 4, 3), num_classes=3, **options)

    assert per_example(mlp()) and per_example(mlp(dropout=0.2, l2=1e-4))
    inputs = keras.Input((6,))
    hidden = keras.layers.Dense(4, activation="relu")(inputs)
    normed = keras.layers.BatchNormalization()(hidden)  # batch statistics: no padding
    assert not per_example(keras.Model(inputs, keras.layers.Dense(3)(normed)))
    penalised = keras.layers.Dense(3, activity_regularizer="l2")(hidden)  # sums over the batch
    assert not per_example(keras.Model(inputs, penalised))
    assert per_example(keras.Model(inputs, keras.layers.Dense(3)(hidden)))

    class Dense(keras.layers.Layer):  # a user's own layer, whatever its name
        def call(self, x):
            return x - keras.ops.mean(x, axis=0)

    assert not per_example(keras.Model(inputs, Dense()(hidden)))

    class Own(keras.Model):
        def call(self, x):
            return x

    assert not per_example(Own())
