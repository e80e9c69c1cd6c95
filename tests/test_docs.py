"""The docs site builds in strict mode, and the README stays a short front door."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
# .ci/run greps the README for this line and runs it: the README must keep showing it
CI_TEST_COMMAND = "pip install '.[test]' && pytest"
README_MAX_LINES = 250


def _missing_docs_tools() -> list[str]:
    modules = ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python")
    return [name for name in modules if importlib.util.find_spec(name.split(".")[0]) is None]


def test_docs_site_builds_in_strict_mode(tmp_path):
    missing = _missing_docs_tools()
    if missing:
        pytest.skip(f"the docs extra is not installed (pip install '.[docs]'): {missing}")
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**_clean_env(), "NO_MKDOCS_2_WARNING": "1", "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    for name in ("create_model", "load_dataset", "train", "sweep", "open_run", "Dataset"):
        assert f'id="zoo.{name}"' in api, f"the API page lacks zoo.{name}"
    assert (site / "labs" / "index.html").is_file()


def _clean_env() -> dict[str, str]:
    # the tree under test, not whatever copy of zoo is installed, is what the API page documents
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def test_readme_is_short_and_keeps_the_ci_and_quick_start_commands():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines"
    stripped = [line.strip() for line in lines]
    assert CI_TEST_COMMAND in stripped
    assert "pip install . && zoo train mlp digits" in stripped


def test_readme_first_screen_leads_to_lab_1_with_its_data():
    first_screen = "\n".join(README.read_text(encoding="utf-8").splitlines()[:50])
    assert "cifar-100-python.tar.gz" in first_screen
    assert re.search(r"zoo lab 1 --group \S+ --variant \S+ --data-dir \S+", first_screen)
    assert "report.pdf" in first_screen


def test_docs_pages_the_readme_names_exist():
    named = set(re.findall(r"docs/[\w.-]+\.md", README.read_text(encoding="utf-8")))
    assert named, "the README points into no docs page"
    assert [page for page in sorted(named) if not (ROOT / page).is_file()] == []
