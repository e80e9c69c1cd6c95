"""Lab 2's CNN on Keras's JAX backend: the zoo's epochs against JAX's own `fit`, alternating.

One process trains two copies of the zoo's `cnn` (same builder, same seed, so the same
initial weights) with lab 2's optimizer (SGD lr 0.005, momentum 0.9) on 1,500 / 300
CIFAR-size images: one with `model.fit`, one with the zoo's epoch runner, one epoch each in
turn, so both see the same load. Each regime prints the median seconds per epoch (wall and
the process's CPU seconds) after the first epoch (tracing and compiling; printed apart), and
the ratio fit / zoo: the target is at least 1.0 (never slower than `fit`) in every regime.
On a CPU the zoo compiles its updates on batches of 16 or more with XLA's own convolutions
rather than YNNPACK's (`zoo.training.loops.jax_loop.OWN_CONVOLUTIONS`); `fit` compiles with
XLA's defaults. `--fit-own-convolutions` makes that choice for the whole process (in
XLA_FLAGS), for `fit` and single images too: the same kernels on both sides.

    python benchmarks/jax_cnn.py              # 7 epochs per regime and trainer, a few minutes
    python benchmarks/jax_cnn.py --quick      # 3 epochs each
    python benchmarks/jax_cnn.py --fit-own-convolutions
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ["KERAS_BACKEND"] = "jax"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

REGIMES = (  # (name, batch size: None for the whole set, epochs scaled by --quick)
    ("per-sample", 1),
    ("lab 2: batch 128", 128),
    ("full batch", None),
)
LAB2 = {"lr": 0.005, "momentum": 0.9}


def measure(batch: int | None, epochs: int) -> dict:
    import keras
    import numpy as np
    from train_speed import make_data

    from zoo.models.registry import create_model
    from zoo.objective import Objective
    from zoo.training.loops import make_epoch_runner

    data = make_data()
    x, y, x_test, y_test = data.x_train, data.y_train, data.x_test, data.y_test
    n = len(x)
    batch = batch or n

    def model():
        keras.utils.set_random_seed(0)
        return create_model(
            "cnn", input_shape=data.input_shape, num_classes=3, normalization=data.normalization
        )

    def sgd():
        return keras.optimizers.SGD(learning_rate=LAB2["lr"], momentum=LAB2["momentum"])

    fitted = model()
    fitted.compile(optimizer=sgd(), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    zoo_model, optimizer = model(), sgd()
    objective = Objective.for_model(zoo_model, task="classification", num_classes=3)
    runner = make_epoch_runner(
        zoo_model,
        optimizer,
        objective,
        x,
        objective.encode(y),
        x_test,
        objective.encode(y_test),
        batch_size=batch,
        planned_updates=epochs * -(-n // batch),
    )
    rng = np.random.default_rng(0)
    steps = -(-n // batch)
    wall = {"fit": [], "zoo": []}
    cpu = {"fit": [], "zoo": []}
    for _ in range(epochs):
        order = rng.permutation(n)
        for trainer in ("fit", "zoo"):
            begin_cpu, begin = time.process_time(), time.perf_counter()
            if trainer == "fit":
                fitted.fit(
                    x[order],
                    y[order],
                    batch_size=batch,
                    epochs=1,
                    shuffle=False,
                    validation_data=(x_test, y_test),
                    verbose=0,
                )
            else:
                runner.epoch(order, steps)
            wall[trainer].append(time.perf_counter() - begin)
            cpu[trainer].append(time.process_time() - begin_cpu)
    own = runner._step_call is not None and not runner._step_call.plain
    return {"wall": wall, "cpu": cpu, "device": str(runner.device), "own convolutions": own}


def _verdict(ratio: float) -> str:
    return "met" if ratio >= 1.0 else f"MISSED by {(1 / ratio - 1) * 100:.0f}%"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=7, help="per regime and trainer")
    parser.add_argument("--quick", action="store_true", help="3 epochs each")
    parser.add_argument("--repeats", type=int, help=argparse.SUPPRESS)  # all.py's, unused
    parser.add_argument(
        "--fit-own-convolutions", action="store_true", help="XLA's own convolutions for fit too"
    )
    args = parser.parse_args(argv)
    epochs = 3 if args.quick else max(args.epochs, 2)
    if args.fit_own_convolutions:  # read by JAX's XLA as it starts, below
        from zoo.training.loops.jax_loop import OWN_CONVOLUTIONS

        flags = [f"--{name}={value}" for name, value in OWN_CONVOLUTIONS.items()]
        os.environ["XLA_FLAGS"] = " ".join([os.environ.get("XLA_FLAGS", ""), *flags]).strip()
    import jax
    import keras

    before = os.getloadavg()[0]
    rows = []
    for name, batch in REGIMES:
        result = measure(batch, epochs)
        rows.append((name, result))
        print(f"  {name}: done", file=sys.stderr, flush=True)
    after = os.getloadavg()[0]
    print(f"jax_cnn, {time.strftime('%Y-%m-%d')}: {epochs} alternating epochs per trainer\n")
    print(
        f"Machine: {os.cpu_count()} CPU cores, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}; keras {keras.__version__}, jax {jax.__version__}, "
        f"device {rows[0][1]['device']}; load average {before:.1f} at the start, "
        f"{after:.1f} at the end.\n"
    )
    own = ", ".join(f"{name} {'yes' if r['own convolutions'] else 'no'}" for name, r in rows)
    print(
        f"The zoo's updates with XLA's own convolutions (`OWN_CONVOLUTIONS`): {own}; "
        f"XLA_FLAGS: {os.environ.get('XLA_FLAGS') or 'not set'}.\n"
    )
    print(
        "| regime | trainer | 1st epoch s | epoch ms (median after the 1st) | CPU ms "
        "| fit / zoo (wall) | fit / zoo (CPU) | never slower than fit |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for name, result in rows:
        wall, cpu = result["wall"], result["cpu"]
        steady = {t: statistics.median(wall[t][1:]) for t in wall}
        steady_cpu = {t: statistics.median(cpu[t][1:]) for t in cpu}
        for trainer in ("fit", "zoo"):
            ratio = steady["fit"] / steady[trainer]
            ratio_cpu = steady_cpu["fit"] / steady_cpu[trainer]
            verdict = ""
            if trainer == "zoo":  # on a shared machine the CPU seconds say more than the wall
                verdict = f"wall: {_verdict(ratio)}, CPU: {_verdict(ratio_cpu)}"
            print(
                f"| {name} | {trainer} | {wall[trainer][0]:.2f} | {steady[trainer] * 1e3:.1f} "
                f"| {steady_cpu[trainer] * 1e3:.1f} | {ratio:.2f}x | {ratio_cpu:.2f}x | {verdict} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
