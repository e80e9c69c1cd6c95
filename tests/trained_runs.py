"""Real run folders trained in seconds on the official-format CIFAR-100 fixture: the zoo's MLP,
and a small convolutional `keras.Model` of a user's own, trained with `zoo.train` too.

Exporting and serving are checked on both: anything that works for them works for any image
run, whatever builder made its model.
"""

from __future__ import annotations

from pathlib import Path

import image_fixtures as fx

TRAIN = {"epochs": 2, "batch_size": 8, "quiet": True, "report": False}


def small_cnn():
    """A user's own convolutional classifier of 32x32x3 pixel values 0-255 into 3 classes."""
    import keras

    inputs = keras.Input((32, 32, 3), name="pixels")
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(x)
    x = keras.layers.MaxPooling2D(4)(x)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="output")(x)
    return keras.Model(inputs, outputs, name="small_cnn")


def cifar_runs(folder: Path, *, cnn: bool = True) -> dict[str, Path]:
    """{"mlp": run folder, "cnn": run folder} on cifar100-3class, data written into `folder`."""
    import zoo

    data = Path(folder) / "data"
    data.mkdir(parents=True, exist_ok=True)
    fx.write_cifar100_archive(data)
    out = Path(folder) / "reports"
    options = {**TRAIN, "data_dir": str(data.resolve()), "out": str(out)}
    runs = {"mlp": zoo.train("mlp", "cifar100-3class", hidden=8, **options).folder}
    if cnn:
        runs["cnn"] = zoo.train(small_cnn(), "cifar100-3class", lr=0.01, **options).folder
    return runs
