"""Convolutional network: conv blocks, optional pooling, dense layers, then a head.

The defaults are lab 2's example network (notebooks/Lab2.ipynb), on 32x32x3 images:

    Conv(32, 5x5, stride 4, padding 2) + ReLU   -> 8x8x32     2,432 parameters
    Conv(64, 3x3, stride 1, padding 1) + ReLU   -> 8x8x64    18,496
    AvgPool(4)                                  -> 2x2x64
    Flatten -> Dense(classes)                   -> 3            771    (21,699 in all)

`pooling` picks the lab's three tactics for the downsampling after a block: "avg" or "max"
pooling by `pool_size`, or "stride" (no pooling layer: the block's convolution takes a stride
`pool_size` times larger, so the maps and the parameters stay the same size).
"""

from __future__ import annotations

from zoo.errors import OptionError
from zoo.models.augment import augmentation_layers, parse_augment
from zoo.models.layers import (
    as_normalization,
    check_activation,
    check_init,
    check_paddings,
    check_units,
    dropout_layer,
    dropout_rates,
    initializers,
    kernel_penalty,
    output_layer,
    scale_inputs,
)
from zoo.models.registry import register_model

POOLINGS = ("avg", "max", "stride", "none")
LAB_CONV = {"conv": (32, 64), "kernel": (5, 3), "stride": (4, 1), "padding": (2, 1)}


def per_block(values: tuple, blocks: int, option: str, default=None) -> tuple:
    """One value per conv block: a single value applies to every block."""
    if len(values) == 1:
        return values * blocks
    if len(values) != blocks:
        was = f" (the default is the lab's {','.join(map(str, default))})" if default else ""
        raise OptionError(
            option,
            f"{len(values)} values for {blocks} conv block{'s' if blocks != 1 else ''}{was}: "
            "give one for all or one per block",
        )
    return values


def conv_output(size: int, kernel: int, stride: int, padding) -> int:
    """The side of a convolution's output map, as PyTorch and Keras compute it."""
    if padding == "same":
        return -(-size // stride)
    pad = 0 if padding == "valid" else int(padding)
    return (size + 2 * pad - kernel) // stride + 1


def keras_padding(kernel: int, stride: int, padding) -> tuple[str, int]:
    """(Keras's padding, pixels of zeros to add before the layer) for a lab-style padding.

    Keras convolutions pad "same" or "valid" only; an explicit padding is a ZeroPadding2D
    layer before a "valid" convolution - unless "same" pads exactly that much (an odd kernel
    at stride 1, `padding` = (kernel - 1) / 2), which spares the extra layer."""
    if padding in ("same", "valid"):
        return padding, 0
    if padding == 0:
        return "valid", 0
    if stride == 1 and kernel % 2 == 1 and padding == (kernel - 1) // 2:
        return "same", 0
    return "valid", int(padding)


def _channels(input_shape) -> tuple[int, int, int]:
    shape = tuple(input_shape)
    if len(shape) == 3:
        return shape
    if len(shape) == 2:
        return (*shape, 1)  # a grayscale image: one channel
    inputs = "×".join(map(str, shape))
    raise OptionError(
        "model",
        f"cnn convolves images (height × width, with or without channels); these inputs are "
        f"{inputs} values: use mlp, or an image set (cifar10, cifar100, mnist, fashion-mnist)",
    )


def plan_blocks(input_shape, conv, kernel, stride, padding, pooling, pool_size):
    """Per conv block (filters, kernel, stride, padding, pool), checked against the image:
    an OptionError names the option when a block's map would be empty."""
    conv = check_units(conv, "conv")
    if not conv:
        raise OptionError("conv", "give at least one conv block, e.g. 32,64")
    blocks = len(conv)
    kernel = per_block(check_units(kernel, "kernel"), blocks, "kernel", LAB_CONV["kernel"])
    stride = per_block(check_units(stride, "stride"), blocks, "stride", LAB_CONV["stride"])
    padding = per_block(check_paddings(padding), blocks, "padding", LAB_CONV["padding"])
    if pooling not in POOLINGS:
        raise OptionError("pooling", f"{pooling!r} is not one of {', '.join(POOLINGS)}")
    pools = per_block(check_units(pool_size, "pool_size"), blocks, "pool_size", (1, 4))
    if pooling == "none":
        pools = (1,) * blocks
    height, width, _ = _channels(input_shape)
    plan = []
    for i in range(blocks):
        k, s, p, pool = kernel[i], stride[i], padding[i], pools[i]
        if pooling == "stride":  # the pooling's downsampling moves into the convolution
            s, pool = s * pool, 1
        height, width = (conv_output(d, k, s, p) for d in (height, width))
        if min(height, width) < 1:
            raise OptionError(
                "kernel",
                f"conv block {i + 1}'s {k}×{k} kernel is larger than its padded input: "
                "use fewer blocks, smaller strides or kernels, or more padding",
            )
        if pool > 1:
            if min(height, width) < pool:
                raise OptionError(
                    "pool_size",
                    f"conv block {i + 1} gives a {height}×{width} map, smaller than the "
                    f"{pool}×{pool} pooling: use a smaller `pool_size=` or stride",
                )
            height, width = height // pool, width // pool
        plan.append({"filters": conv[i], "kernel": k, "stride": s, "padding": p, "pool": pool})
    return plan


@register_model
def cnn(
    input_shape,
    num_classes,
    *,
    conv=LAB_CONV["conv"],
    kernel=LAB_CONV["kernel"],
    stride=LAB_CONV["stride"],
    padding=LAB_CONV["padding"],
    pooling="avg",
    pool_size=(1, 4),
    batch_norm=False,
    dense=(),
    activation="relu",
    head="softmax",
    l1=0.0,
    l2=0.0,
    dropout=0.0,
    augment=None,
    normalization=None,
    init="glorot",
):
    """Convolutional network; the defaults are lab 2's example (21,699 parameters, 3 classes).

    Per conv block (one value for all blocks, or one per block): `conv` filters, `kernel`
    size, `stride`, `padding` (pixels of zeros as in PyTorch, or "same"/"valid"), `pool_size`
    (1: no pooling after that block). `pooling` "avg" | "max" | "stride" | "none";
    `batch_norm` adds BatchNormalization between each convolution and its activation.
    `dense`: hidden Dense sizes before the head. `l1`, `l2`: penalties on every kernel,
    convolutions included; `dropout`: a rate on the flattened features and after each dense
    layer, or one rate per place. `augment`: "flip,translate=0.1,rotate,zoom,contrast"
    (random layers active only while training). `init`: the starting weights, "glorot"
    (Keras's), "he", "lecun" or "torch" (PyTorch's nn.Conv2d and nn.Linear: kernel and bias
    U(±1/sqrt(fan_in)), fan_in = in_channels * kernel height * kernel width).
    """
    import keras

    shape = _channels(input_shape)
    plan = plan_blocks(input_shape, conv, kernel, stride, padding, pooling, pool_size)
    dense = check_units(dense, "dense")
    activation = check_activation(activation)
    rates = dropout_rates(dropout, len(dense) + 1)
    penalty = kernel_penalty(l1, l2)
    augments = parse_augment(augment)
    init = check_init(init)
    norm = as_normalization(normalization)

    inputs = keras.Input(shape=tuple(input_shape), name="inputs")
    x = inputs
    if len(input_shape) == 2:
        x = keras.layers.Reshape(shape, name="channels")(x)
    if augments:  # on the raw pixels, before scaling (contrast clips to their range)
        scale = norm.scale if norm is not None else 1.0
        top = 255.0 if scale == 1.0 else round(1.0 / scale, 6)
        for layer in augmentation_layers(augments, (0.0, top)):
            x = layer(x)
    x = scale_inputs(x, shape, norm)
    pool_layer = {"avg": keras.layers.AveragePooling2D, "max": keras.layers.MaxPooling2D}
    for i, block in enumerate(plan, start=1):
        k, s = block["kernel"], block["stride"]
        mode, pad = keras_padding(k, s, block["padding"])
        if pad:
            x = keras.layers.ZeroPadding2D(pad, name=f"conv_{i}_padding")(x)
        x = keras.layers.Conv2D(
            block["filters"],
            k,
            strides=s,
            padding=mode,
            activation=None if batch_norm else activation,
            use_bias=not batch_norm,  # the normalisation's shift is the bias
            kernel_regularizer=penalty,
            name=f"conv_{i}",
            **initializers(init, int(x.shape[-1]) * k * k),
        )(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(name=f"conv_{i}_bn")(x)
            x = keras.layers.Activation(activation, name=f"conv_{i}_{activation}")(x)
        if block["pool"] > 1:
            x = pool_layer[pooling](block["pool"], name=f"pool_{i}")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = dropout_layer(x, rates[0], name="dropout_0")
    for i, (units, rate) in enumerate(zip(dense, rates[1:], strict=True), start=1):
        x = keras.layers.Dense(
            units,
            activation=activation,
            kernel_regularizer=penalty,
            name=f"hidden_{i}",
            **initializers(init, int(x.shape[-1])),
        )(x)
        x = dropout_layer(x, rate, name=f"dropout_{i}")
    outputs = output_layer(x, head, num_classes, l1=l1, l2=l2, init=init)
    return keras.Model(inputs, outputs, name="cnn")
