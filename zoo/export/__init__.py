"""Models leave the zoo: a run's Keras model as ONNX, LiteRT or a TensorFlow SavedModel.

The exported model takes what `model.keras` takes, raw inputs with the scaling inside, and
is checked on the spot: the written file is loaded with its own runtime (onnxruntime, the
LiteRT interpreter, `tf.saved_model.load`) and its outputs on the run's test inputs are
compared with the Keras model's. Every format names its input `input` and its output
`output`; a labels file (the class names in output order) is written beside it.

    >>> from zoo.export import export_run
    >>> exported = export_run("reports/mlp-cifar100-3class-20261127-101500")  # doctest: +SKIP
    >>> print(exported.describe())                                            # doctest: +SKIP

For an image run, ONNX is written by default as the course's browser page reads it: input
`input` of shape [1, H, W, C], float32 pixel values 0-255 (NHWC), output `output` holding one
logit per class (the page applies softmax itself).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zoo.export.options import EXTRA, FORMATS, TOLERANCE

if TYPE_CHECKING:  # pragma: no cover
    from zoo.export.exporter import Exported


def export_run(run_dir, fmt: str = "onnx", **options) -> Exported:
    """Export the model of the run folder `run_dir`; see `zoo.export.exporter.export_run`."""
    from zoo.export.exporter import export_run as run_export

    return run_export(run_dir, fmt, **options)


__all__ = ["EXTRA", "FORMATS", "TOLERANCE", "export_run"]
