"""The shell commands of README.md and docs/*.md, run as written on a reader's machine.

A page's fenced shell blocks (```, ```bash, ```console, ```sh) run in order, in one temporary
working folder, as a reader following the page in one terminal would run them: `export` lines
hold for the commands after them, and later commands use the run folders of earlier ones. HOME,
XDG_CACHE_HOME, XDG_CONFIG_HOME and ZOO_CACHE point into the test's own folders; `~/data` holds
small data in the official formats (CIFAR-100 and CIFAR-10 archives, MNIST idx files) and
`~/Downloads` the CIFAR-100 archive the pages tell the reader to move. `zoo` is this tree's
`python -m zoo`. Tiny archives make the documented epochs (250 for lab 1, 500 for lab 2) fast
without changing a word of a command.

A line is a command when it starts with a `$ ` prompt (then the block's other lines are its
output) or, in a block without prompts, with `zoo `, `python -m zoo` or one of the shell words
below; a trailing `\\` continues it. Commands that cannot run here are listed in NOT_RUN with
their reason, and a listed one that no page shows any more fails the test.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from image_fixtures import write_cifar10_archive, write_cifar100_archive, write_mnist_files

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL_BLOCKS = ("", "bash", "console", "sh", "shell")
# first words of a shell line that the tests run as written (besides zoo and python -m zoo)
SHELL_WORDS = ("export", "mkdir", "mv", "eval")
# first words of the shell lines that are commands but are not run here (see NOT_RUN)
OTHER_WORDS = ("pip", "pytest", "mkdocs", "python", "_ZOO_COMPLETE=")

# Commands shown in the pages that are not run, each with the reason. Keys are the command as
# the page shows it (prompt and comment removed).
NOT_RUN = {
    "pip install .": "installs into the environment; .ci/run installs the wheel in fresh venvs",
    "pip install '.[test]' && pytest": "is the test suite itself; .ci/run runs it as written",
    "pytest -m slow": "is the test suite's slow part, this test among it; .ci/run runs it",
    "pip install '.[docs]'": "installs from the package index (a network)",
    "mkdocs serve": "a server that runs until stopped; test_docs.py builds the same site",
    "mkdocs build --strict": "test_docs.py runs it (test_docs_site_builds_in_strict_mode)",
    "zoo lab 1 --group G --variant V --data-dir ~/data": (
        "G and V are placeholders for the reader's group and variant; docs/labs.md runs the "
        "same command with group 2 and variant 5"
    ),
    "_ZOO_COMPLETE=fish_source zoo | source": "fish's syntax, not bash's",
    'eval "$(_ZOO_COMPLETE=zsh_source zoo)"': "zsh's completion script, for zsh only",
    "python benchmarks/all.py": "measures speed for about 25 minutes; benchmarks are not tests",
    "python benchmarks/all.py --quick": "measures speed for minutes; benchmarks are not tests",
    "python benchmarks/all.py --part training --part pipeline": "measures speed for minutes",
    "python benchmarks/all.py --part jax-cnn": "measures speed for minutes",
    "python benchmarks/init_compare.py --out /tmp/init": "a benchmark: 5 seeds x 4 trainers",
    "python benchmarks/init_compare.py --data ~/data --out /tmp/init": "a benchmark, as above",
}

# A server runs until Ctrl-C: it is started, its page fetched, then stopped with SIGINT (the
# documented exit code 130). It listens on any free port: 8000 may be taken where tests run.
SERVERS = {"zoo serve": "--port 0"}
SERVER_EXIT_CODE = 130

# The pages whose commands take longest, each run by a test module of its own, so that
# xdist (--dist loadfile) spreads them over its workers: {page: module}. The other pages run
# in test_docs_commands.py. Measured idle on 2 cores (--durations): labs.md 92 s, training.md
# 105 s, the other pages 185 s together. Each command's time is mostly Python and TensorFlow
# starting.
OWN_MODULE = {"labs.md": "test_docs_commands_labs", "training.md": "test_docs_commands_training"}


@dataclass
class Command:
    page: str
    line: int
    text: str
    exports: list[str] = field(default_factory=list)  # `export` lines before it on the page

    @property
    def key(self) -> str:
        return _without_comment(self.text)


def _without_comment(text: str) -> str:
    """The command without a trailing `# ...` comment (a quoted `#` stays)."""
    try:
        words = shlex.split(text, comments=True)
    except ValueError:
        return text.strip()
    cut = text.find(" #")
    while cut != -1:
        try:
            if shlex.split(text[:cut]) == words:
                return text[:cut].strip()
        except ValueError:
            pass
        cut = text.find(" #", cut + 1)
    return text.strip()


def _is_command(line: str) -> bool:
    first = line.split(" ", 1)[0]
    return (
        line.startswith(("zoo ", "python -m zoo"))
        or first in SHELL_WORDS
        or first in OTHER_WORDS
        or line.startswith(OTHER_WORDS)
    )


def shell_commands(page: Path) -> list[Command]:
    """The commands of a page's fenced shell blocks, in the page's order."""
    found: list[Command] = []
    exports: list[str] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    number = 0
    while number < len(lines):
        opening = lines[number].strip()
        number += 1
        if not opening.startswith("```"):
            continue
        block_start = number
        while number < len(lines) and not lines[number].strip().startswith("```"):
            number += 1
        block = [line.strip() for line in lines[block_start:number]]
        number += 1
        if opening[3:].strip() not in SHELL_BLOCKS:
            continue
        prompted = any(line.startswith("$ ") for line in block)
        index = 0
        while index < len(block):
            line, first = block[index], block_start + index + 1
            index += 1
            if prompted:
                if not line.startswith("$ "):
                    continue
                line = line[2:]
            elif not _is_command(line):
                continue
            while line.endswith("\\") and index < len(block):
                line = line[:-1].rstrip() + " " + block[index]
                index += 1
            command = Command(page.name, first, line, list(exports))
            if line.startswith("export "):
                exports.append(line)
            found.append(command)
    return found


def documented() -> dict[str, list[Command]]:
    return {page.name: shell_commands(page) for page in PAGES}


# --- the reader's machine ----------------------------------------------------------------------


def _readers_machine(tmp_path: Path, cache: Path) -> tuple[Path, dict[str, str]]:
    home = tmp_path / "home"
    data = home / "data"
    data.mkdir(parents=True)
    write_cifar100_archive(data)
    write_cifar10_archive(data)
    write_mnist_files(data / "mnist")
    (home / "Downloads").mkdir()
    write_cifar100_archive(home / "Downloads")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # `zoo` and `python` are this tree's, whatever is installed on the machine
    (bin_dir / "zoo").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m zoo "$@"\n')
    (bin_dir / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    for script in bin_dir.iterdir():
        script.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ZOO_", "XDG_", "PYTEST_", "COV_")) and key != "PYTHONPATH"
    }
    env |= {
        "HOME": str(home),
        "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}",
        "PYTHONPATH": str(ROOT),
        "XDG_CACHE_HOME": str(tmp_path / "xdg-cache"),
        "XDG_CONFIG_HOME": str(tmp_path / "xdg-config"),
        "ZOO_CACHE": str(cache),
        "MPLBACKEND": "Agg",
        "LC_ALL": "C.UTF-8",
    }
    return work, env


def _install_architecture_plugin(page: Path, work: Path, env: dict[str, str]) -> None:
    """architecture.md's wide.py and blobs.py, as its text says: in a package of one's own
    whose entry points name them, installed (here: on the path, with its dist-info)."""
    site = work.parent / "site"
    site.mkdir()
    text = page.read_text(encoding="utf-8")
    for name in ("wide.py", "blobs.py"):
        code = re.search(rf"```python\n# {name}\n(.*?)```", text, re.S)
        assert code, f"architecture.md no longer shows {name}"
        (site / name).write_text(code.group(1), encoding="utf-8")
    info = site / "wide_blobs-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: wide-blobs\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[zoo.models]\nwide-mlp = wide:wide_mlp\n\n[zoo.datasets]\nblobs = blobs:blobs\n"
    )
    env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{site}"


def _install_engine_plugin(page: Path, work: Path, env: dict[str, str]) -> None:
    """engine.md's `tiny-net` and `square-points`: the page shows their entry points, not their
    code (the reader's own package); tests/test_plugins.py's installed plugin stands in for it."""
    from test_plugins import install_plugin

    site = work.parent / "site"
    site.mkdir()
    install_plugin(site)
    env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{site}"


PAGE_SETUP = {"architecture.md": _install_architecture_plugin, "engine.md": _install_engine_plugin}


# --- running ----------------------------------------------------------------------------------


def _script(command: Command, extra: str = "") -> str:
    return "\n".join([*command.exports, f"{command.text} {extra}".rstrip()])


def _run(command: Command, work: Path, env: dict[str, str]) -> str:
    started = time.monotonic()
    result = subprocess.run(
        ["bash", "-c", _script(command)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    seconds = time.monotonic() - started
    where = f"{command.page}:{command.line}: {command.text}"
    assert result.returncode == 0, (
        f"{where}\nexit {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return f"{seconds:6.1f} s  {where}"


def _serve(command: Command, work: Path, env: dict[str, str]) -> str:
    """Start the server, fetch its page and a run's answer, stop it as Ctrl-C does."""
    where = f"{command.page}:{command.line}: {command.text}"
    process = subprocess.Popen(
        ["bash", "-c", "exec " + _script(command, SERVERS["zoo serve"])],
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    try:
        lines = []
        deadline = time.monotonic() + 180
        url = None
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            match = re.search(r"the page is at (http://\S+)", line)
            url = match and match.group(1)
        assert url, f"{where}: no address printed\n{''.join(lines)}"
        with urllib.request.urlopen(url, timeout=60) as page:
            assert page.status == 200 and b"<html" in page.read().lower()
        with urllib.request.urlopen(url + "api/runs", timeout=60) as answer:
            runs = json.loads(answer.read())
        assert runs["runs"], f"{where}: the server serves no run"
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=60)
        assert code == SERVER_EXIT_CODE, f"{where}: exit {code} after Ctrl-C"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return f"  server  {where}"


def is_zoo_or_shell(command: Command) -> bool:
    """Whether the tests may run `command`: zoo's own, or a shell line of SHELL_WORDS (an
    installer, the suite or a benchmark must be in NOT_RUN instead, never run by accident)."""
    return command.text.startswith(("zoo ", "python -m zoo")) or (
        command.text.split(" ", 1)[0] in SHELL_WORDS
    )


def runnable(page: Path) -> list[Command]:
    """The commands of `page` that the tests run (those in NOT_RUN left out)."""
    return [c for c in shell_commands(page) if c.key not in NOT_RUN]


def pages_with_commands(module: str = "test_docs_commands") -> list[Path]:
    """The pages with a command to run whose test is in `module` (see OWN_MODULE)."""
    return [
        page
        for page in PAGES
        if OWN_MODULE.get(page.name, "test_docs_commands") == module
        and any(not c.text.startswith("export ") for c in runnable(page))
    ]


def run_page(page: Path, tmp_path: Path, cache: Path) -> list[str]:
    """Every command of `page` in order, in one working folder; a line of timing for each."""
    work, env = _readers_machine(tmp_path, cache)
    if page.name in PAGE_SETUP:
        PAGE_SETUP[page.name](page, work, env)
    timings = []
    for command in runnable(page):
        where = f"{command.page}:{command.line}: {command.text}"
        assert is_zoo_or_shell(command), f"{where}: run it here or list it in NOT_RUN with why"
        if command.text.startswith("export "):
            continue  # held by the commands after it
        if command.key.startswith(tuple(SERVERS)):
            timings.append(_serve(command, work, env))
        else:
            timings.append(_run(command, work, env))
    return timings
