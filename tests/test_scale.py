"""Work around training that must not grow with the data: statistics, outputs, figures.

The sizes here are small; what is checked is how the work is done (chunks, one pass, picks
by index), which is what keeps a full-size set cheap. Timings live in benchmarks/pipeline.py.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from zoo.models import layers
from zoo.models.layers import Normalization, column_statistics


def direct(x: np.ndarray, per_channel: bool):
    axes = tuple(range(x.ndim - 1)) if per_channel else 0
    return x.mean(axis=axes, dtype=np.float64), x.std(axis=axes, dtype=np.float64)


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of a few rows, so that every test set spans many of them."""
    monkeypatch.setattr(layers, "EXACT_ROWS", 7)
    monkeypatch.setattr(layers, "FLOAT_BYTES", 8 * 50 * 13)


@pytest.mark.parametrize(
    ("kind", "per_channel"),
    [("uint8", True), ("uint8", False), ("int8", True), ("float32", False), ("float64", True)],
)
def test_chunked_statistics_equal_a_direct_computation(small_chunks, kind, per_channel):
    rng = np.random.default_rng(1)
    if kind in ("uint8", "int8"):
        info = np.iinfo(kind)
        x = rng.integers(info.min, info.max + 1, (101, 5, 4, 3), dtype=kind)
    else:  # a mean far from zero against its spread: where naive sums of squares go wrong
        x = (1e4 + rng.normal(scale=0.5, size=(101, 13))).astype(kind)
        if per_channel:
            x = x.reshape(101, 13, 1) * np.array([1.0, 2.0])
    mean, std = column_statistics(x, x.shape[-1] if per_channel else None)
    want_mean, want_std = direct(x, per_channel)
    np.testing.assert_allclose(mean, want_mean, rtol=1e-6, atol=0)
    np.testing.assert_allclose(std, want_std, rtol=1e-6, atol=0)


def test_normalization_from_images_is_the_direct_statistics_scaled(small_chunks):
    x = np.random.default_rng(2).integers(0, 256, (60, 8, 8, 3), dtype=np.uint8)
    x[:, :, :, 2] = 9  # a constant channel keeps a std of 1, not 0
    norm = Normalization.from_data(x, scale=1 / 255)
    mean, std = direct(x, per_channel=True)
    np.testing.assert_allclose(norm.mean, mean / 255, rtol=1e-6)
    np.testing.assert_allclose(norm.std[:2], std[:2] / 255, rtol=1e-6)
    assert norm.std[2] == 1.0


def test_statistics_of_images_never_copy_the_set_as_floats(monkeypatch):
    monkeypatch.setattr(layers, "EXACT_ROWS", 100)
    x = np.random.default_rng(3).integers(0, 256, (2000, 32, 32, 3), dtype=np.uint8)
    tracemalloc.start()
    try:
        Normalization.from_data(x, scale=1 / 255)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # a float64 copy would be 8x the set; one chunk of uint16 squares is a twentieth of it
    assert peak < x.nbytes / 4


def test_outputs_for_metrics_figures_and_predictions_come_from_one_pass(tmp_path, monkeypatch):
    """On an archive laid out like the full CIFAR-10 (five training batches and a test
    batch), each split goes through the model once, on the compiled path; the metrics,
    predictions.npz, data.npz and the report all read those outputs, and nothing else calls
    the model after training."""
    import keras
    from image_fixtures import write_cifar10_archive

    import zoo
    from zoo import objective
    from zoo.runfolder import data_arrays, read_run_folder
    from zoo.training.loops import common, tf_loop

    monkeypatch.setenv("ZOO_CACHE", str(tmp_path / "cache"))
    (tmp_path / "data").mkdir()
    write_cifar10_archive(tmp_path / "data", train_per_class=3, test_per_class=4)
    monkeypatch.setattr(tf_loop, "OUTPUT_ROWS", 16)  # several batches per split
    passes = []
    compiled_outputs = tf_loop.TFEpochRunner.outputs

    def counted(self, x):
        passes.append(x)
        return compiled_outputs(self, x)

    def another_pass(*args, **kwargs):
        raise AssertionError("the model was called outside the one pass")

    monkeypatch.setattr(tf_loop.TFEpochRunner, "outputs", counted)
    for owner, name in [(objective, "model_outputs"), (common.EpochRunner, "outputs")]:
        monkeypatch.setattr(owner, name, another_pass)
    monkeypatch.setattr(keras.Model, "predict", another_pass)
    run = zoo.train(
        "mlp",
        "cifar10",
        data_dir=str(tmp_path / "data"),
        hidden=8,
        epochs=2,
        batch_size=16,
        out=str(tmp_path / "runs"),
        quiet=True,
    )
    data = run.dataset
    assert (len(data.x_train), len(data.x_test)) == (150, 40)
    # one pass per split, over the very arrays the epochs were given
    assert [len(x) for x in passes] == [150, 40]
    assert passes[0] is data.x_train and passes[1] is data.x_test
    predictions = np.load(run.folder / "predictions.npz")
    p_train, p_test = predictions["p_train"], predictions["p_test"]
    assert p_train.shape == (150, 10) and p_test.shape == (40, 10)
    # the metrics and the figures' data come from those outputs
    for split, p, y in (("train", p_train, data.y_train), ("test", p_test, data.y_test)):
        accuracy = np.mean(p.argmax(axis=1) == y)
        assert run.metrics[split]["accuracy"] == pytest.approx(accuracy)
    folder = read_run_folder(run.folder)
    expected = data_arrays(data, folder.objective, p_test)
    with np.load(run.folder / "data.npz") as written:
        assert sorted(written.files) == sorted(expected)
        for key, value in expected.items():
            np.testing.assert_array_equal(written[key], value)
    assert (run.folder / "report.pdf").exists() and (run.folder / "misclassified.png").exists()


def test_the_evaluation_in_chunks_matches_fit(monkeypatch):
    """The test curve of a large test set is computed a chunk at a time inside the epoch;
    with chunks of 7 the 20 evaluation examples take two chunks and a rest."""
    from test_speed_equivalence import assert_close, check_minibatch

    from zoo.training.loops import tf_loop

    monkeypatch.setattr(tf_loop, "OUTPUT_ROWS", 7)
    for jit in (True, False):
        gaps = check_minibatch("softmax", jit=jit)
        assert "val_loss" in gaps and "val_accuracy" in gaps
        assert_close(gaps)


def test_training_data_is_shared_with_tensorflow_not_copied():
    import tensorflow as tf

    from zoo.training.loops.tf_loop import ALIGNMENT, device_tensor

    rng = np.random.default_rng(4)
    raw = np.empty(3 * 2**20 + ALIGNMENT, np.uint8)
    start = -raw.ctypes.data % ALIGNMENT
    aligned = raw[start : start + 3 * 2**20].reshape(-1, 32, 32, 3)
    aligned[...] = rng.integers(0, 256, aligned.shape, dtype=np.uint8)
    tensor = device_tensor(aligned)
    aligned[0, 0, 0, 0] ^= 1  # the tensor sees the array's memory
    assert int(tensor[0, 0, 0, 0]) == int(aligned[0, 0, 0, 0])
    odd = raw[start + 1 : start + 1 + 3 * 2**20 - 3072].reshape(-1, 32, 32, 3)  # misaligned
    odd.flags.writeable = False
    for array in (odd, aligned[:, ::2]):  # misaligned and read-only; strided
        np.testing.assert_array_equal(device_tensor(array).numpy(), array)
    small = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert device_tensor(small).dtype == tf.float32


PROGRAM_RUN = """
import sys
sys.argv = ["zoo", "train", "logistic", "gaussians", "--mode", "sample", "--epochs", "40",
            "--out", sys.argv[1], "-q", "--no-report"]  # the compile cache is what is checked
from zoo.cli import main
main()
"""


def test_compiled_epochs_are_kept_for_the_next_run_and_a_bad_one_is_dropped(tmp_path):
    """Run as the `zoo` program three times: the first compiles the epoch with XLA and
    keeps the program, the second loads it, the third finds it damaged, trains all the same
    on a plain graph and drops it. Each exits 0 with a complete run folder and leaves no
    folder of its own behind."""
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "ZOO_CACHE": str(tmp_path / "cache"), "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("TF_XLA_FLAGS", None)

    def run(n: int) -> dict:
        out = tmp_path / f"runs{n}"
        done = subprocess.run(
            [sys.executable, "-c", PROGRAM_RUN, str(out)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        (folder,) = out.iterdir()
        return json.loads((folder / "config.json").read_text())

    def programs() -> list:
        (machine,) = (tmp_path / "cache" / "xla").iterdir()
        assert not [p for p in machine.iterdir() if p.is_dir()]  # no process folder left
        return sorted(machine.glob("*.pb"))

    first = run(1)
    (program,) = programs()
    stamp = program.stat().st_mtime_ns
    second = run(2)
    assert programs() == [program] and program.stat().st_mtime_ns == stamp  # loaded, kept
    assert first["status"] == second["status"] == "completed"
    program.write_bytes(program.read_bytes()[:1000])  # cut short, as by a killed writer
    third = run(3)
    assert third["status"] == "completed" and programs() == []


def test_outputs_of_a_large_set_through_xla_equal_the_models(monkeypatch):
    """Large sets go through an XLA program in equal batches, the last one padded."""
    from test_speed_equivalence import _optimizer, _problem

    from zoo.objective import model_outputs
    from zoo.training.loops import make_epoch_runner, tf_loop

    monkeypatch.setattr(tf_loop, "OUTPUT_ROWS", 8)
    monkeypatch.setattr(tf_loop, "XLA_OUTPUT_ROWS", 20)
    for images in (True, False):
        objective, build, data = _problem("softmax", 50, images=images)
        model = build()
        runner = make_epoch_runner(model, _optimizer("sgd"), objective, *data, batch_size=10)
        assert runner.jit_compile
        runner.epoch(np.arange(50, dtype=np.int32), 5)
        for x in (data[0], data[2], data[0][:23].copy()):  # on the device, or not; 20 and up
            ours, called = runner.outputs(x), model_outputs(model, x)
            assert ours.shape == called.shape
            np.testing.assert_allclose(ours, called, rtol=1e-5, atol=1e-6)
