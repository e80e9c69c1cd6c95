"""Which runs of a sweep train together (`zoo.sweeps.stack`): MLP runs alike in all but
their layer sizes, learning rate and momentum, in stacks of at most `MAX_STACK`, planned in
the order of the spec so that the same sweep always stacks alike, whatever `jobs`.

    >>> stack_key("mlp", "digits", {"hidden": 10, "lr": 0.1, "seed": 0}) == \\
    ...     stack_key("mlp", "digits", {"hidden": 32, "lr": 0.01, "seed": 0})
    True
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from zoo.training.stack import LABELS, OWN_OPTIONS, SHARED_OPTIONS

MAX_STACK = 4  # members per stack: fixed, so a sweep's numbers do not depend on `jobs`


def stack_key(model: str, dataset: str, options: dict[str, Any]) -> str | None:
    """Runs with the same key may train together; None: this run trains alone."""
    from zoo.errors import OptionError
    from zoo.models.layers import check_units
    from zoo.models.registry import MODELS
    from zoo.registry import canonical
    from zoo.training.plan import split_options

    if canonical(model) != "mlp":
        return None
    options = dict(options)
    data_seed = options.pop("data_seed", None)
    try:
        train_opts, model_opts, data_opts = split_options(model, dataset, options)
        depth = len(check_units(model_opts.get("hidden", MODELS.options(model)["hidden"])))
    except OptionError:
        return None
    if train_opts.get("optimizer", "sgd") != "sgd" or train_opts.get("backend") == "jax":
        return None
    given = {k for k, v in {**train_opts, **model_opts}.items() if v is not None}
    if given - set(OWN_OPTIONS + LABELS + SHARED_OPTIONS):
        return None
    shared = {k: v for k, v in train_opts.items() if k not in OWN_OPTIONS + LABELS}
    model_shared = {k: v for k, v in model_opts.items() if k not in OWN_OPTIONS}
    key = [canonical(model), dataset, data_opts, data_seed, shared, model_shared, depth]
    return json.dumps(key, sort_keys=True, default=str)


def plan_stacks(keys: Sequence[str | None], size: int = MAX_STACK) -> list[list[int]]:
    """Indices grouped into stacks of at most `size`, in the order given; None keys alone.

    >>> plan_stacks(["a", "b", "a", None, "a"], size=2)
    [[0, 2], [1], [3], [4]]
    """
    groups: dict[str, list[int]] = {}
    order: list[list[int]] = []
    for i, key in enumerate(keys):
        if key is None:
            order.append([i])
            continue
        group = groups.get(key)
        if group is None or len(group) >= size:
            group = groups[key] = []
            order.append(group)
        group.append(i)
    return order
