"""Every text of every report page fits: inside the page, inside its cell, clear of the others."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from layout_pages import checked_pages
from run_fixtures import make_run_folder

from zoo.cli import cli
from zoo.reporting.layout import Page, fit_cell
from zoo.reporting.layout_check import layout_faults


def zoo(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    return result.exit_code, result.output


def test_a_header_clipped_on_purpose_is_found():
    import matplotlib.pyplot as plt

    page = Page(plt, footer="lab1-2-v5", number="2 / 9")
    ax = page.fig.add_axes((0.08, 0.8, 0.84, 0.05))
    ax.axis("off")
    table = ax.table(  # the cells as they are, no fitting: the old lab 1 page 2
        cellText=[["1", "9", "bottle"]],
        colLabels=["№", "Класс CIFAR-100", "Название"],
        colWidths=[0.1, 0.12, 0.78],
        bbox=(0, 0, 1, 1),
    )
    table.auto_set_font_size(False)
    table.set_fontsize(10)
    faults = layout_faults(page.fig)
    plt.close(page.fig)
    assert any("Класс CIFAR-100" in f and "table cell" in f for f in faults), faults


def test_texts_that_leave_the_page_or_overlap_are_found():
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(4, 3))
    fig.text(0.9, 0.5, "a long sentence that runs off the page")
    fig.text(0.1, 0.2, "one text")
    fig.text(0.12, 0.2, "another text")
    faults = layout_faults(fig)
    plt.close(fig)
    assert any("leaves the page" in f for f in faults), faults
    assert any("overlaps" in f for f in faults), faults


def test_long_cells_are_wrapped_at_spaces_or_shrunk_never_cut():
    import matplotlib.pyplot as plt

    text, size = fit_cell("Класс CIFAR-100", 60, 10, bold=True)
    assert (text, size) == ("Класс\nCIFAR-100", 10)
    text, size = fit_cell("Переобучение", 30, 10)
    assert text == "Переобучение" and size < 10
    page = Page(plt)
    page.table(
        [["1", "9 + 7", "9", "bottle"]],
        ["№", "Правило", "Класс CIFAR-100", "Название"],
        widths=(0.5, 2.5, 1, 2),
        size=10,
    )
    assert layout_faults(page.fig) == []
    plt.close(page.fig)


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("image", {"with_model": True}),
        ("points", {"with_model": True, "comment": "батч 512, те же итерации"}),
        ("regression", {}),
        ("points", {"status": "diverged"}),
    ],
)
def test_every_page_of_a_run_report_fits(tmp_path, monkeypatch, kind, options, lang):
    folder = make_run_folder(tmp_path, kind, **options)
    with checked_pages(monkeypatch) as faults:
        code, out = zoo("report", folder, "--lang", lang)
    assert code == 0, out
    assert faults == []


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_every_page_of_a_comparison_fits(tmp_path, monkeypatch, lang):
    runs = [
        make_run_folder(tmp_path, "points", name=f"mlp-points-{i}", hidden=(h,), seed=i,
                        comment=f"скрытый слой {h}, батч {b}", batch_size=b)
        for i, (h, b) in enumerate([(3, 32), (10, 128), (40, 512)])
    ]  # fmt: skip
    with checked_pages(monkeypatch) as faults:
        code, out = zoo("compare", *runs, "--out", tmp_path / "cmp", "--lang", lang,
                        "--format", "pdf")  # fmt: skip
    assert code == 0, out
    assert faults == []


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_every_page_of_a_sweep_report_fits(tmp_path, monkeypatch, lang):
    from zoo.sweeps import SweepSpec

    spec = SweepSpec.create("mlp", "gaussians", grid={"hidden": [5, 10]}, seeds=2)
    (tmp_path / "sweep.toml").write_text(spec.to_toml(), encoding="utf-8")
    for run in spec.runs():
        make_run_folder(tmp_path / "runs", "points", name=run.name, seed=run.seed)
    with checked_pages(monkeypatch) as faults:
        code, out = zoo("compare", tmp_path, "--lang", lang)
    assert code == 0, out
    assert faults == []


def test_a_figure_set_too_small_or_with_a_legend_over_its_bars_is_found():
    import matplotlib.pyplot as plt

    from zoo.reporting.layout_check import figure_faults

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.bar(range(10), [5] * 10, label="train")
    ax.legend(loc="center")  # on the bars
    ax.set_xticks(range(10), [str(i) for i in range(10)], rotation=45)
    faults = figure_faults(fig, scale=0.4)  # 10 pt ticks come out at 4 pt
    plt.close(fig)
    assert any("under 5.5 pt" in f for f in faults), faults
    assert any("covers a bar" in f for f in faults), faults
    assert any("'3' is turned on its side" in f for f in faults), faults


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """A real ten-class run with a stepped learning rate: every figure a run report draws for
    a tabular image set, at the sizes the page gives them."""
    import zoo as library

    out = tmp_path_factory.mktemp("digits")
    return library.train("mlp", "digits", epochs=6, lr_schedule="step", lr_step=2,
                         quiet=True, report=False, out=str(out)).folder  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_every_figure_of_a_ten_class_run_fits_its_page(digits_run, monkeypatch, lang):
    with checked_pages(monkeypatch) as faults:
        code, out = zoo("report", digits_run, "--lang", lang)
    assert code == 0, out
    assert faults == []


def test_russian_figures_write_decimal_commas_in_their_ticks(digits_run):
    from zoo.reporting.plot import drawing
    from zoo.reporting.report_figures import report_figures
    from zoo.runfolder import read_run_folder

    with drawing():
        figs, _ = report_figures(read_run_folder(digits_run), "ru")
        fig = figs["generalization_gap"]
        fig.canvas.draw()
        ticks = [label.get_text() for ax in fig.axes for label in ax.get_yticklabels()]
        matrix = figs["confusion_matrix"]
        cells = [text.get_text() for text in matrix.axes[1].texts]  # the fractions
    assert any("," in tick for tick in ticks) and not any("." in tick for tick in ticks), ticks
    assert "0,00" in cells and not any("." in cell for cell in cells), cells
