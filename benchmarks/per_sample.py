"""Per-sample descent: the step on transposed kernel copies against the step it replaced.

The lab's network (3072->10->3, normalised inside the model) and data (1,500 training and 300
test CIFAR-size uint8 images, as benchmarks/train_speed.py makes them), one update per
example, SGD. Two epoch runners in one process from the same initial weights: the per-sample
loop of today (the tall kernels kept transposed for the whole epoch, see
zoo/training/loops/tf_loop.py `WideKernels`) and the same loop with the kernels in their own
layout (the loop of the previous release). Their epochs alternate, in the same shuffled
orders, so both see the same load; the table gives the median epoch (training and the test
evaluation), samples per second, the ratio, and how far apart the weights end.

    python benchmarks/per_sample.py              # 3 processes, 15 epochs each: 2-3 minutes
    python benchmarks/per_sample.py --quick      # one process, 5 epochs
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
TARGET_MS = 15.0  # 100,000 samples/s on 1,500 examples


def runners():
    import keras
    import train_speed

    from zoo.models.registry import create_model
    from zoo.objective import Objective
    from zoo.training.loops import tf_loop

    data = train_speed.make_data()
    objective = Objective.create(head="softmax", task="classification", num_classes=3)
    arrays = (
        data.x_train,
        objective.encode(data.y_train),
        data.x_test,
        objective.encode(data.y_test),
    )
    made, wide_kernels = {}, tf_loop.WideKernels.make
    for name in ("previous layout", "transposed copies"):
        keras.utils.set_random_seed(0)
        model = create_model(
            "mlp", input_shape=data.input_shape, num_classes=3, hidden=(10,),
            normalization=data.normalization,
        )  # fmt: skip
        if name == "previous layout":
            tf_loop.WideKernels.make = staticmethod(lambda *args: None)
        try:
            runner = tf_loop.TFEpochRunner(
                model, keras.optimizers.SGD(learning_rate=train_speed.LR), objective,
                *arrays, batch_size=1,
            )  # fmt: skip
        finally:
            tf_loop.WideKernels.make = wide_kernels
        runner.epoch(np.arange(len(data.x_train), dtype=np.int32), len(data.x_train))  # compile
        made[name] = (model, runner)
    return made, len(data.x_train)


def measure(epochs: int) -> dict:
    """One process: both loops' epoch seconds, alternating, and their final weight gap."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from zoo.backend import start_backend

    start_backend("tensorflow")
    made, n = runners()
    seconds = {name: [] for name in made}
    rng = np.random.default_rng(0)
    for _ in range(epochs):
        order = rng.permutation(n).astype(np.int32)
        for name, (_, runner) in made.items():
            start = time.perf_counter()
            runner.epoch(order, n)
            seconds[name].append(time.perf_counter() - start)
    (old_model, _), (new_model, _) = made.values()
    gap = max(
        float(np.max(np.abs(a - b)))
        for a, b in zip(old_model.get_weights(), new_model.get_weights(), strict=True)
    )
    medians = {name: statistics.median(times) for name, times in seconds.items()}
    return {"n": n, "medians": medians, "gap": gap}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes")
    parser.add_argument("--quick", action="store_true", help="one process, 5 epochs")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.epochs)))
        return 0
    epochs, repeats = (5, 1) if args.quick else (args.epochs, args.repeats)
    load = os.getloadavg()
    runs = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, __file__, "--child", "--epochs", str(epochs)],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    n = runs[0]["n"]
    names = list(runs[0]["medians"])
    seconds = {name: statistics.median(r["medians"][name] for r in runs) for name in names}
    anchor = seconds["previous layout"]
    print(f"per-sample descent, {n} examples: median over {repeats} fresh processes of the "
          f"median of {epochs} alternating epochs; load average {load[0]:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after\n")  # fmt: skip
    print("| loop | median epoch ms | samples/s | x previous | target ≤ 15 ms |")
    print("|---|---:|---:|---:|---|")
    for name, median in seconds.items():
        ms = median * 1000
        met = "met" if ms <= TARGET_MS else f"missed by {ms - TARGET_MS:.1f} ms"
        print(f"| {name} | {ms:.1f} | {n / median:,.0f} | {anchor / median:.2f} | {met} |")
    gap = max(r["gap"] for r in runs)
    print(f"\nlargest weight difference between the two loops after {epochs} epochs: {gap:.1e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
