"""The three formats: how each is written from a Keras model and read back with its own
runtime. Every writer takes the export model (input `input`, output `output`) and the input
signature; every reader returns a function from a batch of inputs to the `output` array."""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from zoo.export.model import INPUT, OUTPUT

Runner = Callable[[np.ndarray], np.ndarray]


@contextlib.contextmanager
def held_back() -> Iterator[None]:
    """Converters' and runtimes' chatter (TensorFlow's deprecation notes, the C++ logs of the
    LiteRT converter and interpreter) is held back, and shown only if the block fails."""
    loggers = [logging.getLogger(name) for name in ("tensorflow", "tf2onnx", "absl")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        sink = tempfile.TemporaryFile(mode="w+b")
        saved = os.dup(2)
    except OSError:  # no temporary file: the chatter is a lesser evil than failing
        sink = saved = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if saved is not None:
                os.dup2(sink.fileno(), 2)
            try:
                yield
            except BaseException:
                if saved is not None:
                    os.dup2(saved, 2)
                    sink.seek(0)
                    os.write(2, sink.read())
                raise
    finally:
        if saved is not None:
            os.dup2(saved, 2)
            os.close(saved)
            sink.close()
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "?"


# --- ONNX ----------------------------------------------------------------------------------


def write_onnx(model, path: Path, signature) -> None:
    """ONNX through tf2onnx, from the model's graph with every captured value frozen in.

    Keras's own `model.export(format="onnx")` hands tf2onnx a function whose captured
    constants (the mean and variance a Normalization layer holds as tensors) become extra
    graph inputs, which the course's page, feeding only `input`, cannot fill. Freezing the
    concrete function first turns them into constants.
    """
    import onnx
    import tensorflow as tf
    import tf2onnx
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    try:  # tf2onnx predates NumPy 2; Keras carries the patch that lets it run there
        from keras.src.export.tf2onnx_lib import patch_tf2onnx

        patch_tf2onnx()
    except ImportError:
        pass
    function = tf.function(lambda x: model(x, training=False)[OUTPUT])
    frozen = convert_variables_to_constants_v2(function.get_concrete_function(signature))
    proto, _ = tf2onnx.convert.from_graph_def(
        frozen.graph.as_graph_def(),
        input_names=[t.name for t in frozen.inputs],
        output_names=[t.name for t in frozen.outputs],
    )
    graph = proto.graph
    names = {graph.input[0].name: INPUT, graph.output[0].name: OUTPUT}
    for value in [*graph.input, *graph.output]:
        value.name = names.get(value.name, value.name)
        first = value.type.tensor_type.shape.dim[0]
        if not first.HasField("dim_value"):  # tf2onnx calls an unknown batch "unk__N"
            first.dim_param = "batch"
    for node in graph.node:
        for i, name in enumerate(node.input):
            node.input[i] = names.get(name, name)
        for i, name in enumerate(node.output):
            node.output[i] = names.get(name, name)
    onnx.checker.check_model(proto)
    path.write_bytes(proto.SerializeToString())


def read_onnx(path: Path) -> Runner:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return lambda x: session.run([OUTPUT], {INPUT: x})[0]


# --- LiteRT --------------------------------------------------------------------------------


def write_litert(model, path: Path, signature) -> None:
    model.export(str(path), format="litert", input_signature=[signature], verbose=False)


def read_litert(path: Path) -> Runner:
    from ai_edge_litert.interpreter import Interpreter

    runner = Interpreter(model_path=str(path)).get_signature_runner()
    return lambda x: runner(**{INPUT: x})[OUTPUT]


# --- SavedModel ----------------------------------------------------------------------------


def write_savedmodel(model, path: Path, signature) -> None:
    model.export(str(path), format="tf_saved_model", input_signature=[signature], verbose=False)


def read_savedmodel(path: Path) -> Runner:
    import tensorflow as tf

    serve = tf.saved_model.load(str(path)).signatures["serving_default"]
    return lambda x: serve(**{INPUT: tf.constant(x)})[OUTPUT].numpy()


@dataclass(frozen=True)
class Format:
    """One format: what writes it, the runtime that reads it back, and the modules needed."""

    name: str
    title: str
    write: Callable[..., None]
    read: Callable[[Path], Runner]
    runtime: str  # the reading runtime's package, whose version is reported
    modules: tuple[str, ...]  # imported by the writer and reader; from the `export` extra
    suffix: str = ""  # the file name must end so ("" for a folder)

    @property
    def folder(self) -> bool:
        return not self.suffix

    def runtime_version(self) -> str:
        return f"{self.runtime} {_version(self.runtime)}"


FORMAT_SPECS = {
    "onnx": Format(
        "onnx", "ONNX", write_onnx, read_onnx, "onnxruntime", ("tf2onnx", "onnx", "onnxruntime"),
        ".onnx",
    ),
    "litert": Format(
        "litert", "LiteRT", write_litert, read_litert, "ai-edge-litert", ("ai_edge_litert",),
        ".tflite",
    ),
    "savedmodel": Format(
        "savedmodel", "TensorFlow SavedModel", write_savedmodel, read_savedmodel,
        "tensorflow", (),
    ),
}  # fmt: skip
