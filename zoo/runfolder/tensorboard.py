"""TensorBoard's event files for a run, written as it trains: `tensorboard --logdir SWEEP`
then shows every run of a sweep side by side, live.

Each run folder gets tensorboard/train and tensorboard/test (or validation), with the tags
Keras's own TensorBoard callback uses (epoch_loss, epoch_accuracy), so the training and test
curves of a run overlay in one chart. The records are TensorFlow's own (Event protocol
buffers in a TFRecord file, as `tf.summary` writes them, with the scalars plugin's metadata),
made here directly: an eager `tf.summary` op per value would cost a millisecond each, more
than a small model's epoch. Writing needs nothing beyond TensorFlow; viewing needs
`pip install tensorboard`.
"""

from __future__ import annotations

import itertools
import os
import socket
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# history column -> (split folder, tag); None is the evaluation split ("test" or "validation")
SCALARS = {
    "loss": ("train", "epoch_loss"),
    "accuracy": ("train", "epoch_accuracy"),
    "val_loss": (None, "epoch_loss"),
    "val_accuracy": (None, "epoch_accuracy"),
}
FLUSH_SECONDS = 2.0  # a live view is at most this late; fewer writes for short epochs
_files = itertools.count()


class EventLog:
    """An `on_epoch` hook for `train`: `EventLog(folder, "test")(row)` after each epoch."""

    def __init__(self, folder: str | Path, eval_split: str = "test"):
        self.folder = Path(folder)
        self.eval_split = eval_split
        self._writers: dict[str, object] = {}
        self._flushed = time.monotonic()

    def _writer(self, split: str):
        if split not in self._writers:
            import tensorflow as tf
            from tensorflow.core.util import event_pb2

            folder = self.folder / split
            folder.mkdir(parents=True, exist_ok=True)
            name = (
                f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}."
                f"{os.getpid()}.{next(_files)}.v2"
            )
            writer = tf.io.TFRecordWriter(str(folder / name))
            first = event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2")
            writer.write(first.SerializeToString())
            self._writers[split] = writer
        return self._writers[split]

    def __call__(self, row: dict) -> None:
        from tensorflow.core.framework import summary_pb2, tensor_pb2, types_pb2
        from tensorflow.core.util import event_pb2

        metadata = summary_pb2.SummaryMetadata(
            plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars"),
            data_class=summary_pb2.DATA_CLASS_SCALAR,
        )
        now, step = time.time(), int(row["epoch"])
        for column, (split, tag) in SCALARS.items():
            value = row.get(column)
            if value is None:
                continue
            tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, float_val=[float(value)])
            summary = summary_pb2.Summary(
                value=[summary_pb2.Summary.Value(tag=tag, tensor=tensor, metadata=metadata)]
            )
            event = event_pb2.Event(wall_time=now, step=step, summary=summary)
            self._writer(split or self.eval_split).write(event.SerializeToString())
        if time.monotonic() - self._flushed > FLUSH_SECONDS:
            for writer in self._writers.values():
                writer.flush()
            self._flushed = time.monotonic()

    def close(self) -> None:
        """Flush and close the event files."""
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()


# Keys of config.json that say where and when a run ran, not how it was trained.
NOT_HPARAMS = {"format", "status", "host", "pid", "stop_reason", "stop_signal", "started"}


def hparams(config: dict) -> dict[str, str | float | bool]:
    """The run's hyperparameters as TensorBoard's HParams tab takes them: numbers, text and
    flags as they are, lists as text ("[64, 32]"), unset options left out."""
    values: dict[str, str | float | bool] = {}
    for key, value in config.items():
        if key in NOT_HPARAMS or value is None or isinstance(value, dict):
            continue
        if isinstance(value, bool | str):
            values[key] = value
        elif isinstance(value, int | float):
            values[key] = float(value)
        elif isinstance(value, list | tuple) and len(value) <= 16:
            values[key] = str(list(value))
    return values


def hparams_event(config: dict):
    """The hparams plugin's session-start record for `config` (an Event, `tf.summary`'s own
    tag and metadata). Its `HParamsPluginData` is written by hand: TensorFlow has no class
    for it and the `tensorboard` package is not needed to write. Its `SessionStartInfo`
    keeps the hyperparameters as `map<string, Value> hparams = 1`, the same bytes as a
    `google.protobuf.Struct`'s fields."""
    from google.protobuf import struct_pb2
    from tensorflow.core.framework import summary_pb2, tensor_pb2, tensor_shape_pb2, types_pb2
    from tensorflow.core.util import event_pb2

    fields = struct_pb2.Struct()
    fields.update(hparams(config))
    session = fields.SerializeToString()
    session += b"\x29" + struct.pack("<d", time.time())  # start_time_secs = 5 (a double)
    data = b"\x08\x00" + b"\x1a" + _varint(len(session)) + session  # version 0, field 3
    metadata = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="hparams", content=data)
    )
    empty = tensor_pb2.TensorProto(
        dtype=types_pb2.DT_FLOAT, tensor_shape=tensor_shape_pb2.TensorShapeProto(), float_val=[0]
    )
    value = summary_pb2.Summary.Value(
        tag="_hparams_/session_start_info", metadata=metadata, tensor=empty
    )
    return event_pb2.Event(wall_time=time.time(), summary=summary_pb2.Summary(value=[value]))


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


class RunEvents:
    """`train(..., on_epoch=RunEvents())`: TensorBoard's event files in the run folder's
    tensorboard/, with the run's hyperparameters, once `train` has made the folder (`start`)."""

    def __init__(self, then: Callable[[dict], Any] | None = None):
        self.then = then  # the caller's own on_epoch, still called
        self.log: EventLog | None = None

    def start(self, folder: str | Path, config: dict) -> None:
        from zoo.runfolder.format import TENSORBOARD, eval_split

        self.log = EventLog(Path(folder) / TENSORBOARD, eval_split(config))
        self.log._writer("train").write(hparams_event(config).SerializeToString())

    def __call__(self, row: dict) -> None:
        if self.log is not None:
            self.log(row)
        if self.then is not None:
            self.then(row)

    def close(self) -> None:
        if self.log is not None:
            self.log.close()
