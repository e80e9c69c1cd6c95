"""Backpropagation in the lecture's network, by hand and by TensorFlow's GradientTape.

The error is E = ½·Σ (O_k − T_k)² over the outputs given a target (the lecture: T = 0.9 at O1).
For an output weight from input I (a hidden activation) the lecture's formula is
∂E/∂w = I·(O − T)·O·(1 − O); for a hidden weight the chain rule carries the output deltas back
through the output weights and the hidden sigmoid's derivative H·(1 − H).

    >>> result = backprop(target=(0.9,))
    >>> round(result.output_grads[0][0], 4)   # H1 -> O1
    -0.0163
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zoo.errors import OptionError
from zoo.explain.forward import check_inputs
from zoo.explain.output import fmt2, new_figure, save_figure, sigmoid, text, vector
from zoo.explain.plotting import draw_network
from zoo.models.lecture import HIDDEN_WEIGHTS, INPUTS, OUTPUT_WEIGHTS


@dataclass
class Backprop:
    """Gradients as (units, inputs) matrices, like the weights: row k is neuron k."""

    inputs: list[float]
    target: list[float | None]  # None: that output has no target and adds no error
    hidden: list[float]
    outputs: list[float]
    error: float
    output_deltas: list[float]  # ∂E/∂(output sum) = (O − T)·O·(1 − O)
    hidden_deltas: list[float]  # ∂E/∂(hidden sum)
    output_grads: list[list[float]]
    hidden_grads: list[list[float]]
    autodiff_output_grads: list[list[float]]
    autodiff_hidden_grads: list[list[float]]
    max_difference: float  # hand vs autodiff, over every weight
    lecture_example: str  # the slide's H1 -> O1 product with its rounded numbers
    lr: float
    new_hidden_weights: list[list[float]]
    new_output_weights: list[list[float]]
    new_outputs: list[float]
    new_error: float


def check_target(target: Sequence[float]) -> list[float | None]:
    values = [float(v) for v in target]
    if not 1 <= len(values) <= 2 or not all(np.isfinite(values)):
        raise OptionError("target", "give one target (for O1) or two (O1,O2), e.g. 0.9 or 0.9,0.1")
    return values + [None] * (2 - len(values))


def _error_parts(target: list[float | None]) -> tuple[np.ndarray, np.ndarray]:
    """A mask of the outputs that have a target, and the targets (0 where none)."""
    mask = np.array([t is not None for t in target])
    t = np.array([0.0 if v is None else v for v in target])
    return mask, t


def hand_gradients(x: np.ndarray, w_h: np.ndarray, w_o: np.ndarray, target: list[float | None]):
    """(hidden, outputs, error, output deltas, hidden deltas, ∂E/∂W_o, ∂E/∂W_h) with NumPy."""
    hidden = sigmoid(w_h @ x)
    outputs = sigmoid(w_o @ hidden)
    mask, t = _error_parts(target)
    error = 0.5 * float(np.sum(mask * (outputs - t) ** 2))
    output_deltas = mask * (outputs - t) * outputs * (1.0 - outputs)
    hidden_deltas = (w_o.T @ output_deltas) * hidden * (1.0 - hidden)
    # ∂E/∂w_kj = (input j of neuron k) · delta_k: an outer product per layer
    return (
        hidden,
        outputs,
        error,
        output_deltas,
        hidden_deltas,
        np.outer(output_deltas, hidden),
        np.outer(hidden_deltas, x),
    )


def autodiff_gradients(x: np.ndarray, target: list[float | None]) -> tuple[np.ndarray, np.ndarray]:
    """∂E/∂W_o and ∂E/∂W_h of the registered `lecture-net` Keras model, by GradientTape."""
    import tensorflow as tf

    from zoo.backend import require_tensorflow
    from zoo.models.registry import create_model

    require_tensorflow("zoo explain backprop")
    model = create_model("lecture-net", input_shape=(3,), num_classes=2)
    mask, t = _error_parts(target)
    with tf.GradientTape() as tape:
        outputs = model(tf.constant([x], dtype=tf.float32))[0]
        error = 0.5 * tf.reduce_sum(mask.astype("float32") * (outputs - t.astype("float32")) ** 2)
    hidden_layer, output_layer = model.get_layer("hidden_1"), model.get_layer("output")
    grads = tape.gradient(error, [output_layer.kernel, hidden_layer.kernel])
    # Keras kernels are (inputs, units); transpose to the lecture's (units, inputs)
    return tuple(np.asarray(g, dtype=np.float64).T for g in grads)


def backprop(
    target: Sequence[float] = (0.9,), lr: float = 0.5, inputs: Sequence[float] = INPUTS
) -> Backprop:
    """Every weight's gradient of E for `target`, checked by autodiff, and one descent step."""
    if not np.isfinite(lr) or lr <= 0:
        raise OptionError("lr", f"must be a positive number, got {lr}")
    x = check_inputs(inputs)
    goal = check_target(target)
    w_h = np.array(HIDDEN_WEIGHTS, dtype=np.float64)
    w_o = np.array(OUTPUT_WEIGHTS, dtype=np.float64)
    hidden, outputs, error, d_o, d_h, g_o, g_h = hand_gradients(x, w_h, w_o, goal)
    auto_o, auto_h = autodiff_gradients(x, goal)
    new_h, new_o = w_h - lr * g_h, w_o - lr * g_o
    _, new_outputs, new_error, *_ = hand_gradients(x, new_h, new_o, goal)
    # The slide's arithmetic with its rounded numbers, for H1 -> O1
    h1, o1 = round(hidden[0], 2), round(outputs[0], 2)
    t1 = goal[0]
    lecture = (
        f"{fmt2(h1)}·({fmt2(o1)} − {t1:g})·{fmt2(o1)}·(1 − {fmt2(o1)}) = "
        f"{h1 * (o1 - t1) * o1 * (1 - o1):.4f}"
    )
    return Backprop(
        inputs=x.tolist(),
        target=goal,
        hidden=hidden.tolist(),
        outputs=outputs.tolist(),
        error=error,
        output_deltas=d_o.tolist(),
        hidden_deltas=d_h.tolist(),
        output_grads=g_o.tolist(),
        hidden_grads=g_h.tolist(),
        autodiff_output_grads=auto_o.tolist(),
        autodiff_hidden_grads=auto_h.tolist(),
        max_difference=float(max(np.max(np.abs(g_o - auto_o)), np.max(np.abs(g_h - auto_h)))),
        lecture_example=lecture,
        lr=float(lr),
        new_hidden_weights=new_h.tolist(),
        new_output_weights=new_o.tolist(),
        new_outputs=new_outputs.tolist(),
        new_error=new_error,
    )


def describe(result: Backprop, lang: str = "en") -> str:
    """Gradients side by side (hand, autodiff), then the weights after one step."""
    targets = ", ".join(f"T{k + 1} = {v:g}" for k, v in enumerate(result.target) if v is not None)
    lines = [
        text(
            "backprop.header",
            lang,
            targets=targets,
            outputs=vector(result.outputs),
            error=f"{result.error:.6f}",
        ),
        text("backprop.lecture", lang, example=result.lecture_example),
        f"  {'':<10} {text('backprop.hand', lang):>14} {'GradientTape':>14} "
        f"{text('backprop.new_weight', lang):>14}",
    ]
    layers = (
        (
            "H",
            "O",
            result.output_grads,
            result.autodiff_output_grads,
            OUTPUT_WEIGHTS,
            result.new_output_weights,
        ),
        (
            "x",
            "H",
            result.hidden_grads,
            result.autodiff_hidden_grads,
            HIDDEN_WEIGHTS,
            result.new_hidden_weights,
        ),
    )
    for src, dst, hand, auto, old, new in layers:
        lines.append(text("backprop.layer_out" if dst == "O" else "backprop.layer_hidden", lang))
        for k, row in enumerate(hand):
            for j, g in enumerate(row):
                name = f"{src}{j + 1}→{dst}{k + 1}"
                lines.append(
                    f"  {name:<10} {g:>14.6f} {auto[k][j]:>14.6f} {old[k][j]:>6g} → {new[k][j]:.6f}"
                )
    lines += [
        text("backprop.max_difference", lang, value=f"{result.max_difference:.2e}"),
        text(
            "backprop.step",
            lang,
            lr=f"{result.lr:g}",
            outputs=vector(result.new_outputs),
            error=f"{result.new_error:.6f}",
            before=f"{result.error:.6f}",
        ),
    ]
    return "\n".join(lines)


def plot(result: Backprop, folder: Path, fmt: str = "png", lang: str = "en") -> list[Path]:
    """The network with ∂E/∂w on every line and each neuron's delta."""
    fig, axes = new_figure(size=(9.0, 6.0))
    layers = [
        [f"x{j + 1}\n{v:g}" for j, v in enumerate(result.inputs)],
        [
            f"H{k + 1}\n{h:.2f}\nδ={d:.4f}"
            for k, (h, d) in enumerate(zip(result.hidden, result.hidden_deltas, strict=True))
        ],
        [
            f"O{k + 1}\n{o:.2f}\nδ={d:.4f}"
            for k, (o, d) in enumerate(zip(result.outputs, result.output_deltas, strict=True))
        ],
    ]
    grads = [np.array(result.hidden_grads), np.array(result.output_grads)]
    labels = [[[f"{g:.4f}" for g in row] for row in layer] for layer in grads]
    edges = [np.array(HIDDEN_WEIGHTS), np.array(OUTPUT_WEIGHTS)]
    draw_network(axes[0, 0], layers, edges, labels, title=text("backprop.figure_title", lang))
    return [save_figure(fig, folder, "backprop", fmt)]
