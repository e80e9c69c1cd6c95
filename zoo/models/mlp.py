"""Multi-layer perceptron: Dense hidden layers, then a head. The lab's FC(10)-ReLU-FC(3)."""

from __future__ import annotations

from zoo.models.layers import check_activation, check_units, input_block, output_layer
from zoo.models.registry import register_model


@register_model
def mlp(
    input_shape, num_classes, *, hidden=(10,), activation="relu", head="softmax", normalization=None
):
    """Fully connected network; `hidden` lists the hidden layer sizes.

    `mlp((32, 32, 3), 3, hidden=(10,))` is the lab's network: flatten, FC(10), ReLU, FC(3).
    """
    import keras

    hidden = check_units(hidden)
    activation = check_activation(activation)
    inputs, x = input_block(input_shape, normalization)
    for i, units in enumerate(hidden, start=1):
        x = keras.layers.Dense(units, activation=activation, name=f"hidden_{i}")(x)
    outputs = output_layer(x, head, num_classes)
    return keras.Model(inputs, outputs, name="mlp")
