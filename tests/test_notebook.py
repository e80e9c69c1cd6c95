"""The notebook displays, outside a kernel: detection, the live display's budget and bar, HTML of
datasets, runs and the final table, and `zoo.show`. Kernels run in test_notebooks_run.py."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
from image_fixtures import write_cifar100_archive
from run_fixtures import make_run_folder

import zoo
from zoo import html
from zoo.errors import OptionError
from zoo.notebook import detect
from zoo.notebook.live import (
    SHARE,
    LiveDisplay,
    axis_limits,
    clock_text,
    live_display,
    nice_ceiling,
)
from zoo.notebook.runs import Picture
from zoo.reporting import compare as table_module
from zoo.runfolder import read_run_folder
from zoo.training.progress import Progress

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def body_rows(text: str) -> int:
    """Rows of an HTML table's body."""
    body = re.search(r"<tbody>(.*)</tbody>", text, re.S)
    return body.group(1).count("<tr>") if body else 0


# -- detection ---------------------------------------------------------------------------------
def test_plain_python_and_terminal_ipython_are_not_notebooks():
    assert detect.kernel_shell() is None
    from IPython.core.interactiveshell import InteractiveShell

    InteractiveShell.instance()  # what terminal IPython runs: a shell, no kernel
    try:
        assert not detect.in_notebook()
        config = {"model": "mlp", "dataset": "digits", "lang": "en"}
        assert live_display(None, quiet=False, epochs=3, config=config) is None
        assert live_display(True, quiet=False, epochs=3, config=config) is None
    finally:
        InteractiveShell.clear_instance()


# -- the live display --------------------------------------------------------------------------
class FakeCell:
    """Collects what the display publishes; each figure "costs" `figure_cost` seconds on the
    display's clock, so the budget is checked without timing anything."""

    def __init__(self, figure_cost: float):
        self.now, self.figure_cost = 0.0, figure_cost
        self.sent: list[tuple[str, str, bool]] = []  # (kind, display_id, update)
        self.bundles: list[dict] = []

    def clock(self) -> float:
        return self.now

    def publish(self, bundle: dict, display_id: str, update: bool) -> None:
        kind = "figure" if "image/png" in bundle else "bar"
        if kind == "figure":
            self.now += self.figure_cost
        self.sent.append((kind, display_id, update))
        self.bundles.append(bundle)


def rows(epochs: int, seconds: float):
    for epoch in range(1, epochs + 1):
        loss = 1.0 / epoch
        yield {
            "epoch": epoch,
            "loss": loss,
            "accuracy": 1 - loss / 2,
            "val_loss": loss + 0.002 * epoch,
            "val_accuracy": 0.8,
            "seconds": seconds,
        }


def test_live_curves_are_redrawn_within_the_share_of_training_time():
    cell = FakeCell(figure_cost=0.1)
    display = LiveDisplay(60, publish=cell.publish, clock=cell.clock)
    for row in rows(60, seconds=0.4):  # 24 s of training: 1.2 s of drawing allowed
        cell.now += row["seconds"]
        display.update(row, "loss ...")
    display.close()
    figures = [s for s in cell.sent if s[0] == "figure"]
    # one display, then updates in place of it
    assert not figures[0][2] and all(update for _, _, update in figures[1:])
    assert len({display_id for _, display_id, _ in figures}) == 1
    assert 8 <= display.figures <= 13  # 12 fit the budget; the first and the last always drawn
    # the figures' cost stays within the share, give or take the last one, always drawn
    assert display.budget.spent <= SHARE * display.train_seconds + 0.1 + 1e-9
    assert display.drawn_epoch == 60


def test_slow_drawing_waits_for_more_training():
    cell = FakeCell(figure_cost=2.0)  # each figure as long as 100 s of training at 5%
    display = LiveDisplay(50, publish=cell.publish, clock=cell.clock)
    for row in rows(50, seconds=1.0):
        cell.now += 1.0
        display.update(row)
    display.close()
    assert display.figures == 2  # the first epoch and the last; 50 s pays for none between


def test_progress_bar_is_replaced_in_place_and_ends_complete():
    cell = FakeCell(figure_cost=0.0)
    display = LiveDisplay(3, publish=cell.publish, clock=cell.clock)
    for row in rows(3, seconds=0.5):
        cell.now += 0.5
        display.update(row, "loss 0.3333")
    display.close()
    bars = [(s, b) for s, b in zip(cell.sent, cell.bundles, strict=True) if s[0] == "bar"]
    assert not bars[0][0][2] and all(s[2] for s, _ in bars[1:])
    last = bars[-1][1]
    assert "<progress value='3' max='3'" in last["text/html"]
    assert last["text/plain"].startswith("epoch 3/3 100% [00:01")
    assert "loss 0.3333" in last["text/plain"]


def test_regression_run_draws_the_loss_alone():
    cell = FakeCell(figure_cost=0.0)
    display = LiveDisplay(2, publish=cell.publish, clock=cell.clock)
    for epoch in (1, 2):
        display.update({"epoch": epoch, "loss": 1 / epoch, "val_loss": 1.0, "seconds": 1})
    display.close()
    assert len(display.curves.panels) == 1
    png = cell.bundles[-2]["image/png"]
    assert png and display.drawn_epoch == 2


def test_loss_axis_holds_until_the_curves_leave_it():
    assert nice_ceiling(1.37) == 1.5 and nice_ceiling(0.0021) == pytest.approx(0.0025)
    assert nice_ceiling(8.1) == 10 and nice_ceiling(2.0) == 2.0
    first = axis_limits("loss", np.array([2.1, 1.9]))
    assert first == (0.0, 2.5)
    assert axis_limits("loss", np.array([2.1, 1.9, 0.4, 0.01, np.nan])) == first
    assert axis_limits("loss", np.array([2.1, 3.0, np.inf])) == (0.0, 4.0)  # a rising loss
    assert axis_limits("accuracy", np.array([0.3])) == (-0.02, 1.02)


def test_curves_are_painted_over_a_kept_background():
    from zoo.notebook.live import LiveCurves

    curves = LiveCurves(50, True, lang="en", eval_label="common.test", title="t")
    history = list(rows(50, seconds=0.1))
    pngs = [curves.draw(history[:n]) for n in (1, 10, 30, 50)]
    assert curves.full_draws == 1  # the loss never rose above the first epoch's
    assert len(set(pngs)) == 4 and all(p.startswith(PNG_SIGNATURE) for p in pngs)
    history[40]["val_loss"] = 5.0  # the test loss jumps out of the axis: drawn again
    curves.draw(history)
    assert curves.full_draws == 2


def test_clock_text_reads_like_tqdm():
    assert clock_text(61.5) == "01:01"
    assert clock_text(3600) == "1:00:00"


class Recorder:
    def __init__(self):
        self.rows, self.closed = [], 0

    def update(self, row, metrics):
        self.rows.append((row["epoch"], metrics))

    def close(self):
        self.closed += 1


def test_progress_hands_epochs_to_a_display_instead_of_printing():
    stream, recorder = io.StringIO(), Recorder()
    progress = Progress(2, stream=stream, display=recorder)
    for row in rows(2, seconds=0.1):
        progress.update(row)
    progress.message("batch_size is larger than the training set")
    progress.close()
    progress.close()
    assert [epoch for epoch, _ in recorder.rows] == [1, 2]
    assert recorder.rows[0][1].startswith("loss 1.0000 acc 0.5000  val_loss")
    assert recorder.closed == 1
    assert stream.getvalue() == "batch_size is larger than the training set\n"


def test_without_a_display_progress_prints_as_before():
    stream = io.StringIO()
    progress = Progress(2, stream=stream)
    for row in rows(2, seconds=0.25):
        progress.update(row)
    progress.close()
    assert stream.getvalue().splitlines()[0] == (
        "epoch 1/2 loss 1.0000 acc 0.5000  val_loss 1.0020 val_acc 0.8000 (0.250s)"
    )


# -- HTML pieces -------------------------------------------------------------------------------
def test_png_bytes_decode_to_the_same_pixels():
    import matplotlib.image

    rng = np.random.default_rng(0)
    colour = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    grey = rng.integers(0, 256, (4, 3), dtype=np.uint8)
    for pixels in (colour, grey):
        png = html.png_bytes(pixels)
        decoded = np.round(matplotlib.image.imread(io.BytesIO(png), format="png") * 255)
        assert png.startswith(PNG_SIGNATURE)
        np.testing.assert_array_equal(decoded.astype(np.uint8), pixels)


def test_html_table_escapes_text_and_keeps_raw_images():
    text = html.table(["a<b", "n"], [["x & y", 3], [html.image(b"png", alt="p"), "7%"]])
    assert "a&lt;b" in text and "x &amp; y" in text
    assert '<img src="data:image/png;base64,cG5n" alt="p">' in text
    assert body_rows(text) == 2


# -- datasets ----------------------------------------------------------------------------------
def test_image_dataset_shows_counts_and_examples_of_each_class(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path / "cache"))
    write_cifar100_archive(tmp_path, train_per_class=4, test_per_class=2)
    data = zoo.load_dataset("cifar100-3class", data_dir=str(tmp_path))
    text = data._repr_html_()
    assert body_rows(text) == 3
    for name, source in (("apple", 0), ("otter", 55), ("pickup_truck", 58)):
        assert re.search(rf">{name}</td><td[^>]*>{source}</td><td[^>]*>4</td><td[^>]*>2</td>", text)
    assert text.count("<img ") == 3  # one strip of examples per class
    assert "train: 12" in text and "test: 6" in text


def test_example_strip_puts_the_images_side_by_side():
    import matplotlib.image

    from zoo.datasets.preview import GAP, example_strip

    images = np.stack([np.full((4, 4, 3), v, np.uint8) for v in (10, 200)])
    strip = matplotlib.image.imread(io.BytesIO(example_strip(images)), format="png")
    assert strip.shape[:2] == (4, 4 + GAP + 4)
    assert round(strip[0, 0, 0] * 255) == 10 and round(strip[0, -1, 0] * 255) == 200
    assert round(strip[0, 4, 0] * 255) == 255  # the white gap


def test_tabular_and_regression_datasets_show_no_pictures():
    iris = zoo.load_dataset("iris")._repr_html_()
    assert body_rows(iris) == 3 and "<img" not in iris
    curve = zoo.load_dataset("sigmoid-1d")._repr_html_()
    assert "target" in curve and "mean" in curve and "<img" not in curve


# -- runs, figures, the final table ------------------------------------------------------------
def test_open_run_shows_status_hyperparameters_reports_and_figures(tmp_path):
    folder = make_run_folder(tmp_path, "image", epochs=6)
    run = zoo.open_run(folder)
    assert isinstance(run, zoo.Run) and run.status == "completed"
    text = run._repr_html_()
    assert "completed" in text and "Hyperparameters" in text and "Learning rate" in text
    assert "<caption style='text-align:left'><b>Train</b>" in text
    assert "<caption style='text-align:left'><b>Test</b>" in text
    assert "pickup_truck" in text and "macro avg" in text
    assert text.count('<img src="data:image/png;base64,') == 2  # curves, confusion matrix
    accuracy = f"{100 * run.accuracy('test'):.2f}%"
    line = f"Run(mlp · cifar100-3class, completed, test accuracy {accuracy}, {folder})"
    assert repr(run) == line


def test_a_diverged_run_says_so_instead_of_its_missing_figures(tmp_path):
    folder = make_run_folder(tmp_path, "points", status="diverged", drop=("metrics.json",))
    text = zoo.open_run(folder)._repr_html_()
    assert "diverged" in text and "metrics.json is missing" in text
    assert text.count("<img ") == 1  # the learning curves, drawn from history.csv


def test_show_outside_a_notebook_returns_the_report_figure(tmp_path):
    folder = make_run_folder(tmp_path, "image", epochs=6)
    (folder / "confusion_matrix.png").write_bytes(html.png_bytes(np.zeros((2, 2), np.uint8)))
    picture = zoo.show(folder, "confusion_matrix")  # the report's file, as it is
    assert isinstance(picture, Picture) and picture.size == (2, 2)
    drawn = zoo.show(str(folder), "confusion_matrix", lang="ru")  # another language: drawn
    assert drawn.png.startswith(PNG_SIGNATURE) and drawn.size[0] > 100
    saved = drawn.save(tmp_path / "cm.png")
    assert saved.read_bytes() == drawn.png
    with pytest.raises(OptionError, match="already exists"):
        drawn.save(tmp_path / "cm.png")


def test_show_names_the_figures_it_knows_and_those_a_run_lacks(tmp_path):
    folder = make_run_folder(tmp_path, "image", epochs=6)
    with pytest.raises(OptionError, match="'confusion' is not one of .*confusion_matrix") as err:
        zoo.show(folder, "confusion")
    assert err.value.option == "name"
    with pytest.raises(OptionError, match="no 'decision_boundary' figure"):
        zoo.show(folder, "decision_boundary")


def test_compare_is_the_cli_table_as_html_markdown_and_csv(tmp_path):
    base = make_run_folder(tmp_path, "image", name="base", comment="FC(10)")
    wide = make_run_folder(tmp_path, "image", name="wide", hidden=(64,), comment="FC(64)")
    table = zoo.compare([base, zoo.open_run(wide)])
    folders = [read_run_folder(base), read_run_folder(wide)]
    assert len(table) == 2
    assert table.to_markdown() == table_module.markdown(folders)
    assert table.to_csv() == table_module.csv_text(folders)
    text = table._repr_html_()
    assert body_rows(text) == 2 and "FC(64)" in text and "Summary of the training" in text
    assert [row.comment for row in table.rows] == ["FC(10)", "FC(64)"]
    assert "Итоговая таблица" in zoo.compare([base], lang="ru")._repr_html_()
    assert table.figure().png.startswith(PNG_SIGNATURE)
    written = table.write(tmp_path / "final.md")
    assert written[0].read_text(encoding="utf-8") == table.to_markdown()


def test_compare_refuses_no_runs_and_unknown_languages(tmp_path):
    with pytest.raises(OptionError, match="at least one"):
        zoo.compare([])
    with pytest.raises(OptionError) as err:
        zoo.compare([make_run_folder(tmp_path, "image")], lang="xx")
    assert err.value.option == "lang"


def test_a_run_in_memory_displays_as_html(tmp_path):
    run = zoo.train("mlp", "gaussians", epochs=2, out=None, quiet=True)
    text = run._repr_html_()
    assert "mlp · gaussians" in text and "completed" in text
    assert "(not saved" not in text  # no folder line for a run that has none
    assert text.count("<img ") == 2
    table = zoo.compare([run])
    assert body_rows(table._repr_html_()) == 1
    with pytest.raises(OptionError, match="out=None"):
        table.write(tmp_path)
    assert Path(tmp_path).is_dir() and not list(Path(tmp_path).iterdir())
