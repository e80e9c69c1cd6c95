"""Time and memory of loading ``cifar100-3class`` from a full-size official-format archive.

Writes ``cifar-100-python.tar.gz`` in a temporary folder exactly as the official one is laid
out (Python 2 pickles ``train`` of 50,000 images, ``test`` of 10,000, ``meta``), then loads the
lab's three classes in fresh processes: cold (from the archive, empty cache) and warm (from the
.npz subset cache), with and without TensorFlow imported first, and all 100 classes cold.
Prints the seconds of the load and the process's peak resident memory
(``resource.getrusage``). The issue's aim: under 5 s and 700 MB including TensorFlow.

    python benchmarks/load_cifar.py            # about a minute on 2 cores
    python benchmarks/load_cifar.py --keep DIR  # write (or reuse) the archive in DIR
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import image_fixtures as fx  # noqa: E402  (the writers of official-format files)

CHILD = r"""
import json, resource, sys, time
with_tf, name, data_dir = sys.argv[1] == "1", sys.argv[2], sys.argv[3]
if with_tf:
    import tensorflow  # noqa: F401
def status_mb(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
before = status_mb("VmRSS")
start = time.perf_counter()
from zoo import load_dataset
data = load_dataset(name, data_dir=data_dir)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak, "hwm_mb": status_mb("VmHWM"),
                  "before_mb": before,
                  "train": len(data.x_train), "test": len(data.x_test),
                  "source": data.description.rsplit("(", 1)[-1].rstrip(")")}))
"""


def realistic_pixels(rows: int, seed: int) -> np.ndarray:
    """Rows of 3072 bytes that gzip about as well as photos do (not pure noise)."""
    rng = np.random.default_rng(seed)
    out = np.empty((rows, 3072), dtype=np.uint8)
    for start in range(0, rows, 5000):
        n = min(5000, rows - start)
        base = rng.integers(0, 160, size=(n, 3, 1), dtype=np.uint8)
        noise = rng.integers(0, 96, size=(n, 3, 1024), dtype=np.uint8)
        out[start : start + n] = (base + noise).reshape(n, 3072)
    return out


def write_full_archive(folder: Path) -> Path:
    """The official layout at full size: 500 train and 100 test images for each of 100 classes."""
    path = folder / "cifar-100-python.tar.gz"
    if path.exists():
        return path
    work = folder / "members"
    work.mkdir(parents=True, exist_ok=True)
    splits = {"train": (500, "training batch 1 of 1", 1), "test": (100, "testing batch 1 of 1", 2)}
    for name, (per_class, batch_label, seed) in splits.items():
        labels = fx.cifar100_labels(per_class, seed=seed)
        pixels = realistic_pixels(len(labels), seed)
        batch = fx.cifar100_batch(labels, batch_label, seed, data=pixels)
        with open(work / name, "wb") as out:
            fx.py2_pickle(batch, out)
    meta = {
        "fine_label_names": fx.CIFAR100_FINE_NAMES,
        "coarse_label_names": fx.CIFAR100_COARSE_NAMES,
    }
    (work / "meta").write_bytes(fx.py2_pickle(meta))
    (work / "file.txt~").write_bytes(b"")
    with tarfile.open(path, "w:gz", compresslevel=6) as tar:
        for name in ("file.txt~", "train", "test", "meta"):  # the official order
            tar.add(work / name, arcname=f"cifar-100-python/{name}")
    for member in work.iterdir():
        member.unlink()
    work.rmdir()
    return path


def measure(name: str, data_dir: Path, cache: Path, with_tf: bool) -> dict:
    env = dict(os.environ, ZOO_CACHE=str(cache), TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("ZOO_DATA_DIR", None)
    command = [sys.executable, "-c", CHILD, "1" if with_tf else "0", name, str(data_dir)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"load failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="folder for the generated archive (reused)")
    parser.add_argument("--write", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.write:
        write_full_archive(args.write)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        # Written by a child process: Linux passes a parent's peak RSS on to the processes it
        # starts, so this process stays small for the measurements below to mean something.
        archive = folder / "cifar-100-python.tar.gz"
        if not archive.exists():
            subprocess.run([sys.executable, __file__, "--write", str(folder)], check=True)
        size = archive.stat().st_size / 1e6
        print(
            f"archive: {archive.name} {size:.0f} MB (official: 169 MB), "
            f"written in {time.perf_counter() - start:.1f} s; {os.cpu_count()} CPUs"
        )
        print(f"{'load':<34} {'seconds':>8} {'peak MB':>8} {'RSS before':>11} {'train/test':>12}")
        # peak MB: resource.getrusage(RUSAGE_SELF).ru_maxrss of the loading process, whole
        runs = [
            ("cifar100-3class cold", "cifar100-3class", "a", False),
            ("cifar100-3class warm (npz)", "cifar100-3class", "a", False),
            ("cifar100-3class cold, TF imported", "cifar100-3class", "b", True),
            ("cifar100-3class warm, TF imported", "cifar100-3class", "b", True),
            ("cifar100 all classes cold", "cifar100", "c", False),
        ]
        for label, name, cache, with_tf in runs:
            r = measure(name, folder, Path(tmp) / f"cache-{cache}", with_tf)
            print(
                f"{label:<34} {r['seconds']:>8.2f} {r['peak_mb']:>8.0f} {r['before_mb']:>11.0f} "
                f"{r['train']:>6}/{r['test']:<5} ({r['source']})"
            )


if __name__ == "__main__":
    main()
