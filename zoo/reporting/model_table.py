"""The model as the lab's defence questions see it, from config["layers"] alone.

Every fully connected (Dense) layer has `units` neurons, each joined to each of the layer's
`inputs` by one connection that carries one weight, and one bias per neuron (unless the layer
has none). Inputs are not neurons: they compute nothing.

    >>> layers = [{"name": "hidden_1", "type": "Dense", "units": 10, "inputs": 3072,
    ...            "weights": 30720, "biases": 10, "params": 30730, "activation": "relu"},
    ...           {"name": "output", "type": "Dense", "units": 3, "inputs": 10,
    ...            "weights": 30, "biases": 3, "params": 33, "activation": "softmax"}]
    >>> network_string(layers)
    'FC(10), FC(3)'
    >>> totals(layers)
    {'neurons': 13, 'connections': 30750, 'weights': 30750, 'biases': 13, 'params': 30763}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

COUNTS = ("neurons", "connections", "weights", "biases", "params")


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) else None


def dense_layers(layers: Sequence[dict]) -> list[dict]:
    """The fully connected layers, in order (the ones that have neurons)."""
    return [layer for layer in layers or () if _int(layer.get("units")) is not None]


def network_string(layers: Sequence[dict]) -> str:
    """The network as the lab writes it: "FC(10), FC(3)"."""
    return ", ".join(f"FC({int(layer['units'])})" for layer in dense_layers(layers)) or "—"


def shape_text(shape: Any) -> str:
    """[null, 10] -> "(None, 10)"."""
    if not isinstance(shape, list | tuple):
        return "" if shape is None else str(shape)
    parts = ["None" if d is None else str(d) for d in shape]
    return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"


def layer_rows(layers: Sequence[dict]) -> list[list[str]]:
    """One row per layer: name, type, output shape, activation, parameters."""
    return [
        [
            str(layer.get("name", "")),
            str(layer.get("type", "")),
            shape_text(layer.get("output_shape")),
            str(layer.get("activation") or "—"),
            str(_int(layer.get("params")) or 0),
        ]
        for layer in layers or ()
    ]


def layer_counts(layer: dict) -> dict[str, int]:
    """Neurons, connections, weights, biases and parameters of one Dense layer.

    Fields missing from an older config are derived: weights = inputs x units.
    """
    units = _int(layer.get("units")) or 0
    inputs = _int(layer.get("inputs")) or 0
    weights = _int(layer.get("weights"))
    weights = inputs * units if weights is None else weights
    params = _int(layer.get("params"))
    biases = _int(layer.get("biases"))
    if biases is None:
        biases = params - weights if params is not None else units
    params = weights + biases if params is None else params
    return {
        "neurons": units,
        "inputs": inputs,
        "connections": weights,
        "weights": weights,
        "biases": biases,
        "params": params,
    }


def totals(layers: Sequence[dict]) -> dict[str, int]:
    """The counts summed over the Dense layers."""
    counted = [layer_counts(layer) for layer in dense_layers(layers)]
    return {key: sum(c[key] for c in counted) for key in COUNTS}


def count_rows(layers: Sequence[dict], total_label: str = "Total") -> list[list[str]]:
    """One row per Dense layer (name, inputs, neurons, connections, weights, biases,
    parameters), then the totals."""
    rows = []
    for layer in dense_layers(layers):
        c = layer_counts(layer)
        rows.append(
            [str(layer.get("name", "")), str(c["inputs"])]
            + [str(c[key]) for key in ("neurons", "connections", "weights", "biases", "params")]
        )
    if rows:
        total = totals(layers)
        rows.append(
            [total_label, ""]
            + [str(total[key]) for key in ("neurons", "connections", "weights", "biases", "params")]
        )
    return rows
