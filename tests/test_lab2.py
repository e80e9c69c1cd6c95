"""`zoo lab 2`: three pooling tactics, the FC network against the CNN, shifted pictures, ONNX
files and the lab's report; trained on lab 1's fixture archive, in a module of its own so
that the two labs train side by side under pytest-xdist."""

from __future__ import annotations

import json

import pytest
from test_lab import (
    check_every_page_fits,
    mark_interrupted,
    paired_with_base,
    paste,
    pdf_text,
    write_lab_archive,
    zoo,
)

pytestmark = pytest.mark.slow  # every test reads the lab's own run: eleven trainings


@pytest.fixture(scope="module")
def lab2_folder(tmp_path_factory):
    """`zoo lab 2` for lab 1's variant, on the same fixture archive, 2 epochs a run."""
    data = write_lab_archive(tmp_path_factory.mktemp("data"))
    folder = tmp_path_factory.mktemp("lab") / "lab2"
    code, out = zoo(
        "lab", "2", "--group", "2", "--variant", "5", "--data-dir", data, "--out", folder,
        "--epochs", "2", "--lang", "en", "-q",
    )  # fmt: skip
    assert code == 0, out
    assert "9 bottle, 35 girl, 55 otter" in out
    return folder, data


def test_zoo_lab_2_trains_three_pooling_tactics_and_the_fc_network(lab2_folder):
    folder, _ = lab2_folder
    assert json.loads((folder / "lab.json").read_text(encoding="utf-8"))["lab"] == 2
    configs = [json.loads((run / "config.json").read_text()) for run in (folder / "runs").iterdir()]
    layers = {c["comment"]: [x["type"] for x in c["layers"]] for c in configs}
    assert "AveragePooling2D" in layers["avg pooling (example)"]
    assert "MaxPooling2D" in layers["max pooling"]
    assert not any("Pooling" in kind for kind in layers["stride pooling"])
    for config in configs:  # lab 2's settings on the variant's classes
        assert config["class_ids"] == [9, 35, 55]
        assert (config["lr"], config["momentum"], config["batch_size_asked"]) == (0.005, 0.9, 128)
        assert config["model_options"]["init"] == "torch"
    (fc,) = (folder / "fc").iterdir()
    fc_config = json.loads((fc / "config.json").read_text())
    assert fc_config["model"] == "mlp" and fc_config["momentum"] == 0.0
    shift = json.loads((folder / "shift" / "shift.json").read_text())
    assert [run["model"] for run in shift["runs"]] == ["mlp", "cnn"]
    exports = json.loads((folder / "onnx" / "exports.json").read_text())
    for key in ("fc", "cnn"):
        assert exports[key]["course_contract"] and exports[key]["difference"] < 1e-4
        assert (folder / "onnx" / f"{key}.onnx").stat().st_size > 1000


def test_lab_2s_report_compares_pooling_fc_and_cnn_and_shifts(lab2_folder):
    folder, _ = lab2_folder
    text = pdf_text(folder / "report.pdf")
    for words in ("Lab work No. 2", "bottle", "girl", "otter", "2. Three pooling tactics",
                  "3. Fully connected against convolutional", "4. Shifted pictures",
                  "5. ONNX files", "Final table", "onnxruntime"):  # fmt: skip
        assert words in text, words
    assert "21699" in text and "1334016" in text and "30763" in text  # params, connections
    assert "Highest test accuracy:" in text and "Smallest train-test gap:" in text
    # which network lost more under shifts is read from these runs' own numbers
    shift = json.loads((folder / "shift" / "shift.json").read_text())
    drops = {r["model"]: r["unshifted"] - r["mean"] for r in shift["runs"]}
    if round(100 * drops["mlp"], 1) != round(100 * drops["cnn"], 1):
        flat = " ".join(text.split())
        assert f"{100 * max(drops.values()):.1f} points from unshifted" in flat
    # the CNN's count table does not claim one weight per connection; the ONNX page's paths
    # are the lab folder's own
    assert "each connection carries one weight" not in text
    assert "each connection carries its own weight" in text and "share one weight" in text
    assert "wrote onnx/fc.onnx" in text and "wrote onnx/cnn.onnx" in text
    assert f"wrote {folder}" not in text and "wrote /" not in text
    run_text = pdf_text(next((folder / "runs").iterdir()) / "report.pdf")
    assert "Starting weights: torch (PyTorch's nn.Linear and nn.Conv2d" in run_text


def test_runs_added_to_lab_2_join_its_report(lab2_folder):
    folder, data = lab2_folder
    code, out = zoo(
        "train", "cnn", "cifar100", "--classes", "9,35,55", "--data-dir", data, "-q",
        "--conv", "8,16", "--kernel", "3", "--stride", "2,1", "--padding", "same",
        "--pool-size", "1,2", "--epochs", "2", "--out", folder / "runs", "--comment", "my own",
        "--no-report",
    )  # fmt: skip
    assert code == 0, out
    code, out = zoo("lab", "1", "--report-only", folder)
    assert code == 2 and "holds lab 2" in out
    code, out = zoo("lab", "2", "--report-only", folder, "--lang", "en")
    assert code == 0, out
    text = pdf_text(folder / "report.pdf")
    assert "my own" in text and "Conv(8, 3×3, s2, same)" in text


def test_each_hint_of_lab_2s_report_pasted_gives_a_run_paired_with_the_base(lab2_folder):
    from zoo.lab.folder import lab_runs
    from zoo.lab.hints import lab2_hints

    folder, _ = lab2_folder
    code, out = zoo("lab", "2", "--report-only", folder, "--lang", "en")
    assert code == 0, out
    text = pdf_text(folder / "report.pdf")
    hints = lab2_hints(lab_runs(folder, "runs")[0], folder)
    assert len({command for commands in hints.values() for command in commands}) == 5
    kinds = {"q3": "conv", "q5": "training", "q7": "conv"}
    pasted = [(kinds[q], paste(command, text)) for q in kinds for command in hints[q]]
    code, out = zoo("lab", "2", "--report-only", folder, "--lang", "en")
    assert code == 0, out
    for kind, comment in pasted:
        assert paired_with_base(folder, kind, comment), comment
        config = next(
            r.config for r in lab_runs(folder, "runs") if r.config.get("comment") == comment
        )
        assert config["momentum"] == 0.9 and config["model_options"]["init"] == "torch"
    text = pdf_text(folder / "report.pdf")
    assert "No run differs from another only in its conv blocks" not in text
    assert "points against the base variant" in text


def test_an_interrupted_lab_2_resumes_keeping_what_finished(lab2_folder, tmp_path):
    import shutil

    source, data = lab2_folder
    folder = tmp_path / "lab2"
    shutil.copytree(source, folder)
    runs = {json.loads((p / "config.json").read_text())["comment"]: p
            for p in (folder / "runs").iterdir()}  # fmt: skip
    stride = next(p for c, p in runs.items() if "stride" in c.lower())
    kept = [p for p in runs.values() if p != stride]
    mark_interrupted(stride)  # as Ctrl-C during the third tactic leaves it
    for path in (folder / "shift", folder / "onnx", folder / "report.pdf"):
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    code, out = zoo(
        "lab", "2", "--group", "2", "--variant", "5", "--data-dir", data, "--out", folder,
        "--epochs", "2", "--lang", "en",
    )  # fmt: skip
    assert code == 0, out
    assert "Resuming the unfinished lab" in out
    assert all(p.is_dir() for p in kept) and not stride.exists()
    statuses = [json.loads((p / "config.json").read_text())["status"]
                for p in (folder / "runs").iterdir()]  # fmt: skip
    assert len(statuses) == len(runs) and "interrupted" not in statuses
    assert (folder / "shift" / "shift.json").is_file() and (folder / "report.pdf").is_file()
    code, out = zoo("lab", "2", "--group", "2", "--variant", "5", "--data-dir", data,
                    "--out", folder)  # fmt: skip
    assert code == 2 and "already holds a lab" in out  # finished: nothing to resume


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_every_page_of_lab_2s_report_fits(lab2_folder, tmp_path, monkeypatch, lang):
    folder, _ = lab2_folder
    check_every_page_fits(folder, tmp_path, monkeypatch, lang)


def test_an_unfinished_labs_report_says_what_is_missing_on_its_first_page(lab2_folder, tmp_path):
    import shutil

    from pypdf import PdfReader

    source, _ = lab2_folder
    folder = tmp_path / "lab2"
    shutil.copytree(source, folder)
    shutil.rmtree(folder / "shift")
    code, out = zoo("lab", "2", "--report-only", folder, "--lang", "en")
    assert code == 0, out
    first = PdfReader(folder / "report.pdf").pages[0].extract_text()
    assert "This lab is not finished" in first and "zoo shift" in " ".join(first.split())
    text = pdf_text(folder / "report.pdf")
    base = json.loads(sorted((folder / "runs").iterdir())[0].joinpath("config.json").read_text())
    counts = f"training images: {base['train_size']}, test images: {base['test_size']}"
    assert counts in " ".join(text.split())  # the runs' own counts, not the course's 500/100
