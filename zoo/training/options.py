"""Training options, checked once at the edge: every impossible value names its option."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any

from zoo.backend import BACKENDS
from zoo.errors import OptionError
from zoo.i18n import languages
from zoo.objective import LOSSES
from zoo.optionspec import OptionSpec, specs_of

MODES = {
    "batch": "batch",
    "full": "batch",
    "full-batch": "batch",
    "minibatch": "minibatch",
    "mini-batch": "minibatch",
    "sample": "sample",
    "sgd": "sample",
    "stochastic": "sample",
    "per-sample": "sample",
}
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")
WITH_MOMENTUM = ("sgd", "rmsprop")  # the others keep moments of their own, or none
ADAMW_DECAY = 0.004  # Keras's default for AdamW, used when `weight_decay` is not given
SCHEDULES = ("constant", "step", "exponential", "cosine", "plateau")
# The options each schedule takes (`lr_decay`, `lr_step`: epochs; `warmup`: epochs)
SCHEDULE_OPTIONS = {
    "constant": (),
    "step": ("lr_decay", "lr_step"),
    "exponential": ("lr_decay", "lr_step"),
    "cosine": ("warmup",),
    "plateau": ("lr_decay", "lr_step"),
}
DEVICES = ("auto", "cpu", "gpu")
DISTRIBUTE = ("mirrored", "multiworker")
NORMALIZE = ("dataset", "train", "none")
DEFAULT_BATCH_SIZE = 32
DEFAULT_EPOCHS = 100
DEFAULT_LR = 0.01
MAX_SEED = 2**32 - 1  # Keras seeds NumPy's legacy generator, which takes no more


def resolve_mode(mode: str | None) -> str:
    """The regime a mode name (or alias) means; OptionError naming `mode` for anything else."""
    if mode is None:
        return "minibatch"
    key = mode.strip().lower().replace("_", "-")
    if key not in MODES:
        raise OptionError(
            "mode",
            f"{mode!r} is not one of batch, minibatch, sample "
            f"(or {', '.join(k for k in MODES if MODES[k] != k)})",
        )
    return MODES[key]


def _option(default: Any = None, help: str = "", **spec: Any):
    """A field of `TrainOptions` with its description for users (`zoo.optionspec`)."""
    return field(default=default, metadata={"spec": OptionSpec(help, **spec)})


@dataclass
class TrainOptions:
    """Everything `train` accepts besides the model and the data.

    Each field a user sets carries its description in `metadata["spec"]` (an `OptionSpec`):
    the command line's flags are made from it."""

    mode: str | None = _option(
        None,
        "batch: one update per epoch; minibatch: --batch-size examples; sample: every example "
        "[default: minibatch, or the dataset's preset].",
        choices=tuple(MODES),
        case_sensitive=False,
    )
    batch_size: int | None = _option(None, "Mini-batch size [default: 32].", min=1)
    epochs: int | None = _option(
        None,
        "Passes over the training set [default: 100, or the dataset's preset].",
        min=1,
    )
    iterations: int | None = _option(None, "Total updates instead of --epochs.", min=1)
    lr: float | None = _option(
        None,
        "Learning rate [default: 0.01, or the dataset's preset].",
        min=0,
        min_open=True,
    )
    momentum: float | None = _option(  # None: the preset's, else 0
        None,
        "Momentum (sgd, rmsprop) [default: 0, or the dataset's preset].",
        min=0,
        max=1,
        max_open=True,
    )
    optimizer: str = _option("sgd", choices=OPTIMIZERS, show_default=True)
    nesterov: bool = _option(False, "Nesterov's momentum (sgd with --momentum).", switch=True)
    weight_decay: float | None = _option(
        None,
        "Decoupled weight decay: w -= lr·decay·w each step (sgd, adamw [default: 0.004], "
        "rmsprop, adagrad).",
        min=0,
    )
    clip_norm: float | None = _option(
        None,
        "Rescale the gradient when its norm (all weights together) is larger than this.",
        min=0,
        min_open=True,
    )
    lr_schedule: str = _option(
        "constant",
        "step: x --lr-decay every --lr-step epochs; exponential: smoothly, x --lr-decay per "
        "--lr-step epochs; cosine: to 0 over the run after --warmup epochs; plateau: x --lr-decay "
        "after --lr-step epochs without a lower test loss.",
        choices=SCHEDULES,
        show_default=True,
    )
    lr_decay: float | None = _option(
        None,
        "Factor of each cut (step, exponential, plateau) [default: 0.1].",
        min=0,
        max=1,
        min_open=True,
        max_open=True,
    )
    lr_step: int | None = _option(
        None,
        "Epochs per cut (step [default: a third of the run], exponential [default: the run]); "
        "plateau: epochs without improvement [default: 10].",
        min=1,
    )
    warmup: int | None = _option(
        None, "Epochs of linear warm-up from 0 to --lr (cosine) [default: 0].", min=0
    )
    loss: str | None = _option(
        None,
        "Loss [default: the head's: crossentropy (softmax), bce (sigmoid), mse (linear)].",
        choices=LOSSES,
    )
    seed: int = _option(0, "Seed of the weights and the order.", show_default=True)
    target_loss: float | None = _option(
        None, "Stop when the training loss is this small [default: off].", min=0
    )
    patience: int | None = _option(
        None,
        "Stop after this many epochs without a lower test/validation loss; keep the best "
        "weights [default: off, train every epoch].",
        min=1,
    )
    validation: float | None = _option(
        None,
        "Fraction of the training set held out to draw the curves (default: the test set).",
        min=0,
        max=1,
        min_open=True,
        max_open=True,
    )
    normalize: str = _option(
        "dataset",
        "Input scaling inside the model: the dataset's preset "
        "(CIFAR: the lab's mean and std) or statistics of the training set.",
        choices=NORMALIZE,
        show_default=True,
    )
    shuffle: bool = True
    device: str = _option("auto", choices=DEVICES, show_default=True)
    backend: str | None = _option(
        None,
        # no envvar here: $KERAS_BACKEND is checked where Keras is loaded, and named in its error
        "Keras backend [default: $KERAS_BACKEND, else tensorflow]; jax needs "
        "`pip install 'keras-zoo[jax]'`.",
        choices=BACKENDS,
    )
    mixed_precision: bool = _option(
        False,
        "float16 (TensorFlow) or bfloat16 (JAX) arithmetic, float32 weights and loss; for GPUs.",
        switch=True,
    )
    distribute: str | None = _option(
        None,
        "Split each batch over all local GPUs (mirrored) or hosts in TF_CONFIG (multiworker).",
        choices=DISTRIBUTE,
    )
    quiet: bool = _option(False, "Print nothing while training.", switch=True, short="-q")
    live: bool | None = None  # notebook curves (zoo.notebook.live); None: shown unless quiet
    out: str | None = _option(
        "reports", "Folder under which the run folder is made.", folder=True, show_default=True
    )
    comment: str | None = _option(None, "A note for the summary table, e.g. 'base variant'.")
    author: str | None = _option(
        None, "For the report's title page (also $ZOO_AUTHOR).", envvar="ZOO_AUTHOR"
    )
    group: str | None = _option(
        None, "Student group (also $ZOO_GROUP, zoo.toml's group).", envvar="ZOO_GROUP"
    )
    variant: str | None = _option(
        None, "Lab variant (also $ZOO_VARIANT, zoo.toml's variant).", envvar="ZOO_VARIANT"
    )
    title: str | None = _option(None, "Report title (also $ZOO_TITLE).", envvar="ZOO_TITLE")
    report: bool = _option(  # report.pdf and its figures in the run folder
        True,
        "Write report.pdf and its figures into the run folder.",
        negatable=True,
        show_default=True,
    )
    lang: str = _option(
        "en",
        "Language of report.pdf (also $ZOO_LANG, else zoo.toml's lang).",
        choices=tuple(languages()),
        envvar="ZOO_LANG",
        show_default=True,
    )
    run_name: str | None = None  # the run folder's name under `out` (default: model-data-time)
    on_epoch: Callable[[dict], Any] | None = None  # called with each epoch's history row

    @classmethod
    def names(cls) -> set[str]:
        return {f.name for f in fields(cls)}

    @classmethod
    def checked(cls, given: dict[str, Any], defaults: dict[str, Any] | None = None):
        """The options the user gave, checked once, then the dataset's preset (`zoo.presets`)
        for what they left out (the user's value always wins)."""
        opts = cls(**given)
        opts.check()
        return opts.with_defaults(defaults or {})

    def check(self) -> None:
        """OptionError naming the first impossible option; nothing else is changed."""
        self.mode = resolve_mode(self.mode)
        if self.batch_size is not None and self.batch_size < 1:
            raise OptionError("batch_size", f"must be at least 1, got {self.batch_size}")
        if self.mode == "sample" and self.batch_size not in (None, 1):
            raise OptionError("batch_size", "per-sample descent updates after every example (1)")
        if self.mode == "batch" and self.batch_size is not None:
            raise OptionError("batch_size", "full-batch descent uses the whole training set")
        if self.epochs is not None and self.iterations is not None:
            raise OptionError("iterations", "give `epochs=` or `iterations=`, not both")
        if self.epochs is not None and self.epochs < 1:
            raise OptionError("epochs", f"must be at least 1, got {self.epochs}")
        if self.iterations is not None and self.iterations < 1:
            raise OptionError("iterations", f"must be at least 1, got {self.iterations}")
        if self.lr is not None and not (
            isinstance(self.lr, int | float) and math.isfinite(self.lr) and self.lr > 0
        ):
            raise OptionError("lr", f"the learning rate must be a positive number, got {self.lr}")
        self._check_optimizer()
        self._check_schedule()
        if self.target_loss is not None and not 0 <= self.target_loss < math.inf:
            # an infinite target is "reached" by any loss: the run would stop after one epoch
            raise OptionError(
                "target_loss", f"must be a finite number, zero or more, got {self.target_loss}"
            )
        if not 0 <= self.seed <= MAX_SEED:
            raise OptionError("seed", f"must be a whole number in 0..{MAX_SEED}, got {self.seed}")
        if self.patience is not None and self.patience < 1:
            raise OptionError("patience", f"must be at least 1 epoch, got {self.patience}")
        if self.validation is not None and not 0 < self.validation < 1:
            raise OptionError("validation", f"a fraction in (0, 1), got {self.validation}")
        if self.normalize not in NORMALIZE:
            raise OptionError(
                "normalize", f"{self.normalize!r} is not one of {', '.join(NORMALIZE)}"
            )
        if self.lang not in languages():
            raise OptionError("lang", f"{self.lang!r} is not one of {', '.join(languages())}")
        if self.device not in DEVICES:
            raise OptionError("device", f"{self.device!r} is not one of {', '.join(DEVICES)}")
        if self.run_name is not None and (
            not self.run_name.strip(". ") or any(c in self.run_name for c in "/\\\0")
        ):
            raise OptionError("run_name", f"{self.run_name!r} is not a folder name")
        if self.distribute is not None and self.distribute not in DISTRIBUTE:
            raise OptionError(
                "distribute", f"{self.distribute!r} is not one of {', '.join(DISTRIBUTE)}"
            )

    def _check_optimizer(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise OptionError(
                "optimizer", f"{self.optimizer!r} is not one of {', '.join(OPTIMIZERS)}"
            )
        if self.momentum is not None and not (_number(self.momentum) and 0 <= self.momentum < 1):
            raise OptionError("momentum", f"must be in [0, 1), got {self.momentum}")
        if self.momentum and self.optimizer not in WITH_MOMENTUM:
            raise OptionError(
                "momentum",
                f"applies to {' and '.join(WITH_MOMENTUM)}; {self.optimizer} keeps its own moments",
            )
        if self.nesterov and self.optimizer != "sgd":
            raise OptionError("nesterov", f"applies to sgd with momentum, not {self.optimizer}")
        if self.nesterov and self.momentum is not None and not self.momentum:
            # without a momentum given, a preset's may apply: see `with_defaults`
            raise OptionError("nesterov", "Nesterov's step is a momentum method: give `momentum=`")
        if self.weight_decay is not None:
            if not (_number(self.weight_decay) and self.weight_decay >= 0):
                raise OptionError(
                    "weight_decay",
                    f"must be a finite number, zero or more, got {self.weight_decay}",
                )
            if self.optimizer == "adam" and self.weight_decay:
                raise OptionError(
                    "weight_decay", "Adam with decoupled weight decay is `optimizer='adamw'`"
                )
        if self.clip_norm is not None and not (_number(self.clip_norm) and self.clip_norm > 0):
            raise OptionError(
                "clip_norm", f"the largest gradient norm must be positive, got {self.clip_norm}"
            )

    def _check_schedule(self) -> None:
        if self.lr_schedule not in SCHEDULES:
            raise OptionError(
                "lr_schedule", f"{self.lr_schedule!r} is not one of {', '.join(SCHEDULES)}"
            )
        takes = SCHEDULE_OPTIONS[self.lr_schedule]
        for name in ("lr_decay", "lr_step", "warmup"):
            if getattr(self, name) is not None and name not in takes:
                users = [k for k, v in SCHEDULE_OPTIONS.items() if name in v]
                raise OptionError(
                    name,
                    f"the {self.lr_schedule} schedule takes no {name}; it applies to "
                    + " and ".join(f"`lr_schedule={k}`" for k in users),
                )
        if self.lr_decay is not None and not (_number(self.lr_decay) and 0 < self.lr_decay < 1):
            raise OptionError(
                "lr_decay", f"the factor that lowers the rate, in (0, 1), got {self.lr_decay}"
            )
        if self.lr_step is not None and not (_whole(self.lr_step) and self.lr_step >= 1):
            raise OptionError(
                "lr_step", f"must be a whole number of epochs, 1 or more, got {self.lr_step}"
            )
        if self.warmup is not None and not (_whole(self.warmup) and self.warmup >= 0):
            raise OptionError(
                "warmup", f"must be a whole number of epochs, 0 or more, got {self.warmup}"
            )

    @property
    def decay(self) -> float:
        """The decoupled weight decay the optimizer applies (AdamW's default when not given)."""
        if self.weight_decay is not None:
            return float(self.weight_decay)
        return ADAMW_DECAY if self.optimizer == "adamw" else 0.0

    def with_defaults(self, defaults: dict[str, Any]) -> TrainOptions:
        """A preset (`Dataset.defaults_for(model)`) where these options are None (trusted);
        then the zoo's own defaults for what is still unset."""
        filled = {}
        fields_ = self.names()
        for key, value in defaults.items():
            if key not in fields_:
                continue  # a model option of the preset (`init`): see `preset_model_options`
            if key == "batch_size" and self.mode != "minibatch":
                continue
            if key in ("epochs", "iterations") and (self.epochs or self.iterations):
                continue
            if key == "momentum" and self.optimizer not in WITH_MOMENTUM:
                continue  # the preset's SGD momentum means nothing to Adam
            if getattr(self, key) is None:
                filled[key] = value
        opts = replace(self, **filled)
        opts.lr = DEFAULT_LR if opts.lr is None else opts.lr
        opts.momentum = 0.0 if opts.momentum is None else opts.momentum
        if opts.nesterov and not opts.momentum:
            raise OptionError("nesterov", "Nesterov's step is a momentum method: give `momentum=`")
        return opts

    def batch_size_for(self, n_train: int) -> int:
        if self.mode == "batch":
            return n_train
        if self.mode == "sample":
            return 1
        return min(self.batch_size or DEFAULT_BATCH_SIZE, n_train)

    def plan(self, n_train: int) -> tuple[int, int, int]:
        """(batch size, updates per epoch, epochs); the last may stop short."""
        batch = self.batch_size_for(n_train)
        steps = math.ceil(n_train / batch)
        if self.iterations is not None:
            return batch, steps, math.ceil(self.iterations / steps)
        return batch, steps, self.epochs or DEFAULT_EPOCHS


# `zoo.train`'s options beside `TrainOptions`: {name: (spec, default)}
RUN_OPTIONS = {
    "tensorboard": (
        OptionSpec(
            "TensorBoard event files (curves, hyperparameters) in the run folder's tensorboard/.",
            kind=bool,
            negatable=True,
            show_default=True,
        ),
        False,
    ),
}


def option_specs() -> dict[str, tuple[OptionSpec, Any]]:
    """{name: (spec, default)} of every option of a run the trainer owns."""
    return {**specs_of(TrainOptions), **RUN_OPTIONS}


def with_preset(given: TrainOptions, model: Any, data) -> TrainOptions:
    """`given` (checked) with the preset for `model` on `data` where it left options unset:
    the one source of presets for `train`, sweep checks, workers and stacks alike (the lab's
    settings for a model family, e.g. lab 2's momentum for `cnn`, else the set's own).
    `model`: a registered name, or a model of one's own (the set's preset)."""
    from zoo.registry import canonical

    return given.with_defaults(
        data.defaults_for(canonical(model) if isinstance(model, str) else None)
    )


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
