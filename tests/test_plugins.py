"""Users' models and datasets reach the registries, and the CLI, through entry points."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PLUGIN = '''
import numpy as np

from zoo import Dataset


def tiny_net(input_shape, num_classes, *, width=3, head="softmax", normalization=None):
    """Two dense layers, as small as a model gets."""
    import keras

    return keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Dense(width, activation="relu"),
            keras.layers.Dense(num_classes, activation="softmax"),
        ]
    )


def square_points(*, samples=80, seed=0):
    """Points in the unit square, class 1 above the diagonal."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (samples, 2)).astype(np.float32)
    y = (x[:, 1] > x[:, 0]).astype(np.int64)
    half = samples // 2
    return Dataset("square-points", x[:half], y[:half], x[half:], y[half:], ["below", "above"])
'''

ENTRY_POINTS = """
[zoo.models]
tiny-net = zoo_demo_plugin:tiny_net
broken-net = zoo_demo_missing:build
mlp = zoo_demo_plugin:tiny_net

[zoo.datasets]
square-points = zoo_demo_plugin:square_points
"""


def install_plugin(site: Path) -> None:
    """A real installed distribution: its module and a dist-info with entry_points.txt."""
    (site / "zoo_demo_plugin.py").write_text(textwrap.dedent(PLUGIN))
    info = site / "zoo_demo_plugin-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: zoo-demo-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)


def run_zoo(site: Path, tmp_path: Path, *args: str, code: str | None = None):
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]),
        "HOME": str(tmp_path),
        "MPLBACKEND": "Agg",
    }
    command = ["-c", code] if code else ["-m", "zoo", *args]
    return subprocess.run(
        [sys.executable, *command], capture_output=True, text=True, env=env, cwd=tmp_path
    )


def test_an_installed_plugin_adds_its_model_and_dataset_and_a_broken_one_is_named(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    install_plugin(site)
    code = textwrap.dedent(
        """
        import warnings
        warnings.simplefilter("always")
        import zoo
        from zoo.models.registry import MODELS
        print(zoo.list_models("tiny*"), zoo.list_datasets("square*"))
        data = zoo.load_dataset("square-points", samples=40)
        print(data.x_train.shape, MODELS.options("tiny-net")["width"])
        print(MODELS.get("mlp").__module__)
        run = zoo.train("tiny-net", "square-points", width=5, epochs=1, out=None, quiet=True)
        print(run.model.layers[0].units, run.config["model"])
        """
    )
    out = run_zoo(site, tmp_path, code=code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "['tiny-net'] ['square-points']",
        "(20, 2) 3",
        "zoo.models.mlp",  # the zoo's own model is not replaced by a plugin's
        "5 tiny-net",  # the plugin's own option, from Python
    ]
    assert "model plugin 'broken-net' (zoo_demo_missing:build, from zoo-demo-plugin)" in out.stderr
    assert "ModuleNotFoundError: No module named 'zoo_demo_missing'" in out.stderr
    assert "plugin 'mlp'" in out.stderr and "exists already" in out.stderr
    assert "Traceback" not in out.stderr


def test_the_cli_lists_and_trains_a_plugins_model_on_a_plugins_dataset(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    install_plugin(site)
    listing = run_zoo(site, tmp_path, "models")
    assert listing.returncode == 0, listing.stderr
    assert "tiny-net" in listing.stdout and "Two dense layers" in listing.stdout
    assert "Traceback" not in listing.stderr  # one plain line, not Python's warning form
    assert "zoo: warning: model plugin 'broken-net' (zoo_demo_missing:build" in listing.stderr
    assert "RuntimeWarning" not in listing.stderr
    out = tmp_path / "runs"
    trained = run_zoo(
        site, tmp_path, "train", "tiny-net", "square-points", "--epochs", "2", "--out", str(out),
        "--no-report",
    )  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    (folder,) = out.iterdir()
    import zoo

    run = zoo.Run.from_folder(folder)
    assert run.config["model"] == "tiny-net" and run.config["dataset"] == "square-points"
    assert len(run.history) == 2
