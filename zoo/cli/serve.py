"""`zoo serve RUN_DIR [RUN_DIR...]`: the CLI face of `zoo.serve`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from zoo.cli.common import command
from zoo.serve import HOST, PORT


@command()
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--host",
    default=HOST,
    show_default=True,
    help="Address to listen on. 127.0.0.1 is this computer only; 0.0.0.0 lets every machine "
    "on the network open the page and upload files, with no password.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=PORT,
    show_default=True,
    help="Port to listen on (0: any free one).",
)
def serve(run_dirs, host, port):
    """A local web page to try runs side by side; Ctrl-C stops it.

    Image runs: choose or drop a picture (scaled to the set's size) or draw a random test
    image, shift it with the arrow keys, and watch every model's top classes. Tabular runs:
    a form with one field per feature. The page works offline; the models run here, in
    Keras, from each run's model.keras.

    \b
    Examples:
      zoo serve reports/mlp-cifar100-3class-20261127-101500 reports/cnn-cifar100-3class-*
      zoo serve RUN_DIR --port 8080
    """
    from zoo.serve import serve as run

    def ready(url: str) -> None:
        click.echo(f"zoo serve: the page is at {url} (Ctrl-C stops)")
        sys.stdout.flush()  # a script waiting for the address reads it now

    run(run_dirs, host, port, ready=ready)
