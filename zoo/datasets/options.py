"""The registered loaders' options as a user sees them: help, kind of value, choices.

Each loader takes the ones that apply to it and refuses the others with the dataset named
(`zoo.datasets.registry.option_not_taken`); the command line makes its flags from this table
(`zoo.cli.common`), so every dataset command offers the same ones.
"""

from __future__ import annotations

from zoo.datasets.fetch import SOURCES
from zoo.optionspec import OptionSpec, with_owner

LABELS = ("fine", "coarse")  # CIFAR-100's two label sets (`zoo.datasets.cifar`)

LOADER_OPTIONS: dict[str, OptionSpec] = with_owner(
    {
        "samples": OptionSpec(
            "Examples to generate (synthetic sets) [default: the set's own].", kind=int, min=1
        ),
        "noise": OptionSpec(
            "Noise level (synthetic sets) [default: the set's own].", kind=float, min=0
        ),
        "classes": OptionSpec(
            "Classes to keep, by index or name: 0,55,58 or apple,otter [default: all]."
        ),
        "label": OptionSpec("CIFAR-100 label set [default: fine].", choices=LABELS),
        "data_dir": OptionSpec(
            # no envvar: the loaders that take a folder read $ZOO_DATA_DIR themselves, so
            # setting it does not make iris or digits refuse a --data-dir nobody typed
            "Folder with the official archives (also $ZOO_DATA_DIR, zoo.toml's data_dir) "
            "[default: none; the cache and Keras's downloads are searched].",
            folder=True,
        ),
        "source": OptionSpec(
            "Where image data comes from (default: local copy, cache, then download).",
            choices=SOURCES,
        ),
    },
    "loader",
)

# The loader's `seed`, spelled `data_seed` beside the trainer's `seed` (weights and order)
DATA_SEED = OptionSpec(
    "Seed of a generated dataset and of its split [default: the loader's, 0].",
    kind=int,
    min=0,
    owner="loader",
)
