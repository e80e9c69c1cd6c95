"""The model registry: `@register_model` builders, `list_models`, `create_model`."""

from __future__ import annotations

from typing import Any

from zoo.errors import OptionError, ZooError
from zoo.registry import Registry, canonical, drop_none

MODELS = Registry(
    "model",
    modules=[
        "zoo.models.logistic",
        "zoo.models.mlp",
        "zoo.models.cnn",
        "zoo.models.linear",
        "zoo.models.lecture",
    ],
    group="zoo.models",
)


def register_model(fn=None, *, name: str | None = None):
    """Register a builder ``fn(input_shape, num_classes, **options) -> keras.Model``.

    The function name is the model name (underscores become hyphens), or ``name=``::

        @register_model
        def tiny_mlp(input_shape, num_classes, *, head="softmax", normalization=None):
            ...

        @register_model(name="mlp-v2")
        def build(input_shape, num_classes, *, head="softmax"):
            ...
    """
    return MODELS.register(fn, name=name)


def list_models(pattern: str | None = None) -> list[str]:
    """Registered model names, optionally filtered by a shell wildcard.

    >>> list_models("l*")
    ['lecture-net', 'linear', 'logistic']
    """
    return MODELS.names(pattern)


def model_options(name: str) -> dict[str, Any]:
    """The keyword options a builder takes, with their defaults."""
    return MODELS.options(name)


def create_model(name: str, *, input_shape, num_classes: int, **options: Any):
    """Build an uncompiled `keras.Model` by name.

    Options whose value is None are dropped, so a caller may pass every option it has.

    Examples:
        >>> model = create_model("mlp", input_shape=(64,), num_classes=10, hidden=(32,))
        >>> [layer.name for layer in model.layers][-2:]
        ['hidden_1', 'output']
    """
    builder = MODELS.get(name)
    options = drop_none(options)
    MODELS.check_options(name, options)
    if int(num_classes) < 1:
        raise OptionError("num_classes", f"must be at least 1, got {num_classes}")
    shape = tuple(int(d) for d in input_shape)
    try:
        return builder(shape, int(num_classes), **options)
    except Exception as err:
        if not _out_of_memory(err):
            raise
        given = ", ".join(f"{k}={v!r}" for k, v in options.items() if k != "normalization")
        raise ZooError(
            f"model {canonical(name)!r} ({given or 'defaults'}) on inputs {shape} does not fit "
            f"in memory ({type(err).__name__}); make its layers smaller"
        ) from None


def _out_of_memory(err: Exception) -> bool:
    """NumPy's MemoryError, TensorFlow's ResourceExhaustedError, XLA's RESOURCE_EXHAUSTED."""
    return (
        isinstance(err, MemoryError)
        or type(err).__name__ == "ResourceExhaustedError"
        or "RESOURCE_EXHAUSTED" in str(err)
    )
