"""How an option is described to a user: its help, the kind of value it takes, its range or
choices and the default worth showing. One `OptionSpec` sits next to the option's owner:
`field(metadata={"spec": ...})` on `zoo.training.options.TrainOptions`, `BUILDER_OPTIONS` in
`zoo.models.options`, `LOADER_OPTIONS` in `zoo.datasets.options`. The command line builds
its flags from them (`zoo.cli.common`), so a default or a list of choices is written once.

A spec describes; it does not validate. The owner's own checks (`TrainOptions.check`, the
builders, the loaders) stay the rule, and a flag's type only mirrors them so that a typo is
a usage error before anything is loaded. Nothing here imports click or Keras.

    >>> spec = OptionSpec("Learning rate.", kind=float, min=0, min_open=True)
    >>> spec.kind.__name__, spec.min, spec.min_open
    ('float', 0, True)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

OWNERS = ("trainer", "builder", "loader")


@dataclass(frozen=True)
class OptionSpec:
    """One option's description.

    `kind`: int, float, str or bool (the value the owner takes from text); `min`, `max` and
    `min_open`, `max_open`: the range of a number; `choices`: the words it takes (matched
    without regard to case when `case_sensitive` is False); `parse(text, name)`: the owner's
    own rule turning text into its value (it raises `OptionError`), for values that are not
    one scalar (`hidden="64,32"`); `switch`: an on/off option given by its name alone
    (`--nesterov`); `negatable`: on and off by name (`--report/--no-report`); `folder`: a
    folder's path; `show_default`: the owner's default is the flag's default and shown as
    such (otherwise the flag gives None, "not given", and `help` says the default in words);
    `envvar`: an environment variable that gives the value; `short`: a one-letter spelling;
    `owner`: "trainer", "builder" or "loader".
    """

    help: str = ""
    kind: type = str
    min: float | None = None
    max: float | None = None
    min_open: bool = False
    max_open: bool = False
    choices: tuple[str, ...] | None = None
    case_sensitive: bool = True
    parse: Callable[[Any, str], Any] | None = None
    switch: bool = False
    negatable: bool = False
    folder: bool = False
    show_default: bool = False
    envvar: str | None = None
    short: str | None = None
    owner: str = "trainer"

    def __post_init__(self):
        if self.owner not in OWNERS:
            raise ValueError(f"owner {self.owner!r} is not one of {', '.join(OWNERS)}")


def specs_of(cls) -> dict[str, tuple[OptionSpec, Any]]:
    """{field name: (its spec, its default)} for the fields of dataclass `cls` that carry one
    in `metadata["spec"]`, in the order they are declared."""
    found = {}
    for f in fields(cls):
        spec = f.metadata.get("spec")
        if spec is not None:
            found[f.name] = (spec, f.default)
    return found


def with_owner(specs: Mapping[str, OptionSpec], owner: str) -> dict[str, OptionSpec]:
    """`specs` with `owner` set (a table of one owner's options writes it once)."""
    from dataclasses import replace

    return {name: replace(spec, owner=owner) for name, spec in specs.items()}
