"""One linear neuron: weighted sum plus bias, trained on the squared error."""

from __future__ import annotations

from zoo.models.layers import input_block, output_layer
from zoo.models.registry import register_model


@register_model
def linear(
    input_shape, num_classes, *, head="linear", l1=0.0, l2=0.0, normalization=None, init="glorot"
):
    """The lecture's dataset-1 neuron: 2 inputs, 1 output, 2 weights and 1 bias.

    On a two-class set it predicts the class by thresholding its output at 0.5.
    `init`: the starting weights (see `zoo.models.layers.INITS`).
    """
    import keras

    inputs, x = input_block(input_shape, normalization)
    outputs = output_layer(x, head, num_classes, l1=l1, l2=l2, init=init)
    return keras.Model(inputs, outputs, name="linear")
