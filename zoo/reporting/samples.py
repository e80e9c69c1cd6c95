"""``samples.png``: a grid of example images, one row per class, the class name on the left."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from zoo.reporting.plot import DPI


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
    fig = sample_grid_figure(images, labels, class_names, per_class, title, max_classes)
    path = Path(path)
    fig.savefig(path, dpi=DPI)
    return path


def sample_grid_figure(
    images: np.ndarray,
    labels: np.ndarray,
    class_names: Sequence[str],
    per_class: int = 10,
    title: str | None = None,
    max_classes: int = 20,
):
    """The Figure `save_sample_grid` saves (a bare Figure on an Agg canvas)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    images, labels = np.asarray(images), np.asarray(labels).astype(np.int64).ravel()
    if len(images) != len(labels):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    rows = min(len(class_names), max_classes)
    columns = max(1, per_class)
    cell = 0.8 if rows <= 10 else 0.6
    picks = [np.flatnonzero(labels == row)[:columns] for row in range(rows)]
    mosaic, cmap, gap = _mosaic(images, picks, columns)
    # One image on one Axes, whatever the number of classes: drawing a grid of Axes cost
    # seconds for CIFAR-10's hundred images. No pyplot: a bare Figure with its own canvas.
    width, height = columns * cell + 1.6, rows * cell + 0.6
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    left, top = 1.4 / width, 0.45 / height
    ax = fig.add_axes((left, 0.15 / height, 1 - left - 0.2 / width, 1 - top - 0.15 / height))
    vmax = 255 if mosaic.dtype == np.uint8 else 1
    pitch = (mosaic.shape[0] + gap) // rows  # an image's height and the gap below it
    show_in_strips(ax, mosaic, pitch, cmap=cmap, vmin=0, vmax=vmax)
    ax.set_yticks(
        [row * pitch + (pitch - gap) / 2 - 0.5 for row in range(rows)],
        [str(name) for name in class_names[:rows]],
        fontsize=8,
    )
    ax.tick_params(length=0)
    ax.set_xticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    heading = title or "Examples per class"
    if rows < len(class_names):
        heading += f" (first {rows} of {len(class_names)} classes)"
    fig.suptitle(heading, fontsize=10, y=1 - 0.12 / height, va="top")
    return fig


def _mosaic(images: np.ndarray, picks: list[np.ndarray], columns: int):
    """The picked images side by side, a row per class, on white with a gap between them."""
    sample, cmap = _displayable(images[0]) if len(images) else (np.zeros((1, 1)), "gray")
    height, width = sample.shape[:2]
    gap = max(1, height // 8)
    white = 255 if sample.dtype == np.uint8 else 1.0
    shape = (len(picks) * (height + gap) - gap, columns * (width + gap) - gap, *sample.shape[2:])
    mosaic = np.full(shape, white, dtype=sample.dtype)
    for row, members in enumerate(picks):
        for column, index in enumerate(members):
            top, left = row * (height + gap), column * (width + gap)
            mosaic[top : top + height, left : left + width] = _displayable(images[index])[0]
    return mosaic, cmap, gap


def show_in_strips(ax, mosaic: np.ndarray, pitch: int, **imshow_options) -> None:
    """`ax.imshow(mosaic)` as horizontal bands `pitch` pixels tall (a row of images and its
    gap), one image each: matplotlib scales an image through float buffers the size of its
    area on the canvas (120 MB for CIFAR-10's sample grid), a band's are a fraction of that."""
    height, width = mosaic.shape[:2]
    bounds = [*range(0, height, pitch), height]
    for top, bottom in zip(bounds[:-1], bounds[1:], strict=True):
        if bottom > top:
            ax.imshow(
                mosaic[top:bottom],
                extent=(-0.5, width - 0.5, bottom - 0.5, top - 0.5),
                interpolation="nearest",
                aspect="auto",
                **imshow_options,
            )
    ax.set_xlim(-0.5, width - 0.5)
    ax.set_ylim(height - 0.5, -0.5)
