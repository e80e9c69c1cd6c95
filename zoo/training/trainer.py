"""`train(model, dataset, **options)`: the three regimes, stopping rules and the run folder."""

from __future__ import annotations

import dataclasses
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zoo.datasets import Dataset, dataset_options, load_dataset
from zoo.errors import OptionError
from zoo.models.layers import Normalization, as_normalization
from zoo.models.registry import MODELS, create_model, model_options
from zoo.registry import canonical
from zoo.training.objective import Objective
from zoo.training.options import TrainOptions
from zoo.training.progress import Progress

TRAIN_FIELDS = {f.name for f in dataclasses.fields(TrainOptions)} - {"extra"}


@dataclass
class Run:
    """The outcome of `train`: what the run folder holds, and the trained model."""

    model: Any
    history: list[dict]
    metrics: dict
    config: dict
    folder: Path | None = None
    dataset: Dataset | None = field(default=None, repr=False)

    @property
    def status(self) -> str:
        return self.config["status"]

    @property
    def best_epoch(self) -> int | None:
        return self.metrics.get("best_epoch")


def split_options(model, dataset, options: dict[str, Any]):
    """Route each option to the trainer, the model builder or the dataset loader."""
    train_opts, model_opts, data_opts = {}, {}, {}
    model_keys = set(model_options(model)) if isinstance(model, str) else set()
    data_keys = set(dataset_options(dataset)) if isinstance(dataset, str) else set()
    for key, value in options.items():
        if key in TRAIN_FIELDS:
            train_opts[key] = value
        elif key in model_keys:
            model_opts[key] = value
        elif key in data_keys:
            data_opts[key] = value
        elif value is not None:
            # from the CLI only a model option lands here (--hidden for logistic): list the
            # model's own, less normalization, which the trainer sets from --normalize
            takes = [k for k in sorted(model_keys) if k != "normalization"]
            listed = ", ".join("--" + k.replace("_", "-") for k in takes) or "none"
            message = "no model, dataset or training option of that name"
            if isinstance(model, str):
                message = f"model {canonical(model)!r} has no such option (its options: {listed})"
            raise OptionError(f"--{key.replace('_', '-')}", message)
    return train_opts, model_opts, data_opts


def holdout(dataset: Dataset, fraction: float, seed: int) -> tuple[Dataset, np.ndarray, np.ndarray]:
    """Hold `fraction` of the training set out for validation (stratified for classes)."""
    from sklearn.model_selection import train_test_split

    stratify = dataset.y_train if dataset.task == "classification" else None
    try:
        x_tr, x_val, y_tr, y_val = train_test_split(
            dataset.x_train,
            dataset.y_train,
            test_size=fraction,
            random_state=seed,
            stratify=stratify,
        )
    except ValueError as err:
        raise OptionError(
            "--validation", f"cannot hold out {fraction} of the training set: {err}"
        ) from None
    return dataclasses.replace(dataset, x_train=x_tr, y_train=y_tr), x_val, y_val


def choose_normalization(dataset: Dataset, how: str) -> Normalization | None:
    """`dataset`: the dataset's preset (the lab's CIFAR statistics) or else the training set's."""
    if how == "none":
        return None
    scale = 1 / 255 if dataset.x_train.dtype == np.uint8 else 1.0
    if how == "dataset" and dataset.normalization is not None:
        return as_normalization(dataset.normalization)
    return Normalization.from_data(dataset.x_train, scale=scale)


def predict_outputs(model, x: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """Model outputs for `x` in chunks, without `predict`'s per-call machinery."""
    from keras import ops

    parts = [
        ops.convert_to_numpy(model(x[i : i + chunk].astype("float32"), training=False))
        for i in range(0, len(x), chunk)
    ]
    return np.concatenate(parts).astype("float32") if parts else np.zeros((0, 1), "float32")


def _versions() -> dict[str, str]:
    import keras

    from zoo import __version__

    versions = {"python": platform.python_version(), "keras": keras.__version__, "zoo": __version__}
    backend = keras.backend.backend()
    module = __import__(backend)
    versions[backend] = getattr(module, "__version__", "?")
    return versions


def train(model: Any, dataset: Any, **options: Any) -> Run:
    """Train `model` on `dataset` in one of the lecture's three regimes.

    `model` is a registered name or a `keras.Model`; `dataset` a registered name or a
    `Dataset`. Options: mode (batch | minibatch | sample), batch_size, epochs or iterations,
    lr, momentum, optimizer (sgd | adam), loss, seed, target_loss, patience, validation,
    normalize (dataset | train | none), device (auto | cpu | gpu), backend (tensorflow |
    jax), mixed_precision (float16 on TensorFlow, bfloat16 on JAX), distribute (mirrored |
    multiworker, TensorFlow), quiet, out (the
    folder under which the run folder is made; None writes nothing), comment, author, group,
    variant, title; plus the model's options (hidden, activation, head) and the dataset's.

    >>> run = train("mlp", "gaussians", epochs=5, out=None, quiet=True)
    >>> run.history[-1]["epoch"], run.status
    (5, 'completed')
    """
    from zoo.training.backend import select_backend

    train_opts, model_opts, data_opts = split_options(model, dataset, options)
    TrainOptions(**train_opts)  # a bad option fails before any data is loaded
    if isinstance(model, str):
        MODELS.get(model)  # so does an unknown model name
    # The data first: loaders need no Keras, and a large archive is read before TensorFlow
    # takes its share of memory.
    data = load_dataset(dataset, **data_opts) if isinstance(dataset, str) else dataset
    if not isinstance(data, Dataset):
        raise TypeError(f"dataset must be a name or a zoo Dataset, not {type(dataset).__name__}")
    backend = select_backend(train_opts.get("backend"))  # before anything imports keras
    opts = TrainOptions.with_defaults(train_opts, data.train_defaults)
    return Trainer(model, data, opts, model_opts, backend).run()


class Trainer:
    """One training run; `run()` returns the `Run`. Kept as a class so its steps read in order."""

    def __init__(self, model, data: Dataset, opts: TrainOptions, model_opts: dict, backend: str):
        self.model_arg, self.data, self.opts, self.backend = model, data, opts, backend
        self.model_opts = {k: v for k, v in model_opts.items() if v is not None}
        self.model_name = (
            canonical(model) if isinstance(model, str) else getattr(model, "name", "model")
        )
        self.x_val = self.y_val = None
        if opts.validation:
            self.data, self.x_val, self.y_val = holdout(data, opts.validation, opts.seed)

    # -- set-up --------------------------------------------------------------------------------
    def _objective(self) -> Objective:
        data = self.data
        head = self.model_opts.get("head")
        if head is None and isinstance(self.model_arg, str):
            default = model_options(self.model_arg).get("head")
            head = default if data.task == "classification" else "linear"
        return Objective.create(
            head=head, task=data.task, num_classes=data.num_classes, loss=self.opts.loss
        )

    def _build(self, objective: Objective):
        import keras

        if not isinstance(self.model_arg, str):
            if not isinstance(self.model_arg, keras.Model):
                raise TypeError(
                    f"model must be a name or a keras.Model, not {type(self.model_arg).__name__}"
                )
            self.normalization = None
            return self.model_arg
        self.normalization = choose_normalization(self.data, self.opts.normalize)
        options = {**self.model_opts, "head": objective.head}
        if "normalization" in model_options(self.model_arg):
            options["normalization"] = self.normalization
        return create_model(
            self.model_arg,
            input_shape=self.data.input_shape,
            num_classes=self.data.num_classes if self.data.task == "classification" else 1,
            **options,
        )

    def _optimizer(self):
        import keras

        if self.opts.optimizer == "adam":
            optimizer = keras.optimizers.Adam(learning_rate=self.opts.lr)
        else:
            optimizer = keras.optimizers.SGD(
                learning_rate=self.opts.lr, momentum=self.opts.momentum
            )
        if self.opts.mixed_precision and self.backend == "tensorflow":
            # float16 gradients underflow without loss scaling; bfloat16 (JAX) needs none
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        return optimizer

    # -- the run -------------------------------------------------------------------------------
    def run(self) -> Run:
        from zoo.training.backend import precision_policy, resolve_device, seed_everything
        from zoo.training.loops import make_epoch_runner

        opts, data = self.opts, self.data
        seed_everything(opts.seed, self.backend)
        objective = self._objective()
        scope, device_name = resolve_device(opts.device, self.backend)
        strategy = None
        if opts.distribute:
            from zoo.training.distribute import check_distribute, make_strategy, strategy_scope

            check_distribute(opts.distribute, self.backend, opts.mode)
            strategy, device_name = make_strategy(opts.distribute, opts.device)
            scope = strategy_scope(strategy)
        with scope, precision_policy(opts.mixed_precision, self.backend):
            model = self._build(objective)
            if not isinstance(self.model_arg, str):
                objective = Objective.for_model(
                    model, task=data.task, num_classes=data.num_classes, loss=opts.loss
                )
            optimizer = self._optimizer()
            batch, steps, epochs = opts.plan(len(data.x_train))
            x_eval, y_eval = (
                (self.x_val, self.y_val) if self.x_val is not None else (data.x_test, data.y_test)
            )
            runner = make_epoch_runner(
                model,
                optimizer,
                objective,
                data.x_train,
                objective.encode(data.y_train),
                x_eval,
                objective.encode(y_eval),
                batch_size=batch,
                planned_updates=steps * epochs,
                strategy=strategy,
            )
        self.config = self._config(model, objective, batch, steps, epochs, device_name)
        folder = None
        if opts.out is not None:
            from zoo.training.run_folder import create_run_folder, write_json

            folder = create_run_folder(opts.out, self.model_name, data.name)
            write_json(folder / "config.json", {**self.config, "status": "running"})
        history, status, reason = self._loop(runner, model, steps, epochs, scope)
        return self._finish(model, objective, history, status, reason, folder)

    def _loop(self, runner, model, steps, epochs, scope):
        opts = self.opts
        rng = np.random.default_rng(opts.seed)
        n = len(self.data.x_train)
        budget = opts.iterations
        progress = Progress(epochs, quiet=opts.quiet)
        history: list[dict] = []
        best_loss, best_weights, since_best = np.inf, None, 0
        status, reason, done = "completed", None, 0
        self.diverged_epoch = None
        try:
            for epoch in range(1, epochs + 1):
                order = rng.permutation(n) if opts.shuffle else np.arange(n)
                todo = steps if budget is None else min(steps, budget - done)
                start = time.perf_counter()
                with scope:
                    result = runner.epoch(order.astype(np.int32), todo)
                seconds = time.perf_counter() - start
                done += todo
                row = {
                    "epoch": epoch,
                    "iterations": done,
                    "loss": result.loss,
                    "accuracy": result.accuracy,
                    "val_loss": result.val_loss,
                    "val_accuracy": result.val_accuracy,
                    "lr": opts.lr,
                    "seconds": seconds,
                }
                history.append(row)
                progress.update(row)
                if not np.isfinite(result.loss) or (
                    result.val_loss is not None and not np.isfinite(result.val_loss)
                ):
                    status, self.diverged_epoch = "diverged", epoch
                    reason = (
                        f"the loss became {result.loss} at epoch {epoch}: the learning rate "
                        f"{opts.lr} is too large"
                    )
                    break
                if opts.target_loss is not None and result.loss <= opts.target_loss:
                    status = "target_reached"
                    reason = (
                        f"training loss {result.loss:.4g} <= {opts.target_loss} at epoch {epoch}"
                    )
                    break
                if opts.patience is not None and result.val_loss is not None:
                    if result.val_loss < best_loss:
                        best_loss, best_weights, since_best = (
                            result.val_loss,
                            model.get_weights(),
                            0,
                        )
                    else:
                        since_best += 1
                        if since_best >= opts.patience:
                            status = "stopped_early"
                            reason = (
                                f"no lower {self._eval_name()} loss for {opts.patience} epochs; "
                                f"weights of epoch {epoch - since_best} restored"
                            )
                            break
        except KeyboardInterrupt:
            status, reason = "interrupted", f"interrupted during epoch {len(history) + 1}"
        if best_weights is not None and status in ("stopped_early", "completed", "interrupted"):
            model.set_weights(best_weights)
        progress.close()
        if reason:
            progress.message(reason)
        return history, status, reason

    def _eval_name(self) -> str:
        return "validation" if self.x_val is not None else "test"

    # -- the record ----------------------------------------------------------------------------
    def _config(self, model, objective, batch, steps, epochs, device_name) -> dict:
        from zoo.training.run_folder import describe_layers

        opts, data = self.opts, self.data
        norm = self.normalization
        return {
            "model": self.model_name,
            "dataset": data.name,
            "model_options": {**self.model_opts, "head": objective.head},
            "dataset_options": {k: v for k, v in data.options.items() if v is not None},
            "task": data.task,
            "class_names": list(data.class_names),
            "class_ids": data.class_ids,
            "input_shape": list(data.input_shape),
            "num_classes": data.num_classes,
            "train_size": len(data.x_train),
            "test_size": len(data.x_test),
            "validation_size": 0 if self.x_val is None else len(self.x_val),
            "normalization": norm.to_dict() if norm is not None else None,
            "mode": opts.mode,
            "batch_size": batch,
            "steps_per_epoch": steps,
            "epochs": epochs,
            "optimizer": opts.optimizer,
            "lr": opts.lr,
            "momentum": opts.momentum,
            "loss": objective.loss,
            "head": objective.head,
            "seed": opts.seed,
            "patience": opts.patience,
            "target_loss": opts.target_loss,
            "validation": opts.validation,
            "iterations_asked": opts.iterations,
            "normalize": opts.normalize,
            "shuffle": opts.shuffle,
            "device": device_name,
            "backend": self.backend,
            "mixed_precision": opts.mixed_precision,
            "dtype_policy": getattr(getattr(model, "dtype_policy", None), "name", None),
            "distribute": opts.distribute,
            "versions": _versions(),
            "comment": opts.comment,
            "author": opts.author,
            "group": opts.group,
            "variant": opts.variant,
            "title": opts.title,
            "lang": opts.lang,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "layers": describe_layers(model),
        }

    def _finish(self, model, objective, history, status, reason, folder) -> Run:
        from zoo.training.results import evaluate, write_results

        config = {
            **self.config,
            "status": status,
            "stop_reason": reason,
            "diverged_epoch": self.diverged_epoch,
            "epochs_run": len(history),
            "iterations": history[-1]["iterations"] if history else 0,
            "train_seconds": float(sum(row["seconds"] for row in history)),
        }
        results = evaluate(model, objective, self.data, history, status)
        run = Run(
            model=model,
            history=history,
            metrics=results.metrics,
            config=config,
            folder=folder,
            dataset=self.data,
        )
        if folder is not None:
            write_results(folder, run, results)
            if self.opts.report:
                from zoo.reporting.pdf import write_report

                write_report(folder, lang=self.opts.lang, formats=("pdf", "png"))
        return run
