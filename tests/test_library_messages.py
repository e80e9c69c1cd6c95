"""The library speaks through `logging.getLogger("zoo")` and `warnings`, never bare prints; the
`zoo` program shows both as one plain line each."""

from __future__ import annotations

import ast
import logging
import os
import subprocess
import sys
from pathlib import Path

from zoo.cli import PlainFormatter

ROOT = Path(__file__).resolve().parents[1]
# (file, function) that may write to a stream: progress displays and the process's exit
WRITES_ALLOWED = {
    ("zoo/backend.py", "leave"),  # the message of `sys.exit(message)`, as Python prints it
    ("zoo/datasets/fetch.py", "_write"),  # the download's progress bar
    ("zoo/sweeps/worker.py", "describe_error"),  # a crash's traceback, into workers.log
}


def _writes(path: Path) -> list[tuple[str, int]]:
    """(enclosing function, line) of each print() or sys.stdout/stderr.write() in `path`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []

    def visit(node, function):
        for child in ast.iter_child_nodes(node):
            name = function
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = child.name
            if isinstance(child, ast.Call):
                call = ast.unparse(child.func)
                if call == "print" or call in ("sys.stdout.write", "sys.stderr.write"):
                    found.append((function, child.lineno))
                if call == "traceback.print_exception":
                    found.append((function, child.lineno))
            visit(child, name)

    visit(tree, "")
    return found


def test_library_code_outside_the_cli_does_not_print():
    bare = []
    for path in sorted((ROOT / "zoo").rglob("*.py")):
        where = path.relative_to(ROOT).as_posix()
        if where.startswith("zoo/cli/"):
            continue
        bare += [
            f"{where}:{line} ({function})"
            for function, line in _writes(path)
            if (where, function) not in WRITES_ALLOWED
        ]
    assert bare == []


def test_log_records_read_as_the_programs_own_lines():
    plain = PlainFormatter()
    record = logging.LogRecord("zoo.sweeps.worker", logging.WARNING, "", 0, "%d runs", (3,), None)
    assert plain.format(record) == "zoo: 3 runs"
    record.command = "serve"  # what `extra={"command": "serve"}` sets
    assert plain.format(record) == "zoo serve: 3 runs"


def test_runs_that_cannot_stack_are_logged_and_trained_one_by_one(monkeypatch, caplog):
    from zoo.sweeps import stack, worker

    def cannot(members):
        raise stack.CannotStack("their inputs differ")

    monkeypatch.setattr(stack, "train_together", cannot)
    monkeypatch.setattr(worker, "train", lambda job: {"name": job["name"], "status": "completed"})
    with caplog.at_level(logging.WARNING, logger="zoo"):
        answer = worker.train_stack({"members": [{"name": "a"}, {"name": "b"}]})
    assert [a["name"] for a in answer["answers"]] == ["a", "b"]
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        ("zoo.sweeps.worker", "WARNING", "training 2 runs one by one: their inputs differ")
    ]


def test_a_local_worker_writes_the_zoos_log_records_to_its_log(capsys):
    from zoo.sweeps import local

    zoo_log = logging.getLogger("zoo")
    before = list(zoo_log.handlers)
    try:
        local._log_to_stderr()
        logging.getLogger("zoo.sweeps.worker").warning("training %d runs one by one", 2)
        logging.getLogger("zoo.sweeps.worker").info("not shown")
    finally:
        for handler in set(zoo_log.handlers) - set(before):
            zoo_log.removeHandler(handler)
    assert capsys.readouterr().err == "zoo: training 2 runs one by one\n"


def test_an_archive_unlike_the_published_one_is_one_warning_line_of_the_program(tmp_path):
    from image_fixtures import write_cifar100_archive

    (tmp_path / "data").mkdir()
    write_cifar100_archive(tmp_path / "data", train_per_class=2, test_per_class=1)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "ZOO_CACHE": str(tmp_path / "cache"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "zoo", "info", "cifar100-3class", "--data-dir", "data"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    archive = Path("data") / "cifar-100-python.tar.gz"  # as the user wrote it
    lines = [line for line in done.stderr.splitlines() if "published" in line]
    assert len(lines) == 1 and lines[0].startswith(
        f"zoo: warning: {archive} is not the file published at "
    ), done.stderr
    assert "UserWarning" not in done.stderr
