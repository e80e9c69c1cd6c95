"""Every speed figure of docs/speed.md from one command, each row beside its anchor.

Runs each benchmark script in a fresh process, one after the other (they would compete for
the cores side by side), and prints their markdown in one document, headed by the machine,
the versions and the load average before and after each part. Each script measures its own
anchor (plain Keras `fit`, a plain Keras script) in the same run and prints medians of
`--repeats` fresh processes, with every target marked met or missed.

    python benchmarks/all.py                 # everything: about 25 minutes on 2 idle cores
    python benchmarks/all.py --quick         # a smoke run of every part: a few minutes
    python benchmarks/all.py --part training --part pipeline

The parts, and what each needs (see docs/speed.md):

- training: the zoo's compiled epochs against `fit` in three regimes (first run: an empty
  compile cache; cache warm), and the whole `zoo train mlp cifar100-3class` against a plain
  Keras script, on a full-size official-format CIFAR-100 archive the script writes;
- per-sample: the per-sample step of today against the previous release's, alternating in
  one process (benchmarks/per_sample.py);
- cnn: lab 2's convolutional network on TensorFlow and on JAX;
- jax-cnn: lab 2's network on JAX, the zoo's epochs and JAX's own `fit` alternating in one
  process, every regime (benchmarks/jax_cnn.py);
- regularised: the lab configuration with an L2 penalty and dropout on both backends;
- pipeline: `zoo train` by phase on full-size archives, and `zoo report` on CIFAR-10.

Every part writes its data into a temporary folder and uses its own caches: nothing depends
on what ran before on the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PARTS = {
    "training": [HERE / "train_speed.py"],
    "per-sample": [HERE / "per_sample.py"],
    "cnn": [HERE / "train_speed.py", "--cnn"],
    "jax-cnn": [HERE / "jax_cnn.py"],
    "regularised": [HERE / "train_speed.py", "--regularised"],
    "pipeline": [HERE / "pipeline.py"],
}


def load() -> str:
    try:
        return "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())
    except OSError:
        return "load average unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=list(PARTS), action="append", help="default: all")
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes per figure")
    parser.add_argument("--quick", action="store_true", help="a smoke run of every part")
    args = parser.parse_args(argv)
    print(f"# zoo speed, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    print(
        f"Machine: {os.cpu_count()} CPU cores, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}.\n",
        flush=True,
    )
    failed = []
    for name in args.part or list(PARTS):
        command = [sys.executable, *map(str, PARTS[name])]
        if args.quick:
            command.append("--quick")
        elif name != "regularised":  # that part measures first and warm runs on its own
            command += ["--repeats", str(args.repeats)]
        shown = " ".join(f"benchmarks/{a.name}" if isinstance(a, Path) else a for a in PARTS[name])
        shown += " " + " ".join(command[len(PARTS[name]) + 1 :])
        print(f"## {name}\n\n`python {shown.strip()}`; {load()} at the start\n", flush=True)
        start = time.perf_counter()
        code = subprocess.call(command)
        print(
            f"\n({name}: {time.perf_counter() - start:.0f} s, exit {code}, {load()} at the end)\n",
            flush=True,
        )
        if code:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
