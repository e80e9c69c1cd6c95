"""Data augmentation inside the model: Keras's random preprocessing layers, active only while
training (a saved or exported model passes its inputs through them unchanged).

An augmentation is named with an optional strength, "flip,translate=0.1,rotate=15":

    >>> parse_augment("flip,translate=0.2")
    {'flip': 'horizontal', 'translate': 0.2}

The layers draw from Keras's seed generators, which the trainer seeds (`seed=`) before the
model is built: the same seed gives the same transformations, step for step.
"""

from __future__ import annotations

import math
from typing import Any

from zoo.errors import OptionError

# name -> (default strength, what the strength means)
AUGMENTATIONS: dict[str, tuple[Any, str]] = {
    "flip": ("horizontal", "horizontal, vertical or both"),
    "translate": (0.1, "the largest shift, a fraction of the image's height and width"),
    "rotate": (10.0, "the largest turn, in degrees"),
    "zoom": (0.1, "the largest zoom in or out, a fraction of the size"),
    "contrast": (0.2, "the largest change of contrast, a fraction"),
}
FLIPS = {"horizontal": "horizontal", "vertical": "vertical", "both": "horizontal_and_vertical"}
# Upper limits that keep a picture recognisable (a fraction of 1 would shift it off the image)
LIMITS = {"translate": 1.0, "rotate": 180.0, "zoom": 1.0, "contrast": 1.0}


def parse_augment(spec) -> dict[str, Any]:
    """{name: strength} from "flip,translate=0.1", a list of such parts, or a dict; {} for
    None or "" or "none". OptionError naming `augment` for an unknown name or strength."""
    if spec is None:
        return {}
    if isinstance(spec, dict):
        parts = [(str(k), v) for k, v in spec.items()]
    else:
        if isinstance(spec, str):
            spec = spec.replace(" ", "").split(",")
        parts = []
        for part in spec:
            name, _, value = str(part).partition("=")
            parts.append((name, value if value else None))
    if [name for name, _ in parts] in (["none"], [""]):
        return {}
    chosen: dict[str, Any] = {}
    for name, value in parts:
        name = name.strip().lower()
        if name not in AUGMENTATIONS:
            raise OptionError(
                "augment",
                f"{name!r} is not one of {', '.join(AUGMENTATIONS)} (e.g. flip,translate=0.1)",
            )
        if name in chosen:
            raise OptionError("augment", f"{name} is named twice")
        chosen[name] = _strength(name, value)
    return chosen


def _strength(name: str, value) -> Any:
    default, meaning = AUGMENTATIONS[name]
    if value is None:
        return default
    if name == "flip":
        if str(value) not in FLIPS:
            raise OptionError("augment", f"flip={value} is not one of {', '.join(FLIPS)}")
        return str(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not (math.isfinite(number) and 0 < number <= LIMITS[name]):
        raise OptionError(
            "augment",
            f"{name}={value} is not a number in (0, {LIMITS[name]:g}]: {meaning}",
        )
    return number


def augment_text(spec: dict[str, Any]) -> str:
    """ "flip=horizontal, translate=0.1" (the canonical spelling; "" for none)."""
    return ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in spec.items())


def augmentation_layers(spec: dict[str, Any], value_range: tuple[float, float]) -> list:
    """The Keras layers for `spec`, in a fixed order; they work on the raw pixels (before any
    scaling), whose range is `value_range`. Uncovered borders are black (0), as when the
    course's web page shifts a picture."""
    import keras

    layers = keras.layers
    fill = {"fill_mode": "constant", "fill_value": 0.0}
    made = []
    for name in AUGMENTATIONS:  # one order, whatever order they were named in
        if name not in spec:
            continue
        value = spec[name]
        layer_name = f"augment_{name}"
        if name == "flip":
            made.append(layers.RandomFlip(FLIPS[value], name=layer_name))
        elif name == "translate":
            made.append(layers.RandomTranslation(value, value, name=layer_name, **fill))
        elif name == "rotate":
            made.append(layers.RandomRotation(value / 360.0, name=layer_name, **fill))
        elif name == "zoom":
            made.append(layers.RandomZoom(value, value, name=layer_name, **fill))
        else:
            made.append(layers.RandomContrast(value, value_range=value_range, name=layer_name))
    return made
