"""The model as the labs' defence questions see it, from config["layers"] alone.

Every fully connected (Dense) layer has `units` neurons, each joined to each of the layer's
`inputs` by one connection that carries one weight, and one bias per neuron (unless the layer
has none). Inputs are not neurons: they compute nothing.

A convolution's neurons are its output values (height × width × filters); each is joined to
kernel × input channels values of its window, but the weights are shared: all the positions
of a filter use the same kernel, so weights = kernel × input channels × filters, far fewer
than the connections. Pooling, padding and flattening have no weights and no neurons.

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
    """The fully connected layers, in order."""
    return [layer for layer in layers or () if _int(layer.get("units")) is not None]


def conv_layers(layers: Sequence[dict]) -> list[dict]:
    """The convolutions, in order."""
    return [layer for layer in layers or () if _int(layer.get("filters")) is not None]


def neuron_layers(layers: Sequence[dict]) -> list[dict]:
    """The layers that have neurons (convolutions and Dense), in order."""
    return [
        layer
        for layer in layers or ()
        if _int(layer.get("units")) is not None or _int(layer.get("filters")) is not None
    ]


POOLS = {"MaxPooling2D": "MaxPool", "AveragePooling2D": "AvgPool"}


def _pair(values) -> str:
    values = [str(v) for v in values or ()]
    return values[0] if len(set(values)) == 1 else "×".join(values)


def conv_text(layer: dict) -> str:
    """ "Conv(32, 5×5, s4, p2)": filters, kernel, stride, padding (pixels, or same/valid)."""
    kernel = "×".join(str(k) for k in layer.get("kernel_size") or ())
    pad = layer.get("pad")
    padding = f"p{pad}" if isinstance(pad, int) else str(layer.get("padding") or "")
    return f"Conv({int(layer['filters'])}, {kernel}, s{_pair(layer.get('strides'))}, {padding})"


def network_string(layers: Sequence[dict]) -> str:
    """The network as the labs write it: "FC(10), FC(3)", or for a convolutional one
    "Conv(32, 5×5, s4, p2), Conv(64, 3×3, s1, p1), AvgPool(4), FC(3)"."""
    parts = []
    for layer in layers or ():
        if _int(layer.get("units")) is not None:
            parts.append(f"FC({int(layer['units'])})")
        elif _int(layer.get("filters")) is not None:
            parts.append(conv_text(layer))
        elif layer.get("type") in POOLS:
            parts.append(f"{POOLS[layer['type']]}({_pair(layer.get('pool_size'))})")
    return ", ".join(parts) or "—"


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
    """Neurons, inputs (per neuron), connections, weights, biases and parameters of one Dense
    layer or convolution.

    Fields missing from an older config are derived: weights = inputs x units.
    """
    if _int(layer.get("filters")) is not None:
        counts = {k: _int(layer.get(k)) or 0 for k in ("neurons", "inputs", "connections")}
        counts.update({k: _int(layer.get(k)) or 0 for k in ("weights", "biases", "params")})
        return counts
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
    """The counts summed over the layers with neurons (convolutions and Dense)."""
    counted = [layer_counts(layer) for layer in neuron_layers(layers)]
    return {key: sum(c[key] for c in counted) for key in COUNTS}


def count_rows(layers: Sequence[dict], total_label: str = "Total") -> list[list[str]]:
    """One row per layer with neurons (name, inputs per neuron, neurons, connections,
    weights, biases, parameters), then the totals."""
    rows = []
    for layer in neuron_layers(layers):
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


def counts_note_key(layers) -> str:
    """The note under a count table: "one weight per connection" holds for dense layers only."""
    return "report.counts_note_mixed" if conv_layers(layers) else "report.counts_note"
