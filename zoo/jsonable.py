"""Plain JSON values from what results are made of (dataclasses, numpy, paths)."""

from __future__ import annotations

import math
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np


def to_jsonable(value: Any) -> Any:
    """Dataclasses, numpy arrays and scalars, paths as JSON values; NaN and infinity become None.

    JSON has no NaN or infinity: a diverged run's loss is written as null.

    >>> to_jsonable({"a": np.float32(0.5), "b": [np.inf, Path("x")]})
    {'a': 0.5, 'b': [None, 'x']}
    """
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value
