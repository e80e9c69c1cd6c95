"""Two checkouts' training speed side by side: before and after a change, at the same load.

Runs `benchmarks/train_speed.py --child REGIME "zoo, cache warm"` of checkout A, then of
checkout B, in turn, `repeats` times each (every run a fresh process, each checkout with its own
warm compile cache, filled by one untimed run first), and prints the medians of the total
training time and of the steady epoch with B's over A's. Alternating keeps both under the same
load, which a busy machine changes from minute to minute; the same rows still move by a few
per cent between invocations, so give more repeats to read a difference of that size.

    python benchmarks/compare_checkouts.py OLD_TREE NEW_TREE --repeats 9
    python benchmarks/compare_checkouts.py OLD_TREE NEW_TREE --regimes "lab: batch 128"
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REGIMES = ("per-sample", "lab: batch 128", "full batch")
TRAINER = "zoo, cache warm"


def child(tree: Path, regime: str, cache: Path) -> tuple[float, float]:
    """(total seconds, steady epoch seconds) of one fresh run of `tree`'s zoo."""
    env = {**os.environ, "PYTHONPATH": str(tree), "ZOO_CACHE": str(cache)}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    command = [sys.executable, str(tree / "benchmarks" / "train_speed.py")]
    out = subprocess.run(
        [*command, "--child", regime, TRAINER],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    return result["total"], statistics.median(result["seconds"][1:] or result["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--regimes", default=",".join(REGIMES), help="comma-separated")
    parser.add_argument("--caches", type=Path, default=Path("/tmp/zoo-compare-checkouts"))
    args = parser.parse_args()
    trees = (args.before.resolve(), args.after.resolve())
    caches = [args.caches / f"{i}-{tree.name}" for i, tree in enumerate(trees)]
    print(f"load average {os.getloadavg()[0]:.1f} at the start; {args.repeats} repeats")
    print("| regime | steady before -> after | ratio | total before -> after | ratio |")
    print("|---|---|---:|---|---:|")
    for regime in args.regimes.split(","):
        runs: list[list[tuple[float, float]]] = [[], []]
        for tree, cache in zip(trees, caches, strict=True):
            child(tree, regime, cache)  # fills the cache: not counted
        for _ in range(args.repeats):
            for i, (tree, cache) in enumerate(zip(trees, caches, strict=True)):
                runs[i].append(child(tree, regime, cache))
        total = [statistics.median(r[0] for r in side) for side in runs]
        steady = [statistics.median(r[1] for r in side) for side in runs]
        print(
            f"| {regime} | {1000 * steady[0]:.2f} -> {1000 * steady[1]:.2f} ms | "
            f"{steady[1] / steady[0]:.3f} | {total[0]:.3f} -> {total[1]:.3f} s | "
            f"{total[1] / total[0]:.3f} |",
            flush=True,
        )
    print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
