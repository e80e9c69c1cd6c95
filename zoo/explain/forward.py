"""Inference in the lecture's network: each neuron's weighted sum and activation.

The slide computes H1 = S(-1.9) = 0.13, H2 = S(3.1) = 0.96, H3 = S(-0.4) = 0.40 and then the
outputs from those rounded hidden values: O1 = S(-0.63) = 0.35, O2 = S(1.76) = 0.85. Here both
the slide's way and full precision are computed, and the matrix form W·x.

    >>> result = forward()
    >>> [fmt2(v) for v in result.hidden], [fmt2(v) for v in result.outputs]
    (['0.13', '0.96', '0.40'], ['0.35', '0.85'])
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from zoo.errors import OptionError
from zoo.explain.output import fmt2, new_figure, save_figure, sigmoid, text, vector
from zoo.explain.plotting import draw_network
from zoo.models.lecture import HIDDEN_WEIGHTS, INPUTS, OUTPUT_WEIGHTS


@dataclass
class Forward:
    """One forward pass; weights are (units, inputs): row k holds neuron k's weights."""

    inputs: list[float]
    hidden_weights: list[list[float]]
    output_weights: list[list[float]]
    hidden_sums: list[float]
    hidden: list[float]
    output_sums: list[float]
    outputs: list[float]
    # The slide's way: the outputs computed from the hidden values rounded to two digits
    rounded_output_sums: list[float]
    rounded_outputs: list[float]
    keras_outputs: list[float] | None = None
    rounding_changes: list[str] = field(default_factory=list)


def check_inputs(values: Sequence[float], option: str = "inputs") -> np.ndarray:
    x = np.asarray(values, dtype=np.float64).ravel()
    if x.size != 3 or not np.all(np.isfinite(x)):
        raise OptionError(option, f"the network takes 3 finite inputs, got {len(x)}")
    return x


def forward(inputs: Sequence[float] = INPUTS, keras_check: bool = False) -> Forward:
    """The lecture network's pass on `inputs`, at full precision and the slide's way.

    `keras_check` also runs the registered `lecture-net` Keras model on the same inputs.
    """
    x = check_inputs(inputs)
    w_h = np.array(HIDDEN_WEIGHTS, dtype=np.float64)
    w_o = np.array(OUTPUT_WEIGHTS, dtype=np.float64)
    hidden_sums = w_h @ x
    hidden = sigmoid(hidden_sums)
    output_sums = w_o @ hidden
    outputs = sigmoid(output_sums)
    rounded_sums = w_o @ np.round(hidden, 2)
    rounded_outputs = sigmoid(rounded_sums)
    changes = []
    for k in range(len(outputs)):
        if fmt2(rounded_sums[k]) != fmt2(output_sums[k]):
            changes.append(f"O{k + 1} sum: {fmt2(rounded_sums[k])} / {fmt2(output_sums[k])}")
        if fmt2(rounded_outputs[k]) != fmt2(outputs[k]):
            changes.append(f"O{k + 1}: {fmt2(rounded_outputs[k])} / {fmt2(outputs[k])}")
    result = Forward(
        inputs=x.tolist(),
        hidden_weights=w_h.tolist(),
        output_weights=w_o.tolist(),
        hidden_sums=hidden_sums.tolist(),
        hidden=hidden.tolist(),
        output_sums=output_sums.tolist(),
        outputs=outputs.tolist(),
        rounded_output_sums=rounded_sums.tolist(),
        rounded_outputs=rounded_outputs.tolist(),
        rounding_changes=changes,
    )
    if keras_check:
        result.keras_outputs = lecture_net_outputs(x).tolist()
    return result


def lecture_net_outputs(x: np.ndarray) -> np.ndarray:
    """What the registered `lecture-net` model computes on one input vector."""
    from zoo.models.registry import create_model

    model = create_model("lecture-net", input_shape=(3,), num_classes=2)
    return np.asarray(model(np.asarray([x], dtype="float32")))[0].astype(np.float64)


def _sum_terms(weights: Sequence[float], values: Sequence[float], two_digits: bool) -> str:
    """ "1·0.5 + (-2)·0.9 + ...": the weighted sum written out; values with two digits if asked."""

    def num(v: float, two: bool = False) -> str:
        s = fmt2(v) if two else f"{v:g}"
        return f"({s})" if s.startswith("-") else s

    return " + ".join(
        f"{num(w)}·{num(v, two_digits)}" for w, v in zip(weights, values, strict=True)
    )


def describe(result: Forward, lang: str = "en") -> str:
    """The pass as the lecture writes it, then at full precision, then in matrix form."""
    hidden_r = [round(v, 2) for v in result.hidden]
    lines = [
        text("forward.header", lang, inputs=vector(result.inputs)),
        text("forward.hidden", lang),
    ]
    for k, (w, s, h) in enumerate(
        zip(result.hidden_weights, result.hidden_sums, result.hidden, strict=True), start=1
    ):
        lines.append(
            f"  H{k} = S({_sum_terms(w, result.inputs, False)}) = S({fmt2(s)}) = {fmt2(h)}"
            f"    [{text('full', lang)}: S({s:.6f}) = {h:.6f}]"
        )
    lines.append(text("forward.output", lang))
    for k, w in enumerate(result.output_weights):
        s_r, o_r = result.rounded_output_sums[k], result.rounded_outputs[k]
        s, o = result.output_sums[k], result.outputs[k]
        lines.append(
            f"  O{k + 1} = S({_sum_terms(w, hidden_r, True)}) = S({fmt2(s_r)}) = {fmt2(o_r)}"
            f"    [{text('full', lang)}: S({s:.6f}) = {o:.6f}]"
        )
    if result.rounding_changes:
        # rounding_changes keeps its English words for forward.json; the text speaks `lang`
        what = "; ".join(
            re.sub(
                r"^(\S+) sum:", lambda m: text("forward.sum_of", lang, neuron=m[1]) + ":", change
            )
            for change in result.rounding_changes
        )
        lines.append(text("forward.rounding_changes", lang, what=what))
    else:
        lines.append(text("forward.rounding_same", lang))
    lines += [
        text("forward.matrix", lang),
        f"  W_h·x = {result.hidden_weights} · {vector(result.inputs)}"
        f" = {vector(result.hidden_sums)}",
        f"  h = S(W_h·x) = {vector(result.hidden)}",
        f"  W_o·h = {result.output_weights} · h = {vector(result.output_sums)}",
        f"  o = S(W_o·h) = {vector(result.outputs)}",
    ]
    if result.keras_outputs is not None:
        lines.append(text("forward.keras", lang, outputs=vector(result.keras_outputs)))
    return "\n".join(lines)


def plot(result: Forward, folder: Path, fmt: str = "png", lang: str = "en") -> list[Path]:
    """The network with each neuron's weighted sum and activation."""
    fig, axes = new_figure(size=(9.0, 6.0))
    layers = [
        [f"x{j + 1}\n{v:g}" for j, v in enumerate(result.inputs)],
        [
            f"H{k + 1}\nS({fmt2(s)})\n={fmt2(h)}"
            for k, (s, h) in enumerate(zip(result.hidden_sums, result.hidden, strict=True))
        ],
        [
            f"O{k + 1}\nS({fmt2(s)})\n={fmt2(o)}"
            for k, (s, o) in enumerate(zip(result.output_sums, result.outputs, strict=True))
        ],
    ]
    edges = [np.array(result.hidden_weights), np.array(result.output_weights)]
    draw_network(axes[0, 0], layers, edges, title=text("forward.figure_title", lang))
    return [save_figure(fig, folder, "forward", fmt)]
