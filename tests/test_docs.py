"""The docs site builds in strict mode, and the README stays a short front door."""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
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


def _documented_commands(text: str) -> list[str]:
    """`zoo ...` command lines of a Markdown text: in code blocks (a `$ ` prompt and `\\`
    continuations allowed) and in inline code."""
    found, command, in_block = [], "", False
    for line in text.splitlines():
        if line.strip().startswith("```"):
            in_block = not in_block
            continue
        if not (in_block or line.startswith("    ")):
            continue
        stripped = line.strip()
        if not command and stripped.startswith(("zoo ", "$ zoo ")):
            command = stripped.removeprefix("$ ")
        elif command:
            command += " " + stripped
        if command and command.endswith("\\"):
            command = command[:-1]
        elif command:
            found.append(command)
            command = ""
    return found + re.findall(r"`(zoo [^`]+)`", text)


def _options_of(command) -> set[str]:
    names = {"-h", "--help"}
    for param in command.params:
        names.update(opt for opt in (*param.opts, *param.secondary_opts) if opt.startswith("-"))
    return names


def test_every_documented_command_and_option_exists():
    import click

    from zoo.cli import cli

    ctx = click.Context(cli)
    pages = [README, *sorted((ROOT / "docs").glob("*.md"))]
    wrong, checked = [], 0
    for page in pages:
        for line in _documented_commands(page.read_text(encoding="utf-8")):
            words = shlex.split(line.split(" #")[0].split(" && ")[0], posix=True)
            # output lines ("zoo serve: the page is at ...") and placeholders ("zoo COMMAND")
            if len(words) < 2 or not re.fullmatch(r"[a-z][a-z-]*", words[1]):
                continue
            command = cli.get_command(ctx, words[1])
            if command is None:
                wrong.append(f"{page.name}: {line!r}: no command {words[1]!r}")
                continue
            rest = words[2:]
            if isinstance(command, click.Group) and rest and re.fullmatch(r"[a-z][a-z-]*", rest[0]):
                sub = command.get_command(ctx, rest[0])
                if sub is None:
                    wrong.append(f"{page.name}: {line!r}: no command {rest[0]!r}")
                    continue
                command = sub
            known = _options_of(command)
            checked += 1
            for word in rest:
                if word.startswith("-") and not re.match(r"-\d", word):
                    if word.split("=")[0] not in known:
                        wrong.append(f"{page.name}: {line!r}: no option {word!r}")
    assert checked >= 40, f"only {checked} documented commands found: the parser missed them"
    assert wrong == []
