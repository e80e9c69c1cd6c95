"""A sweep against separate `zoo train` commands, side by side on this machine's cores.

Eight configurations of the lab setting (the MLP 3072->10->3, batch 128, 250 epochs: the
cifar100-3class preset) on data of cifar100-3class's size (1,500 training and 300 test
images in an official-format CIFAR-100 archive written here, as the tests write theirs):

- separate: eight `zoo train` commands, two at a time (one per core), as a student types
  them today; also with `--no-report`, which spares each command its report.pdf;
- sweep: one `zoo sweep --jobs 2` (two worker processes, each importing TensorFlow and
  loading the data once); also with `--no-stack`, where every run trains alone.

The grids: eight learning rates of the lab network (`lr`), and four hidden sizes times two
learning rates (`hidden x lr`). Every variant runs in every repeat, in turns, so that a
machine whose load drifts treats them alike; the median of the repeats is printed with the
ratio of each to the eight separate commands. The issue's target: at most 1/3.

    python benchmarks/sweep_speed.py              # 3 repeats, about 20 min on 2 loaded cores
    python benchmarks/sweep_speed.py --quick      # 20 epochs, 1 repeat: a smoke run
    python benchmarks/sweep_speed.py --keep DIR   # write (or reuse) the archive in DIR
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import image_fixtures as fx  # noqa: E402  (the writers of official-format files)

LAB_CLASSES = (0, 55, 58)  # apple, otter, pickup_truck
GRIDS = {
    "lr": {"hidden": [10], "lr": [0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.008, 0.01]},
    "hidden x lr": {"hidden": [5, 10, 20, 40], "lr": [0.003, 0.005]},
}
CORES = 2  # side by side: two commands at a time, or two workers


def write_archive(folder: Path) -> Path:
    """cifar-100-python.tar.gz with the lab's three classes, 500 + 100 images each."""
    from zoo.datasets.cifar import CIFAR100_COARSE_NAMES, CIFAR100_FINE_NAMES

    path = folder / "cifar-100-python.tar.gz"
    if path.exists():
        return path

    def labels(per_class: int, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        return rng.permutation(np.repeat(np.array(LAB_CLASSES), per_class))

    meta = {"fine_label_names": CIFAR100_FINE_NAMES, "coarse_label_names": CIFAR100_COARSE_NAMES}
    members = {
        "file.txt~": b"",
        "train": fx.py2_pickle(fx.cifar100_batch(labels(500, 1), "training batch 1 of 1", 1)),
        "test": fx.py2_pickle(fx.cifar100_batch(labels(100, 2), "testing batch 1 of 1", 2)),
        "meta": fx.py2_pickle(meta),
    }
    return fx.write_cifar100_archive(folder, members)


def zoo(*args: str, env: dict) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", "from zoo.cli import main; main()", *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return done


def configurations(grid: dict) -> list[dict]:
    return [{"hidden": h, "lr": lr} for h in grid["hidden"] for lr in grid["lr"]]


def separate(grid: dict, out: Path, env: dict, epochs: list[str], report: bool) -> float:
    """Eight `zoo train` commands, `CORES` at a time; wall seconds."""
    extra = [] if report else ["--no-report"]

    def one(conf: dict) -> None:
        zoo(
            "train", "mlp", "cifar100-3class", "--hidden", str(conf["hidden"]),
            "--lr", str(conf["lr"]), *epochs, *extra, "--out", str(out), "-q", env=env,
        )  # fmt: skip

    start = time.perf_counter()
    with ThreadPoolExecutor(CORES) as pool:
        list(pool.map(one, configurations(grid)))
    return time.perf_counter() - start


def sweep(grid: dict, out: Path, env: dict, epochs: list[str], stack: bool) -> float:
    """One `zoo sweep --jobs CORES`; wall seconds."""
    args = ["sweep", "mlp", "cifar100-3class", *epochs, "--jobs", str(CORES), "-q"]
    for name, values in grid.items():
        args += ["--grid", f"{name}=" + ",".join(str(v) for v in values)]
    args += ["--out", str(out)] + ([] if stack else ["--no-stack"])
    start = time.perf_counter()
    zoo(*args, env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="20 epochs, 1 repeat")
    parser.add_argument("--keep", type=Path, help="folder for the archive (kept)")
    parser.add_argument("--grid", choices=list(GRIDS), action="append", help="default: both")
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats
    epochs = ["--epochs", "20"] if args.quick else []  # else the preset: 250
    grids = args.grid or list(GRIDS)

    work = Path(tempfile.mkdtemp(prefix="zoo-sweep-speed-"))
    data = args.keep or work / "data"
    data.mkdir(parents=True, exist_ok=True)
    write_archive(data)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "ZOO_DATA_DIR": str(data),
        "ZOO_CACHE": str(work / "cache"),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    zoo("info", "cifar100-3class", env=env)  # the subset cache: every variant reads it alike
    variants = {
        "separate": lambda g, o: separate(g, o, env, epochs, report=True),
        "separate --no-report": lambda g, o: separate(g, o, env, epochs, report=False),
        "sweep": lambda g, o: sweep(g, o, env, epochs, stack=True),
        "sweep --no-stack": lambda g, o: sweep(g, o, env, epochs, stack=False),
    }
    times = {(g, v): [] for g in grids for v in variants}
    try:
        for repeat in range(repeats):
            for grid in grids:
                for name, run in variants.items():
                    out = work / "out"
                    shutil.rmtree(out, ignore_errors=True)
                    seconds = run(GRIDS[grid], out)
                    times[(grid, name)].append(seconds)
                    print(f"repeat {repeat + 1}, {grid}: {name} {seconds:.1f} s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\n8 configurations, {'20' if args.quick else '250'} epochs, {CORES} at a time; "
          f"median of {repeats}; load average now {load:.1f}")  # fmt: skip
    print(f"{'grid':<12} {'variant':<22} {'median s':>9} {'runs':>24} {'ratio':>7}")
    for grid in grids:
        base = statistics.median(times[(grid, "separate")])
        for name in variants:
            values = times[(grid, name)]
            median = statistics.median(values)
            listed = " ".join(f"{v:.0f}" for v in values)
            print(f"{grid:<12} {name:<22} {median:>9.1f} {listed:>24} {median / base:>7.3f}")
    print("ratio: against the 8 separate `zoo train` commands; the target for the sweep: <= 0.333")


if __name__ == "__main__":
    main()
