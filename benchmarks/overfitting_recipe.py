"""The README's recipe for the lab's "raise the test accuracy" on cifar100-3class, measured.

No copy of CIFAR-100 can be downloaded on the machine this was written on, so the script
first writes ``cifar-100-python.tar.gz`` in the official layout (Python 2 pickles ``train``
of 50,000 images, ``test`` of 10,000, ``meta``; the writers the tests use) with GENERATED
images: for apple, otter and pickup_truck (classes 0, 55, 58) each image is one of a few
smooth colour "scenes" of its class, plus a smooth variation of its own and pixel noise;
the 97 other classes are flat noise. An MLP overfits these much as it overfits the real
photos in the lab (train accuracy near 1, test far lower), but they are not photos: the
numbers say which options help on these images, not what the real set will give.

Then it trains the lab's network with each option in turn (`zoo train`, run folders in
--out) and prints `zoo compare` over them.

    python benchmarks/overfitting_recipe.py --out /tmp/recipe      # about 5 minutes on 2 cores
    python benchmarks/overfitting_recipe.py --data ~/data --out /tmp/recipe   # real files
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import image_fixtures as fx  # noqa: E402  (the writers of official-format files)

LAB_CLASSES = (0, 55, 58)
SCENES = 6  # smooth colour scenes per lab class
# (option list, comment): the lab's defaults (FC(10), SGD lr 0.005, batch 128, 250 epochs)
# and one change at a time, then the changes that helped together
RUNS = (
    ([], "base: the lab's settings"),
    (["--l2", "0.1"], "L2 0.1"),
    (["--l2", "0.3"], "L2 0.3"),
    (["--dropout", "0.2"], "dropout 0.2"),
    (["--patience", "20"], "early stopping"),
    (["--lr-schedule", "cosine", "--l2", "0.3"], "L2 0.3, cosine"),
    (["--hidden", "64", "--dropout", "0.5", "--l2", "0.1"], "wider, dropout 0.5, L2 0.1"),
    (["--optimizer", "adamw", "--lr", "0.001", "--weight-decay", "0.5"], "AdamW, decay 0.5"),
)


def lab_images(labels: np.ndarray, scenes: np.ndarray, rng) -> np.ndarray:
    """Rows of 3072 bytes (the R, G, B planes) for labels 0..2 of the lab's classes."""
    n = len(labels)
    pick = rng.integers(0, SCENES, n)
    own = fx.smooth_fields(rng, n, 6, 50.0)
    noise = rng.normal(0.0, 40.0, size=(n, 32, 32, 3))
    images = 120.0 + scenes[labels, pick] + own + noise
    images = np.clip(np.rint(images), 0, 255).astype(np.uint8)
    return images.transpose(0, 3, 1, 2).reshape(n, 3072)  # HWC -> the CHW planes


def write_archive(folder: Path, seed: int = 0) -> Path:
    """cifar-100-python.tar.gz, official layout, generated images (see the module text)."""
    rng = np.random.default_rng(seed)
    scenes = fx.smooth_fields(rng, 3 * SCENES, 4, 20.0).reshape(3, SCENES, 32, 32, 3)
    draw = lambda places, rng: lab_images(places, scenes, rng)  # noqa: E731
    return fx.write_drawn_cifar100_archive(folder, LAB_CLASSES, draw, rng)


def zoo(*args: str, env: dict) -> str:
    command = [
        sys.executable,
        "-c",
        "import sys; from zoo.cli import main; main(sys.argv[1:])",
        *args,
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"zoo {' '.join(args)} failed:\n{done.stdout}\n{done.stderr[-3000:]}")
    return done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the run folders")
    parser.add_argument("--data", type=Path, help="a folder with real CIFAR-100 files instead")
    parser.add_argument("--epochs", type=int, help="fewer epochs than the lab's 250 (a smoke run)")
    args = parser.parse_args(argv)
    data = args.data or args.out / "data"
    if args.data is None and not (data / "cifar-100-python.tar.gz").exists():
        write_archive(data)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ZOO_CACHE": str(args.out / "cache")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    runs = args.out / "runs"
    before = set(runs.glob("*")) if runs.exists() else set()
    for options, comment in RUNS:
        extra = ["--epochs", str(args.epochs)] if args.epochs else []
        zoo(
            "train", "mlp", "cifar100-3class", "--data-dir", str(data), "--source", "local",
            "--out", str(runs), "--no-report", "-q", "--comment", comment, *options, *extra,
            env=env,
        )  # fmt: skip
        print(f"trained: {comment}", file=sys.stderr, flush=True)
    folders = sorted(set(runs.glob("*")) - before)
    print(zoo("compare", *map(str, folders), "--out", str(args.out / "comparison.md"), env=env))
    return 0


if __name__ == "__main__":
    sys.exit(main())
