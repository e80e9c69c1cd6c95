"""The zoo in a real Jupyter kernel (nbclient + ipykernel): live curves redrawn in place, runs
shown as HTML, and every notebook of docs/notebooks run top to bottom on offline data.

Notebooks are stored without outputs; the lab's parameter cell reads the data folder
(`ZOO_DATA_DIR`) and a short epoch count (`ZOO_NOTEBOOK_EPOCHS`) from the environment.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from pathlib import Path

import nbformat
import pytest
from image_fixtures import write_cifar100_archive
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "docs" / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT = 600


class RecordingClient(NotebookClient):
    """nbclient's executor, keeping every output message a cell sent: nbclient folds
    `update_display_data` into the output it replaces, so the stored notebook alone cannot
    tell a figure redrawn in place from one drawn once."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.messages: dict[int, list[dict]] = defaultdict(list)

    def process_message(self, msg, cell, cell_index):
        content = msg.get("content", {})
        self.messages[cell_index].append(
            {
                "type": msg["msg_type"],
                "display_id": (content.get("transient") or {}).get("display_id"),
                "mime": sorted((content.get("data") or {}).keys()),
            }
        )
        return super().process_message(msg, cell, cell_index)


def execute(nb, cwd: Path, env: dict[str, str], monkeypatch) -> RecordingClient:
    """Run `nb` in a fresh python3 kernel started in `cwd` with `env` added."""
    # the kernel imports this checkout's zoo (an installed zoo in CI is the same code)
    paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    client = RecordingClient(
        nb, timeout=CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": cwd}}
    )
    client.execute()
    return client


def all_outputs(nb) -> list:
    return [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]


def outputs(nb, mime: str) -> list:
    return [o for o in all_outputs(nb) if mime in o.get("data", {})]


def errors(nb) -> list:
    return [o for o in all_outputs(nb) if o.output_type == "error"]


@pytest.fixture(scope="module")
def cifar_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("data")
    write_cifar100_archive(folder, train_per_class=10, test_per_class=4)
    return folder


def test_there_is_a_lab_notebook():
    assert [nb.name for nb in NOTEBOOKS][:1] == ["lab1.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, (
        f"{path.name}: cells {dirty} keep outputs; clear them (Jupyter: Edit > Clear outputs "
        "of all cells) before committing"
    )


@pytest.mark.slow
def test_train_in_a_kernel_redraws_its_curves_in_place_and_shows_the_run(tmp_path, monkeypatch):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            'import zoo\nrun = zoo.train("mlp", "digits", epochs=3, report=False)\nrun'
        ),
        nbformat.v4.new_code_cell('zoo.train("mlp", "digits", epochs=2, out=None, live=False)'),
    ]
    client = execute(nb, tmp_path, {}, monkeypatch)
    live = client.messages[0]
    figures = [m for m in live if "image/png" in m["mime"]]
    shown = [m["display_id"] for m in figures if m["type"] == "display_data"]
    assert len(shown) == 1 and shown[0]  # one figure, with an id to replace it by
    redrawn = [m for m in figures if m["type"] == "update_display_data"]
    assert redrawn and all(m["display_id"] == shown[0] for m in redrawn)
    bars = [m for m in live if "text/html" in m["mime"] and m["type"] != "execute_result"]
    assert bars[0]["type"] == "display_data" and bars[-1]["type"] == "update_display_data"
    cell = nb.cells[0]
    images = [o for o in cell.outputs if "image/png" in o.get("data", {})]
    assert len(images) == 1  # redrawn in place: the cell keeps a single figure
    bar = cell.outputs[0].data["text/plain"]
    assert bar.startswith("epoch 3/3 100% [")
    result = cell.outputs[-1]
    assert result.output_type == "execute_result"
    assert "completed" in result.data["text/html"] and "<table" in result.data["text/html"]
    assert result.data["text/plain"].startswith("Run(mlp · digits, completed, test accuracy")
    assert not any("image/png" in m["mime"] for m in client.messages[1])  # live=False
    quiet = nb.cells[1].outputs
    assert any(o.output_type == "stream" and "epoch 2/2" in o.text for o in quiet)  # as before
    assert not errors(nb)


@pytest.mark.slow
def test_lab_notebook_runs_top_to_bottom_on_offline_data(tmp_path, monkeypatch, cifar_dir):
    nb = nbformat.read(ROOT / "docs" / "notebooks" / "lab1.ipynb", as_version=4)
    env = {
        "ZOO_DATA_DIR": str(cifar_dir),
        "ZOO_NOTEBOOK_EPOCHS": "2",
        "ZOO_CACHE": str(tmp_path / "cache"),
        "ZOO_AUTHOR": "A. Student",
    }
    client = execute(nb, tmp_path, env, monkeypatch)
    assert not errors(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code)  # every cell ran
    # the final table: two runs, two rows, as `zoo compare` makes it
    (final,) = [c for c in code if "final-table" in c.metadata.get("tags", [])]
    table = final.outputs[-1].data["text/html"]
    body = re.search(r"<tbody>(.*)</tbody>", table, re.S).group(1)
    assert body.count("<tr>") == 2 and "base" in body and "64 hidden neurons" in body
    # figures as image outputs: two live curves, three report figures, the comparison
    assert len(outputs(nb, "image/png")) == 6
    index = nb.cells.index(final)
    assert any(m["type"] == "update_display_data" for m in client.messages[index])
    markdown = [o.text for c in code for o in c.outputs if o.output_type == "stream"]
    assert any(text.startswith("| № |") for text in markdown)  # the table in Russian
    reports = tmp_path / "reports"
    pdfs = sorted(p.name for p in reports.rglob("*.pdf"))
    assert pdfs == ["comparison.pdf", "report.pdf", "report.pdf"]
