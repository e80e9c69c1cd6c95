"""`zoo sweep`: the CLI face of `zoo.sweep`. Every `zoo train` option is taken, once for every
run, or swept with `--grid NAME=V1,V2` and `--setting "NAME=V NAME=V"`; each value is checked
by the very type `zoo train` checks it with.

`--variant` is the lab variant, as in every command. A configuration was once written
`--variant "NAME=V ..."`; a value with `=` is still taken as a `--setting`, with a warning (a
lab variant never holds one), and `--lab-variant` as `--variant`."""

from __future__ import annotations

import shlex
import tomllib

import click

from zoo.cli.common import (
    command,
    complete_dataset,
    complete_model,
    dataset_kwargs,
    deprecated_alias,
)
from zoo.cli.train import train as train_command
from zoo.errors import OptionError

EXECUTORS = ("local", "ray")  # zoo.sweeps.runner.EXECUTORS, without importing it
# `zoo train` options that a sweep replaces with its own: the folder, the output, the lab
# variant (also the old spelling of a configuration), the language (of the sweep's report too)
REPLACED = ("out", "quiet", "report", "variant", "lang", "tensorboard")
TRAIN_OPTIONS = {p.name: p for p in train_command.params if isinstance(p, click.Option)}
# library names whose flag here is not the plain one
FLAGS = {"variants": "setting"}


def _option_name(text: str) -> str:
    return text.strip().lstrip("-").replace("-", "_")


def _plain(value):
    """What the library takes: `--hidden 10` gives (10,), kept as 10; other tuples as lists."""
    if isinstance(value, tuple):
        return value[0] if len(value) == 1 else list(value)
    return value


def _typed(text: str):
    """A value for an option `zoo train` has no flag for (a model's own): 5, 0.1, true, text."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _convert(ctx, name: str, text: str, where: str):
    """`text` as `zoo train --NAME text` would take it, or BadParameter naming `where`."""
    param = TRAIN_OPTIONS.get(name)
    if param is None or name in REPLACED:
        return _typed(text)
    try:
        value = param.type.convert(text, param, ctx)
        if param.callback is not None:
            value = param.callback(ctx, param, value)
    except click.BadParameter as err:
        raise click.BadParameter(f"{text!r}: {err.message}", ctx, param_hint=f"'{where}'") from None
    value = dataset_kwargs(**{name: value}).get(name, value)  # --classes 0,55 is a list
    return _plain(value)


def _grid(ctx, items: tuple[str, ...]) -> dict:
    grid = {}
    for item in items:
        if "=" not in item:
            raise click.BadParameter(
                f"{item!r}: write NAME=V1,V2,... (e.g. hidden=5,10,32)", ctx, param_hint="'--grid'"
            )
        raw_name, raw = item.split("=", 1)
        name, raw = _option_name(raw_name), raw.strip()
        where = f"--grid {name.replace('_', '-')}"
        if raw.startswith("["):  # TOML's array: [[64, 32], 10] for values with commas
            try:
                texts = tomllib.loads(f"v = {raw}")["v"]
            except tomllib.TOMLDecodeError as err:
                raise click.BadParameter(f"{raw!r}: {err}", ctx, param_hint=f"'{where}'") from None
            texts = [",".join(map(str, v)) if isinstance(v, list) else str(v) for v in texts]
        else:
            texts = [part.strip() for part in raw.split(",") if part.strip()]
        grid[name] = [_convert(ctx, name, text, where) for text in texts]
    return grid


def _variants(ctx, items: tuple[str, ...]) -> list[dict]:
    variants = []
    for item in items:
        variant = {}
        try:
            words = shlex.split(item)
        except ValueError as err:
            raise click.BadParameter(f"{item!r}: {err}", ctx, param_hint="'--setting'") from None
        for word in words:
            if "=" not in word:
                raise click.BadParameter(
                    f'{word!r} in {item!r}: write NAME=VALUE pairs (e.g. "hidden=10 lr=0.005")',
                    ctx,
                    param_hint="'--setting'",
                )
            raw_name, text = word.split("=", 1)
            name = _option_name(raw_name)
            variant[name] = _convert(ctx, name, text, f"--setting {name.replace('_', '-')}")
        variants.append(variant)
    return variants


@command()
@click.argument(
    "spec",
    nargs=-1,
    required=True,
    metavar="MODEL DATASET | FILE.toml | SWEEP_DIR",
    shell_complete=lambda ctx, param, incomplete: _complete_spec(ctx, incomplete),
)
@click.option(
    "--grid",
    "grids",
    multiple=True,
    metavar="NAME=V1,V2",
    help="Sweep a `zoo train` option over these values (repeatable: the grid is their "
    "product). Values with commas: NAME=[[64,32],10].",
)
@click.option(
    "--setting",
    "variants",
    multiple=True,
    metavar='"NAME=V ..."',
    help='One configuration, e.g. "hidden=10 lr=0.005" (repeatable; each is crossed with '
    "the grid).",
)
@click.option(
    "--seeds",
    type=click.IntRange(min=1),
    help="Train every configuration with N seeds: --seed, --seed + 1, ... [default: 1].",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    help="Local worker processes [default, and at most: one per core].",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    help="Threads of each local worker [default: the cores shared out among the workers].",
)
@click.option("--executor", type=click.Choice(EXECUTORS), default="local", show_default=True)
@click.option(
    "--address",
    help="The Ray cluster's head, host:port (--executor ray) [default: $RAY_ADDRESS, else a "
    "Ray started here].",
)
@click.option(
    "--storage",
    type=click.Path(file_okay=False),
    help="A folder every Ray node and this machine see: run folders go through it instead "
    "of coming back as files.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="The sweep folder [default: reports/sweep-MODEL-DATASET-SWEPT; a sweep file: "
    "reports/FILE, or the folder of a sweep.toml].",
)
@click.option(
    "--tensorboard/--no-tensorboard",
    default=True,
    show_default=True,
    help="TensorBoard event files in every run folder: tensorboard --logdir SWEEP_DIR.",
)
@click.option("--run-reports", is_flag=True, help="A report.pdf in every run folder too.")
@click.option(
    "--stack/--no-stack",
    default=True,
    show_default=True,
    help="Train MLP runs that differ only in --hidden, --lr and --momentum together, as one "
    "program (same numbers up to float rounding, several times faster).",
)
@click.option(
    "--variant",
    "lab_variants",
    multiple=True,
    envvar="ZOO_VARIANT",
    help="Lab variant, for the title page (also $ZOO_VARIANT, zoo.toml's variant).",
)
@click.option(
    "--lab-variant",
    "old_lab_variant",
    hidden=True,
    callback=deprecated_alias("--lab-variant", "--variant"),
)
@click.option("--yes", is_flag=True, help="Train more than 1,000 runs without asking.")
@click.option(
    "-q", "--quiet", is_flag=True, help="No progress line; nothing printed unless a run fails."
)
@click.pass_context
def sweep(
    ctx,
    spec,
    grids,
    variants,
    seeds,
    jobs,
    threads,
    executor,
    address,
    storage,
    out,
    tensorboard,
    run_reports,
    stack,
    lab_variants,
    old_lab_variant,
    yes,
    quiet,
    lang,
    **given,
):
    """Train a grid of configurations, each with several seeds, and write a sweep folder:
    sweep.toml, runs/, summary.md/.csv/.tex (mean ± sd over seeds, best marked), figures and
    report.pdf. Running it again resumes: finished runs are not trained again.

    \b
    Examples:
      zoo sweep mlp digits --grid hidden=5,10,32 --seeds 3 --epochs 20
      zoo sweep mlp cifar100-3class --grid hidden=10,32 --grid lr=0.001,0.005 --seeds 5
      zoo sweep mlp gaussians --setting "mode=batch" --setting "mode=minibatch batch-size=16"
          --setting "mode=sample" --epochs 30
      zoo sweep lab1.toml --jobs 2 --lang ru
      zoo sweep mlp digits --grid lr=0.01,0.1 --executor ray --address 10.0.0.5:6379
    """
    from zoo.api import sweep as run_sweep

    source = ctx.get_parameter_source
    given_here = (click.core.ParameterSource.COMMANDLINE, click.core.ParameterSource.ENVIRONMENT)
    options = {
        name: _plain(value)
        for name, value in dataset_kwargs(**given).items()
        if source(name) in given_here
    }
    lab_variant, variants = _split_variants(lab_variants, variants, old_lab_variant)
    if lab_variant is not None:
        options["variant"] = lab_variant
    if len(spec) > 2:
        raise click.UsageError(
            f"give MODEL DATASET, a sweep file or a sweep folder, not {len(spec)} names"
        )
    model, dataset = spec if len(spec) == 2 else (spec[0], None)
    try:
        result = run_sweep(
            model,
            dataset,
            grid=_grid(ctx, grids) or None,
            variants=_variants(ctx, variants) or None,
            seeds=seeds,
            out=out,
            jobs=jobs,
            threads=threads,
            executor=executor,
            address=address,
            storage=storage,
            tensorboard=tensorboard,
            lang=lang,
            run_reports=run_reports,
            stack=stack,
            quiet=quiet,
            yes=yes,
            **options,
        )
    except OptionError as err:
        if err.option in FLAGS:
            raise OptionError(FLAGS[err.option], err.message) from None
        raise
    _summarise(result, lang, quiet)


def _complete_spec(ctx, incomplete: str):
    """A model name first, then a dataset name (a file or folder: the shell's own completion)."""
    before = ctx.params.get("spec") or ()
    if len(before) == 0:
        return complete_model(ctx, None, incomplete)
    if len(before) == 1:
        return complete_dataset(ctx, None, incomplete)
    return []


def _split_variants(given: tuple[str, ...], settings: tuple[str, ...], old: str | None):
    """(the lab variant, the configurations): `--variant NAME=V` is the old `--setting`."""
    configurations = tuple(v for v in given if "=" in v)
    labs = [v for v in given if "=" not in v] + ([old] if old is not None else [])
    if configurations:
        click.echo(
            "zoo: --variant NAME=V for a configuration is deprecated and will be removed; use "
            '--setting "NAME=V ..." (--variant is the lab variant)',
            err=True,
        )
    if len(set(labs)) > 1:
        raise click.UsageError(f"one lab variant, please: --variant {' and '.join(labs)}")
    return (labs[0] if labs else None), settings + configurations


def _summarise(result, lang: str, quiet: bool) -> None:
    from zoo.errors import EXIT_DIVERGED
    from zoo.i18n import t
    from zoo.sweeps.folder import SUMMARY
    from zoo.sweeps.summary import FINISHED

    if not quiet:
        click.echo(result.markdown(lang), nl=False)
        click.echo(t("report.written", lang, paths="".join(f"\n  {p}" for p in result.written)))
    unfinished = result.unfinished
    if unfinished:
        total = len(result.summary.outcomes)
        statuses = sorted({o.status for o in unfinished if o.status not in FINISHED})
        click.echo(
            f"zoo: {len(unfinished)} of {total} runs did not finish ({', '.join(statuses)}); "
            f"see {result.folder / (SUMMARY + '.md')}",
            err=True,
        )
        raise SystemExit(EXIT_DIVERGED)


for _param in train_command.params:  # every `zoo train` option, after the sweep's own
    if isinstance(_param, click.Option) and (_param.name not in REPLACED or _param.name == "lang"):
        sweep.params.append(_param)
