"""Logistic regression: one Dense layer straight from the inputs to the head."""

from __future__ import annotations

from zoo.models.layers import input_block, output_layer
from zoo.models.registry import register_model


@register_model
def logistic(
    input_shape, num_classes, *, head="softmax", l1=0.0, l2=0.0, normalization=None, init="glorot"
):
    """Multinomial (softmax) or one-vs-rest (sigmoid) logistic regression; `init`: the
    starting weights (see `zoo.models.layers.INITS`)."""
    import keras

    inputs, x = input_block(input_shape, normalization)
    outputs = output_layer(x, head, num_classes, l1=l1, l2=l2, init=init)
    return keras.Model(inputs, outputs, name="logistic")
