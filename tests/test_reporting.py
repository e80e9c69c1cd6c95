"""Reports and the final table, checked by what they say: PDF text, figure pixels, table numbers."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from run_fixtures import make_run_folder

from zoo.cli import cli
from zoo.errors import RunFolderError
from zoo.reporting import compare, describe, model_table
from zoo.reporting.pdf import PAGES, write_report
from zoo.runfolder import read_run_folder

EN_SECTIONS = ["1. Task", "2. Data", "3. Model", "4. Training", "5. Results", "6. Insight"]
RU_SECTIONS = [
    "1. Постановка задачи",
    "2. Данные",
    "3. Модель",
    "4. Обучение",
    "5. Результаты",
    "6. Анализ модели",
]
RU_TERMS = ["Точность", "Полнота", "F1-мера", "Поддержка", "Матрица ошибок", "Кривые обучения"]
RU_TERMS += ["Обучающая выборка", "Тестовая выборка", "Лабораторная работа №1"]


def zoo(*args: str, env: dict | None = None):
    result = CliRunner().invoke(cli, [str(a) for a in args], env=env)
    return result.exit_code, result.output


def pdf_pages(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() for page in PdfReader(path).pages]


def without_creation_date(pdf: bytes) -> bytes:
    """A PDF's bytes less its creation date, the one part that differs between two draws."""
    return re.sub(rb"/CreationDate \(D:[^)]*\)", b"", pdf)


def assert_real_figure(path: Path) -> None:
    """At least 400 px, saved at 150 dpi or more, and not a blank canvas."""
    from PIL import Image

    with Image.open(path) as image:
        assert min(image.size) >= 400, (path.name, image.size)
        assert round(image.info["dpi"][0]) >= 150, path.name
        pixels = np.asarray(image.convert("L"), dtype=float)
    assert pixels.std() > 10, f"{path.name} looks blank"
    assert (pixels < 200).mean() > 0.01, f"{path.name} has almost nothing drawn"


def metrics_of(folder: Path) -> dict:
    return json.loads((folder / "metrics.json").read_text(encoding="utf-8"))


# --- reading run folders ---------------------------------------------------------------


def test_run_folder_reads_config_history_metrics_and_arrays(tmp_path):
    folder = make_run_folder(tmp_path, "image", epochs=8)
    run = read_run_folder(folder)
    assert run.name == folder.name and run.status == "completed" and run.finished
    assert run.class_names == ["apple", "otter", "pickup_truck"]
    assert [row["epoch"] for row in run.history] == list(range(1, 9))
    assert run.accuracy("test") == pytest.approx(metrics_of(folder)["test"]["accuracy"])
    assert run.best_epoch == 4
    assert run.predictions["p_test"].shape == (15, 3)
    assert run.data["sample_x"].dtype == np.uint8


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p / "missing", "no such folder"),
        (lambda p: (p / "notes.txt").write_text("x") and p / "notes.txt", "it is a file"),
        (lambda p: p, "has no config.json"),
        (lambda p: (p / "config.json").write_text("{oops") and p, "not valid JSON"),
        (lambda p: (p / "config.json").write_text('{"model": "mlp"}') and p, "lacks 'dataset'"),
    ],
)
def test_a_folder_that_is_not_a_run_folder_is_refused_with_the_reason(tmp_path, make, message):
    with pytest.raises(RunFolderError, match=message):
        read_run_folder(make(tmp_path))


def test_diverged_history_keeps_nan_and_the_best_epoch_ignores_it(tmp_path):
    folder = make_run_folder(tmp_path, "points", status="diverged", drop=("metrics.json",))
    run = read_run_folder(folder)
    assert not run.finished and run.metrics is None and run.accuracy("test") is None
    assert np.isnan(run.column("loss")[-1])
    assert run.best_epoch == int(np.nanargmin(run.column("val_loss"))) + 1


# --- the model's counts -------------------------------------------------------------------


def test_the_labs_network_has_13_neurons_30750_weights_and_13_biases():
    layers = [
        {"name": "flatten", "type": "Flatten", "output_shape": [None, 3072], "params": 0},
        {"name": "hidden_1", "type": "Dense", "units": 10, "inputs": 3072, "weights": 30720,
         "biases": 10, "params": 30730, "activation": "relu", "output_shape": [None, 10]},
        {"name": "output", "type": "Dense", "units": 3, "inputs": 10, "weights": 30,
         "biases": 3, "params": 33, "activation": "softmax", "output_shape": [None, 3]},
    ]  # fmt: skip
    assert model_table.network_string(layers) == "FC(10), FC(3)"
    assert model_table.totals(layers) == {
        "neurons": 13, "connections": 30750, "weights": 30750, "biases": 13, "params": 30763
    }  # fmt: skip
    rows = model_table.count_rows(layers)
    assert rows[0] == ["hidden_1", "3072", "10", "30720", "30720", "10", "30730"]
    assert rows[-1][0] == "Total" and rows[-1][-1] == "30763"
    assert model_table.layer_rows(layers)[0][2] == "(None, 3072)"


def test_counts_missing_from_an_older_config_are_derived():
    layer = {"name": "output", "type": "Dense", "units": 2, "inputs": 3, "params": 6}
    assert model_table.layer_counts(layer) == {
        "neurons": 2, "inputs": 3, "connections": 6, "weights": 6, "biases": 0, "params": 6
    }  # fmt: skip


def test_title_comes_from_the_option_then_the_config_then_the_environment():
    config = {"author": "From Config", "group": None, "variant": "3", "title": None}
    environ = {"ZOO_AUTHOR": "From Env", "ZOO_GROUP": "IU5-21M", "ZOO_VARIANT": "9"}
    info = describe.title_info(config, {"author": None, "variant": "7"}, environ)
    assert info == {"author": "From Config", "group": "IU5-21M", "variant": "7", "title": None}


# --- report.pdf --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def image_report(tmp_path_factory):
    """An image run reported in English through the CLI, title info from option and env."""
    folder = make_run_folder(tmp_path_factory.mktemp("runs"), "image", with_model=True)
    code, out = zoo(
        "report", folder, "--format", "pdf,png,svg", "--author", "Ivanov I. I.",
        env={"ZOO_GROUP": "IU5-21M", "ZOO_AUTHOR": "Nobody"},
    )  # fmt: skip
    assert code == 0, out
    return folder, out, pdf_pages(folder / "report.pdf")


def test_english_report_has_its_pages_in_order_with_classes_and_accuracies(image_report):
    folder, out, pages = image_report
    assert len(pages) == PAGES == 9
    text = "\n".join(pages)
    positions = [text.index(title) for title in EN_SECTIONS]
    assert positions == sorted(positions)
    for name in ("apple", "otter", "pickup_truck"):
        assert name in pages[1] and name in pages[6]
    assert "apple (0), otter (55), pickup_truck (58)" in " ".join(pages[1].split())
    metrics = metrics_of(folder)
    for split in ("train", "test"):
        assert f"{metrics[split]['accuracy']:.4f}" in pages[6]
        assert f"{metrics[split]['macro avg']['f1-score']:.4f}" in pages[6]
    assert "Precision" in pages[6] and "Support" in pages[6]
    assert "FC(10), FC(3)" in pages[3] and "1930" in pages[3] and "1963" in pages[3]
    assert f"Best epoch: {metrics['best_epoch']}" in pages[4]
    assert "report." not in text  # every text key has an English text


def test_title_page_takes_the_author_option_and_the_group_from_the_environment(image_report):
    _, _, pages = image_report
    assert "Ivanov I. I." in pages[0] and "IU5-21M" in pages[0] and "Nobody" not in pages[0]
    assert "Neural networks" in pages[0] and "Lab work No. 1" in pages[0]


def test_every_figure_is_written_as_png_and_svg_and_shows_something(image_report):
    folder, out, _ = image_report
    names = ["data_overview", "samples", "learning_curves", "confusion_matrix",
             "confusion_matrix_train", "first_layer_weights", "misclassified"]  # fmt: skip
    for name in names:
        assert_real_figure(folder / f"{name}.png")
        assert (folder / f"{name}.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
        assert f"{name}.png" in out


def test_first_layer_weights_read_without_keras_are_the_models(image_report):
    import keras

    from zoo.reporting.insight import first_layer_kernel

    folder = image_report[0]
    model = keras.saving.load_model(folder / "model.keras", compile=False)
    expected = np.asarray(model.get_layer("hidden_1").kernel)
    np.testing.assert_array_equal(first_layer_kernel(read_run_folder(folder)), expected)


def test_reporting_an_image_run_does_not_load_tensorflow(image_report):
    code = (
        "import sys; from zoo.reporting.pdf import write_report\n"
        f"write_report({str(image_report[0])!r}, formats='pdf')\n"
        "print('HEAVY', [m for m in ('tensorflow', 'keras') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in out.stdout


def test_russian_report_on_two_dimensional_data_speaks_russian(tmp_path):
    folder = make_run_folder(tmp_path, "points", with_model=True, variant="7")
    paths = write_report(folder, lang="ru")
    assert paths[0] == folder / "report.pdf"
    pages = pdf_pages(folder / "report.pdf")
    assert len(pages) == PAGES
    text = "\n".join(pages)
    for term in RU_SECTIONS + RU_TERMS + ["class_a", "class_b", "class_c", "Вариант 7"]:
        assert term in text, term
    assert "Task" not in text and "Precision" not in text and "report." not in text
    accuracy = f"{metrics_of(folder)['test']['accuracy']:.4f}"
    assert accuracy.replace(".", ",") in pages[6] and accuracy not in pages[6]  # 0,7000
    assert_real_figure(folder / "decision_boundary.png")
    assert_real_figure(folder / "data_points.png")


def test_figures_drawn_for_a_russian_report_are_labelled_in_russian(tmp_path):
    from zoo.reporting.report_figures import report_figures

    run = read_run_folder(make_run_folder(tmp_path, "image"))
    figures, notes = report_figures(run, "ru")
    assert figures["learning_curves"].axes[0].get_xlabel() == "Эпоха"
    assert figures["confusion_matrix"].axes[0].get_ylabel() == "Истинный класс"
    assert figures["data_overview"].axes[0].get_title() == "Число примеров по классам"
    assert notes == {
        "first_layer_weights": "model.keras отсутствует: веса нарисовать нельзя.",
        "learning_rate": "Скорость обучения весь запуск была равна 0,005 (без расписания).",
    }
    assert figures["generalization_gap"].axes[0].get_xlabel() == "Эпоха"


def test_a_diverged_run_gets_an_honest_report_marked_on_every_page(tmp_path):
    folder = make_run_folder(
        tmp_path, "image", status="diverged", drop=("metrics.json", "predictions.npz")
    )
    code, out = zoo("report", folder)
    assert code == 0, out
    pages = pdf_pages(folder / "report.pdf")
    assert len(pages) == PAGES
    assert all("DIVERGED RUN" in page for page in pages)
    assert "diverged at epoch 3" in pages[0]
    assert "metrics.json is missing" in pages[6]
    assert "model.keras is missing" in pages[8]
    assert_real_figure(folder / "learning_curves.png")
    assert not (folder / "confusion_matrix.png").exists()


def test_a_regression_report_gives_the_errors(tmp_path):
    folder = make_run_folder(tmp_path, "regression")
    write_report(folder, formats="pdf")
    pages = pdf_pages(folder / "report.pdf")
    mse = metrics_of(folder)["test"]["mse"]
    assert len(pages) == PAGES and "MSE" in pages[6] and f"{mse:.6g}" in pages[6]
    assert "Predicted against true values" in pages[7]
    assert not list(folder.glob("*.png"))  # only the PDF was asked for


def test_both_languages_have_the_same_report_texts():
    from zoo.i18n import LOCALES

    keys = {}
    for lang in ("en", "ru"):
        table = json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))
        keys[lang] = {key for key in table if key.startswith("report.")}
    assert keys["en"] == keys["ru"] and len(keys["en"]) > 100


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        (["report", "{empty}"], "is not a run folder"),
        (["report", "{missing}"], "no such folder"),
        (["report", "{run}", "--lang", "de"], "Invalid value for '--lang'"),
        (["report", "{run}", "--format", "pdf,docx"], "'--format': 'docx' is not one of"),
        (["compare", "{run}", "{empty}"], "is not a run folder"),
        (["compare", "{run}", "--format", "xls"], "Invalid value for '--format'"),
        (["compare", "{run}", "--lang", "fr"], "Invalid value for '--lang'"),
        (["compare"], "Missing argument"),
    ],
)
def test_bad_input_exits_2_with_a_message(tmp_path, args, message):
    paths = {"empty": tmp_path / "empty", "missing": tmp_path / "nope"}
    paths["empty"].mkdir()
    paths["run"] = make_run_folder(tmp_path, "points", epochs=3)
    code, out = zoo(*[a.format(**paths) for a in args])
    assert code == 2, out
    assert message in out
    assert "Traceback" not in out


def _edit(folder: Path, name: str, change) -> None:
    path = folder / name
    content = json.loads(path.read_text())
    change(content)
    path.write_text(json.dumps(content))


@pytest.mark.parametrize(
    "name, change, message",
    [
        ("config.json", lambda c: c.update(class_names=5), "'class_names' should be a list"),
        ("config.json", lambda c: c.update(layers=[5]), "'layers' should list objects"),
        ("config.json", lambda c: c.update(dataset_options=[1]), "should be an object"),
        ("config.json", lambda c: c.update(lr="fast"), "'lr' should be a number"),
        ("metrics.json", lambda m: m.update(best_epoch="x"), "'best_epoch' should be a whole"),
        ("metrics.json", lambda m: m["test"].update(confusion_matrix="x"), "confusion_matrix"),
        ("metrics.json", lambda m: m["test"].update(class_a="high"), "test.class_a"),
    ],
)
def test_a_hand_edited_run_folder_is_refused_naming_the_field(tmp_path, name, change, message):
    folder = make_run_folder(tmp_path, "points", epochs=3)
    _edit(folder, name, change)
    for command in ("report", "compare"):
        code, out = zoo(command, str(folder))
        assert code == 2 and message in out and "Traceback" not in out, out


def test_a_damaged_model_file_is_named_not_a_traceback(tmp_path):
    folder = make_run_folder(tmp_path, "points", epochs=3)  # its decision boundary needs the model
    (folder / "model.keras").write_bytes(b"PK\x03\x04 cut short")
    code, out = zoo("report", str(folder))
    assert code == 2 and "cannot load" in out and "model.keras" in out and "damaged" in out
    assert "Traceback" not in out


def test_a_folder_that_cannot_be_written_is_said_before_any_drawing(tmp_path, monkeypatch):
    import tempfile

    folder = make_run_folder(tmp_path, "points", epochs=3)

    def read_only(*args, **kwargs):  # what a read-only folder answers
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "TemporaryFile", read_only)
    code, out = zoo("report", str(folder))
    assert code == 2 and "cannot write the report" in out and "Permission denied" in out
    code, out = zoo("compare", str(folder), "--out", str(tmp_path / "tables"))
    assert code == 2 and "--out" in out and "Permission denied" in out
    assert not list(folder.glob("*.png")) and "Traceback" not in out


def test_a_report_that_fails_half_way_leaves_the_previous_pdf_whole(tmp_path, monkeypatch):
    import zoo.reporting.pdf as pdf

    folder = make_run_folder(tmp_path, "tabular", epochs=3)
    write_report(folder, formats="pdf")
    before = (folder / "report.pdf").read_bytes()

    def broken(*args, **kwargs):
        raise RuntimeError("page 6 failed")

    monkeypatch.setattr(pdf, "results_page", broken)
    with pytest.raises(RuntimeError):
        write_report(folder, formats="pdf")
    assert (folder / "report.pdf").read_bytes() == before
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize(
    "out, args, message",
    [
        ("notes.txt", [], "'notes.txt' is not a .md, .csv, .tex or .pdf file"),
        ("table.md", ["--format", "csv"], "'table.md' does not end in .csv"),
        ("notes.txt/table.md", [], "cannot make folder"),
    ],
)
def test_compare_out_never_overwrites_a_file_of_another_kind(tmp_path, out, args, message):
    run = make_run_folder(tmp_path, "points", epochs=3)
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes")
    code, text = zoo("compare", str(run), "--out", str(tmp_path / out), *args)
    assert code == 2 and "--out" in text and message in text, text
    assert notes.read_text() == "my notes" and not (tmp_path / "table.md").exists()


def test_compare_of_runs_in_unrelated_places_asks_where_to_write(tmp_path, monkeypatch):
    import os

    first = make_run_folder(tmp_path / "a", "points", epochs=3)
    second = make_run_folder(tmp_path / "b", "points", epochs=3)
    real = os.path.commonpath
    monkeypatch.setattr(os.path, "commonpath", lambda paths: os.sep)  # e.g. /work and /home
    code, out = zoo("compare", str(first), str(second))
    assert code == 2 and "unrelated folders" in out and "--out" in out
    monkeypatch.setattr(os.path, "commonpath", real)
    code, out = zoo("compare", str(first), str(second))  # siblings: their common folder
    assert code == 0 and (tmp_path / "comparison.md").is_file()


# --- the final table ---------------------------------------------------------------------


@pytest.fixture
def three_runs(tmp_path):
    root = tmp_path / "reports"
    return [
        make_run_folder(root, "image", name="a", epochs=10, comment="base variant"),
        make_run_folder(
            root, "image", name="b", epochs=6, lr=0.003, hidden=(32,), comment="wider",
            train_acc=0.98, test_acc=0.8, seed=1,
        ),
        make_run_folder(root, "image", name="c", status="diverged", lr=1.0, comment="lr 1",
                        drop=("metrics.json",)),
    ]  # fmt: skip


def test_compare_prints_one_row_per_run_with_their_numbers(three_runs):
    code, out = zoo("compare", *three_runs)
    assert code == 0, out
    rows = [line for line in out.splitlines() if line.startswith("| ") and line[2].isdigit()]
    assert len(rows) == 3
    for row, folder in zip(rows[:2], three_runs[:2], strict=True):
        m = metrics_of(folder)
        assert f"test = {100 * m['test']['accuracy']:.2f}%" in row
        assert f"train = {100 * m['train']['accuracy']:.2f}%" in row
        assert f"| {m['best_epoch']} |" in row
    assert "| FC(10), FC(3) |" in rows[0] and "lr = 0.005, batch_size = 128, epochs = 10" in rows[0]
    assert "| FC(32), FC(3) |" in rows[1] and "lr = 0.003" in rows[1] and "| wider |" in rows[1]
    assert "epochs = 3/6" in rows[2] and "test = —" in rows[2] and "lr 1 [diverged]" in rows[2]
    table = three_runs[0].parent / "comparison.md"
    lines = table.read_text(encoding="utf-8").splitlines()
    assert sum(line.startswith("| ") for line in lines) == 4  # header and three rows
    assert_real_figure(three_runs[0].parent / "comparison_test_loss.png")


def test_compare_csv_keeps_the_numbers_as_numbers(three_runs, tmp_path):
    out_file = tmp_path / "table.csv"
    code, out = zoo("compare", *three_runs, "--out", out_file)
    assert code == 0, out
    with out_file.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["comment"] for r in rows] == ["base variant", "wider", "lr 1"]
    m = metrics_of(three_runs[1])
    assert float(rows[1]["test_accuracy"]) == pytest.approx(m["test"]["accuracy"])
    assert float(rows[1]["lr"]) == 0.003 and rows[1]["network"] == "FC(32), FC(3)"
    assert rows[2]["test_accuracy"] == "" and rows[2]["status"] == "diverged"
    assert (tmp_path / "table_test_loss.png").is_file()


def test_compare_overlays_runs_of_different_lengths(tmp_path):
    folders = [
        make_run_folder(tmp_path, "points", name="long", epochs=10, comment="long"),
        make_run_folder(tmp_path, "points", name="short", epochs=4, comment="short"),
    ]
    fig = compare.test_loss_figure([read_run_folder(f) for f in folders])
    curves = [line for line in fig.axes[0].lines if len(line.get_xdata()) > 1]
    assert [len(line.get_xdata()) for line in curves] == [10, 4]
    assert curves[1].get_label().startswith("2. short")


def test_compare_writes_latex_and_a_russian_pdf(three_runs, tmp_path):
    code, out = zoo("compare", *three_runs[:2], "--format", "tex", "--out", tmp_path / "tex")
    assert code == 0, out
    tex = (tmp_path / "tex" / "comparison.tex").read_text(encoding="utf-8")
    assert r"\begin{tabular}" in tex and r"batch\_size = 128" in tex and r"66.67\%" in tex
    code, out = zoo("compare", *three_runs, "--out", tmp_path / "final.pdf", "--lang", "ru")
    assert code == 0, out
    text = " ".join(pdf_pages(tmp_path / "final.pdf"))
    assert "Конфигурация сети" in text and "FC(32), FC(3)" in text and "разошлось" in text


# --- end to end --------------------------------------------------------------------------


def test_a_trained_run_is_reported_from_its_folder(tmp_path):
    import zoo as zoo_api

    run = zoo_api.train(
        "mlp", "gaussians", epochs=3, out=tmp_path, quiet=True, comment="e2e", report=False
    )  # the report is drawn from the folder alone, below
    write_report(run.folder, lang="ru", formats="pdf,png")
    pages = pdf_pages(run.folder / "report.pdf")
    assert len(pages) == PAGES
    accuracy = json.loads((run.folder / "metrics.json").read_text())["test"]["accuracy"]
    assert f"{accuracy:.4f}".replace(".", ",") in pages[6]  # a Russian table: 0,6400
    assert "Разделяющая граница" in pages[8] or "кружки" in pages[8]
    assert_real_figure(run.folder / "decision_boundary.png")
    code, out = zoo("compare", run.folder)
    assert code == 0 and "| e2e |" in out


def test_the_lab_run_on_cifar100_classes_is_reported_in_russian(tmp_path):
    import image_fixtures as fx

    fx.write_cifar100_archive(tmp_path)
    code, out = zoo(
        "train", "mlp", "cifar100-3class", "--data-dir", tmp_path, "--epochs", "3", "--quiet",
        "--batch-size", "8", "--out", tmp_path / "reports", "--comment", "base variant",
        "--no-report",  # drawn once, in Russian, by `zoo report` below
    )  # fmt: skip
    assert code == 0, out
    (folder,) = (tmp_path / "reports").iterdir()
    code, out = zoo("report", folder, "--lang", "ru")
    assert code == 0, out
    pages = pdf_pages(folder / "report.pdf")
    text = "\n".join(pages)
    assert len(pages) == PAGES
    assert "apple (0), otter (55), pickup_truck (58)" in " ".join(text.split())
    assert "FC(10), FC(3)" in text and "30720" in text  # 32x32x3 inputs into 10 neurons
    assert_real_figure(folder / "first_layer_weights.png")
    assert_real_figure(folder / "samples.png")


@pytest.mark.parametrize("names", [list("0123456789"), ["airplane", "automobile", "bird"]])
def test_a_confusion_matrix_keeps_its_labels_on_the_figure(names):
    # with square cells the axes shrank after tight_layout and the x label fell off the
    # bottom: the figure was cut, and drawing it again to un-cut it doubled its cost
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from zoo.reporting.figures import confusion_matrix_figure
    from zoo.reporting.layout import _touches_edge
    from zoo.reporting.plot import drawing

    k = len(names)
    matrix = np.random.default_rng(0).integers(0, 50, (k, k))
    with drawing():
        fig = confusion_matrix_figure(matrix, names)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        assert not _touches_edge(np.asarray(canvas.buffer_rgba())[..., :3])


def test_a_diverged_run_prints_only_its_reason_and_reports_no_empty_figures(tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, "-c", "from zoo.cli import main; main()", "train", "mlp", "digits",
         "--lr", "1000", "--epochs", "2",
         "-q", "--out", str(tmp_path / "runs")],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if not line.startswith("run folder:")]
    assert lines == ["the loss became nan at epoch 1: the learning rate 1000.0 is too large"]
    (folder,) = (tmp_path / "runs").iterdir()
    text = " ".join(pdf_pages(folder / "report.pdf"))
    assert "weights are not finite numbers" in text and " nan " not in text.replace("\n", " ")
    assert not (folder / "first_layer_map.png").exists()


def test_a_diverged_runs_losses_are_said_in_words_never_a_bare_nan(tmp_path):
    from zoo.lab.facts import answers
    from zoo.reporting.describe import loss_value

    folder = make_run_folder(tmp_path, "image", status="diverged")
    run = read_run_folder(folder)
    assert np.isnan(run.column("val_loss")[-1])  # the last epoch's test loss is NaN
    for lang, words in (("en", "not a number (the training diverged)"),
                        ("ru", "не число (обучение разошлось)")):  # fmt: skip
        facts = " ".join(" ".join(found) for _, found in answers([run], lang))
        assert words in facts and "nan" not in facts.lower().split(), facts
    # metrics.json names epoch 3, whose loss is NaN: the sentence takes the history's lowest
    assert run.best_epoch == 3 and describe.best_epoch_loss(run) == (1, 0.765)
    write_report(folder, formats="pdf")
    text = " ".join(" ".join(pdf_pages(folder / "report.pdf")).split())
    assert "Best epoch: 1, the lowest loss" in text and "(0.7650)" in text
    assert "(nan)" not in text and "not a number" not in text
    assert loss_value(7690123776.0) == "7.69e+09"  # a blown-up loss keeps its power of ten
    assert loss_value(float("inf"), "ru") == "не число (обучение разошлось)"


def _three_figures():
    from zoo.reporting.plot import pyplot

    figures = {}
    for i in range(3):
        fig, ax = pyplot().subplots(figsize=(3, 2))
        ax.plot([0, 1, 2], [i, 1, 0])
        ax.set_title(f"figure {i}")
        figures[f"f{i}"] = fig
    return figures


def _proc_stat(path, busy: int, idle: int) -> None:
    """A /proc/stat of two CPUs that spent `busy` and `idle` ticks (100 a second), half each."""
    rows = [f"cpu{i} {busy // 2} 0 0 {idle // 2} 0 0 0 0 0 0" for i in range(2)]
    path.write_text(f"cpu  {busy} 0 0 {idle} 0 0 0 0 0 0\n" + "\n".join(rows) + "\nintr 1\n")


@pytest.mark.parametrize(
    "load, others, own, spare",
    [
        (1.9, 0.0, 0.6, True),  # a busy minute just ended: idle since, the child gets a core
        (0.0, 1.0, 0.6, False),  # another process took a core since: the figures stay here
        (0.0, 0.2, 1.6, True),  # this process's own threads are not another's work
    ],
)
def test_a_core_is_spare_for_the_figures_by_what_the_cores_did_just_now(
    tmp_path, monkeypatch, load, others, own, spare
):
    """The figures' second process is forked where a core is free now, not by the load
    average, which lags by a minute. One second on two CPUs: `others` and `own` cores busy."""
    from zoo.reporting import forked

    stat = tmp_path / "stat"
    monkeypatch.setattr(forked, "PROC_STAT", str(stat))
    monkeypatch.setattr(forked.os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(forked.os, "sysconf", lambda name: 100)
    monkeypatch.setattr(forked.os, "getloadavg", lambda: (load, load, load))

    def one_second(since_own: float = 10.0) -> None:
        _proc_stat(stat, 2000, 10000)
        monkeypatch.setattr(forked, "_since", (os.getpid(), forked.cpu_times(), since_own))
        worked = round(100 * (others + own))
        _proc_stat(stat, 2000 + worked, 10000 + 200 - worked)
        monkeypatch.setattr(forked.os, "times", lambda: os.times_result((10.0 + own, 0, 0, 0, 0)))

    one_second()
    assert forked.others_busy() == pytest.approx(others)
    assert forked.others_busy() is None  # no while since: the load average would decide
    one_second()
    assert forked._spare_core() is spare
    one_second()
    monkeypatch.setattr(forked, "PROC_STAT", str(tmp_path / "none"))
    assert forked._spare_core() is (load < 1.5)  # no /proc/stat: the load average


def test_a_process_forked_since_counts_from_its_own_start(monkeypatch):
    """A process forked after the module was imported (its CPU time starts at 0) does not
    read its parent's start as its own."""
    from zoo.reporting import forked

    monkeypatch.setattr(forked, "_since", (os.getpid() + 1, (0.0, 0.0), 1e9))
    assert forked.others_busy() is None
    assert forked._since[0] == os.getpid()


@pytest.mark.skipif(not Path("/proc/stat").exists(), reason="reads /proc/stat")
def test_a_process_that_takes_a_core_counts_as_busy():
    """On the real /proc/stat: a process spinning for half a second beside this one."""
    from zoo.reporting import forked

    forked.others_busy()  # from now
    spin = "import time\nend = time.perf_counter() + 0.5\nwhile time.perf_counter() < end: pass"
    subprocess.run([sys.executable, "-c", spin], check=True)
    assert forked.others_busy() >= 0.5


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux only")
def test_figures_drawn_by_a_second_process_are_the_pixels_drawn_here(monkeypatch):
    from zoo.reporting import forked
    from zoo.reporting.layout import render
    from zoo.reporting.plot import drawing

    monkeypatch.setattr(forked, "_spare_core", lambda: True)
    with drawing():
        figures = _three_figures()
        here = {name: render(fig) for name, fig in figures.items()}
        with forked.Drawings(figures, render) as drawn:
            pid = drawn._pid
            assert pid is not None  # a child draws them
            for name in reversed(list(figures)):  # asked for in any order
                assert drawn[name].png == here[name].png
                assert np.array_equal(drawn[name].pixels, here[name].pixels)
        with pytest.raises(ChildProcessError):  # reaped: no zombie left behind
            os.waitpid(pid, os.WNOHANG)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux only")
def test_while_a_page_waits_for_the_child_the_figures_it_has_not_begun_are_drawn_here(
    tmp_path, monkeypatch
):
    """The child draws from the first figure on, this process (while it waits) from the last
    one back; each figure is drawn once, and the child skips what was drawn here."""
    from zoo.reporting import forked

    monkeypatch.setattr(forked, "_spare_core", lambda: True)
    log = tmp_path / "child.log"
    started = tmp_path / "started"

    def in_child(name):
        started.touch()
        with log.open("a") as out:
            out.write(f"{name}\n")
        if name == "a":
            time.sleep(1.0)  # the page asks for it meanwhile
        return f"child {name}"

    figures = {name: name for name in "abcd"}
    with forked.Drawings(figures, lambda name: f"here {name}", draw_in_child=in_child) as drawn:
        assert drawn._pid is not None
        while not started.exists():
            time.sleep(0.01)
        shown = {name: drawn[name] for name in figures}
    assert shown == {"a": "child a", "b": "here b", "c": "here c", "d": "here d"}
    assert log.read_text().split() == ["a"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux only")
def test_figures_a_failed_second_process_did_not_send_are_drawn_here(monkeypatch):
    from zoo.reporting import forked
    from zoo.reporting.layout import render
    from zoo.reporting.plot import drawing

    monkeypatch.setattr(forked, "_spare_core", lambda: True)
    parent = os.getpid()
    drawn_here = []

    def draw(fig):
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        drawn_here.append(fig)
        return render(fig)

    with drawing():
        figures = _three_figures()
        with forked.Drawings(figures, draw) as drawn:
            assert drawn._pid is not None
            shown = {name: drawn[name] for name in figures}
    assert len(drawn_here) == 3
    assert all(shown[name].png == render(figures[name]).png for name in figures)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux only")
def test_a_report_drawn_with_a_second_process_is_the_report_drawn_without(tmp_path, monkeypatch):
    """The same PDF and PNG files whether the figures are built and drawn in the second
    process, drawn there after being built here (SVG files asked for), or all done here."""
    from zoo.reporting import forked, report_figures

    monkeypatch.setattr(forked, "_spare_core", lambda: True)
    forks = []
    fork = os.fork
    monkeypatch.setattr(forked.os, "fork", lambda: forks.append(1) or fork())
    built = tmp_path / "built"
    build = report_figures.Later.build

    def recorded(later):
        with built.open("a") as out:
            out.write(f"{os.getpid()}\n")
        return build(later)

    monkeypatch.setattr(report_figures.Later, "build", recorded)
    files = {}
    for second, formats in ((True, "pdf,png"), (False, "pdf,png"), (True, "pdf,png,svg")):
        monkeypatch.setattr(forked, "FORK", second)
        folder = make_run_folder(tmp_path / f"{second}-{formats}", "image")
        paths = write_report(folder, lang="ru", formats=formats)
        pdf = without_creation_date(paths[0].read_bytes())
        pngs = [(p.name, p.read_bytes()) for p in paths if p.suffix == ".png"]
        files[second, formats] = pdf, pngs
        if (second, formats) == (True, "pdf,png"):  # built where drawn: some in the child
            assert set(built.read_text().split()) - {str(os.getpid())}
    assert len(forks) == 2
    assert files[True, "pdf,png"] == files[False, "pdf,png"] == files[True, "pdf,png,svg"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux only")
def test_a_second_process_reads_the_files_it_inherited_at_an_offset_of_its_own(
    tmp_path, monkeypatch
):
    """matplotlib's font objects made before the fork seek and read their font files in both
    processes at once: with the offset shared, each read the other's bytes and FreeType failed
    on a glyph in one report of three."""
    from zoo.reporting import forked

    monkeypatch.setattr(forked, "_spare_core", lambda: True)
    data = np.random.default_rng(0).integers(0, 256, 1 << 20, dtype=np.uint8).tobytes()
    path = tmp_path / "font.ttf"
    path.write_bytes(data)
    offsets = np.random.default_rng(1).integers(0, len(data) - 64, 100_000).tolist()
    with open(path, "rb", buffering=0) as file:

        def read_everywhere(_) -> int:
            wrong = 0
            for offset in offsets:
                file.seek(offset)
                wrong += file.read(64) != data[offset : offset + 64]
            return wrong

        with forked.Drawings({"a": 1, "b": 2}, read_everywhere) as drawn:
            assert drawn.forked
            wrong_here = read_everywhere(None)  # while the child reads the same file
            wrong_there = [drawn[name] for name in ("a", "b")]
    assert (wrong_here, wrong_there) == (0, [0, 0])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux only")
def test_a_second_process_that_hangs_is_ended_and_its_figures_drawn_here(monkeypatch):
    import time

    from zoo.reporting import forked
    from zoo.reporting.layout import render
    from zoo.reporting.plot import drawing

    monkeypatch.setattr(forked, "_spare_core", lambda: True)
    monkeypatch.setattr(forked, "STALLED", 0.5)
    parent = os.getpid()

    def draw(fig):
        if os.getpid() != parent:
            time.sleep(3600)  # a child stuck on a lock it inherited
        return render(fig)

    with drawing():
        figures = _three_figures()
        start = time.monotonic()
        with forked.Drawings(figures, draw) as drawn:
            shown = {name: drawn[name].png for name in figures}
        assert time.monotonic() - start < 30
    assert all(shown[name] == render(figures[name]).png for name in figures)


def test_a_pdf_embeds_the_font_subsets_an_earlier_pdf_made_of_the_same_glyphs(
    tmp_path, monkeypatch
):
    from fontTools import subset

    from zoo.reporting import fonts

    monkeypatch.setenv("ZOO_CACHE", str(tmp_path / "cache"))
    folder = make_run_folder(tmp_path, "image")
    kept = tmp_path / "cache" / fonts.FOLDER

    def report() -> bytes:
        code, out = zoo("report", folder, "--format", "pdf")
        assert code == 0, out
        return without_creation_date((folder / "report.pdf").read_bytes())

    first = report()
    files = sorted(kept.iterdir())
    assert files and all(f.name.startswith("DejaVuSans") for f in files)
    made = subset.Subsetter.subset
    with monkeypatch.context() as patch:  # every subset is read, none made again
        patch.setattr(subset.Subsetter, "subset", lambda *a: pytest.fail("made again"))
        assert report() == first
    whole = files[0].read_bytes()
    files[0].write_bytes(whole[:100])  # cut short: made again, and kept whole again
    stale = kept / "DejaVuSans-0.ttf-subset"
    stale.write_bytes(b"")
    os.utime(stale, (0, 0))
    monkeypatch.setattr(fonts, "KEEP", len(files))  # the least recently used go first
    assert report() == first
    assert files[0].read_bytes() == whole and subset.Subsetter.subset is made
    assert sorted(kept.iterdir()) == files


def test_a_reports_imports_are_frozen_out_of_the_collectors_way_only_where_it_imports_them():
    """What matplotlib's import makes lives as long as the process: frozen, a report's full
    collections skip it. A program that imported matplotlib itself may hold figures whose
    cycles must still be freed, so then nothing is frozen."""
    code = (
        "import gc, sys\n"
        "if sys.argv[1] == 'imported': import matplotlib\n"
        "from zoo.reporting.pdf import prepare\n"
        "before = gc.get_freeze_count()\n"
        "prepare()\n"
        "after = gc.get_freeze_count()\n"
        "prepare()\n"
        "print(after - before, gc.get_freeze_count() - after, gc.isenabled())\n"
    )
    counts = {}
    for state in ("fresh", "imported"):
        done = subprocess.run(
            [sys.executable, "-c", code, state], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr[-2000:]
        frozen, again, enabled = done.stdout.split()
        assert again == "0" and enabled == "True", done.stdout
        counts[state] = int(frozen)
    assert counts["fresh"] > 50_000 and counts["imported"] == 0, counts
