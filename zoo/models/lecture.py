"""The lecture's worked-example network, with the weights printed on its slides."""

from __future__ import annotations

import numpy as np

from zoo.errors import OptionError
from zoo.models.registry import register_model

INPUTS = (0.5, 0.9, -0.3)
HIDDEN_WEIGHTS = ((1.0, -2.0, 2.0), (2.0, 1.0, -4.0), (1.0, -1.0, 0.0))  # H1, H2, H3
OUTPUT_WEIGHTS = ((-3.0, 1.0, -3.0), (0.0, 1.0, 2.0))  # O1, O2


@register_model
def lecture_net(input_shape, num_classes, *, head="sigmoid"):
    """3 inputs -> 3 sigmoid neurons -> 2 sigmoid neurons, no biases, the lecture's weights."""
    import keras

    if tuple(input_shape) != (3,) or num_classes != 2 or head != "sigmoid":
        inputs = int(np.prod(input_shape))
        given = f"{inputs} inputs, {num_classes} outputs" + (
            f" and a {head} head" if head != "sigmoid" else ""
        )
        raise OptionError(
            "model",
            f"lecture-net is fixed at 3 inputs and 2 sigmoid outputs (the lecture's example: "
            f"zoo explain forward); this asks for {given}",
        )
    inputs = keras.Input(shape=(3,), name="inputs")
    hidden = keras.layers.Dense(3, activation="sigmoid", use_bias=False, name="hidden_1")
    output = keras.layers.Dense(2, activation="sigmoid", use_bias=False, name="output")
    model = keras.Model(inputs, output(hidden(inputs)), name="lecture_net")
    # Keras kernels are (inputs, units): each neuron's weights form a column
    hidden.set_weights([np.array(HIDDEN_WEIGHTS, dtype="float32").T])
    output.set_weights([np.array(OUTPUT_WEIGHTS, dtype="float32").T])
    return model
