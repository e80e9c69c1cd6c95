"""zoo export: every format written, read back with its own runtime and compared with Keras;
the ONNX file checked exactly as the course's browser page uses it; the refusals."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from run_fixtures import make_run_folder

from zoo.cli import cli
from zoo.errors import ExportError, MissingExtraError, OptionError
from zoo.export import FORMATS, TOLERANCE, export_run
from zoo.export.formats import FORMAT_SPECS
from zoo.export.inputs import run_inputs
from zoo.runfolder import EXPORTS, read_run_folder


def zoo(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def runs(cifar_runs_copy):
    """An MLP run and a user's own small CNN run, both on the CIFAR-100 fixture."""
    return cifar_runs_copy


def test_test_data(run_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """The run's test images and labels, loaded here independently of zoo.export."""
    from zoo.datasets import load_dataset

    config = json.loads((run_dir / "config.json").read_text())
    data = load_dataset(config["dataset"], **config["dataset_options"])
    return data.x_test, data.y_test


test_test_data.__test__ = False  # a helper, not a test


def keras_probabilities(run_dir: Path, x: np.ndarray) -> np.ndarray:
    model = read_run_folder(run_dir).load_model()
    return model.predict(np.asarray(x, "float32"), verbose=0)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_the_format_list_and_the_writers_agree():
    assert set(FORMATS) == set(FORMAT_SPECS) == set(EXPORTS)


def test_onnx_of_an_image_run_is_what_the_course_page_reads(runs):
    import onnxruntime

    run_dir = runs["mlp"]
    code, out = zoo("export", run_dir)
    assert code == 0, out
    assert "what the course's ONNX page reads" in out
    assert "[1, 32, 32, 3]: pixel values 0-255 in NHWC order" in out
    assert "the test set of cifar100-3class, loaded again" in out
    path = run_dir / "model.onnx"
    labels = (run_dir / "model.labels.txt").read_text(encoding="utf-8").splitlines()
    assert labels == ["apple", "otter", "pickup_truck"]

    # The page's contract: one input "input" [1, 32, 32, 3] float32, raw 0-255 pixels in NHWC
    # order; one output "output" [1, classes] of logits, to which the page applies softmax.
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (given,), (answer,) = session.get_inputs(), session.get_outputs()
    assert (given.name, given.shape, given.type) == ("input", [1, 32, 32, 3], "tensor(float)")
    assert (answer.name, answer.shape, answer.type) == ("output", [1, 3], "tensor(float)")
    x, _ = test_test_data(run_dir)
    assert x.dtype == np.uint8 and x.shape[1:] == (32, 32, 3)
    logits = np.concatenate(
        [session.run(["output"], {"input": image[None].astype(np.float32)})[0] for image in x]
    )
    expected = keras_probabilities(run_dir, x)
    assert not np.allclose(logits, expected, atol=0.05)  # logits, not probabilities
    np.testing.assert_allclose(softmax(logits.astype(np.float64)), expected, atol=TOLERANCE)
    with pytest.raises(Exception, match="Got invalid dimensions|Invalid rank|dimension"):
        session.run(["output"], {"input": x[:2].astype(np.float32)})  # batches of one only


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_of_a_convolutional_model_round_trips(runs, fmt, tmp_path):
    run_dir = runs["cnn"]
    out = tmp_path / {"onnx": "cnn.onnx", "litert": "cnn.tflite", "savedmodel": "cnn"}[fmt]
    exported = export_run(run_dir, fmt, out=out, dynamic_batch=True, logits=False)
    assert exported.path == out and exported.difference <= TOLERANCE
    assert exported.checked == 6 and "the test set of cifar100-3class" in exported.inputs
    assert (tmp_path / "cnn.labels.txt").read_text().split() == ["apple", "otter", "pickup_truck"]

    x, _ = test_test_data(run_dir)
    batch = x.astype(np.float32)  # all six at once: the batch size is free
    if fmt == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
        got = session.run(["output"], {"input": batch})[0]
    elif fmt == "litert":
        from ai_edge_litert.interpreter import Interpreter

        got = Interpreter(model_path=str(out)).get_signature_runner()(input=batch)["output"]
    else:
        import tensorflow as tf

        serve = tf.saved_model.load(str(out)).signatures["serving_default"]
        got = serve(input=tf.constant(batch))["output"].numpy()
    np.testing.assert_allclose(got, keras_probabilities(run_dir, x), atol=TOLERANCE)
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no temporary left


def test_litert_logits_of_the_mlp_give_its_probabilities(runs, tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    exported = export_run(runs["mlp"], "litert", out=tmp_path / "mlp.tflite", logits=True)
    assert exported.batch == 1 and "logits" in exported.describe()
    runner = Interpreter(model_path=str(exported.path)).get_signature_runner()
    x, _ = test_test_data(runs["mlp"])
    logits = np.concatenate([runner(input=i[None].astype(np.float32))["output"] for i in x])
    expected = keras_probabilities(runs["mlp"], x)
    np.testing.assert_allclose(softmax(logits.astype(np.float64)), expected, atol=TOLERANCE)


def test_an_export_is_replaced_only_with_force(runs, tmp_path):
    out = tmp_path / "lab1"
    code, output = zoo("export", runs["mlp"], "--format", "savedmodel", "--out", out)
    assert code == 0, output
    marker = out / "assets" / "left-by-the-first-export"
    marker.write_text("1")
    code, output = zoo("export", runs["mlp"], "--format", "savedmodel", "--out", out)
    assert code == 2 and "already exists" in output and "--force" in output
    assert marker.exists()
    code, output = zoo("export", runs["mlp"], "--format", "savedmodel", "--out", out, "--force")
    assert code == 0, output
    assert (out / "saved_model.pb").is_file() and not marker.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lab1", "lab1.labels.txt"]


def test_a_folder_of_the_users_is_never_taken_for_a_savedmodel(runs, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    code, output = zoo(
        "export", runs["mlp"], "--format", "savedmodel", "--out", tmp_path, "--force"
    )
    assert code == 2 and "not a SavedModel" in output
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_a_file_name_must_fit_its_format_and_a_folder_takes_the_run_name(runs, tmp_path):
    code, output = zoo("export", runs["mlp"], "--format", "litert", "--out", tmp_path / "a.onnx")
    assert code == 2 and "LiteRT files end in .tflite" in output
    code, output = zoo("export", runs["mlp"], "--out", tmp_path)
    assert code == 0, output
    assert (tmp_path / f"{runs['mlp'].name}.onnx").is_file()


def test_a_disagreeing_runtime_fails_the_export_and_leaves_nothing(runs, tmp_path, monkeypatch):
    spec = FORMAT_SPECS["onnx"]

    def off_by_more_than_allowed(path):
        runner = spec.read(path)
        return lambda x: runner(x) + 3 * TOLERANCE

    broken = dataclasses.replace(spec, read=off_by_more_than_allowed)
    monkeypatch.setitem(FORMAT_SPECS, "onnx", broken)
    with pytest.raises(ExportError, match="disagrees with the Keras model.*nothing was written"):
        export_run(runs["mlp"], "onnx", out=tmp_path / "bad.onnx")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("fmt", "hidden", "named"),
    [("onnx", "onnxruntime", "onnxruntime"), ("litert", "ai_edge_litert", "ai-edge-litert")],
)
def test_a_missing_runtime_names_the_extra_that_brings_it(
    runs, tmp_path, monkeypatch, fmt, hidden, named
):
    monkeypatch.setitem(sys.modules, hidden, None)  # as if it were not installed
    code, output = zoo("export", runs["mlp"], "--format", fmt, "--out", tmp_path)
    assert code == 2
    assert f"needs {named}, which is not installed: pip install 'keras-zoo[export]'" in output
    assert "Traceback" not in output and list(tmp_path.iterdir()) == []
    with pytest.raises(MissingExtraError) as caught:
        export_run(runs["mlp"], fmt, out=tmp_path)
    assert caught.value.extra == "export"


def test_an_exports_description_is_said_in_russian_from_its_facts(runs, tmp_path):
    from language_check import english_words, run_names

    from zoo.export.exporter import describe_export

    exported = export_run(runs["cnn"], "onnx", out=tmp_path / "cnn.onnx")
    facts = json.loads(json.dumps(exported.facts()))  # as exports.json keeps them
    assert describe_export(facts, "en") == exported.describe()
    russian = exported.describe("ru")
    assert "значения пикселей 0–255 в порядке NHWC" in russian
    assert "тестовая выборка cifar100-3class, загруженная заново" in russian
    assert "допустимо 0,0001" in russian
    assert english_words(russian, run_names(runs["cnn"])) == []


def test_without_its_data_a_run_is_checked_on_the_images_it_stored(runs, tmp_path):
    copy = shutil.copytree(runs["mlp"], tmp_path / "moved-run")
    config = json.loads((copy / "config.json").read_text())
    config["dataset_options"]["data_dir"] = str(tmp_path / "gone")
    (copy / "config.json").write_text(json.dumps(config))
    inputs = run_inputs(read_run_folder(copy))
    assert "stored in data.npz" in inputs.source and "could not be loaded again" in inputs.source
    assert inputs.x.shape[1:] == (32, 32, 3) and len(inputs) > 0


def test_a_regression_has_no_logits_and_exports_its_values(tmp_path):
    folder = make_run_folder(tmp_path, "regression", with_model=True)
    with pytest.raises(OptionError, match="regression has no logits"):
        export_run(folder, "savedmodel", logits=True)
    exported = export_run(folder, "savedmodel")
    assert exported.labels is None and exported.path == folder / "saved_model"
    assert "the test points stored in data.npz" in exported.inputs
    assert "the predicted value" in exported.describe()


def test_a_run_with_no_stored_examples_is_checked_on_random_inputs_and_says_so(tmp_path):
    folder = make_run_folder(tmp_path, "tabular", with_model=True)
    exported = export_run(folder, "onnx")
    assert "64 random standard-normal inputs" in exported.inputs
    assert exported.outputs == 3 and not exported.logits  # tabular: probabilities by default


def test_export_and_serve_help_import_no_tensorflow():
    code = (
        "import sys\nfrom zoo.cli import main\n"
        "for command in ('export', 'serve'):\n"
        "    try:\n        main([command, '--help'])\n"
        "    except SystemExit:\n        pass\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("False False"), out.stdout
    assert "--dynamic-batch" in out.stdout and "--port" in out.stdout
