"""`zoo models`, `zoo datasets`, `zoo info`: what is there, without importing TensorFlow.

With `--json` each prints one JSON document whose keys are part of the command's interface
(docs/cli.md lists them): scripts read those, not the text made for people.
"""

from __future__ import annotations

import inspect
import json

import click

from zoo.cli.common import (
    command,
    complete_dataset,
    complete_model,
    data_seed_options,
    dataset_kwargs,
    dataset_option_decorators,
    renamed_data_seed,
    resolve_data_seed,
)

JSON = click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON document (stable keys) instead."
)


def _first_line(fn) -> str:
    return (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""


def echo_json(document) -> None:
    """One JSON document on stdout, UTF-8 as it is (class names may be Cyrillic)."""
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


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


def _entries(registry, pattern: str | None) -> list[dict]:
    """name, description and options (with their defaults) of each entry matched."""
    from zoo.jsonable import to_jsonable

    entries = []
    for name in _matching(registry, pattern):
        options = {
            key: (None if value is inspect.Parameter.empty else to_jsonable(value))
            for key, value in registry.options(name).items()
        }
        entries.append(
            {"name": name, "description": _first_line(registry.get(name)), "options": options}
        )
    return entries


@command()
@click.argument("pattern", required=False, shell_complete=complete_model)
@JSON
def models(pattern, as_json):
    """List the models, optionally filtered by a shell wildcard.

    \b
    Examples:
      zoo models 'l*'
      zoo models --json
    """
    from zoo.models.registry import MODELS

    if as_json:
        echo_json({"models": _entries(MODELS, pattern)})
        return
    for name in _matching(MODELS, pattern):
        click.echo(f"{name:<14} {_first_line(MODELS.get(name))}")


@command()
@click.argument("pattern", required=False, shell_complete=complete_dataset)
@JSON
def datasets(pattern, as_json):
    """List the datasets, optionally filtered by a shell wildcard.

    \b
    Examples:
      zoo datasets 'cifar*'
      zoo datasets --json
    """
    from zoo.datasets.registry import DATASETS

    if as_json:
        entries = _entries(DATASETS, pattern)
        for entry in entries:  # the sets that read official files take a data folder
            entry["reads_files"] = "data_dir" in entry["options"]
        echo_json({"datasets": entries})
        return
    for name in _matching(DATASETS, pattern):
        click.echo(f"{name:<16} {_first_line(DATASETS.get(name))}")


@command()
@click.argument("dataset", required=False, shell_complete=complete_dataset)
@dataset_option_decorators
@data_seed_options
@JSON
def info(dataset, data_seed, old_seed, as_json, **data_options):
    """Print a dataset's sizes and class counts per split, and the settings in force
    (zoo.toml, the cache); without DATASET only the settings.

    \b
    Examples:
      zoo info digits
      zoo info cifar100 --classes apple,otter,pickup_truck --data-dir ~/data
      zoo info gaussians --data-seed 3 --json
      zoo info
    """
    data_seed = resolve_data_seed(data_seed, old_seed)
    settings = _settings()
    if dataset is None:
        if as_json:
            echo_json({"settings": settings})
        else:
            click.echo(_settings_text(settings))
        return
    from zoo.datasets.registry import load_dataset
    from zoo.errors import OptionError

    try:
        data = load_dataset(dataset, **dataset_kwargs(seed=data_seed, **data_options))
    except OptionError as err:
        raise renamed_data_seed(err) from None  # the loader's seed is --data-seed here
    presets = data.presets()
    if as_json:
        echo_json({**_dataset_document(data), "settings": settings})
        return
    click.echo(data.summary())
    if presets:  # what `zoo train MODEL DATASET` uses where no option is given
        click.echo("  training presets of `zoo train` (options given win):")
        width = max(len(which) for which, _, _ in presets) + 2
        named = max(len(name) for _, name, _ in presets) + 2
        for which, name, preset in presets:
            text = ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in preset.items())
            click.echo(f"    {which:<{width}} {name:<{named}} {text}")
    click.echo(_settings_text(settings))


def _dataset_document(data) -> dict:
    """`zoo info DATASET --json`: the keys docs/cli.md lists."""
    from zoo.datasets.base import CLASSIFICATION
    from zoo.jsonable import to_jsonable

    document = {
        "name": data.name,
        "task": data.task,
        "description": data.description,
        "input_shape": list(data.input_shape),
        "dtype": str(data.x_train.dtype),
        "train": len(data.x_train),
        "test": len(data.x_test),
        "classes": [],
        "presets": [
            {"models": which, "name": name, "options": to_jsonable(preset)}
            for which, name, preset in data.presets()
        ],
    }
    if data.task == CLASSIFICATION:
        counts = data.counts()
        ids = data.class_ids or list(range(data.num_classes))
        document["classes"] = [
            {
                "index": i,
                "name": name,
                "source_index": int(ids[i]),
                "train": counts["train"][i],
                "test": counts["test"][i],
            }
            for i, name in enumerate(data.class_names)
        ]
    return document


def _settings() -> dict:
    """The config files read, their settings, and where data and the cache are."""
    import os

    from zoo.cli.settings import current_config
    from zoo.config import user_config_file
    from zoo.datasets.cache import cache_dir
    from zoo.datasets.fetch import keras_dataset_folders

    config = current_config()
    return {
        "config_files": [str(p) for p in config.files],
        "user_config_file": str(user_config_file()),
        "config": dict(config.values),
        "data_dir": os.environ.get("ZOO_DATA_DIR") or None,
        "cache": str(cache_dir()),
        "keras_cache": [str(p) for p in keras_dataset_folders()],
    }


def _settings_text(settings: dict) -> str:
    files = ", ".join(settings["config_files"]) or (
        f"none (./zoo.toml or {settings['user_config_file']})"
    )
    lines = [f"config: {files}"]
    lines += [f"  {key} = {value!r}" for key, value in settings["config"].items()]
    lines.append(f"data folder: {settings['data_dir'] or '-'} (--data-dir, $ZOO_DATA_DIR)")
    lines.append(f"cache: {settings['cache']}")
    if settings["keras_cache"]:
        lines.append(f"Keras's downloads: {', '.join(settings['keras_cache'])}")
    return "\n".join(lines)
