"""The run folder: one format, read and written in one place; reports rebuilt from it alone."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from run_fixtures import make_run_folder

import zoo
from zoo.cli import cli
from zoo.errors import RunFolderError
from zoo.runfolder import CONFIG, FORMAT_VERSION, read_run_folder


def zoo_cli(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.output


# -- one rule from outputs to classes ----------------------------------------------------------
def test_decision_boundary_shows_the_classes_behind_the_metrics_for_logits(tmp_path, monkeypatch):
    """A linear head with bce outputs logits: class 1 where the output is above 0, not 0.5."""
    from zoo.reporting import figures

    seen = {}
    original = figures.decision_boundary

    def spy(predict, x_train, *args, **kwargs):
        seen["predict"], seen["x_train"] = predict, x_train
        return original(predict, x_train, *args, **kwargs)

    monkeypatch.setattr(figures, "decision_boundary", spy)
    run = zoo.train(
        "mlp", "moons", head="linear", loss="bce", epochs=15, lr=0.05, out=str(tmp_path), quiet=True
    )
    preds = np.load(run.folder / "predictions.npz")
    logits = preds["p_train"][:, 0]
    # the test can fail: some outputs lie between the two thresholds
    assert ((logits > 0) & (logits <= 0.5)).any()
    shown = seen["predict"](seen["x_train"])
    np.testing.assert_array_equal(shown, preds["pred_train"])
    metrics = json.loads((run.folder / "metrics.json").read_text())
    assert metrics["train"]["accuracy"] == pytest.approx(np.mean(shown == preds["y_train"]))


# -- zoo report redraws what training drew -------------------------------------------------------
@pytest.mark.parametrize("dataset", ["moons", "image"])
def test_zoo_report_reproduces_trainings_figures_byte_for_byte(dataset, tmp_path, cifar_dir):
    options = {"epochs": 3, "out": str(tmp_path / "runs"), "quiet": True}
    if dataset == "image":
        run = zoo.train("mlp", "cifar100-3class", data_dir=str(cifar_dir), **options)
    else:
        run = zoo.train("mlp", dataset, **options)
    drawn = {p.name: p.read_bytes() for p in run.folder.glob("*.png")}
    assert len(drawn) >= 5
    for path in run.folder.glob("*.png"):
        path.unlink()
    code, out = zoo_cli("report", run.folder)
    assert code == 0, out
    again = {p.name: p.read_bytes() for p in run.folder.glob("*.png")}
    assert again.keys() == drawn.keys()
    different = [name for name in drawn if drawn[name] != again[name]]
    assert not different


@pytest.fixture(scope="module")
def cifar_dir(tmp_path_factory):
    from image_fixtures import write_cifar100_archive

    folder = tmp_path_factory.mktemp("cifar")
    write_cifar100_archive(folder, train_per_class=12, test_per_class=4)
    return folder


# -- every registered model survives a round trip ------------------------------------------------
def _three_feature_set():
    from zoo.datasets.split import make_rng, split_dataset

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype("float32")
    y = (x[:, 0] > 0).astype(np.int64)
    return split_dataset("three", x, y, test_fraction=0.25, rng=make_rng(0), class_names=["a", "b"])


def _small_images():
    from zoo.datasets import Dataset

    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 256, (40, 32, 32, 3), dtype=np.uint8), rng.integers(0, 3, 40)
    return Dataset("images", x[:30], y[:30], x[30:], y[30:], class_names=["a", "b", "c"])


COMPATIBLE = {  # each registered model with a dataset it takes
    "cnn": _small_images,
    "logistic": "iris",
    "mlp": "iris",
    "linear": "gaussians",
    "lecture-net": _three_feature_set,
}


def test_every_registered_model_has_a_dataset_in_the_round_trip_test():
    assert set(zoo.list_models()) <= set(COMPATIBLE), "add the new model to COMPATIBLE"


@pytest.mark.parametrize("name", sorted(COMPATIBLE))
def test_every_model_trains_saves_and_reloads_with_the_same_predictions(name, tmp_path):
    from zoo.objective import model_outputs

    dataset = COMPATIBLE[name]
    data = dataset() if callable(dataset) else zoo.load_dataset(dataset)
    run = zoo.train(name, data, epochs=1, out=str(tmp_path), quiet=True, report=False)
    reloaded = read_run_folder(run.folder).load_model()
    np.testing.assert_allclose(
        model_outputs(reloaded, data.x_test), model_outputs(run.model, data.x_test), atol=1e-6
    )


def test_register_model_takes_a_name_like_register_dataset():
    from zoo.models.registry import MODELS

    @zoo.register_model(name="renamed-test-net")
    def build(input_shape, num_classes, *, head="softmax"):
        return "built"

    try:
        assert "renamed-test-net" in zoo.list_models()
        assert zoo.create_model("renamed-test-net", input_shape=(2,), num_classes=2) == "built"
    finally:
        MODELS._entries.pop("renamed-test-net")


# -- the reader: what it accepts, what it refuses ------------------------------------------------
def _edit_json(path: Path, **changes) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(changes)
    path.write_text(json.dumps(data), encoding="utf-8")


def test_a_config_saved_with_a_byte_order_mark_is_read(tmp_path):
    folder = make_run_folder(tmp_path, "points")
    text = (folder / CONFIG).read_text(encoding="utf-8")
    (folder / CONFIG).write_text("\ufeff" + text, encoding="utf-8")
    assert read_run_folder(folder).config["dataset"]


def test_a_folder_from_a_newer_format_is_refused_with_a_message(tmp_path):
    folder = make_run_folder(tmp_path, "points")
    _edit_json(folder / CONFIG, format=FORMAT_VERSION + 1)
    with pytest.raises(RunFolderError, match="newer than this zoo reads"):
        read_run_folder(folder)


def _damage(folder: Path, how: str) -> str:
    """Damage the folder one way; returns the file name the message must name."""
    if how == "fewer_names":
        _edit_json(folder / CONFIG, class_names=["apple", "otter"], num_classes=2)
        return "metrics.json"
    if how == "ragged_matrix":
        metrics = json.loads((folder / "metrics.json").read_text())
        metrics["test"]["confusion_matrix"][1] = [1, 2]
        (folder / "metrics.json").write_text(json.dumps(metrics))
        return "metrics.json"
    if how in ("wrong_shape", "wrong_type"):
        preds = dict(np.load(folder / "predictions.npz"))
        if how == "wrong_shape":
            preds["p_test"] = preds["p_test"][:, :2]
        else:
            preds["pred_test"] = preds["pred_test"].astype("U3")
        np.savez(folder / "predictions.npz", **preds)
        return "predictions.npz"
    if how == "unequal_data":
        data = dict(np.load(folder / "data.npz"))
        data["sample_y"] = data["sample_y"][:-1]
        np.savez(folder / "data.npz", **data)
        return "data.npz"
    if how == "class_out_of_range":
        preds = dict(np.load(folder / "predictions.npz"))
        preds["y_test"] = preds["y_test"] + 5
        np.savez(folder / "predictions.npz", **preds)
        return "predictions.npz"
    if how == "cut_npz":
        data = (folder / "predictions.npz").read_bytes()
        (folder / "predictions.npz").write_bytes(data[: len(data) // 2])
        return "predictions.npz"
    if how in ("folder_as_figure", "folder_as_report"):
        name = "learning_curves.png" if how == "folder_as_figure" else "report.pdf"
        (folder / name).unlink(missing_ok=True)
        (folder / name).mkdir()
        return name
    raise AssertionError(how)


@pytest.mark.parametrize(
    "how",
    [
        "fewer_names",
        "ragged_matrix",
        "wrong_shape",
        "wrong_type",
        "unequal_data",
        "class_out_of_range",
        "cut_npz",
        "folder_as_figure",
        "folder_as_report",
    ],
)
def test_zoo_report_on_a_damaged_folder_exits_2_naming_the_file(how, tmp_path):
    folder = make_run_folder(tmp_path, "image")
    name = _damage(folder, how)
    code, out = zoo_cli("report", folder)
    assert code == 2, out
    assert name in out and "Traceback" not in out


def test_a_run_whose_process_is_gone_reads_as_killed_and_reports_say_so(tmp_path):
    folder = make_run_folder(tmp_path, "points")
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    import socket

    _edit_json(folder / CONFIG, status="running", host=socket.gethostname(), pid=int(gone.stdout))
    run = read_run_folder(folder)
    assert run.status == "killed" and not run.finished
    code, out = zoo_cli("compare", folder, "--out", tmp_path / "table.md")
    assert code == 0 and "killed" in out
    _edit_json(folder / CONFIG, pid=os.getpid())  # this very process: still running
    assert read_run_folder(folder).status == "running"
    _edit_json(folder / CONFIG, host="another-host-" + socket.gethostname())
    assert read_run_folder(folder).status == "running"  # cannot tell from here


def test_a_failed_run_is_reported_with_what_it_lacks(tmp_path):
    folder = make_run_folder(tmp_path, "image")
    (folder / "predictions.npz").unlink()
    _edit_json(folder / CONFIG, status="failed", stop_reason="cannot write x: No space left")
    result = CliRunner().invoke(cli, ["report", str(folder)])
    assert result.exit_code == 0, result.output
    assert "predictions.npz" in result.stderr and "failed" in result.stderr
    from pypdf import PdfReader

    text = " ".join(p.extract_text() for p in PdfReader(folder / "report.pdf").pages)
    assert "FAILED RUN" in text and "No space left" in text.replace("\n", " ")


def test_report_files_are_replaced_whole_and_no_part_files_stay(tmp_path):
    folder = make_run_folder(tmp_path, "points")
    code, out = zoo_cli("report", folder, "--format", "pdf,png")
    assert code == 0, out
    assert not [p for p in folder.iterdir() if ".part" in p.name]


def test_run_folder_names_live_in_one_module():
    """No other module spells a file name of the run folder."""
    names = ["config.json", "history.csv", "metrics.json", "predictions.npz", "data.npz"]
    names += ["model.keras", "classification_report.txt"]
    root = Path(zoo.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        if path.parent.name == "runfolder":
            continue
        text = path.read_text(encoding="utf-8")
        offenders += [f"{path.relative_to(root)}: {n}" for n in names if f'"{n}"' in text]
    assert not offenders


def test_report_draws_with_the_trainers_code_copied_folder(tmp_path):
    """A run folder copied elsewhere (another machine) still reports from its files alone."""
    run = zoo.train("mlp", "moons", epochs=2, out=str(tmp_path / "a"), quiet=True)
    copy = shutil.copytree(run.folder, tmp_path / "b" / run.folder.name)
    code, out = zoo_cli("report", copy, "--lang", "ru")
    assert code == 0, out
    assert (copy / "report.pdf").stat().st_size > 10_000
