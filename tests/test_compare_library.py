"""`zoo.compare` takes runs, run folders and sweeps; `zoo compare` prints and writes its table."""

from __future__ import annotations

from click.testing import CliRunner
from run_fixtures import make_run_folder

import zoo
from zoo.cli import cli
from zoo.sweeps import SweepSpec


def make_sweep(root, hidden=(5, 10), seeds=2, skip=()):
    spec = SweepSpec.create("mlp", "gaussians", grid={"hidden": list(hidden)}, seeds=seeds)
    root.mkdir(parents=True)
    (root / "sweep.toml").write_text(spec.to_toml(), encoding="utf-8")
    for run in spec.runs():
        if run.name not in skip:
            hid = (int(run.name.split(",")[0].split("=")[1]),)
            make_run_folder(root / "runs", "points", name=run.name, seed=run.seed, hidden=hid)
    return spec


def test_a_sweep_gives_a_row_per_run_in_its_order_beside_runs_and_run_folders(tmp_path):
    spec = make_sweep(tmp_path / "sweep", skip=("hidden=10,seed=0",))
    names = [run.name for run in spec.runs() if run.name != "hidden=10,seed=0"]
    base = make_run_folder(tmp_path, "points", name="base", comment="alone")
    table = zoo.compare([zoo.Run.from_folder(base), tmp_path / "sweep", str(base)])
    assert [run.path.name for run in table.runs] == ["base", *names, "base"]
    assert [row.comment for row in table.rows][0] == "alone"
    alone = zoo.compare(tmp_path / "sweep")  # one path, no list
    assert [run.path.name for run in alone.runs] == names


def test_zoo_compare_prints_and_writes_the_library_table(tmp_path):
    a = make_run_folder(tmp_path, "points", name="a", comment="first")
    b = make_run_folder(tmp_path, "points", name="b", hidden=(32,), comment="second")
    out = tmp_path / "table.csv"
    result = CliRunner().invoke(cli, ["compare", str(a), str(b), "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = zoo.compare([a, b])
    assert result.output.startswith(table.to_markdown())
    assert out.read_text(encoding="utf-8") == table.to_csv()
