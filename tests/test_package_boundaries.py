"""Package boundaries: what each room of the zoo may import, checked on the source (lazy imports
inside functions count too), and the callables that let the lower rooms do without the upper.

The sweep runner draws nothing: `zoo.sweep` hands it the writer of its tables, figures and
report (`zoo.reporting.sweep`) and the viewers of its runs, which travel to the worker
processes by name. Reporting reads a sweep's data (its folder, spec and summary), never the
runner. Evaluation computes (the shift grid); reporting draws what it computed.
"""

from __future__ import annotations

import ast
import pickle
from pathlib import Path

import pytest
from run_fixtures import make_run_folder

import zoo

PACKAGE = Path(zoo.__file__).parent
VIEWERS = ("zoo.notebook", "zoo.reporting", "zoo.serve", "zoo.lab", "zoo.cli", "zoo.api")
MODULES = {
    ".".join(("zoo", *path.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__")
    for path in PACKAGE.rglob("*.py")
}


def _module(name: str) -> str:
    """The zoo module an import names (`zoo.sweeps.spec.flag_name`: zoo.sweeps.spec)."""
    while name not in MODULES and "." in name:
        name = name.rpartition(".")[0]
    return name


def imports_of(room: str) -> list[tuple[str, str]]:
    """(file, module) for every import of a zoo module by `room`: a sub-package's files, or a
    module of the package's top (`api`), lazy imports inside functions too."""
    paths = sorted((PACKAGE / room).rglob("*.py")) or [PACKAGE / f"{room}.py"]
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [_module(f"{node.module}.{a.name}") for a in node.names]
            relative = path.relative_to(PACKAGE).as_posix()
            found += [(relative, n) for n in names if n.startswith("zoo.")]
    return found


def all_rooms() -> list[str]:
    """The sub-packages and the modules at the package's top (`api`, `files`, ...)."""
    return sorted(
        path.stem if path.is_file() else path.name
        for path in PACKAGE.iterdir()
        if (path.suffix == ".py" and not path.name.startswith("__"))
        or (path / "__init__.py").is_file()
    )


def test_sweeps_import_nothing_that_draws_or_shows():
    found = [f"{file}: {name}" for file, name in imports_of("sweeps") if name.startswith(VIEWERS)]
    assert found == []


def test_reporting_reads_a_sweep_through_its_data_modules_only():
    data = ("zoo.sweeps.folder", "zoo.sweeps.spec", "zoo.sweeps.summary")
    found = [
        f"{file}: {name}"
        for file, name in imports_of("reporting")
        if name.startswith("zoo.sweeps") and not name.startswith(data)
    ]
    assert found == []
    assert any(name.startswith(data) for _, name in imports_of("reporting"))


def test_evaluation_computes_and_imports_none_of_the_rooms_that_draw():
    found = [
        f"{file}: {name}" for file, name in imports_of("evaluation") if name.startswith(VIEWERS)
    ]
    assert found == []
    assert "zoo.evaluation.shift" in {name for _, name in imports_of("reporting")}


def test_no_two_rooms_import_each_other():
    """Between rooms (the sub-packages, and each module at the package's top, such as
    zoo.api): the graph of imports has no cycle, so no room sits both above and below another."""
    rooms = all_rooms()
    graph: dict[str, set[str]] = {room: set() for room in rooms}
    for room in rooms:
        for _, name in imports_of(room):
            other = name.split(".")[1]
            if other != room and other in graph:
                graph[room].add(other)

    def path_back(start: str) -> list[str] | None:
        stack, seen = [[start]], set()
        while stack:
            path = stack.pop()
            for nxt in sorted(graph[path[-1]]):
                if nxt == start:
                    return [*path, nxt]
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append([*path, nxt])
        return None

    assert graph["api"] and graph["sweeps"]  # the rooms were read
    cycles = [" -> ".join(path) for room in rooms if (path := path_back(room))]
    assert cycles == []


# The rooms from the top down (docs/architecture.md, "Boundaries"): a room imports the rooms on
# its own line or below it; every room not named here is ground, which imports only ground.
LAYERS = (
    ("cli", "config"),
    ("api",),
    ("lab",),
    ("explain",),
    ("notebook",),
    ("reporting",),
    ("sweeps",),
    ("training",),
    ("serve",),
    ("export",),
    ("evaluation",),
)


def test_each_room_imports_only_the_rooms_below_it():
    level = {room: i for i, line in enumerate(LAYERS) for room in line}
    rooms = all_rooms()
    assert set(level) <= set(rooms)
    upward = []
    for room in rooms:
        for file, name in imports_of(room):
            other = name.split(".")[1]
            if level.get(other, len(LAYERS)) < level.get(room, len(LAYERS)):
                upward.append(f"{file}: {name}")
    assert upward == []


def _finished_sweep(folder: Path):
    """A sweep folder whose four runs finished (run folders as `zoo train` writes them)."""
    from zoo.sweeps import SweepSpec

    spec = SweepSpec.create("mlp", "gaussians", grid={"hidden": [5, 10]}, seeds=2)
    folder.mkdir()
    (folder / "sweep.toml").write_text(spec.to_toml(), encoding="utf-8")
    for run in spec.runs():
        hidden = (run.configuration.options["hidden"],)
        make_run_folder(folder / "runs", "points", name=run.name, seed=run.seed, hidden=hidden)
    return spec


def test_the_sweep_runner_writes_its_outputs_with_the_writer_it_is_handed(tmp_path):
    import zoo.sweeps

    folder = tmp_path / "sweep"
    _finished_sweep(folder)
    handed = []

    def write_outputs(summary, lang):
        handed.append((summary.folder, lang, [len(row.outcomes) for row in summary.rows]))
        return [summary.folder / "mine.txt"]

    result = zoo.sweeps.sweep(folder, quiet=True, lang="ru", write_outputs=write_outputs)
    assert handed == [(folder, "ru", [2, 2])]
    assert (result.trained, result.skipped, result.written) == (0, 4, [folder / "mine.txt"])
    bare = zoo.sweeps.sweep(folder, quiet=True)  # no writer: the runs and sweep.toml alone
    assert bare.written == [] and sorted(p.name for p in folder.iterdir()) == ["runs", "sweep.toml"]
    written = zoo.sweep(folder, quiet=True)  # the facade hands it zoo.reporting.sweep's writer
    names = {path.name for path in written.written}
    assert {"summary.md", "summary.csv", "summary.tex", "report.pdf"} <= names
    assert all(path.is_file() for path in written.written)


@pytest.mark.parametrize("shown", [True, False])
def test_a_sweep_worker_shows_its_run_with_the_viewers_the_job_carries(tmp_path, shown):
    from zoo.api import standard_viewers
    from zoo.sweeps import worker

    job = {
        "kind": "train",
        "model": "mlp",
        "dataset": "gaussians",
        "options": {"hidden": 3, "epochs": 1, "seed": 0, "report": True, "lang": "en"},
        "name": "hidden=3,seed=0",
        "out": str(tmp_path),
        "tensorboard": False,
        "viewers": standard_viewers if shown else None,
    }
    job = pickle.loads(pickle.dumps(job))  # as a local worker receives it: the function by name
    assert job["viewers"] is (standard_viewers if shown else None)
    answer = worker.do(job)
    assert answer["status"] == "completed", answer
    run = tmp_path / job["name"]
    assert (run / "config.json").is_file()
    assert (run / "report.pdf").is_file() is shown
