"""`zoo export RUN_DIR --format onnx|litert|savedmodel`: the CLI face of `zoo.export`."""

from __future__ import annotations

from pathlib import Path

import click

from zoo.cli.common import command
from zoo.export import FORMATS


@command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="onnx",
    show_default=True,
    help="onnx (onnxruntime, the course's page), litert (phones, microcontrollers) or "
    "savedmodel (TensorFlow Serving, TF.js converters).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="File to write (a folder for savedmodel; an existing folder takes a file named after "
    "the run) [default: in the run folder: model.onnx, model.tflite, saved_model].",
)
@click.option(
    "--logits/--no-logits",
    default=None,
    help="Output the logits (before softmax) or the probabilities [default: logits for onnx "
    "of an image classifier, as the course's page expects; else the model's own outputs].",
)
@click.option(
    "--dynamic-batch",
    is_flag=True,
    help="Accept any batch size [default: batches of exactly one, as the course's page feeds].",
)
@click.option("--force", is_flag=True, help="Replace an export that is already there.")
def export(run_dir, fmt, out, logits, dynamic_batch, force):
    """Write a run's model for other runtimes, checked on the spot against Keras.

    The model takes raw inputs (its scaling is inside), its input is named `input` and its
    output `output`; the class names go beside it in NAME.labels.txt. The file is loaded
    again with its own runtime and compared with the Keras model on the run's test inputs;
    a difference above 1e-4 is an error and nothing is written. ONNX and LiteRT need
    `pip install 'keras-zoo[export]'`.

    \b
    Examples:
      zoo export reports/mlp-cifar100-3class-20261127-101500
      zoo export RUN_DIR --format litert --out phone/lab1.tflite
      zoo export RUN_DIR --format savedmodel --dynamic-batch --no-logits
    """
    from zoo.backend import start_backend
    from zoo.export import export_run

    start_backend("tensorflow")  # every format is traced with TensorFlow
    exported = export_run(
        run_dir, fmt, out=out, logits=logits, dynamic_batch=dynamic_batch, force=force
    )
    click.echo(exported.describe())
