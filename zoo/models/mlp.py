"""Multi-layer perceptron: Dense hidden layers, then a head. The lab's FC(10)-ReLU-FC(3)."""

from __future__ import annotations

from zoo.models.layers import (
    check_activation,
    check_init,
    check_units,
    dropout_layer,
    dropout_rates,
    initializers,
    input_block,
    kernel_penalty,
    output_layer,
)
from zoo.models.registry import register_model


@register_model
def mlp(
    input_shape,
    num_classes,
    *,
    hidden=(10,),
    activation="relu",
    head="softmax",
    l1=0.0,
    l2=0.0,
    dropout=0.0,
    normalization=None,
    init="glorot",
):
    """Fully connected network; `hidden` lists the hidden layer sizes.

    `mlp((32, 32, 3), 3, hidden=(10,))` is the lab's network: flatten, FC(10), ReLU, FC(3).
    `l1`, `l2`: penalties on every kernel (the output layer's too); `dropout`: a rate after
    every hidden layer, or one per hidden layer (`(0.2, 0.5)` or "0.2,0.5").
    `init`: the starting weights, "glorot" (Keras's), "he", "lecun" or "torch" (PyTorch's
    nn.Linear: kernel and bias U(±1/sqrt(fan_in))).
    """
    import keras

    hidden = check_units(hidden)
    activation = check_activation(activation)
    rates = dropout_rates(dropout, len(hidden))
    init = check_init(init)
    penalty = kernel_penalty(l1, l2)
    inputs, x = input_block(input_shape, normalization)
    for i, (units, rate) in enumerate(zip(hidden, rates, strict=True), start=1):
        x = keras.layers.Dense(
            units,
            activation=activation,
            kernel_regularizer=penalty,
            name=f"hidden_{i}",
            **initializers(init, int(x.shape[-1])),
        )(x)
        x = dropout_layer(x, rate, name=f"dropout_{i}")
    outputs = output_layer(x, head, num_classes, l1=l1, l2=l2, init=init)
    return keras.Model(inputs, outputs, name="mlp")
