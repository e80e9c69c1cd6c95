"""The `zoo` command: a lazy click group, so `zoo --help` imports no command module."""

from __future__ import annotations

import importlib
import logging
import os
import sys

import click

from zoo import __version__
from zoo.cli.common import ZooGroup

COMMANDS = {
    "train": "zoo.cli.train:train",
    "sweep": "zoo.cli.sweep:sweep",
    "models": "zoo.cli.listing:models",
    "datasets": "zoo.cli.listing:datasets",
    "info": "zoo.cli.listing:info",
    "report": "zoo.cli.report:report",
    "compare": "zoo.cli.report:compare",
    "shift": "zoo.cli.shift:shift",
    "explain": "zoo.cli.explain:explain",
    "lr-find": "zoo.cli.explain:lr_find",
    "lab": "zoo.cli.lab:lab",
    "export": "zoo.cli.export:export",
    "serve": "zoo.cli.serve:serve",
}

HELP = {
    "train": "Train a model on a dataset and write a run folder.",
    "sweep": "Train a grid of configurations over seeds; the final table (mean ± sd).",
    "models": "List the registered models.",
    "datasets": "List the registered datasets.",
    "info": "Print a dataset's sizes and class counts.",
    "report": "Rebuild a run folder's report and figures.",
    "compare": "Put several runs in one table (the lab's final table).",
    "shift": "Test accuracy of runs on test images moved by a few pixels.",
    "explain": "The lecture's worked examples, step by step.",
    "lr-find": "Sweep the learning rate and suggest one.",
    "lab": "Run a whole lab for your variant and write its report.",
    "export": "Write a run's model as ONNX, LiteRT or a SavedModel, checked.",
    "serve": "A local web page to try image and tabular runs side by side.",
}


class LazyGroup(ZooGroup):
    """Imports a command's module only when that command runs (or its help is asked)."""

    def list_commands(self, ctx):
        return list(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name].split(":")
        return getattr(importlib.import_module(module), attr)

    def format_commands(self, ctx, formatter):
        # Help text from the table above: listing the commands must not import them.
        rows = [(name, HELP[name]) for name in COMMANDS]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
# the version from the package itself: the distribution is keras-zoo, and an older
# install may still be registered under another name
@click.version_option(version=__version__, prog_name="zoo")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=str),
    envvar="ZOO_CONFIG",
    help="Settings file (group, variant, department, author, data_dir, lang) [default: "
    "./zoo.toml over $XDG_CONFIG_HOME/zoo/zoo.toml; flags and $ZOO_* win over it].",
)
@click.pass_context
def cli(ctx, config_file):
    """zoo: Keras models, datasets and the lecture's training regimes.

    \b
    Examples:
      zoo train mlp digits
      zoo train mlp cifar100-3class --hidden 10 --lr 0.005 --batch-size 128 --epochs 250
      zoo sweep mlp digits --grid hidden=5,10,32 --seeds 3 --epochs 20
      zoo models
      zoo report reports/mlp-digits-20261127-101500 --lang ru
      zoo --config ~/course/zoo.toml lab 1
    """
    from zoo.cli.settings import apply_config

    apply_config(ctx, config_file, COMMANDS)


class PlainFormatter(logging.Formatter):
    """A log record as "zoo: message", or "zoo serve: message" for one a command's part of
    the library logs with `extra={"command": "serve"}` (as the command's own lines read)."""

    def format(self, record) -> str:
        command = getattr(record, "command", None)
        return f"zoo {command}: {record.getMessage()}" if command else f"zoo: {record.getMessage()}"


def plain_library_messages() -> None:
    """The library's warnings (`warnings.warn` in zoo's modules) and its "zoo" log records
    at WARNING and above, as one plain line each on stderr ("zoo: warning: ..."), not in
    Python's "file:line: UserWarning: ..." form. Others' warnings are shown as before."""
    import warnings

    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    shown = warnings.showwarning
    if getattr(shown, "zoo_plain", False):
        return

    def show(message, category, filename, lineno, file=None, line=None):
        if not os.path.abspath(filename).startswith(package + os.sep):
            return shown(message, category, filename, lineno, file, line)
        (file or sys.stderr).write(f"zoo: warning: {message}\n")

    show.zoo_plain = True  # type: ignore[attr-defined]
    warnings.showwarning = show
    handler = logging.StreamHandler()
    handler.setFormatter(PlainFormatter())
    handler.setLevel(logging.WARNING)
    logging.getLogger("zoo").addHandler(handler)


def main(argv=None):
    # TensorFlow's C++ start-up chatter (CUDA probing, oneDNN notes) is noise on a terminal.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    plain_library_messages()
    try:
        cli.main(args=argv, prog_name="zoo")
    except SystemExit as done:
        # As the `zoo` program (not called with arguments from Python), with TensorFlow
        # loaded: its teardown would cost a second after the work is done, so skip it.
        if argv is None and "tensorflow" in sys.modules:
            from zoo.backend import leave

            leave(done.code)
        raise
