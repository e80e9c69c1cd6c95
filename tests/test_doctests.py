"""The examples in docstrings and in the docs' Python blocks run as written."""

from __future__ import annotations

import doctest
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Examples that show a session on files the reader has (a run folder of their own, a
# notebook): they are marked +SKIP only on their first line, so the lines after it cannot run
ILLUSTRATIVE = {
    "zoo.notebook.compare",
    "zoo.notebook.runs",
    "zoo.runfolder.reader",
    "zoo.runfolder.writer",
    "zoo.training.distribute",
}
# Python blocks of the docs that need what a test cannot have cheaply, by page and number
NOT_RUN = {
    ("notebook.md", 0): "CIFAR-100 in ./data, an old run folder and a notebook",
}
RUN_ELSEWHERE = {"engine.md": "tests/test_engine.py checks what its examples print"}


def _modules_with_examples() -> list[str]:
    names = []
    for path in sorted((ROOT / "zoo").rglob("*.py")):
        if ">>>" in path.read_text(encoding="utf-8"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            if name not in ILLUSTRATIVE:
                names.append(name)
    return names


@pytest.mark.parametrize("name", _modules_with_examples())
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an example that writes does so here
    module = importlib.import_module(name)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testmod(module, optionflags=flags, report=True, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {name} fail"


def python_blocks(text: str) -> list[str]:
    """The ```python blocks of a Markdown text (indented ones in lists too), dedented."""
    blocks = re.findall(r"^( *)```python\n(.*?)^\1```", text, flags=re.S | re.M)
    return [
        "\n".join(line[len(indent) :] for line in body.splitlines()) + "\n"
        for indent, body in blocks
    ]


def _pages_with_python() -> list[str]:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return [
        p.name
        for p in pages
        if p.name not in RUN_ELSEWHERE and python_blocks(p.read_text(encoding="utf-8"))
    ]


def test_the_docs_have_python_blocks_to_run():
    assert {"README.md", "architecture.md", "notebook.md", "cli.md"} <= set(_pages_with_python())


@pytest.mark.parametrize("page", _pages_with_python())
def test_docs_python_blocks_run(page, tmp_path):
    path = ROOT / page if page == "README.md" else ROOT / "docs" / page
    script = []
    for number, block in enumerate(python_blocks(path.read_text(encoding="utf-8"))):
        if (page, number) in NOT_RUN:
            continue
        first = block.splitlines()[0].strip()
        if re.fullmatch(r"# [\w-]+\.py", first):  # a file the page asks the reader to write
            (tmp_path / first[2:]).write_text(block, encoding="utf-8")
        else:
            script.append(block)
    if not script:
        pytest.skip(f"every block of {page} is in NOT_RUN")
    (tmp_path / "example.py").write_text("\n".join(script), encoding="utf-8")
    bin_folder = str(Path(sys.executable).parent)  # the `zoo` command next to this Python
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)]),
        "PATH": bin_folder + os.pathsep + os.environ.get("PATH", ""),
        "HOME": str(tmp_path),  # $ZOO_CACHE stays the test run's own (conftest.py)
        "MPLBACKEND": "Agg",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    done = subprocess.run(
        [sys.executable, "example.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
