"""What the network learned: first-layer weights as images, its most confident mistakes.

The weights come from the run folder's model.keras. Reading the first Dense kernel straight
from the archive's weights file avoids importing TensorFlow for an image report; Keras loads
the model only when that shortcut does not fit (or to draw a decision boundary).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence

import numpy as np

from zoo.i18n import t
from zoo.reporting.model_table import dense_layers
from zoo.reporting.plot import DPI, pyplot
from zoo.reporting.samples import show_in_strips
from zoo.runfolder import RunFolder

MAX_UNITS = 32  # neurons drawn; the lab's hidden layer has 10


def _kernel_from_archive(path, inputs: int, units: int) -> np.ndarray | None:
    """Keras 3 stores the first Dense layer's kernel as layers/dense/vars/0 in model.weights.h5."""
    try:
        import h5py

        with zipfile.ZipFile(path) as archive:
            raw = archive.read("model.weights.h5")
        with h5py.File(io.BytesIO(raw), "r") as h5:
            kernel = h5.get("layers/dense/vars/0")
            if kernel is not None and tuple(kernel.shape) == (inputs, units):
                return np.asarray(kernel, dtype="float32")
    except (ImportError, OSError, KeyError, zipfile.BadZipFile):
        pass
    return None


def first_layer_kernel(run: RunFolder, model=None) -> np.ndarray | None:
    """The first Dense layer's weights, shape (inputs, neurons); None without a model.

    `model`: the trained model when the caller holds it; else read from model.keras."""
    dense = dense_layers(run.config.get("layers") or [])
    if (run.model_path is None and model is None) or not dense:
        return None
    if model is None:
        inputs, units = int(dense[0].get("inputs") or 0), int(dense[0]["units"])
        kernel = _kernel_from_archive(run.model_path, inputs, units)
        if kernel is not None:
            return kernel
        model = run.load_model()
    for layer in model.layers:
        if type(layer).__name__ == "Dense":
            return np.asarray(layer.kernel, dtype="float32")
    return None


def _as_image(values: np.ndarray) -> np.ndarray:
    """Scale to 0..1 for display; one channel becomes a 2-D array."""
    values = np.asarray(values, dtype=float)
    lo, hi = np.nanmin(values), np.nanmax(values)
    values = (values - lo) / (hi - lo) if hi > lo else np.zeros_like(values)
    return values[..., 0] if values.ndim == 3 and values.shape[-1] == 1 else values


def _image_grid(
    plt, images: Sequence[np.ndarray], titles: Sequence[str], columns: int, cell: float
):
    """Images in rows of `columns`, each `cell` inches wide with its title above, on one Axes.

    `images` are floats in 0..1, all of one shape (2-D: grey). One Axes holding one picture
    draws in a fraction of the time of an Axes per image (CIFAR's 32 neurons: 0.5 s)."""
    n = len(images)
    columns = max(1, min(columns, n))
    rows = max(1, -(-n // columns))
    height, width = images[0].shape[:2]
    lines = max(str(title).count("\n") + 1 for title in titles)
    per_inch = width / (0.85 * cell)  # the image fills 85% of its cell's width
    gap = round(0.15 * cell * per_inch)
    band = round((lines * 8 * 1.35 / 72 + 0.05) * per_inch)  # room for the titles (8 pt)
    pitch_y, pitch_x = band + height + gap, width + gap
    mosaic = np.ones((rows * pitch_y, columns * pitch_x - gap, *images[0].shape[2:]))
    for i, image in enumerate(images):
        top, left = (i // columns) * pitch_y + band, (i % columns) * pitch_x
        mosaic[top : top + height, left : left + width] = image
    size = (mosaic.shape[1] / per_inch, mosaic.shape[0] / per_inch)
    margin, head = 0.15, 0.55  # inches: sides and bottom, and the figure's title above
    fig = plt.figure(figsize=(size[0] + 2 * margin, size[1] + margin + head), dpi=DPI)
    fig_w, fig_h = fig.get_size_inches()
    ax = fig.add_axes((margin / fig_w, margin / fig_h, size[0] / fig_w, size[1] / fig_h))
    show_in_strips(ax, mosaic, pitch_y, cmap="gray" if mosaic.ndim == 2 else None, vmin=0, vmax=1)
    ax.axis("off")
    for i, title in enumerate(titles):
        top, left = (i // columns) * pitch_y + band, (i % columns) * pitch_x
        ax.text(left + width / 2 - 0.5, top - 1.5, title, fontsize=8, ha="center", va="bottom")
    return fig


def _suptitle(fig, text: str) -> None:
    """The figure's title in the band `_image_grid` leaves above the images."""
    fig.suptitle(text, y=1 - 0.1 / fig.get_size_inches()[1], va="top")


def first_layer_weights_figure(
    kernel: np.ndarray, image_shape: Sequence[int], *, lang: str = "en", layer: str = ""
):
    """Each first-layer neuron's weights drawn as an image of the input's shape (as in the lab).

    Bright pixels push the neuron's sum up, dark ones down; each image is scaled on its own.
    """
    plt = pyplot()
    units = min(kernel.shape[1], MAX_UNITS)
    images = [_as_image(kernel[:, i].reshape(tuple(image_shape))) for i in range(units)]
    titles = [t("report.neuron", lang, n=i + 1) for i in range(units)]
    fig = _image_grid(plt, images, titles, 8 if units > 10 else 5, cell=1.3)
    shown = f" ({units}/{kernel.shape[1]})" if units < kernel.shape[1] else ""
    _suptitle(fig, t("report.first_layer_weights", lang) + (f": {layer}" if layer else "") + shown)
    return fig


def weights_heatmap(kernel: np.ndarray, *, lang: str = "en", layer: str = ""):
    """A tabular model's first-layer weights: one row per neuron, one column per input."""
    plt = pyplot()
    units, inputs = kernel.shape[1], kernel.shape[0]
    # wide enough to tell the inputs apart, narrow enough to stay readable on a page
    size = (min(10.0, max(5.0, 0.3 * inputs + 2)), min(6.0, max(2.5, 0.3 * units + 1.5)))
    fig, ax = plt.subplots(figsize=size, dpi=DPI)
    limit = float(np.nanmax(np.abs(kernel))) or 1.0
    image = ax.imshow(kernel.T, cmap="coolwarm", vmin=-limit, vmax=limit, aspect="auto")
    fig.colorbar(image, ax=ax)
    ax.set_xlabel(t("report.input", lang))
    ax.set_ylabel(t("report.neuron_axis", lang))
    ax.set_title(t("report.first_layer_weights", lang) + (f": {layer}" if layer else ""))
    fig.tight_layout()
    return fig


def misclassified_figure(
    images: np.ndarray,
    true: np.ndarray,
    pred: np.ndarray,
    conf: np.ndarray,
    class_names: Sequence[str],
    *,
    lang: str = "en",
):
    """The test images the model got wrong most confidently, with true and predicted class."""
    plt = pyplot()
    titles = [
        t("report.true_short", lang, name=class_names[int(true[i])])
        + "\n"
        + t("report.pred_short", lang, name=class_names[int(pred[i])], conf=float(conf[i]))
        for i in range(len(images))
    ]
    fig = _image_grid(plt, [_shown(image) for image in images], titles, 4, cell=2.0)
    _suptitle(fig, t("report.misclassified", lang))
    return fig


def _shown(image: np.ndarray) -> np.ndarray:
    """An input image as it is shown, as floats in 0..1: 8-bit colour as stored, grey scaled
    to its own range (as imshow's grey colour map does), floats clipped."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim == 2:
        return _as_image(image)
    if image.dtype == np.uint8:
        return image / 255.0
    return np.clip(image.astype(float), 0.0, 1.0)


MAX_FILTERS = 32  # first-layer filters drawn; the lab's first convolution has 32
MAX_MAPS = 8  # feature maps drawn per convolution
MAX_CONVS = 4  # convolutions whose maps are drawn


def conv_filters_figure(kernel: np.ndarray, *, lang: str = "en", layer: str = ""):
    """The first convolution's filters as small images (RGB for a colour input, each scaled
    on its own): the patterns its neurons respond to, wherever they are in the image."""
    plt = pyplot()
    kh, kw, channels, filters = kernel.shape
    shown = min(filters, MAX_FILTERS)
    images = [
        _as_image(kernel[:, :, :, i] if channels in (1, 3) else kernel[:, :, :1, i])
        for i in range(shown)
    ]
    fig = _image_grid(plt, images, [str(i + 1) for i in range(shown)], 8, cell=0.9)
    more = f" ({shown}/{filters})" if shown < filters else ""
    _suptitle(
        fig, t("report.conv_filters", lang, layer=layer, kernel=f"{kh}×{kw}×{channels}") + more
    )
    return fig


def conv_maps(model, image: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(layer name, its output for `image`) for the first `MAX_CONVS` convolutions."""
    import keras

    convs = [layer for layer in model.layers if type(layer).__name__ == "Conv2D"][:MAX_CONVS]
    if not convs:
        return []
    probe = keras.Model(model.input, [layer.output for layer in convs])
    outputs = probe(np.asarray(image, dtype="float32")[None], training=False)
    outputs = outputs if isinstance(outputs, list | tuple) else [outputs]
    return [(layer.name, np.asarray(out)[0]) for layer, out in zip(convs, outputs, strict=True)]


def feature_maps_figure(image: np.ndarray, maps: list, *, label: str = "", lang: str = "en"):
    """A test image and, one row per convolution, its first feature maps: where in the image
    each filter found its pattern (bright: strong response)."""
    plt = pyplot()
    columns = 1 + min(MAX_MAPS, max(m.shape[-1] for _, m in maps))
    fig, axes = plt.subplots(
        len(maps), columns, figsize=(0.8 * columns + 0.6, 0.95 * len(maps) + 0.7), squeeze=False
    )
    for ax in axes.ravel():
        ax.axis("off")
    picture = np.asarray(image)
    gray = picture.ndim == 2 or picture.shape[-1] == 1
    for row, (name, values) in enumerate(maps):
        if row == 0:
            axes[0, 0].imshow(picture[..., 0] if picture.ndim == 3 and gray else picture,
                              cmap="gray" if gray else None)  # fmt: skip
            axes[0, 0].set_title(label, fontsize=7)
        else:
            axes[row, 0].text(0.5, 0.5, name, ha="center", va="center", fontsize=7)
        for i in range(min(MAX_MAPS, values.shape[-1])):
            axes[row, i + 1].imshow(values[:, :, i], cmap="viridis", interpolation="nearest")
            if i == 0:
                shape = "×".join(str(d) for d in values.shape)
                axes[row, i + 1].set_title(f"{name} {shape}", fontsize=7, loc="left")
    fig.suptitle(t("report.feature_maps", lang), fontsize=10)
    fig.tight_layout()
    return fig
