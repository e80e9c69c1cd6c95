"""One `Run`: what `train` returns is what `Run.from_folder` reads back from its folder."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from run_fixtures import make_run_folder

import zoo
from zoo.errors import RunFolderError
from zoo.runfolder.run import Run


def blobs(n=90, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = (rng.normal(size=(n, 4)) + 3 * np.eye(3, 4)[y]).astype(np.float32)
    return x, y


def small_model():
    import keras

    return keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(6, activation="relu"),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )


def test_a_trained_run_reads_back_from_its_folder_as_the_same_type(tmp_path):
    run = zoo.train(
        small_model(),
        blobs(),
        validation_data=blobs(45, seed=1),
        epochs=3,
        out=str(tmp_path),
        report=False,
        quiet=True,
    )
    again = Run.from_folder(run.folder)
    assert isinstance(run, Run) and isinstance(again, zoo.Run)
    assert again.history.epoch == [0, 1, 2]
    for key, values in run.history.history.items():
        assert again.history.history[key] == pytest.approx(values), key
    assert again.status == run.status == "completed"
    assert again.best_epoch == run.best_epoch and again.config["epochs"] == 3
    assert again.accuracy("test") == pytest.approx(run.accuracy("test"))
    model = again.model  # loaded now, from model.keras
    x = blobs(5, seed=2)[0]
    assert np.allclose(model.predict(x, verbose=0), run.model.predict(x, verbose=0), atol=1e-6)
    assert again.model is model  # loaded once


def test_reading_a_run_leaves_keras_unloaded_until_its_model_is_asked(tmp_path):
    folder = make_run_folder(tmp_path, "points")
    code = (
        "import sys; from zoo.runfolder.run import Run; "
        f"run = Run.from_folder({str(folder)!r}); "
        "assert run.history.history['loss'] and run.status; "
        "print('keras' in sys.modules, repr(run).startswith('Run('))"
    )
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


def test_open_run_is_run_from_folder_shown_in_a_notebook(tmp_path):
    folder = make_run_folder(tmp_path, "points")
    run = zoo.open_run(folder)
    assert isinstance(run, Run) and type(run).__name__ == "Run"
    assert run.folder == folder and run.history == Run.from_folder(folder).history
    assert "<table" in run._repr_html_()
    assert "_repr_html_" not in vars(
        Run.__mro__[1]
    )  # the reader knows no HTML: the notebook adds it


def test_a_folder_that_is_not_a_run_is_refused_by_name(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(RunFolderError, match="notes.txt is not a run folder"):
        Run.from_folder(tmp_path / "notes.txt")
