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
    check_model_value,
    click_options,
    command,
    complete_dataset,
    complete_model,
    dataset_kwargs,
    deprecated_alias,
    parse_model_options,
    typed_value,
)
from zoo.cli.train import train as train_command
from zoo.errors import OptionError

# The order of the sweep's own options in --help, before every `zoo train` option; each one's
# facts live in zoo.sweeps.options (defaults: `zoo.sweeps.sweep`'s)
ORDER = (
    *("spec", "grids", "variants", "seeds", "jobs", "threads", "executor", "address"),
    *("storage", "out", "tensorboard", "run_reports", "stack", "lab_variants", "old_lab_variant"),
    *("yes", "quiet"),
)
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


def _convert(ctx, name: str, text: str, where: str):
    """`text` as `zoo train --NAME text` would take it, or BadParameter naming `where`."""
    param = TRAIN_OPTIONS.get(name)
    if param is None or name in REPLACED:
        value = typed_value(text)  # an option with no flag (a model's own): 5, 0.1, true
        spec = ctx.params.get("spec") or ()
        if param is None and len(spec) == 2:  # as `zoo train MODEL DATASET -o NAME=...`
            check_model_value(spec[0], name, value, where)
        return value
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

    model_options = given.pop("model_options", ())
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
    if model_options:  # `-o NAME=VALUE`, once for every run, as `zoo train` takes it
        if dataset is None:
            raise click.UsageError("-o applies to MODEL DATASET; a sweep file names its options")
        model_options = parse_model_options(model, model_options, flagged=ctx.params)
        options.update(model_options)
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
        if err.option in model_options:  # the user wrote `-o NAME=...`, not `--NAME`
            raise OptionError(f"-o {err.option}", err.message) from None
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


def sweep_options() -> list[click.Option]:
    """The sweep's own options (`zoo.sweeps.options`), with `zoo.sweeps.sweep`'s defaults."""
    import inspect

    from zoo.sweeps import sweep as run_sweep
    from zoo.sweeps.options import SWEEP_OPTIONS

    defaults = inspect.signature(run_sweep).parameters
    return click_options({k: (spec, defaults[k].default) for k, spec in SWEEP_OPTIONS.items()})


_params = {p.name: p for p in [*sweep.params, *sweep_options()]}
sweep.params[:] = [_params.pop(name) for name in ORDER] + list(_params.values())
for _param in train_command.params:  # every `zoo train` option, after the sweep's own
    if isinstance(_param, click.Option) and (_param.name not in REPLACED or _param.name == "lang"):
        sweep.params.append(_param)
