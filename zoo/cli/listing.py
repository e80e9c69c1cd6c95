"""`zoo models`, `zoo datasets`, `zoo info`: what is there, without importing TensorFlow."""

from __future__ import annotations

import click

from zoo.cli.common import command, dataset_kwargs, dataset_option_decorators


def _first_line(fn) -> str:
    return (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""


def _matching(registry, pattern: str | None) -> list[str]:
    """The names a pattern selects; none at all is a message, not an empty screen."""
    from zoo.errors import UnknownNameError

    names = registry.names(pattern)
    if not names and pattern:
        kind = registry.kind
        raise UnknownNameError(
            f"no {kind} name matches {pattern!r} (`zoo {kind}s` lists them all; "
            "patterns are shell wildcards such as 'mlp*' or '*xor')"
        )
    return names


@command()
@click.argument("pattern", required=False)
def models(pattern):
    """List the models, optionally filtered by a shell wildcard.

    \b
    Example:
      zoo models 'l*'
    """
    from zoo.models.registry import MODELS

    for name in _matching(MODELS, pattern):
        click.echo(f"{name:<14} {_first_line(MODELS.get(name))}")


@command()
@click.argument("pattern", required=False)
def datasets(pattern):
    """List the datasets, optionally filtered by a shell wildcard.

    \b
    Example:
      zoo datasets 'cifar*'
    """
    from zoo.datasets.registry import DATASETS

    for name in _matching(DATASETS, pattern):
        click.echo(f"{name:<16} {_first_line(DATASETS.get(name))}")


@command()
@click.argument("dataset")
@dataset_option_decorators
@click.option("--seed", type=int, help="Seed of generated sets and of the split.")
def info(dataset, seed, **data_options):
    """Print a dataset's sizes and class counts per split.

    \b
    Examples:
      zoo info digits
      zoo info cifar100 --classes apple,otter,pickup_truck --data-dir ~/data
    """
    from zoo.datasets.registry import load_dataset

    data = load_dataset(dataset, **dataset_kwargs(seed=seed, **data_options))
    click.echo(data.summary())
    presets = data.presets()
    if presets:  # what `zoo train MODEL DATASET` uses where no option is given
        click.echo("  training presets of `zoo train` (options given win):")
        width = max(len(which) for which, _, _ in presets) + 2
        named = max(len(name) for _, name, _ in presets) + 2
        for which, name, preset in presets:
            settings = ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in preset.items())
            click.echo(f"    {which:<{width}} {name:<{named}} {settings}")
