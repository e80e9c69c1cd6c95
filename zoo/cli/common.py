"""What every command shares: errors and signals turned into messages and exit codes
(see zoo/errors.py), flags named from the library's arguments, common option types, and
click options made from the library's option specs (`zoo.optionspec`): a flag's help, type,
range, choices and shown default come from the option's owner, never restated here.

A spec's `parse` is the owner's own rule; its `OptionError` becomes a usage error here. The
options of a builder without flags of its own (a plugin's) come in as `-o NAME=VALUE`, each
value read as a TOML scalar or array (5, 0.1, true, "text", [64, 32]), else kept as text."""

from __future__ import annotations

import errno
import re
import tomllib
import traceback
from collections.abc import Iterable, Mapping
from typing import Any

import click

from zoo import interrupts
from zoo.errors import EXIT_CRASH, OptionError, ZooError
from zoo.optionspec import OptionSpec
from zoo.registry import canonical

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
    """The options every dataset command shares (`zoo.datasets.options`); each goes to the
    loader only when given."""
    from zoo.datasets.options import LOADER_OPTIONS

    for name in reversed(list(LOADER_OPTIONS)):  # the first listed comes first in --help
        decls, kwargs = option_arguments(name, LOADER_OPTIONS[name])
        f = click.option(*decls, **kwargs)(f)
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
    from zoo.datasets.options import DATA_SEED

    decls, kwargs = option_arguments("data_seed", DATA_SEED)
    return click.option(*decls, **kwargs)(f)


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


# -- flags made from the library's option specs (zoo.optionspec) ----------------------------
MODEL_OPTION = "model_options"  # the parameter of `-o NAME=VALUE`


def click_type(spec: OptionSpec) -> click.ParamType | type | None:
    """The click type mirroring `spec`: a choice, a range, a folder or a plain kind."""
    if spec.choices is not None:
        return Choice(list(spec.choices), case_sensitive=spec.case_sensitive)
    if spec.folder:
        return click.Path(file_okay=False, path_type=str)
    if spec.kind in (int, float) and (spec.min is not None or spec.max is not None):
        ranged = click.IntRange if spec.kind is int else click.FloatRange
        return ranged(spec.min, spec.max, min_open=spec.min_open, max_open=spec.max_open)
    if spec.kind in (int, float):
        return spec.kind
    return None  # text, or an on/off switch: click's own


def _parsed(spec: OptionSpec):
    """A click callback applying the owner's rule (`spec.parse`) to the text given."""

    def callback(ctx, param, value):
        from zoo.errors import OptionError

        if value is None:
            return None
        try:
            return spec.parse(value, param.name)
        except OptionError as err:
            raise click.BadParameter(err.message) from None

    return callback


def click_option(name: str, spec: OptionSpec, default: Any = None) -> click.Option:
    """The `click.Option` of option `name` (the library's keyword) described by `spec`;
    `default` is the owner's, used when `spec.show_default` (otherwise None: not given)."""
    decls, kwargs = option_arguments(name, spec, default)
    return click.Option(decls, **kwargs)


def option_arguments(name: str, spec: OptionSpec, default: Any = None):
    """(declarations, keywords) of `click.Option` for option `name` described by `spec`."""
    long = flag(name)
    decls = [f"{long}/--no-{long[2:]}"] if spec.negatable else [long]
    if spec.short:
        decls.insert(0, spec.short)
    kwargs: dict[str, Any] = {"help": spec.help or None}
    if spec.switch:
        kwargs["is_flag"] = True
    elif spec.negatable:
        kwargs["default"] = default if spec.show_default else None
    else:
        kwargs["type"] = click_type(spec)
    if spec.show_default:
        kwargs["default"] = default
        kwargs["show_default"] = True
    if spec.envvar:
        kwargs["envvar"] = spec.envvar
    if spec.parse is not None:
        kwargs["callback"] = _parsed(spec)
    return [*decls, name], kwargs


def click_options(
    specs: Mapping[str, tuple[OptionSpec, Any]], order: Iterable[str] = ()
) -> list[click.Option]:
    """The options of `specs` ({name: (spec, default)}): those named in `order` first, in
    that order, then the rest as declared (a new option gets its flag without being listed)."""
    order = [name for name in order if name in specs]
    names = order + [name for name in specs if name not in order]
    return [click_option(name, *specs[name]) for name in names]


def model_option_flag() -> click.Option:
    """`-o NAME=VALUE`: a model builder's keyword option that has no flag of its own."""
    return click.Option(
        ["-o", "--model-option", MODEL_OPTION],
        multiple=True,
        metavar="NAME=VALUE",
        help="An option of the model's builder, e.g. -o width=8 for a model of one's own "
        "(repeatable; values as in TOML: 8, 0.1, true, [64,32], text).",
    )


def typed_value(text: str) -> Any:
    """A value written on the command line, by TOML's rules: 5, 0.1, true, [64, 32],
    "quoted text"; anything TOML does not read is kept as text (`relu`)."""
    try:
        return tomllib.loads(f"v = {text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        return text.strip()


def parse_model_options(model: str, items: Iterable[str], flagged: Iterable[str] = ()):
    """{name: value} from `-o NAME=VALUE` items for registered `model`; a usage error for an
    item without `=`, a name given twice or one with a flag of its own (in `flagged`), and
    for a value of another kind than the builder's default (`-o width=wide`)."""
    found: dict[str, Any] = {}
    flagged = set(flagged)
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not name.isidentifier():
            raise click.BadParameter(
                f"{item!r}: write NAME=VALUE (e.g. -o width=8)", param_hint="'-o'"
            )
        if name in found:
            raise click.BadParameter(f"{name!r} is given twice", param_hint="'-o'")
        if name in flagged:
            raise click.BadParameter(
                f"{name!r} has a flag of its own: {flag(name)} {text}", param_hint="'-o'"
            )
        found[name] = typed_value(text)
    for name, value in found.items():
        check_model_value(model, name, value, "-o")
    return found


def check_model_value(model: str, name: str, value: Any, where: str) -> None:
    """A usage error naming `where` when `value` (read by `typed_value`) is a scalar of
    another kind than the default of registered `model`'s option `name`; nothing for a name
    the builder does not take (`resolve` names it) or a model that is not registered."""
    from zoo.models.registry import MODELS

    if model not in MODELS:
        return
    defaults = MODELS.options(model)
    kind = _unlike_default(value, defaults.get(name))
    if kind is not None:
        raise click.BadParameter(
            f"{name}={value!r}: {canonical(model)}'s {name} is {kind} "
            f"(its default is {defaults[name]!r})",
            param_hint=f"'{where}'",
        )


def _unlike_default(value: Any, default: Any) -> str | None:
    """What a builder's scalar default says its option is ("a whole number", "a number",
    "true or false"), when `value` is a scalar of another kind; None when it may be right
    (a list, or an option whose default says nothing: None)."""
    if isinstance(value, list | dict):
        return None  # e.g. one rate per layer where the default is one rate
    if isinstance(default, bool):
        return None if isinstance(value, bool) else "true or false"
    if isinstance(default, int):
        return None if isinstance(value, int) and not isinstance(value, bool) else "a whole number"
    if isinstance(default, float):
        return (
            None if isinstance(value, int | float) and not isinstance(value, bool) else "a number"
        )
    return None
