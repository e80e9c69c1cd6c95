"""The registered builders' options as a user sees them: help, kind of value, choices.

The builders (`zoo.models.mlp`, `cnn`, ...) take these as keywords and check them; the
command line makes its flags from this table (`zoo.cli.common`). A text value that is not one
scalar (`--hidden 64,32`) is read by the builders' own rule (`parse`), so `--hidden 0` is
refused with the builder's words before anything is loaded. A builder of one's own (a
plugin's) is reached with `-o NAME=VALUE`; see docs/engine.md.
"""

from __future__ import annotations

from typing import Any

from zoo.models.augment import parse_augment
from zoo.models.cnn import POOLINGS
from zoo.models.layers import (
    ACTIVATIONS,
    HEADS,
    INITS,
    check_paddings,
    check_units,
    parse_rates,
)
from zoo.optionspec import OptionSpec, with_owner


def _units(text: str, name: str) -> tuple[int, ...]:
    return check_units(text, name)


def _rates(text: str, name: str) -> float | tuple[float, ...]:
    rates = parse_rates(text)
    return rates[0] if len(rates) == 1 else rates


def _paddings(text: str, name: str) -> tuple:
    return check_paddings(text)


def _augment(text: str, name: str) -> dict[str, Any]:
    return parse_augment(text)


BUILDER_OPTIONS: dict[str, OptionSpec] = with_owner(
    {
        "l2": OptionSpec(
            "L2 penalty l2·Σw² on every kernel, convolutions too (registered models) [default: 0].",
            kind=float,
            min=0,
        ),
        "l1": OptionSpec(
            "L1 penalty l1·Σ|w| on every kernel, convolutions too (registered models) "
            "[default: 0].",
            kind=float,
            min=0,
        ),
        "dropout": OptionSpec(
            "Dropout rate after every hidden layer, or one per hidden layer: 0.2 or 0.2,0.5 "
            "(mlp; cnn: on the flattened maps and after each --dense layer) [default: 0, none].",
            parse=_rates,
        ),
        "hidden": OptionSpec(
            "Hidden layer sizes, e.g. 10 or 64,32 (mlp) [default: 10, the lab's FC(10)].",
            parse=_units,
        ),
        "activation": OptionSpec(
            "Hidden activation (mlp, cnn) [default: relu, or the model's preset].",
            choices=ACTIVATIONS,
        ),
        "init": OptionSpec(
            "Starting weights: glorot (Keras's), he, lecun, torch (PyTorch's nn.Linear/Conv2d) "
            "[default: glorot, or the dataset's preset: torch for the course's mlp and cnn on "
            "CIFAR-100].",
            choices=INITS,
        ),
        "conv": OptionSpec(
            "Filters of each conv block, e.g. 32,64 (cnn) [default: the lab's 32,64].",
            parse=_units,
        ),
        "kernel": OptionSpec(
            "Kernel size per conv block, or one for all (cnn) [default: 5,3].", parse=_units
        ),
        "stride": OptionSpec(
            "Stride per conv block, or one for all (cnn) [default: 4,1].", parse=_units
        ),
        "padding": OptionSpec(
            "Zeros around each conv block's input, in pixels as in PyTorch, or same/valid: "
            "2,1 or same (cnn) [default: 2,1].",
            parse=_paddings,
        ),
        "pooling": OptionSpec(
            "Downsampling after a block: avg or max pooling, stride (the convolution's stride "
            "times --pool-size instead), none (cnn) [default: avg].",
            choices=POOLINGS,
        ),
        "pool_size": OptionSpec(
            "Pooling size per conv block, 1 for none, or one for all (cnn) [default: 1,4].",
            parse=_units,
        ),
        "batch_norm": OptionSpec(
            "Batch normalisation after each convolution (cnn) [default: off].",
            kind=bool,
            negatable=True,
        ),
        "dense": OptionSpec(
            "Hidden Dense sizes before the head, e.g. 128 (cnn) [default: none].", parse=_units
        ),
        "augment": OptionSpec(
            "Random changes of the training images inside the model, e.g. "
            "flip,translate=0.1,rotate=10,zoom=0.1,contrast=0.2 (cnn; only while training).",
            parse=_augment,
        ),
        "head": OptionSpec(
            "Output layer and its loss [default: softmax; linear for a regression set].",
            choices=HEADS,
        ),
    },
    "builder",
)
