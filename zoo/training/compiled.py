"""A model the user compiled: its optimizer, loss and metrics are honoured, or refused by name.

The zoo trains with its own compiled epochs, not `fit`, so it reads what `compile` was given:
the optimizer object is used as it is (its rate and state included); the loss must be one the
zoo's objectives compute (cross-entropy, binary cross-entropy, squared error); the metrics one
it measures (accuracy). Anything else is an OptionError that says what would change.
"""

from __future__ import annotations

from typing import Any

from zoo.errors import OptionError

# training options that would build another optimizer than the compiled one
OPTIMIZER_OPTIONS = (
    "optimizer",
    "lr",
    "momentum",
    "nesterov",
    "weight_decay",
    "clip_norm",
    "lr_schedule",
    "lr_decay",
    "lr_step",
    "warmup",
    "mixed_precision",
    "distribute",
)
LOSSES = {
    "sparse_categorical_crossentropy": "crossentropy",
    "categorical_crossentropy": "crossentropy",
    "binary_crossentropy": "bce",
    "mean_squared_error": "mse",
    "mse": "mse",
}
METRICS = {"accuracy", "acc", "sparse_categorical_accuracy", "categorical_accuracy"}
METRICS |= {"binary_accuracy"}


def is_compiled(model: Any) -> bool:
    return bool(getattr(model, "compiled", False)) and getattr(model, "optimizer", None) is not None


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def loss_name(loss: Any) -> tuple[str, bool | None]:
    """(the zoo's name for a compiled loss, its from_logits or None); OptionError if none."""
    if isinstance(loss, str):
        key, logits = loss, None
    else:
        key = getattr(loss, "name", None) or _snake(type(loss).__name__)
        key = key if key in LOSSES else _snake(type(loss).__name__)
        logits = getattr(loss, "from_logits", None)
    if key not in LOSSES:
        raise OptionError(
            "loss",
            f"the model was compiled with the loss {key!r}, which the zoo's epochs do not "
            "compute: compile it with sparse_categorical_crossentropy, binary_crossentropy or "
            "mean_squared_error, or leave it uncompiled",
        )
    return LOSSES[key], logits


def _metric_names(model) -> list[str]:
    metrics = getattr(getattr(model, "_compile_metrics", None), "_user_metrics", None) or []
    if isinstance(metrics, dict):
        metrics = [m for ms in metrics.values() for m in (ms if isinstance(ms, list) else [ms])]
    names = []
    for metric in metrics:
        names.append(metric if isinstance(metric, str) else getattr(metric, "name", str(metric)))
    return names


def check_compiled(model, given: dict[str, Any]) -> dict[str, Any]:
    """The training options a compiled `model` implies, after refusing those that would
    replace its optimizer, loss or metrics. `given`: the options the user set (not None)."""
    optimizer = model.optimizer
    kind = type(optimizer).__name__
    for name in OPTIMIZER_OPTIONS:
        if given.get(name) not in (None, False):
            raise OptionError(
                name,
                f"the model was compiled with {kind}, which the run uses as it is; `{name}=` "
                f"would replace it: leave it out, or compile the model with what you want",
            )
    loss, from_logits = loss_name(model.loss)
    if given.get("loss") not in (None, loss):
        raise OptionError(
            "loss", f"the model was compiled with {loss}; `loss={given['loss']}` would replace it"
        )
    for metric in _metric_names(model):
        if metric not in METRICS:
            raise OptionError(
                "metrics",
                f"the model was compiled with the metric {metric!r}; the zoo measures the loss "
                "and accuracy each epoch and would not compute it: compute it in a callback, "
                "or leave it out of compile",
            )
    return {"loss": loss, "from_logits": from_logits, "optimizer": optimizer}


def optimizer_record(optimizer) -> dict[str, Any]:
    """The training options that describe a compiled optimizer, for config.json."""
    from keras import ops

    from zoo.training.schedules import float32_text

    def number(value):  # 0.01, not the float32's 0.009999999776482582
        return None if value is None else float32_text(float(ops.convert_to_numpy(value)))

    name = type(optimizer).__name__.lower()
    return {
        "optimizer": name,
        "lr": number(optimizer.learning_rate),
        "momentum": number(getattr(optimizer, "momentum", None)) or 0.0,
        "nesterov": bool(getattr(optimizer, "nesterov", False)),
        "weight_decay": number(getattr(optimizer, "weight_decay", None)),
        "clip_norm": getattr(optimizer, "global_clipnorm", None),
    }


def check_logits(compiled: dict[str, Any], objective) -> None:
    """The compiled loss reads the outputs as the model's last layer makes them: logits for a
    layer without activation, probabilities after softmax or sigmoid."""
    if objective.loss == "mse":
        return
    from_logits = bool(compiled["from_logits"])  # a loss given by name: Keras's False
    if from_logits != objective.from_logits:
        made = "logits" if objective.from_logits else f"{objective.head} probabilities"
        raise OptionError(
            "loss",
            f"the model was compiled with from_logits={from_logits}, but its last layer gives "
            f"{made}: the zoo would read them as such; compile the loss with "
            f"from_logits={objective.from_logits}",
        )
