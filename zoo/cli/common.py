"""What every command shares: turning user errors into exit code 2, common option types."""

from __future__ import annotations

import click

from zoo.errors import OptionError, ZooError


class UserError(click.ClickException):
    """A message without a traceback, exit code 2."""

    exit_code = 2


def _translate(ctx: click.Context, err: ZooError):
    if isinstance(err, OptionError):
        return click.UsageError(f"Invalid value for '{err.option}': {err.message}", ctx)
    return UserError(str(err))


class ZooCommand(click.Command):
    """A command whose `ZooError`s become usage errors or one-line messages, exit code 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ZooError as err:
            raise _translate(ctx, err) from None


class ZooGroup(click.Group):
    """A group (`zoo explain ...`) with the same error handling as `ZooCommand`."""

    command_class = ZooCommand

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ZooError as err:
            raise _translate(ctx, err) from None


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
            "--samples", type=click.IntRange(min=1), help="Examples to generate (synthetic sets)."
        ),
        click.option("--noise", type=click.FloatRange(min=0), help="Noise level (synthetic sets)."),
        click.option(
            "--classes", help="Classes to keep, by index or name: 0,55,58 or apple,otter."
        ),
        click.option("--label", type=click.Choice(["fine", "coarse"]), help="CIFAR-100 label set."),
        click.option(
            "--data-dir",
            type=click.Path(file_okay=False, path_type=str),
            # no envvar: the loaders that take a folder read $ZOO_DATA_DIR themselves, so
            # setting it does not make iris or digits refuse a --data-dir nobody typed
            help="Folder with the official archives (also $ZOO_DATA_DIR).",
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


def load_backend_quietly(backend: str | None = None) -> None:
    """Import Keras and its backend with the C++ start-up chatter of TensorFlow held back.

    TensorFlow prints its oneDNN and CUDA probing notes before its logging is set up, so no
    setting silences them; they go to a temporary file instead, shown only if the import fails.
    """
    import importlib.util
    import os
    import tempfile

    from zoo.training.backend import select_backend

    def load() -> None:
        name = select_backend(backend)
        # Keras imports an installed TensorFlow on any backend when it saves a model
        if name == "tensorflow" or importlib.util.find_spec("tensorflow") is not None:
            import tensorflow as tf

            tf.config.list_physical_devices("GPU")

    try:
        sink = tempfile.TemporaryFile(mode="w+b")
    except OSError:  # no writable temporary folder: the chatter is a lesser evil than failing
        load()
        return
    with sink:
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            load()
        except BaseException:
            os.dup2(saved, 2)
            sink.seek(0)
            os.write(2, sink.read())
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
