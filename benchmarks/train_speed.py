"""Training speed: plain Keras `fit` against the zoo's compiled epochs, and the whole lab command.

Part 1, training. The same model (the lab's MLP 3072->10->3, normalised inside the model) on
the same data (1,500 training and 300 test CIFAR-size uint8 images, random pixels with a
faint colour cast per class so there is something to learn), the same optimizer (SGD, lr
0.005), the same initial weights and the same number of epochs, in each regime:

- per-sample: one update per example (batch 1), 4 epochs;
- the lab configuration: batch 128, the test set evaluated after every epoch, 250 epochs;
- full batch: one update per epoch on all 1,500 examples, test set evaluated, 100 epochs.

Trainers: plain `fit`; `fit` compiled with XLA (`jit_compile=True`); `fit` with
`steps_per_execution` (an epoch's steps per call); the zoo with an empty compile cache (a
first run: XLA compiles the epoch) and with the program already in the cache (a later run of
the same model, see zoo/compile_cache.py). Every measurement runs in a fresh process, so each
pays its own tracing and compiling. "Total" is the whole training, first epoch included: the
`fit` call for Keras; building the epoch runner and all its epochs for the zoo. "Steady" is the
median epoch after the first. Ratios are plain `fit`'s time over the row's.

Part 2, the whole command. `zoo train mlp cifar100-3class` (training, results, figures and
report.pdf) as a subprocess, on a full-size CIFAR-100 archive in the official layout that the
script writes (random pixels), against a plain Keras script doing the same job the way the
lab does: import, read the extracted pickles, build, fit with the test set as validation
data, print scikit-learn's classification reports. One untimed run first fills the zoo's
caches (the 3-class subset, the compiled epoch); the first run's time is printed too.

Every figure is the median of `--repeats` runs (default 3). Markdown goes to stdout (the
README's table is this output, pasted whole); progress to stderr.

    python benchmarks/train_speed.py                 # about 15 minutes on 2 cores
    python benchmarks/train_speed.py --quick         # a smoke run: few epochs, one repeat
    python benchmarks/train_speed.py --backend jax   # the same on Keras's JAX backend
    python benchmarks/train_speed.py --backend jax --device gpu --skip-command --repeats 1
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LAB_NORM = {"mean": (0.5074, 0.4867, 0.4411), "std": (0.2011, 0.1987, 0.2025), "scale": 1 / 255}
LR = 0.005
LAB_CLASSES = (0, 55, 58)
TARGETS = {"lab: batch 128": 10.0}  # least ratio of total time against plain fit
COMMAND_TARGET_S = 8.0


@dataclass(frozen=True)
class Regime:
    name: str
    mode: str  # the zoo's mode
    batch_size: int | None  # None: the regime's own (1 or the whole set)
    epochs: int
    quick_epochs: int

    def fit_batch(self, n: int) -> int:
        return {"sample": 1, "batch": n}.get(self.mode, self.batch_size or 32)


REGIMES = (
    Regime("per-sample", "sample", None, 4, 2),
    Regime("lab: batch 128", "minibatch", 128, 250, 5),
    Regime("full batch", "batch", None, 100, 5),
)
TRAINERS = ("fit", "fit, XLA", "fit, steps_per_execution", "zoo, first run", "zoo, cache warm")


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


# -- part 1: one training per process ---------------------------------------------------------
def run_fit(data, regime: Regime, epochs: int, trainer: str, device: str) -> dict:
    """Plain Keras: compile, fit with validation data; per-epoch wall time from a callback."""
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

    n = len(data.x_train)
    batch = regime.fit_batch(n)
    options = {"jit_compile": trainer == "fit, XLA"}
    if trainer == "fit, steps_per_execution":
        options["steps_per_execution"] = -(-n // batch)  # one call per epoch
    scope, _ = resolve_device(device, keras.backend.backend())
    scope.__enter__()  # for the rest of this process
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
        **options,
    )
    clock = EpochClock()
    start = time.perf_counter()
    history = model.fit(
        data.x_train,
        data.y_train,
        batch_size=batch,
        epochs=epochs,
        validation_data=(data.x_test, data.y_test),
        callbacks=[clock],
        verbose=0,
    ).history
    total = time.perf_counter() - start
    return {
        "total": total,
        "seconds": clock.seconds,
        "loss": history["loss"][-1],
        "val_accuracy": history["val_accuracy"][-1],
    }


def run_zoo(data, regime: Regime, epochs: int, device: str) -> dict:
    """zoo.train; total = building the epoch runner (data to the device) and every epoch."""
    import zoo
    from zoo.training import loops
    from zoo.training import trainer as trainer_module

    spent = []

    def timed(function):
        def call(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent.append(time.perf_counter() - start)

        return call

    loops.make_epoch_runner = timed(loops.make_epoch_runner)
    trainer_module.Trainer._loop = timed(trainer_module.Trainer._loop)
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
        "total": sum(spent),
        "seconds": [row["seconds"] for row in run.history],
        "loss": run.history[-1]["loss"],
        "val_accuracy": run.history[-1]["val_accuracy"],
    }


def child(regime_name: str, trainer: str, quick: bool, backend: str, device: str) -> dict:
    from zoo.backend import start_backend

    start_backend(backend)
    regime = next(r for r in REGIMES if r.name == regime_name)
    epochs = regime.quick_epochs if quick else regime.epochs
    data = make_data()
    if trainer.startswith("zoo"):
        return run_zoo(data, regime, epochs, device)
    return run_fit(data, regime, epochs, trainer, device)


def measure_training(args, caches: Path) -> list[dict]:
    """Every (regime, trainer), `args.repeats` times, each in a fresh process; medians."""
    rows = []
    warm = caches / "warm"
    for regime in REGIMES:
        for trainer in TRAINERS:
            runs = []
            for rep in range(args.repeats):
                cache = warm if trainer == "zoo, cache warm" else caches / f"cold-{len(rows)}-{rep}"
                if trainer == "zoo, cache warm" and rep == 0:  # fill the cache: not counted
                    _training_child(regime, trainer, args, cache)
                runs.append(_training_child(regime, trainer, args, cache))
                print(
                    f"  {regime.name:<15} {trainer:<26} total {runs[-1]['total']:6.2f} s",
                    file=sys.stderr,
                    flush=True,
                )
            rows.append(_summary(regime, trainer, runs))
    return rows


def _training_child(regime: Regime, trainer: str, args, cache: Path) -> dict:
    command = [sys.executable, __file__, "--child", regime.name, trainer]
    command += ["--backend", args.backend, "--device", args.device]
    if args.quick:
        command.append("--quick")
    env = {**os.environ, "ZOO_CACHE": str(cache), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _summary(regime: Regime, trainer: str, runs: list[dict]) -> dict:
    steady = [float(np.median(r["seconds"][1:] or r["seconds"])) for r in runs]
    return {
        "regime": regime.name,
        "trainer": trainer,
        "epochs": len(runs[0]["seconds"]),
        "total": statistics.median(r["total"] for r in runs),
        "first": statistics.median(r["seconds"][0] for r in runs),
        "steady": statistics.median(steady),
        "totals": [r["total"] for r in runs],
        "loss": runs[-1]["loss"],
        "val_accuracy": runs[-1]["val_accuracy"],
    }


# -- part 2: the whole command -----------------------------------------------------------------
PLAIN_KERAS = r"""
import pickle, sys, numpy as np
import keras
from sklearn.metrics import classification_report
folder, classes = sys.argv[1], [0, 55, 58]
def load(name):
    with open(f"{folder}/cifar-100-python/{name}", "rb") as f:
        batch = pickle.load(f, encoding="latin1")
    y = np.array(batch["fine_labels"])
    keep = np.isin(y, classes)
    x = batch["data"][keep].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return x, np.searchsorted(classes, y[keep])
x_train, y_train = load("train")
x_test, y_test = load("test")
keras.utils.set_random_seed(0)
model = keras.Sequential([
    keras.Input((32, 32, 3)),
    keras.layers.Rescaling(1 / 255),
    keras.layers.Normalization(mean=[0.5074, 0.4867, 0.4411],
                               variance=np.square([0.2011, 0.1987, 0.2025])),
    keras.layers.Flatten(),
    keras.layers.Dense(10, activation="relu"),
    keras.layers.Dense(3, activation="softmax"),
])
model.compile(optimizer=keras.optimizers.SGD(0.005), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
model.fit(x_train, y_train, batch_size=128, epochs=EPOCHS, validation_data=(x_test, y_test),
          verbose=0)
names = ["apple", "otter", "pickup_truck"]
for x, y in ((x_train, y_train), (x_test, y_test)):
    print(classification_report(y, model.predict(x, verbose=0).argmax(1), target_names=names))
"""


def write_archive(folder: Path) -> None:
    """The full-size official CIFAR-100 archive, and the folder the lab extracts from it."""
    import tarfile

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from load_cifar import write_full_archive

    archive = write_full_archive(folder)
    with tarfile.open(archive) as tar:
        tar.extractall(folder / "extracted", filter="data")


def measure_command(args, work: Path) -> list[dict]:
    data = work / "data"
    data.mkdir()
    start = time.perf_counter()
    # by a child: Linux hands a parent's peak memory on to the processes it starts
    subprocess.run([sys.executable, __file__, "--write-archive", str(data)], check=True)
    print(f"  archive written in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    env = {**os.environ, "ZOO_CACHE": str(work / "cache"), "TF_CPP_MIN_LOG_LEVEL": "3"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    epochs = 5 if args.quick else 250
    # what the `zoo` console script runs, from this checkout
    zoo_command = [sys.executable, "-c", "import sys; from zoo.cli import main; sys.exit(main())"]
    zoo_command += ["train", "mlp", "cifar100-3class"]
    zoo_command += ["--data-dir", str(data), "--out", str(work / "runs"), "-q"]
    if args.quick:
        zoo_command += ["--epochs", str(epochs)]
    if args.backend != "tensorflow":
        zoo_command += ["--backend", args.backend]
    plain = [
        sys.executable,
        "-c",
        PLAIN_KERAS.replace("EPOCHS", str(epochs)),
        str(data / "extracted"),
    ]
    env_plain = {**env, "KERAS_BACKEND": args.backend}
    rows = []
    for label, command, environment in (
        ("zoo train mlp cifar100-3class", zoo_command, env),
        ("plain Keras script", plain, env_plain),
    ):
        first = _timed(command, environment)  # the zoo fills its caches here
        times = [_timed(command, environment) for _ in range(args.repeats)]
        print(f"  {label:<32} first {first:.1f} s, then {times}", file=sys.stderr)
        rows.append({"command": label, "first": first, "times": times})
    return rows


def _timed(command: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


# -- the tables --------------------------------------------------------------------------------
def training_table(rows: list[dict]) -> str:
    fit = {r["regime"]: r for r in rows if r["trainer"] == "fit"}
    lines = [
        "| regime | trainer | epochs | total s | 1st epoch s | steady epoch ms "
        "| total vs fit | steady vs fit | loss | test acc |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        base = fit[r["regime"]]
        total_ratio, steady_ratio = base["total"] / r["total"], base["steady"] / r["steady"]
        mark = ""
        target = TARGETS.get(r["regime"])
        if target and r["trainer"].startswith("zoo"):
            mark = f" ({'meets' if total_ratio >= target else 'misses'} {target:.0f}x)"
        lines.append(
            f"| {r['regime']} | {r['trainer']} | {r['epochs']} | {r['total']:.2f} "
            f"| {r['first']:.2f} | {r['steady'] * 1000:.1f} | {total_ratio:.1f}x{mark} "
            f"| {steady_ratio:.1f}x | {r['loss']:.4f} | {r['val_accuracy']:.3f} |"
        )
    return "\n".join(lines)


def command_table(rows: list[dict], repeats: int) -> str:
    lines = [
        f"| command | median of {repeats} s | runs s | first run s |",
        "|---|---:|---|---:|",
    ]
    for r in rows:
        median = statistics.median(r["times"])
        runs = ", ".join(f"{t:.1f}" for t in r["times"])
        mark = ""
        if r["command"].startswith("zoo"):
            verdict = "meets" if median < COMMAND_TARGET_S else "misses"
            mark = f" ({verdict} < {COMMAND_TARGET_S:.0f} s)"
        lines.append(f"| {r['command']} | {median:.1f}{mark} | {runs} | {r['first']:.1f} |")
    return "\n".join(lines)


def _versions(backend: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for name in ("keras", "tensorflow", *([backend] if backend != "tensorflow" else [])):
        try:
            parts.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            pass
    return ", ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["tensorflow", "jax"], default="tensorflow")
    parser.add_argument("--device", choices=["auto", "cpu", "gpu"], default="auto")
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--quick", action="store_true", help="few epochs, one repeat: a smoke run")
    parser.add_argument("--skip-command", action="store_true", help="training tables only")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--write-archive", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ["KERAS_BACKEND"] = args.backend  # before anything imports keras
    if args.write_archive:
        write_archive(args.write_archive)
        return 0
    if args.child:
        print(json.dumps(child(*args.child, args.quick, args.backend, args.device)))
        return 0
    if args.quick:
        args.repeats = 1
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="zoo-speed-") as tmp:
        work = Path(tmp)
        rows = measure_training(args, work / "caches")
        commands = None if args.skip_command else measure_command(args, work)
    load_after = os.getloadavg()
    print(f"train_speed, {time.strftime('%Y-%m-%d')}: median of {args.repeats} runs each\n")
    print(
        f"Machine: {os.cpu_count()} CPU cores, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}; {_versions(args.backend)}, backend "
        f"{args.backend}; load average {load_before[0]:.1f} at the start, "
        f"{load_after[0]:.1f} at the end.\n"
    )
    print(
        "Training: MLP 3072-10-3 (the lab's normalisation inside), SGD lr 0.005, 1,500 train "
        "/ 300 test CIFAR-size images; every run in a fresh process.\n"
    )
    print(training_table(rows))
    if commands:
        print(
            "\nThe whole command, report included, against a plain Keras script doing the "
            "lab's job (full-size official-format CIFAR-100 archive, 250 epochs; the first "
            "run fills the zoo's caches):\n"
        )
        print(command_table(commands, args.repeats))
    return 0


if __name__ == "__main__":
    sys.exit(main())
