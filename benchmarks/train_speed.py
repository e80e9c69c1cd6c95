"""Training speed: plain Keras `fit` against the zoo's compiled epochs, side by side.

The same model (the lab's MLP 3072->10->3, normalised inside the model) on the same data
(1,500 training and 300 test CIFAR-size uint8 images, random pixels with a faint colour
cast per class so there is something to learn), the same optimizer (SGD, lr 0.005), the same
initial weights and the same number of epochs, for each regime:

- per-sample: one update per example (`fit(batch_size=1)`; also `steps_per_execution`);
- the lab configuration: batch 128 and the test set evaluated after every epoch, 250 epochs;
- full batch: one update per epoch on all 1,500 examples, test set evaluated each epoch.

Speeds are training examples per second of an epoch after the first (which traces and
compiles), the test evaluation included; the first epoch's seconds are printed too. Ratios
are against `fit` on the same backend and against `fit` on TensorFlow, which is what a
user runs by default. Losses are the last epoch's training loss, accuracies the test
accuracy after the last epoch.

    python benchmarks/train_speed.py                  # TensorFlow here, JAX in a 2nd process
    python benchmarks/train_speed.py --backend jax --device gpu
    python benchmarks/train_speed.py --quick          # a smoke run: few epochs
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LAB_NORM = {"mean": (0.5074, 0.4867, 0.4411), "std": (0.2011, 0.1987, 0.2025), "scale": 1 / 255}
LR = 0.005


@dataclass(frozen=True)
class Regime:
    name: str
    mode: str  # the zoo's --mode
    batch_size: int | None  # None: the regime's own (1 or the whole set)
    epochs: int
    quick_epochs: int
    target: str  # the target for the zoo against fit on TensorFlow

    def fit_batch(self, n: int) -> int:
        return {"sample": 1, "batch": n}.get(self.mode, self.batch_size or 32)


REGIMES = (
    Regime("per-sample", "sample", None, 4, 2, ">=10x (TF), >=40x (JAX)"),
    Regime("lab: batch 128", "minibatch", 128, 250, 3, ">=8x"),
    Regime("full batch", "batch", None, 100, 3, ">=1x"),
)
TARGETS = {  # (regime, backend) -> least ratio against TF fit; JAX also >=5x its own fit
    ("per-sample", "tensorflow"): 10,
    ("per-sample", "jax"): 40,
    ("lab: batch 128", "tensorflow"): 8,
    ("lab: batch 128", "jax"): 8,
    ("full batch", "tensorflow"): 1,
    ("full batch", "jax"): 1,
}


def make_data(n_train: int = 1500, n_test: int = 300, seed: int = 0):
    """CIFAR-size uint8 images: noise plus a small shift of one colour channel per class."""
    from zoo.datasets import Dataset

    rng = np.random.default_rng(seed)
    n = n_train + n_test
    y = rng.integers(0, 3, n)
    x = rng.integers(0, 236, (n, 32, 32, 3)).astype(np.int16)
    x[np.arange(n), :, :, y] += 20
    x = x.astype(np.uint8)
    return Dataset(
        "random-cifar-3class",
        x[:n_train],
        y[:n_train],
        x[n_train:],
        y[n_train:],
        class_names=["a", "b", "c"],
        normalization=LAB_NORM,
    )


def _steady(seconds: list[float]) -> float:
    """Median of the epochs after the first (the first traces and compiles)."""
    rest = seconds[1:] or seconds
    return float(np.median(rest))


def run_fit(data, regime: Regime, epochs: int, device: str, **fit_options) -> dict:
    """Plain Keras: compile, fit with validation data, per-epoch wall time from a callback."""
    import keras

    from zoo.backend import resolve_device
    from zoo.models.registry import create_model

    class EpochClock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.start)

    scope, _ = resolve_device(device, keras.backend.backend())
    with scope:
        keras.utils.set_random_seed(0)  # the zoo seeds the same way: the same initial weights
        model = create_model(
            "mlp",
            input_shape=data.input_shape,
            num_classes=3,
            hidden=(10,),
            normalization=data.normalization,
        )
        model.compile(
            optimizer=keras.optimizers.SGD(learning_rate=LR),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
            **fit_options,
        )
        clock = EpochClock()
        history = model.fit(
            data.x_train,
            data.y_train,
            batch_size=regime.fit_batch(len(data.x_train)),
            epochs=epochs,
            validation_data=(data.x_test, data.y_test),
            callbacks=[clock],
            verbose=0,
        ).history
    return {
        "seconds": clock.seconds,
        "loss": history["loss"][-1],
        "val_accuracy": history["val_accuracy"][-1],
    }


def run_zoo(data, regime: Regime, epochs: int, device: str) -> dict:
    import zoo

    run = zoo.train(
        "mlp",
        data,
        mode=regime.mode,
        batch_size=regime.batch_size,
        hidden=(10,),
        lr=LR,
        epochs=epochs,
        device=device,
        out=None,
        quiet=True,
        seed=0,
    )
    return {
        "seconds": [row["seconds"] for row in run.history],
        "loss": run.history[-1]["loss"],
        "val_accuracy": run.history[-1]["val_accuracy"],
        "device": run.config["device"],
    }


def measure(backend: str, device: str, quick: bool) -> list[dict]:
    """Every regime on the backend this process runs; one row per (regime, trainer)."""
    data = make_data()
    n = len(data.x_train)
    rows = []
    for regime in REGIMES:
        epochs = regime.quick_epochs if quick else regime.epochs
        trainers = [("Keras fit", {}), ("zoo", None)]
        if regime.mode == "sample":
            trainers.insert(1, ("fit, steps_per_execution", {"steps_per_execution": n}))
        for label, fit_options in trainers:
            if fit_options is None:
                result = run_zoo(data, regime, epochs, device)
            else:
                result = run_fit(data, regime, epochs, device, **fit_options)
            steady = _steady(result["seconds"])
            rows.append(
                {
                    "regime": regime.name,
                    "backend": backend,
                    "trainer": label,
                    "epochs": epochs,
                    "samples_per_s": n / steady,
                    "epoch_s": steady,
                    "first_epoch_s": result["seconds"][0],
                    "loss": result["loss"],
                    "val_accuracy": result["val_accuracy"],
                    "device": result.get("device"),
                }
            )
            print(
                f"  {backend:<10} {regime.name:<15} {label:<26} {n / steady:>10,.0f} samples/s",
                file=sys.stderr,
                flush=True,
            )
    return rows


def _versions(backends: list[str]) -> str:
    from importlib.metadata import PackageNotFoundError, version

    names = ["keras", *backends]
    parts = []
    for name in names:
        try:
            parts.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            pass
    return ", ".join(parts)


def _verdict(row: dict, ratio: float, vs_tf: float | None) -> str:
    """The issue's target for this row, and whether it was met."""
    checks = []
    if vs_tf is not None:
        checks.append(
            (
                f">={TARGETS[(row['regime'], row['backend'])]}x TF fit",
                vs_tf >= TARGETS[(row["regime"], row["backend"])],
            )
        )
    if row["backend"] != "tensorflow":
        # per-sample: at least 5x Keras-on-JAX fit; the others never slower than it
        need = 5 if row["regime"] == "per-sample" else 1
        checks.append((f">={need}x {row['backend']} fit", ratio >= need))
    if vs_tf is None:
        checks.append(("(no TF fit measured here)", True))
    return ", ".join(
        text if text.startswith("(") else f"{text}: {'met' if ok else 'MISSED'}"
        for text, ok in checks
    )


def table(rows: list[dict]) -> str:
    """The side-by-side table: each zoo row against fit on its backend and fit on TF."""
    fit = {(r["regime"], r["backend"]): r for r in rows if r["trainer"] == "Keras fit"}
    tf_fit = {
        r["regime"]: r for r in rows if r["trainer"] == "Keras fit" and r["backend"] == "tensorflow"
    }
    head = (
        f"{'regime':<15} {'backend':<10} {'trainer':<26} {'epochs':>6} {'samples/s':>10} "
        f"{'1st ep s':>8} {'x fit':>7} {'x TF fit':>8}  {'loss':>7} {'test acc':>8}  target"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        own = fit[(r["regime"], r["backend"])]["samples_per_s"]
        base = tf_fit.get(r["regime"])
        ratio = r["samples_per_s"] / own
        vs_tf = r["samples_per_s"] / base["samples_per_s"] if base else None
        verdict = ""
        if r["trainer"] == "zoo":
            verdict = _verdict(r, ratio, vs_tf)
        lines.append(
            f"{r['regime']:<15} {r['backend']:<10} {r['trainer']:<26} {r['epochs']:>6} "
            f"{r['samples_per_s']:>10,.0f} {r['first_epoch_s']:>8.2f} {ratio:>6.1f}x "
            f"{(f'{vs_tf:.1f}x' if vs_tf is not None else '-'):>8}  {r['loss']:>7.4f} "
            f"{r['val_accuracy']:>8.4f}  {verdict}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["both", "tensorflow", "jax"], default="both")
    parser.add_argument("--device", choices=["auto", "cpu", "gpu"], default="auto")
    parser.add_argument("--quick", action="store_true", help="few epochs: a smoke run")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON only")
    args = parser.parse_args(argv)

    here = "jax" if args.backend == "jax" else "tensorflow"
    os.environ["KERAS_BACKEND"] = here  # before anything imports keras
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from zoo.cli.common import load_backend_quietly

    load_backend_quietly(here)
    rows = measure(here, args.device, args.quick)
    backends = [here]
    if args.backend == "both":
        child = _jax_in_a_second_process(args)
        if child is None:
            print("jax is not installed: no JAX rows (pip install 'zoo[jax]')", file=sys.stderr)
        else:
            rows += child
            backends.append("jax")
    if args.json:
        print(json.dumps(rows))
        return 0
    devices = sorted({r["device"] for r in rows if r["device"]})
    print(
        f"train_speed: MLP 3072->10->3 (lab normalisation inside), SGD lr {LR}, "
        f"{len(make_data().x_train)} train / 300 test CIFAR-size uint8 images"
    )
    print(
        f"machine: {os.cpu_count()} CPU cores, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}; {_versions(backends)}; device {', '.join(devices)}"
    )
    print(table(rows))
    return 0


def _jax_in_a_second_process(args) -> list[dict] | None:
    """Keras picks its backend once per process: the JAX rows come from a child."""
    import importlib.util

    if importlib.util.find_spec("jax") is None:
        return None
    command = [sys.executable, __file__, "--backend", "jax", "--device", args.device, "--json"]
    if args.quick:
        command.append("--quick")
    done = subprocess.run(
        command,
        env={**os.environ, "KERAS_BACKEND": "jax"},
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    sys.exit(main())
