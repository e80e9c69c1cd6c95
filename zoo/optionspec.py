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

import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

OWNERS = ("trainer", "builder", "loader", "sweep")


@dataclass(frozen=True)
class OptionSpec:
    """One option's description.

    `kind`: int, float, str or bool (the value the owner takes from text; on a dataclass
    field, None: the field's type says it, see `specs_of`); `min`, `max` and
    `min_open`, `max_open`: the range of a number; `choices`: the words it takes (matched
    without regard to case when `case_sensitive` is False); `parse(text, name)`: the owner's
    own rule turning text into its value (it raises `OptionError`), for values that are not
    one scalar (`hidden="64,32"`); `switch`: an on/off option given by its name alone
    (`--nesterov`); `negatable`: on and off by name (`--report/--no-report`); `folder`: a
    folder's path; `show_default`: the owner's default is the flag's default and shown as
    such (otherwise the flag gives None, "not given", and `help` says the default in words);
    `envvar`: an environment variable that gives the value; `short`: a one-letter spelling;
    `owner`: "trainer", "builder", "loader" or "sweep".
    """

    help: str = ""
    kind: type | None = None
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


KINDS = (bool, int, float, str)


def specs_of(cls) -> dict[str, tuple[OptionSpec, Any]]:
    """{field name: (its spec, its default)} for the fields of dataclass `cls` that carry one
    in `metadata["spec"]`, in the order they are declared; a spec without a `kind` takes the
    field's type (`int | None` -> int), so the type is written once.

        >>> from dataclasses import dataclass, field
        >>> @dataclass
        ... class Options:
        ...     folds: int | None = field(default=None, metadata={"spec": OptionSpec("Folds.")})
        >>> spec, default = specs_of(Options)["folds"]
        >>> spec.kind.__name__, default
        ('int', None)
    """
    hints = typing.get_type_hints(cls)
    found = {}
    for f in fields(cls):
        spec = f.metadata.get("spec")
        if spec is None:
            continue
        if spec.kind is None:
            kinds = [k for k in typing.get_args(hints[f.name]) or (hints[f.name],) if k in KINDS]
            if len(kinds) != 1:
                raise TypeError(f"{cls.__name__}.{f.name}: give its spec a kind")
            spec = replace(spec, kind=kinds[0])
        found[f.name] = (spec, f.default)
    return found


def with_owner(specs: Mapping[str, OptionSpec], owner: str) -> dict[str, OptionSpec]:
    """`specs` with `owner` set, and text as the kind where none is given (a table of one
    owner's options writes the owner once)."""
    return {name: replace(spec, owner=owner, kind=spec.kind or str) for name, spec in specs.items()}
