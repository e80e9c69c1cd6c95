"""What every command shares: errors and signals turned into messages and exit codes
(see zoo/errors.py), flags named from the library's arguments, common option types."""

from __future__ import annotations

import errno
import re
import traceback

import click

from zoo import interrupts
from zoo.errors import EXIT_CRASH, OptionError, ZooError

# Library arguments whose flag is not simply `--` + the name with hyphens
FLAGS = {
    "fmt": "--format",
    "formats": "--format",
    "run_dir": "RUN_DIR",
    "run_dirs": "RUN_DIR",
    "model": "MODEL",
    "dataset": "DATASET",
}


class UserError(click.ClickException):
    """A message without a traceback; the exit code of the error behind it (2 by default)."""

    exit_code = 2

    def __init__(self, message: str, exit_code: int = 2):
        super().__init__(message)
        self.exit_code = exit_code


def flag(name: str) -> str:
    """The command-line spelling of a library argument: batch_size -> --batch-size.

    Names that are not Python arguments (KERAS_BACKEND, a file's name) stay as they are."""
    if name in FLAGS:
        return FLAGS[name]
    if re.fullmatch(r"[a-z][a-z0-9_]*", name):
        return "--" + name.replace("_", "-")
    return name


def _flags_in(message: str) -> str:
    """`hidden=` -> --hidden, `force=True` -> --force, `fmt='md'` -> --format md."""

    def one(match: re.Match) -> str:
        name, value = match.group(1), match.group(2).strip("'\"")
        if value in ("", "True"):
            return flag(name)
        return f"{flag(name)} {value}"

    return re.sub(r"`([a-z][a-z0-9_]*)=([^`]*)`", one, message)


def _translate(ctx: click.Context, err: ZooError):
    if isinstance(err, OptionError):
        return click.UsageError(
            f"Invalid value for '{flag(err.option)}': {_flags_in(err.message)}", ctx
        )
    return UserError(_flags_in(str(err)), err.exit_code)


class ZooCommand(click.Command):
    """A command whose `ZooError`s become usage errors or one-line messages."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ZooError as err:
            raise _translate(ctx, err) from None


class ZooGroup(click.Group):
    """A group (`zoo`, `zoo explain`): its commands' errors and signals become exit codes.

    SIGINT, SIGTERM and SIGHUP stop any command cleanly with 128 + the signal's number;
    a bug prints its traceback and exits with EXIT_CRASH, never a code that means something
    else (1 is "the run diverged").
    """

    command_class = ZooCommand

    def invoke(self, ctx):
        with interrupts.handled():
            try:
                return super().invoke(ctx)
            except ZooError as err:
                raise _translate(ctx, err) from None
            except KeyboardInterrupt as err:
                signum = interrupts.signal_of(err)
                interrupts.acknowledge()
                click.echo(f"zoo: stopped by {interrupts.Interrupted(signum).name}", err=True)
                raise click.exceptions.Exit(128 + signum) from None
            except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
                raise
            except OSError as err:
                if err.errno != errno.ENAMETOOLONG:  # anything else reaching here is a bug
                    _crash()
                # a path typed by the user (or made from one) longer than the file system takes
                name = str(err.filename)
                short = name if len(name) <= 80 else name[:40] + "…" + name[-30:]
                raise UserError(f"file name too long for the file system: {short!r}") from None
            except Exception:
                _crash()


def _crash() -> None:
    """The traceback being handled, a line saying it is a bug, exit EXIT_CRASH."""
    click.echo(traceback.format_exc(), err=True, nl=False)
    click.echo("zoo: internal error (the traceback above is a bug)", err=True)
    raise click.exceptions.Exit(EXIT_CRASH) from None


class Choice(click.Choice):
    """`click.Choice` whose error says when the bad value came from an environment variable.

    Otherwise `ZOO_LANG=xx zoo train ...` blames an option nobody typed.
    """

    def convert(self, value, param, ctx):
        try:
            return super().convert(value, param, ctx)
        except click.BadParameter as err:
            source = ctx.get_parameter_source(param.name) if ctx and param else None
            if source is click.core.ParameterSource.ENVIRONMENT and param.envvar:
                names = [param.envvar] if isinstance(param.envvar, str) else param.envvar
                err.message = err.message.rstrip(".") + f" (from ${' or $'.join(names)})."
            raise


def command(**kwargs):
    """`@command()` is `@click.command(cls=ZooCommand)` with `-h` as help too."""
    kwargs.setdefault("context_settings", {"help_option_names": ["-h", "--help"]})
    return click.command(cls=ZooCommand, **kwargs)


def split_list(value: str | None) -> list[str] | None:
    """ "a, b,c" -> ["a", "b", "c"]; None stays None."""
    if value is None:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


def dataset_option_decorators(f):
    """The options every dataset command shares; each goes to the loader only when given."""
    options = [
        click.option(
            "--samples",
            type=click.IntRange(min=1),
            help="Examples to generate (synthetic sets) [default: the set's own].",
        ),
        click.option(
            "--noise",
            type=click.FloatRange(min=0),
            help="Noise level (synthetic sets) [default: the set's own].",
        ),
        click.option(
            "--classes",
            help="Classes to keep, by index or name: 0,55,58 or apple,otter [default: all].",
        ),
        click.option(
            "--label",
            type=click.Choice(["fine", "coarse"]),
            help="CIFAR-100 label set [default: fine].",
        ),
        click.option(
            "--data-dir",
            type=click.Path(file_okay=False, path_type=str),
            # no envvar: the loaders that take a folder read $ZOO_DATA_DIR themselves, so
            # setting it does not make iris or digits refuse a --data-dir nobody typed
            help="Folder with the official archives (also $ZOO_DATA_DIR, zoo.toml's data_dir) "
            "[default: none; the cache and Keras's downloads are searched].",
        ),
        click.option(
            "--source",
            type=click.Choice(["auto", "local", "download", "tfds"]),
            help="Where image data comes from (default: local copy, cache, then download).",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def dataset_kwargs(**given) -> dict:
    """Only the dataset options the user set (None means "not given")."""
    kwargs = {k: v for k, v in given.items() if v is not None}
    if "classes" in kwargs:
        kwargs["classes"] = split_list(kwargs["classes"])
    return kwargs


def _complete(registry_path: str):
    """A click `shell_complete` giving the registered names that start with what is typed."""

    def complete(ctx, param, incomplete):
        import importlib

        from click.shell_completion import CompletionItem

        module, attr = registry_path.split(":")
        registry = getattr(importlib.import_module(module), attr)
        return [
            CompletionItem(name)
            for name in registry.names()
            if name.startswith(incomplete.lower().replace("_", "-"))
        ]

    return complete


complete_model = _complete("zoo.models.registry:MODELS")
complete_dataset = _complete("zoo.datasets.registry:DATASETS")


def deprecated_alias(old: str, new: str):
    """A callback for a hidden old spelling: it still works, with a warning naming the new."""

    def warn(ctx, param, value):
        source = ctx.get_parameter_source(param.name)
        if value is not None and source is click.core.ParameterSource.COMMANDLINE:
            click.echo(f"zoo: {old} is deprecated here and will be removed; use {new}", err=True)
        return value

    return warn


def data_seed_options(f):
    """--data-seed, and --seed as its hidden deprecated spelling (`zoo info`)."""
    f = click.option(
        "--seed",
        "old_seed",
        type=click.IntRange(min=0),
        hidden=True,
        callback=deprecated_alias("--seed", "--data-seed"),
    )(f)
    return click.option(
        "--data-seed",
        type=click.IntRange(min=0),
        help="Seed of a generated dataset and of its split [default: the loader's, 0].",
    )(f)


def resolve_data_seed(data_seed: int | None, old_seed: int | None) -> int | None:
    """--data-seed, else the deprecated --seed; both at once must agree."""
    if data_seed is not None and old_seed is not None and data_seed != old_seed:
        raise click.UsageError(f"--data-seed {data_seed} and --seed {old_seed} disagree")
    return data_seed if data_seed is not None else old_seed


def renamed_data_seed(err: OptionError) -> OptionError:
    """A loader's `seed=` error as the command's --data-seed (its --seed is another seed)."""
    if err.option != "seed":
        return err
    return OptionError("data_seed", err.message.replace("`seed=`", "`data_seed=`"))
