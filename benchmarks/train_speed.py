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
pays its own tracing and compiling; the trainers take turns, one run each per repeat. "Total"
is the whole training, first epoch included: the `fit` call for Keras; building the epoch
runner and all its epochs for the zoo. "Steady" is the median epoch after the first. Ratios
are plain `fit`'s time over the row's.

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

    python benchmarks/train_speed.py --regularised   # the lab configuration with L2 + dropout
    python benchmarks/train_speed.py --cnn           # lab 2's convolutional network

Part 3 (--regularised), the lab configuration with `--l2 1e-4 --dropout 0.2` (the penalty and
dropout inside the compiled epochs) against `fit` of the same model: total training time,
first epoch included (target: at least 8x plain fit on TensorFlow).

Part 4 (--cnn), lab 2's example network (`zoo train cnn`: Conv 32 5x5/4 pad 2, Conv 64 3x3
pad 1, AvgPool 4, Dense 3; 21,699 parameters) with lab 2's settings (SGD lr 0.005, momentum
0.9, batch 128, 500 epochs) against `fit` of the same model from the same weights, and the two
other regimes with the same network; total training time, first epoch included (target: at
least 3x plain fit on TensorFlow for the lab configuration, never slower). Parts 3 and 4 run
on TensorFlow and, in a second process, on JAX unless `--backend jax` names one.
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
# least ratio of total time against plain fit, by (regime, trainer); steady: of steady epochs
TARGETS = {("lab: batch 128", "zoo, first run"): 15.0, ("lab: batch 128", "zoo, cache warm"): 20.0}
STEADY_TARGETS = {"lab: batch 128": 25.0}
PER_SAMPLE_TARGET_MS = 15.0  # steady epoch of 1,500 single-example updates: 100,000 samples/s
COMMAND_TARGET_S = 6.0


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


def epoch_clock():
    """A Keras callback whose `seconds` lists each epoch's wall time (keras imported here: the
    backend is chosen before)."""
    import keras

    class EpochClock(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.start)

    return EpochClock()


# -- part 1: one training per process ---------------------------------------------------------
def run_fit(data, regime: Regime, epochs: int, trainer: str, device: str) -> dict:
    """Plain Keras: compile, fit with validation data; per-epoch wall time from a callback."""
    import keras

    from zoo.backend import resolve_device
    from zoo.models.registry import create_model

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
    clock = epoch_clock()
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
    from zoo.training import driver, loops

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
    driver.drive = timed(driver.drive)  # every epoch, through the driver
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
    """Every (regime, trainer), `args.repeats` times, each in a fresh process; medians.

    The trainers take turns within each repeat, so a machine that slows down or speeds up
    during the minutes a regime takes (a shared one drifts by a third) moves every trainer's
    figures alike, not only those measured last."""
    rows = []
    for regime in REGIMES:
        if args.regime and regime.name not in args.regime:
            continue
        warm = caches / f"warm-{regime.mode}"
        _training_child(regime, "zoo, cache warm", args, warm)  # fill the cache: not counted
        runs = {trainer: [] for trainer in TRAINERS}
        for rep in range(args.repeats):
            for trainer in TRAINERS:
                cold = caches / f"cold-{regime.mode}-{trainer}-{rep}".replace(" ", "-")
                cache = warm if trainer == "zoo, cache warm" else cold
                runs[trainer].append(_training_child(regime, trainer, args, cache))
                print(
                    f"  {regime.name:<15} {trainer:<26} total {runs[trainer][-1]['total']:6.2f} s",
                    file=sys.stderr,
                    flush=True,
                )
        rows += [_summary(regime, trainer, runs[trainer]) for trainer in TRAINERS]
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
        mark = steady_mark = ms_mark = ""
        zoo = r["trainer"].startswith("zoo")
        target = TARGETS.get((r["regime"], r["trainer"]))
        if target:
            mark = f" ({'meets' if total_ratio >= target else 'misses'} {target:.0f}x)"
        steady_target = STEADY_TARGETS.get(r["regime"])
        if steady_target and zoo:
            verdict = "meets" if steady_ratio >= steady_target else "misses"
            steady_mark = f" ({verdict} {steady_target:.0f}x)"
        if r["regime"] == "per-sample" and zoo:
            verdict = "meets" if r["steady"] * 1000 <= PER_SAMPLE_TARGET_MS else "misses"
            ms_mark = f" ({verdict} {PER_SAMPLE_TARGET_MS:.0f} ms)"
        lines.append(
            f"| {r['regime']} | {r['trainer']} | {r['epochs']} | {r['total']:.2f} "
            f"| {r['first']:.2f} | {r['steady'] * 1000:.1f}{ms_mark} | {total_ratio:.1f}x{mark} "
            f"| {steady_ratio:.1f}x{steady_mark} | {r['loss']:.4f} | {r['val_accuracy']:.3f} |"
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
            verdict = "meets" if median <= COMMAND_TARGET_S else "misses"
            mark = f" ({verdict} <= {COMMAND_TARGET_S:.0f} s)"
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
    names = [r.name for r in REGIMES]
    parser.add_argument(
        "--regime", action="append", choices=names, help="only these regimes (repeatable)"
    )
    parser.add_argument("--regularised", action="store_true", help="only the L2 + dropout rows")
    parser.add_argument("--cnn", action="store_true", help="only lab 2's convolutional rows")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
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
    if args.regularised or args.cnn:
        if args.backend == "tensorflow" and not args.json:
            args.backend = "both"  # TensorFlow here, JAX in a second process
        return regularised_main(args) if args.regularised else cnn_main(args)
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
            f"lab's job (full-size official-format CIFAR-100 archive, "
            f"{5 if args.quick else 250} epochs; the first run fills the zoo's caches):\n"
        )
        print(command_table(commands, args.repeats))
    return 0


# -- the lab configuration with an L2 penalty and dropout ------------------------------------
REGULARISED = {"l2": 1e-4, "dropout": 0.2}
REGULARISED_TARGET = 8  # total training time, against plain fit on TensorFlow


def regularised_rows(backend: str, device: str, quick: bool) -> list[dict]:
    """Keras fit and the zoo on the lab configuration with `REGULARISED`: the same model (the
    penalty on both kernels, dropout after the hidden layer), the same initial weights.
    Total training time is the sum of the epochs' seconds, the first one included."""
    import keras

    import zoo
    from zoo.backend import resolve_device
    from zoo.models.registry import create_model

    data, regime = make_data(), REGIMES[1]
    epochs = regime.quick_epochs if quick else regime.epochs

    scope, _ = resolve_device(device, keras.backend.backend())
    with scope:
        keras.utils.set_random_seed(0)
        model = create_model(
            "mlp",
            input_shape=data.input_shape,
            num_classes=3,
            hidden=(10,),
            normalization=data.normalization,
            **REGULARISED,
        )
        model.compile(
            optimizer=keras.optimizers.SGD(learning_rate=LR),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        clock = epoch_clock()
        fit = model.fit(
            data.x_train,
            data.y_train,
            batch_size=regime.batch_size,
            epochs=epochs,
            validation_data=(data.x_test, data.y_test),
            callbacks=[clock],
            verbose=0,
        ).history
    run = zoo.train(
        "mlp", data, batch_size=regime.batch_size, hidden=(10,), lr=LR, epochs=epochs,
        device=device, out=None, quiet=True, seed=0, **REGULARISED,
    )  # fmt: skip
    rows = []
    for label, seconds, loss, accuracy in (
        ("Keras fit", clock.seconds, fit["loss"][-1], fit["val_accuracy"][-1]),
        (
            "zoo",
            [row["seconds"] for row in run.history],
            run.history[-1]["loss"],
            run.history[-1]["val_accuracy"],
        ),
    ):
        rows.append(
            {
                "backend": backend,
                "trainer": label,
                "epochs": epochs,
                "total_s": float(sum(seconds)),
                "first_epoch_s": seconds[0],
                "loss": loss,
                "val_accuracy": accuracy,
            }
        )
        print(f"  {backend:<10} l2+dropout {label:<10} {sum(seconds):8.2f} s", file=sys.stderr)
    return rows


def regularised_table(rows: list[dict]) -> str:
    """Total training time of each row against fit on its backend and fit on TensorFlow."""
    fit = {r["backend"]: r["total_s"] for r in rows if r["trainer"] == "Keras fit"}
    head = (
        f"{'backend':<10} {'trainer':<10} {'epochs':>6} {'total s':>8} {'1st ep s':>8} "
        f"{'x fit':>7} {'x TF fit':>8}  {'loss':>7} {'test acc':>8}  target"
    )
    lines = [
        f"lab configuration with l2 {REGULARISED['l2']:g} and dropout "
        f"{REGULARISED['dropout']:g}: total training time, first epoch included",
        head,
        "-" * len(head),
    ]
    for r in rows:
        ratio = fit[r["backend"]] / r["total_s"]
        vs_tf = fit["tensorflow"] / r["total_s"] if "tensorflow" in fit else None
        verdict = ""
        if r["trainer"] == "zoo" and vs_tf is not None:
            met = "met" if vs_tf >= REGULARISED_TARGET else "MISSED"
            verdict = f">={REGULARISED_TARGET}x TF fit: {met}"
        lines.append(
            f"{r['backend']:<10} {r['trainer']:<10} {r['epochs']:>6} {r['total_s']:>8.2f} "
            f"{r['first_epoch_s']:>8.2f} {ratio:>6.1f}x "
            f"{(f'{vs_tf:.1f}x' if vs_tf is not None else '-'):>8}  {r['loss']:>7.4f} "
            f"{r['val_accuracy']:>8.4f}  {verdict}"
        )
    return "\n".join(lines)


def regularised_main(args) -> int:
    """The regularised rows on this process's backend, JAX's from a child unless asked for
    one backend; printed as a table, or as JSON with --json."""
    here = "jax" if args.backend == "jax" else "tensorflow"
    os.environ["KERAS_BACKEND"] = here
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from zoo.backend import start_backend

    start_backend(here)
    rows = regularised_rows(here, args.device, args.quick)
    if args.backend == "both":
        import importlib.util

        if importlib.util.find_spec("jax") is not None:
            command = [sys.executable, __file__, "--backend", "jax", "--device", args.device]
            command += ["--regularised", "--json", *(["--quick"] if args.quick else [])]
            done = subprocess.run(
                command,
                env={**os.environ, "KERAS_BACKEND": "jax"},
                stdout=subprocess.PIPE,
                text=True,
                check=True,
            )
            rows += json.loads(done.stdout.strip().splitlines()[-1])
    if args.json:
        print(json.dumps(rows))
    else:
        print(regularised_table(rows))
    return 0


# -- lab 2: the convolutional network --------------------------------------------------------
LAB2 = {"lr": 0.005, "momentum": 0.9}
CNN_REGIMES = (  # (name, zoo mode, batch size, epochs, quick epochs, runs: "repeat" or 1)
    ("lab 2: batch 128", "minibatch", 128, 500, 3, 1),
    ("per-sample", "sample", 1, 2, 1, None),
    ("full batch", "batch", None, 50, 3, None),
)
CNN_TARGET = {"lab 2: batch 128": 3}  # x plain fit on TensorFlow; every row: never slower


def _cnn_fit(data, batch_size: int, epochs: int, device: str) -> tuple[list[float], dict]:
    """Plain `fit` of the zoo's cnn (same builder, same seed, so the same initial weights)."""
    import keras

    from zoo.backend import resolve_device
    from zoo.models.registry import create_model

    scope, _ = resolve_device(device, keras.backend.backend())
    with scope:
        keras.utils.set_random_seed(0)
        model = create_model(
            "cnn", input_shape=data.input_shape, num_classes=3, normalization=data.normalization
        )
        model.compile(
            optimizer=keras.optimizers.SGD(learning_rate=LAB2["lr"], momentum=LAB2["momentum"]),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        clock = epoch_clock()
        history = model.fit(
            data.x_train,
            data.y_train,
            batch_size=batch_size,
            epochs=epochs,
            validation_data=(data.x_test, data.y_test),
            callbacks=[clock],
            verbose=0,
        ).history
    return clock.seconds, {"loss": history["loss"][-1], "val_accuracy": history["val_accuracy"][-1]}


def _cnn_zoo(data, mode: str, batch_size: int | None, epochs: int, device: str):
    import zoo

    run = zoo.train(
        "cnn", data, mode=mode, batch_size=batch_size if mode == "minibatch" else None,
        epochs=epochs, device=device, out=None, quiet=True, seed=0, **LAB2,
    )  # fmt: skip
    last = run.history[-1]
    seconds = [row["seconds"] for row in run.history]
    return seconds, {"loss": last["loss"], "val_accuracy": last["val_accuracy"]}, run.config


def cnn_rows(backend: str, device: str, quick: bool, repeats: int) -> list[dict]:
    """Keras fit and the zoo, lab 2's network, each regime: total seconds (the median of
    `repeats` runs for the short regimes, one run of the lab configuration)."""
    data = make_data()
    n = len(data.x_train)
    rows = []
    for name, mode, batch, epochs, quick_epochs, runs in CNN_REGIMES:
        epochs = quick_epochs if quick else epochs
        runs = runs or (1 if quick else repeats)
        fit_batch = batch or n
        for label in ("Keras fit", "zoo"):
            totals, firsts = [], []
            for _ in range(runs):
                if label == "zoo":
                    seconds, last, config = _cnn_zoo(data, mode, batch, epochs, device)
                    device_name = config["device"]
                else:
                    seconds, last = _cnn_fit(data, fit_batch, epochs, device)
                totals.append(float(sum(seconds)))
                firsts.append(seconds[0])
            rows.append(
                {
                    "regime": name,
                    "backend": backend,
                    "trainer": label,
                    "epochs": epochs,
                    "runs": runs,
                    "total_s": float(np.median(totals)),
                    "first_epoch_s": float(np.median(firsts)),
                    "loss": last["loss"],
                    "val_accuracy": last["val_accuracy"],
                    "device": device_name if label == "zoo" else None,
                }
            )
            print(
                f"  {backend:<10} cnn {name:<17} {label:<10} {rows[-1]['total_s']:8.2f} s",
                file=sys.stderr,
                flush=True,
            )
    return rows


def cnn_table(rows: list[dict]) -> str:
    """Total training time of each row against fit on its backend and on TensorFlow."""
    fit = {(r["regime"], r["backend"]): r["total_s"] for r in rows if r["trainer"] == "Keras fit"}
    head = (
        f"{'regime':<17} {'backend':<10} {'trainer':<10} {'epochs':>6} {'total s':>8} "
        f"{'1st ep s':>8} {'x fit':>7} {'x TF fit':>8}  {'loss':>7} {'test acc':>8}  target"
    )
    lines = [
        "lab 2's CNN (21,699 parameters), SGD lr 0.005 momentum 0.9: total training time, "
        "first epoch included (short regimes: median of the runs)",
        head,
        "-" * len(head),
    ]
    for r in rows:
        ratio = fit[(r["regime"], r["backend"])] / r["total_s"]
        tf_fit = fit.get((r["regime"], "tensorflow"))
        vs_tf = tf_fit / r["total_s"] if tf_fit else None
        verdict = ""
        if r["trainer"] == "zoo":
            checks = [(">=1x own fit", ratio >= 1)]
            need = CNN_TARGET.get(r["regime"])
            if need and vs_tf is not None:
                checks.append((f">={need}x TF fit", vs_tf >= need))
            verdict = ", ".join(f"{text}: {'met' if ok else 'MISSED'}" for text, ok in checks)
        lines.append(
            f"{r['regime']:<17} {r['backend']:<10} {r['trainer']:<10} {r['epochs']:>6} "
            f"{r['total_s']:>8.2f} {r['first_epoch_s']:>8.2f} {ratio:>6.1f}x "
            f"{(f'{vs_tf:.1f}x' if vs_tf is not None else '-'):>8}  {r['loss']:>7.4f} "
            f"{r['val_accuracy']:>8.4f}  {verdict}"
        )
    return "\n".join(lines)


def cnn_main(args) -> int:
    """The CNN rows on this process's backend, JAX's from a child unless asked for one
    backend; a table, or JSON with --json."""
    here = "jax" if args.backend == "jax" else "tensorflow"
    os.environ["KERAS_BACKEND"] = here
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from zoo.backend import start_backend

    start_backend(here)
    rows = cnn_rows(here, args.device, args.quick, args.repeats)
    if args.backend == "both":
        import importlib.util

        if importlib.util.find_spec("jax") is not None:
            command = [sys.executable, __file__, "--backend", "jax", "--device", args.device]
            command += ["--cnn", "--json", "--repeats", str(args.repeats)]
            command += ["--quick"] if args.quick else []
            done = subprocess.run(
                command,
                env={**os.environ, "KERAS_BACKEND": "jax"},
                stdout=subprocess.PIPE,
                text=True,
                check=True,
            )
            rows += json.loads(done.stdout.strip().splitlines()[-1])
    if args.json:
        print(json.dumps(rows))
        return 0
    devices = sorted({r["device"] for r in rows if r["device"]})
    versions = _versions("jax" if any(r["backend"] == "jax" for r in rows) else "tensorflow")
    print(
        f"machine: {os.cpu_count()} CPU cores, {platform.system()} {platform.machine()}; "
        f"{versions}; device {', '.join(devices)}"
    )
    print(cnn_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())


if __name__ == "__main__":
    sys.exit(main())
