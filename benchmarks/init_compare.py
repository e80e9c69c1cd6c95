"""Starting weights on lab 1's task 3: the zoo with `init="glorot"` and `init="torch"` beside
plain Keras (`compile` + `fit`) with Keras's Glorot-uniform and with PyTorch's nn.Linear
initialisation, over several seeds: mean ± sd of the final test accuracy and of the lowest
test loss, and the median training time.

The network and settings are the lab's: FC(10)-ReLU-FC(3) on CIFAR-100 apple, otter and
pickup_truck (500/100 per class), the lab's per-channel normalisation, SGD lr 0.005, batch
128, 250 epochs (`--epochs` for fewer). Plain Keras gets the same normalisation layers and
its own PyTorch initialiser written here (VarianceScaling(1/3, fan_in, uniform) kernels,
U(±1/sqrt(fan_in)) biases), independent of the zoo's.

No copy of CIFAR-100 can be downloaded on the machine this was written on: without `--data`
the script writes ``cifar-100-python.tar.gz`` in the official layout with GENERATED images
for the lab's three classes (each class's small figure at a random place on a smooth noisy
background, as benchmarks/lab2_workflow.py draws them). The numbers then say how the
initialisations behave on those images, not what the real photos give.

    python benchmarks/init_compare.py --out /tmp/init                 # generated images
    python benchmarks/init_compare.py --data ~/data --out /tmp/init   # real CIFAR-100 files
    python benchmarks/init_compare.py --out /tmp/init --seeds 5 --epochs 100
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

LR, BATCH, EPOCHS, HIDDEN = 0.005, 128, 250, 10


def write_archive(folder: Path, seed: int = 0) -> Path:
    """The lab's classes (0, 55, 58) drawn as lab2_workflow.py draws its variant's."""
    import image_fixtures as fx
    from lab2_workflow import variant_images

    from zoo.datasets.cifar import LAB_CLASSES

    rng = np.random.default_rng(seed)
    return fx.write_drawn_cifar100_archive(folder, LAB_CLASSES, variant_images, rng)


def keras_initializers(init: str, fan_in: int) -> dict:
    import keras

    if init == "glorot":
        return {}  # Keras's defaults: glorot_uniform kernels, zero biases
    bound = 1.0 / np.sqrt(fan_in)
    return {
        "kernel_initializer": keras.initializers.VarianceScaling(1 / 3, "fan_in", "uniform"),
        "bias_initializer": keras.initializers.RandomUniform(-bound, bound),
    }


def plain_keras(data, init: str, seed: int, epochs: int) -> tuple[float, float, float]:
    """(final test accuracy, lowest test loss, seconds) of `fit` on the lab's network."""
    import keras

    from zoo.datasets.cifar import CIFAR100_NORMALIZATION as norm

    keras.utils.set_random_seed(seed)
    mean, var = np.array(norm.mean), np.square(np.array(norm.std))
    model = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            keras.layers.Rescaling(norm.scale),
            keras.layers.Normalization(axis=-1, mean=mean, variance=var),
            keras.layers.Flatten(),
            keras.layers.Dense(HIDDEN, activation="relu", **keras_initializers(init, 3072)),
            keras.layers.Dense(3, activation="softmax", **keras_initializers(init, HIDDEN)),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(LR),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    start = time.perf_counter()
    history = model.fit(
        data.x_train.astype("float32"), data.y_train, batch_size=BATCH, epochs=epochs,
        validation_data=(data.x_test.astype("float32"), data.y_test), verbose=0,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    h = history.history
    return float(h["val_accuracy"][-1]), float(min(h["val_loss"])), seconds


def zoo_run(data, init: str, seed: int, epochs: int) -> tuple[float, float, float]:
    import zoo

    run = zoo.train(
        "mlp", data, hidden=HIDDEN, init=init, seed=seed, epochs=epochs, lr=LR,
        batch_size=BATCH, out=None, quiet=True, live=False,
    )  # fmt: skip
    losses = [row["val_loss"] for row in run.history]
    return float(run.metrics["test"]["accuracy"]), float(min(losses)), run.config["train_seconds"]


def spread(values: list[float], scale: float = 1.0, digits: int = 3) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{scale * statistics.mean(values):.{digits}f} ± {scale * sd:.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the generated data")
    parser.add_argument("--data", type=Path, help="a folder with real CIFAR-100 files instead")
    parser.add_argument("--seeds", type=int, default=6, help="seeds per column (at least 5)")
    parser.add_argument("--epochs", type=int, default=EPOCHS, help="epochs per run [250]")
    args = parser.parse_args(argv)
    os.environ.setdefault("ZOO_CACHE", str(args.out / "cache"))
    data_dir = args.data or args.out / "data"
    if args.data is None and not (data_dir / "cifar-100-python.tar.gz").exists():
        write_archive(data_dir)

    import zoo
    from zoo.backend import start_backend

    data = zoo.load_dataset("cifar100-3class", data_dir=str(data_dir), source="local")
    start_backend()
    columns = {
        "zoo, glorot": lambda s: zoo_run(data, "glorot", s, args.epochs),
        "zoo, torch": lambda s: zoo_run(data, "torch", s, args.epochs),
        "Keras fit, glorot": lambda s: plain_keras(data, "glorot", s, args.epochs),
        "Keras fit, torch": lambda s: plain_keras(data, "torch", s, args.epochs),
    }
    results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in columns}
    for seed in range(args.seeds):  # the columns alternate, seed by seed: one time window
        for name, run in columns.items():
            results[name].append(run(seed))
    where = "real files" if args.data else "generated images"
    print(f"lab 1 task 3, {data.description}; {where}; {args.seeds} seeds, {args.epochs} epochs")
    print()
    print("| | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    rows = (
        ("test accuracy, %", lambda r: spread([x[0] for x in r], 100, 1)),
        ("lowest test loss", lambda r: spread([x[1] for x in r])),
        ("training, s (median)", lambda r: f"{statistics.median(x[2] for x in r):.1f}"),
    )
    for label, cell in rows:
        print(f"| {label} | " + " | ".join(cell(results[name]) for name in columns) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
