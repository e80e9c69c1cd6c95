"""A `Dataset` as a notebook shows it: sizes, examples per class and, for images, a row of
examples of each class (the first ones of the training set, in its order).

Built from the arrays alone with `zoo.html`; no figure library is needed.
"""

from __future__ import annotations

import numpy as np

from zoo import html

EXAMPLES_PER_CLASS = 10
MAX_CLASS_ROWS = 20  # CIFAR-100's 100 classes: counts for all, pictures for the first 20
SHOWN_SIZE = 36  # pixels on the page for one example, whatever its real size
GAP = 2


def _as_uint8(images: np.ndarray) -> np.ndarray:
    """(N, H, W[, C]) images as uint8 (N, H, W) grey or (N, H, W, 3) colour."""
    images = np.asarray(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.dtype != np.uint8:  # floats: 0..1 or 0..255, clipped either way
        scale = 255.0 if images.size and float(np.nanmax(images)) > 1.0 else 1.0
        images = np.clip(np.nan_to_num(images) / scale, 0.0, 1.0) * 255.0
        images = np.round(images).astype(np.uint8)
    return images


def example_strip(images: np.ndarray) -> bytes:
    """The images side by side, 2 white pixels apart, as one PNG."""
    images = _as_uint8(images)
    n, height, width = images.shape[:3]
    shape = (height, n * (width + GAP) - GAP, *images.shape[3:])
    strip = np.full(shape, 255, dtype=np.uint8)
    for i, picture in enumerate(images):
        left = i * (width + GAP)
        strip[:, left : left + width] = picture
    return html.png_bytes(strip)


def dataset_html(data, classification: bool) -> str:
    """A `Dataset`'s sizes, class counts (`classification`) and examples as HTML."""
    shape = "×".join(str(d) for d in data.input_shape)
    parts = [
        html.heading(f"{data.name}: {data.task}, input {shape} ({data.x_train.dtype})"),
    ]
    if data.description:
        parts.append(f"<p style='margin:2px 0'>{html.escape(data.description)}</p>")
    parts.append(
        f"<p style='margin:2px 0'>train: {len(data.x_train)} &nbsp; test: {len(data.x_test)}</p>"
    )
    if not classification:
        y = np.concatenate([np.ravel(data.y_train), np.ravel(data.y_test)]).astype(float)
        rows = [["min", f"{y.min():.4g}"], ["max", f"{y.max():.4g}"], ["mean", f"{y.mean():.4g}"]]
        parts.append(html.table(["target", "value"], rows))
        return html.block(*parts)
    counts = data.counts()
    ids = data.class_ids or list(range(data.num_classes))
    renumbered = ids != list(range(data.num_classes))  # then the source's index is worth a column
    header = ["#", "class", *(["source index"] if renumbered else []), "train", "test"]
    rows = [
        [i, name, *([ids[i]] if renumbered else []), counts["train"][i], counts["test"][i]]
        for i, name in enumerate(data.class_names)
    ]
    if not data.is_image:
        parts.append(html.table(header, rows))
        return html.block(*parts)
    # images: the table gets a column of examples, one strip per class
    header.append(f"examples (first {EXAMPLES_PER_CLASS} training images)")
    labels = np.asarray(data.y_train)
    for i, row in enumerate(rows):
        members = np.flatnonzero(labels == i)[:EXAMPLES_PER_CLASS]
        if i >= MAX_CLASS_ROWS or not len(members):
            row.append("")
            continue
        images = np.asarray(data.x_train[members])
        size = images.shape[2]
        width = round(len(members) * (size + GAP) * SHOWN_SIZE / size)
        row.append(html.image(example_strip(images), alt=row[1], width=width, pixelated=True))
    parts.append(html.table(header, rows))
    if data.num_classes > MAX_CLASS_ROWS:
        parts.append(f"<p>examples shown for the first {MAX_CLASS_ROWS} classes</p>")
    return html.block(*parts)
