"""Figures several examples draw: the lecture's network as a diagram, and line styles."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def draw_network(
    ax,
    layers: Sequence[Sequence[str]],
    edges: Sequence[np.ndarray],
    edge_labels: Sequence[Sequence[Sequence[str]]] | None = None,
    title: str = "",
) -> None:
    """Circles for neurons, lines for weights, as the lecture draws its network.

    `layers[i]` holds the text of each neuron of layer i (e.g. "H1\\n0.13"); `edges[i]` is the
    (units of layer i+1, units of layer i) weight matrix: its sign colours each line and its
    magnitude sets the width. `edge_labels[i][k][j]` is written on the line from neuron j of
    layer i to neuron k of layer i+1 (None: the weight itself).
    """
    xs = np.linspace(0.0, 1.0, len(layers))

    def ys(n: int) -> np.ndarray:
        return np.linspace(0.85, 0.15, n) if n > 1 else np.array([0.5])

    scale = max(float(np.max(np.abs(w))) for w in edges) or 1.0
    for i, w in enumerate(edges):
        y0, y1 = ys(len(layers[i])), ys(len(layers[i + 1]))
        for k in range(w.shape[0]):
            for j in range(w.shape[1]):
                colour = "tab:red" if w[k, j] < 0 else "tab:blue"
                ax.plot(
                    [xs[i], xs[i + 1]],
                    [y0[j], y1[k]],
                    color=colour,
                    lw=0.5 + 2.5 * abs(w[k, j]) / scale,
                    alpha=0.6,
                    zorder=1,
                )
                label = edge_labels[i][k][j] if edge_labels else f"{w[k, j]:g}"
                # Each target neuron's labels sit at their own distance along the lines, so
                # that labels of crossing lines do not cover each other
                along = 0.2 + 0.45 * k / max(w.shape[0] - 1, 1)
                px = xs[i] + (xs[i + 1] - xs[i]) * along
                py = y0[j] + (y1[k] - y0[j]) * along
                ax.text(
                    px,
                    py,
                    label,
                    fontsize=7,
                    ha="center",
                    va="center",
                    zorder=3,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"},
                )
    for i, names in enumerate(layers):
        for y, name in zip(ys(len(names)), names, strict=True):
            ax.scatter([xs[i]], [y], s=3000, color="lightyellow", edgecolors="black", zorder=2)
            ax.text(xs[i], y, name, ha="center", va="center", fontsize=7.5, zorder=4)
    ax.set_xlim(-0.12, 1.12)
    ax.set_ylim(0.0, 1.0)
    ax.axis("off")
    if title:
        ax.set_title(title)


def colours(n: int) -> list:
    """`n` colours from dark to light along viridis (early to late iterations)."""
    import matplotlib

    cmap = matplotlib.colormaps["viridis"]
    return [cmap(v) for v in np.linspace(0.0, 0.9, max(n, 1))]
