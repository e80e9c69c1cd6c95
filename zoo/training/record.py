"""config.json's content: every option, the data, the model's layers and the versions."""

from __future__ import annotations

import platform
import time
from importlib import metadata

from zoo.distribution import DISTRIBUTION
from zoo.runfolder import describe_layers


def versions() -> dict[str, str]:
    """Python, Keras, the backend and the zoo, as installed."""
    import keras

    try:
        zoo_version = metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # run from a source tree
        zoo_version = "unknown"
    found = {"python": platform.python_version(), "keras": keras.__version__, "zoo": zoo_version}
    backend = keras.backend.backend()
    found[backend] = getattr(__import__(backend), "__version__", "?")
    return found


def run_config(trainer, model, objective, batch, steps, epochs, device_name) -> dict:
    """What the run is, before it runs (the status and the outcome are added at its end)."""
    opts, data = trainer.opts, trainer.data
    norm = trainer.normalization
    return {
        "model": trainer.model_name,
        "dataset": data.name,
        "model_options": {**trainer.model_opts, "head": objective.head},
        "dataset_options": {k: v for k, v in data.options.items() if v is not None},
        "task": data.task,
        "class_names": list(data.class_names),
        "class_ids": data.class_ids,
        "input_shape": list(data.input_shape),
        "num_classes": data.num_classes,
        "train_size": len(data.x_train),
        "test_size": len(data.x_test),
        "validation_size": 0 if trainer.x_val is None else len(trainer.x_val),
        "normalization": norm.to_dict() if norm is not None else None,
        "mode": opts.mode,
        "batch_size": batch,
        "batch_size_asked": opts.batch_size,
        "steps_per_epoch": steps,
        "epochs": epochs,
        "optimizer": opts.optimizer,
        "lr": opts.lr,
        "momentum": opts.momentum,
        "nesterov": opts.nesterov,
        "weight_decay": opts.decay,
        "clip_norm": opts.clip_norm,
        **trainer.schedule.record(),
        "loss": objective.loss,
        "head": objective.head,
        "seed": opts.seed,
        "patience": opts.patience,
        "target_loss": opts.target_loss,
        "validation": opts.validation,
        "iterations_asked": opts.iterations,
        "options_given": sorted(trainer.options_given),
        "normalize": opts.normalize,
        "shuffle": opts.shuffle,
        "device": device_name,
        "backend": trainer.backend,
        "mixed_precision": opts.mixed_precision,
        "dtype_policy": getattr(getattr(model, "dtype_policy", None), "name", None),
        "distribute": opts.distribute,
        "versions": versions(),
        "comment": opts.comment,
        "author": opts.author,
        "group": opts.group,
        "variant": opts.variant,
        "title": opts.title,
        "lang": opts.lang,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "layers": describe_layers(model),
    }
