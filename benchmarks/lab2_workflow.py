"""The README's lab 2 workflow, run for real: `zoo lab 2`, `zoo compare`, `zoo shift`.

No copy of CIFAR-100 can be downloaded on the machine this was written on, so the script
first writes ``cifar-100-python.tar.gz`` in the official layout (Python 2 pickles ``train``
of 50,000 images, ``test`` of 10,000, ``meta``; the writers the tests use) with GENERATED
images: for the variant's classes (group 2, variant 5: bottle, girl, otter - 9, 35, 55) each
image holds its class's small figure (two bars, a ring, a cross; 9x9 pixels, a colour of its
own each time) at a random place on a smooth random background with pixel noise; the 97
other classes are flat noise. Where a figure sits varies, what it looks like does not: the
property a convolution's shared weights exploit. They are not photos: the numbers show how
the networks behave on these images, not what the real set gives.

Then: `zoo lab 2` for the variant (the three pooling runs, lab 1's FC network, `zoo shift`,
ONNX), `zoo compare` of the CNN runs against the FC run, and `zoo shift` of the FC run and
the example CNN run, each printed as the README shows it.

    python benchmarks/lab2_workflow.py --out /tmp/lab2            # about 6 minutes on 2 cores
    python benchmarks/lab2_workflow.py --data ~/data --out /tmp/lab2   # real files
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

GROUP, VARIANT = 2, 5
CLASSES = (9, 35, 55)  # the variant's classes by the course's rule (group + 7, variant + 30, + 50)
SIZE = 9  # the figures' side, in pixels


def figures() -> np.ndarray:
    """Three 9x9 masks: two vertical bars, a ring, a cross."""
    yy, xx = np.mgrid[:SIZE, :SIZE] - SIZE // 2
    bars = (np.abs(np.abs(xx) - 2) <= 0) & (np.abs(yy) <= 3)
    ring = np.abs(np.hypot(xx, yy) - 3.2) < 0.9
    cross = ((np.abs(xx) <= 0) | (np.abs(yy) <= 0)) & (np.abs(xx) + np.abs(yy) <= 8)
    return np.stack([bars, ring, cross]).astype(np.float64)


def variant_images(labels: np.ndarray, rng) -> np.ndarray:
    """Rows of 3072 bytes (the R, G, B planes): each label's figure at a random place."""
    n = len(labels)
    images = 110.0 + fx.smooth_fields(rng, n, 4, 35.0) + rng.normal(0.0, 20.0, size=(n, 32, 32, 3))
    masks = figures()
    for i, label in enumerate(labels):
        top, left = rng.integers(2, 32 - SIZE - 2, size=2)
        colour = rng.uniform(-110, 130, size=3)
        patch = images[i, top : top + SIZE, left : left + SIZE]
        patch += masks[label][:, :, None] * colour
    images = np.clip(np.rint(images), 0, 255).astype(np.uint8)
    return images.transpose(0, 3, 1, 2).reshape(n, 3072)  # HWC -> the CHW planes


def write_archive(folder: Path, seed: int = 0) -> Path:
    """cifar-100-python.tar.gz, official layout, generated images (see the module text)."""
    rng = np.random.default_rng(seed)
    return fx.write_drawn_cifar100_archive(folder, CLASSES, variant_images, rng)


def zoo(*args: str, env: dict) -> str:
    """Run `zoo ARGS`; print the command and what it printed, as the README shows them."""
    command = [sys.executable, "-c", "import sys; from zoo.cli import main; main(sys.argv[1:])"]
    done = subprocess.run([*command, *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"zoo {' '.join(args)} failed:\n{done.stdout}\n{done.stderr[-3000:]}")
    print(f"$ zoo {' '.join(args)}\n{done.stdout}", flush=True)
    return done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the lab folder")
    parser.add_argument("--data", type=Path, help="a folder with real CIFAR-100 files instead")
    parser.add_argument("--epochs", type=int, help="fewer epochs than the lab's (a smoke run)")
    args = parser.parse_args(argv)
    data = args.data or args.out / "data"
    if args.data is None and not (data / "cifar-100-python.tar.gz").exists():
        write_archive(data)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ZOO_CACHE": str(args.out / "cache")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    lab = args.out / "lab2-2-v5"
    extra = ["--epochs", str(args.epochs)] if args.epochs else []
    zoo("lab", "2", "--group", str(GROUP), "--variant", str(VARIANT), "--data-dir", str(data),
        "--source", "local", "--out", str(lab), "--lang", "en", "-q", *extra, env=env)  # fmt: skip
    cnn = sorted((lab / "runs").iterdir())
    (fc,) = (lab / "fc").iterdir()
    zoo("compare", *map(str, [*cnn, fc]), "--out", str(args.out / "comparison.md"),
        "--lang", "en", env=env)  # fmt: skip
    zoo("shift", str(fc), str(cnn[0]), "--max", "8", "--out", str(args.out / "shift"),
        "--lang", "en", env=env)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
