"""``samples.png``: a grid of example images, one row per class, the class name on the left."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

DPI = 150


def _displayable(image: np.ndarray) -> tuple[np.ndarray, str | None]:
    """An image as imshow wants it, and its colour map (gray for one channel)."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.dtype != np.uint8:  # floats: assume 0..1 (or 0..255), clipped either way
        scale = 255.0 if image.max(initial=0) > 1.0 else 1.0
        image = np.clip(image / scale, 0.0, 1.0)
    return image, ("gray" if image.ndim == 2 else None)


def save_sample_grid(
    images: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str],
    path: str | Path,
    per_class: int = 10,
    title: str | None = None,
    max_classes: int = 20,
) -> Path:
    """Draw up to `per_class` images of each class in a row and save the grid at 150 dpi.

    `images` are (N, H, W), (N, H, W, 1) or (N, H, W, 3), uint8 or floats in 0..1; `labels`
    are class indices into `class_names`. Images are taken in the order given. With more than
    `max_classes` classes only the first `max_classes` rows are drawn (the title says so),
    which keeps CIFAR-100's grid readable. Returns the path written.

    >>> import numpy as np, tempfile, os
    >>> x = np.zeros((4, 8, 8, 3), np.uint8); y = np.array([0, 1, 0, 1])
    >>> p = save_sample_grid(x, y, ["cat", "dog"], os.path.join(tempfile.mkdtemp(), "s.png"))
    >>> p.name
    's.png'
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    images, labels = np.asarray(images), np.asarray(labels).astype(np.int64).ravel()
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    rows = min(len(class_names), max_classes)
    columns = max(1, per_class)
    cell = 0.8 if rows <= 10 else 0.6
    # No pyplot: a bare Figure with its own canvas leaves the global backend state alone
    fig = Figure(figsize=(columns * cell + 1.6, rows * cell + 0.6))
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, columns, squeeze=False)
    for row in range(rows):
        members = np.flatnonzero(labels == row)[:columns]
        for column in range(columns):
            ax = axes[row, column]
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if column < len(members):
                image, cmap = _displayable(images[members[column]])
                ax.imshow(
                    image,
                    cmap=cmap,
                    vmin=0,
                    vmax=255 if image.dtype == np.uint8 else 1,
                    interpolation="nearest",
                )
        axes[row, 0].set_ylabel(
            str(class_names[row]), rotation=0, ha="right", va="center", fontsize=8
        )
    heading = title or "Examples per class"
    if rows < len(class_names):
        heading += f" (first {rows} of {len(class_names)} classes)"
    fig.suptitle(heading, fontsize=10)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=DPI)
    return path
