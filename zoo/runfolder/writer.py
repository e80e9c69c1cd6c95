"""Writing a run folder: a new folder per run, every file through a temporary name.

config.json is written first (status "running", with the host and process id, so a reader
can tell a run that is still going from one whose process was killed) and last (the final
status), after every other file is whole. Space for the last write is set aside at the start,
so that a disk that fills up during the run still gets an honest status.
"""

from __future__ import annotations

import csv
import io
import math
import os
import socket
import time
from pathlib import Path

import numpy as np

from zoo.errors import OptionError, WriteError
from zoo.files import atomic_path, json_text, sync_file, sync_folder, write_json, write_text
from zoo.runfolder import format as fmt

CONFIG_RESERVE = 256 * 1024  # bytes set aside for the final config.json


def create_run_folder(
    out: str | Path, model_name: str, dataset_name: str, name: str | None = None
) -> Path:
    """`out/<model>-<dataset>-<timestamp>`, with `-2`, `-3`... if that name is taken.

    `name`: exactly `out/<name>`, which must not exist yet (a sweep names its runs).
    """
    out = Path(out)
    stem = f"{model_name}-{dataset_name}-{time.strftime('%Y%m%d-%H%M%S')}"
    try:
        out.mkdir(parents=True, exist_ok=True)
        if name is not None:
            try:
                (out / name).mkdir()
            except FileExistsError:
                raise OptionError("run_name", f"{str(out / name)!r} already exists") from None
            return out / name
        for n in range(1, 1000):
            folder = out / (stem if n == 1 else f"{stem}-{n}")
            try:
                folder.mkdir()
                return folder
            except FileExistsError:
                continue
    except OSError as err:  # read-only, no permission, a file in the way
        raise OptionError(
            "out", f"cannot make a run folder in {str(out)!r}: {err.strerror or err}"
        ) from None
    raise OptionError("out", f"no free run folder name under {str(out)!r} for {stem}")


def history_csv(history: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fmt.HISTORY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in history:
        writer.writerow({k: _cell(row.get(k)) for k in fmt.HISTORY_COLUMNS})
    return buffer.getvalue()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value).lower()
    return str(value)


class RunWriter:
    """The files of one run folder, each written whole or not at all.

    >>> writer = RunWriter(create_run_folder("reports", "mlp", "digits"))  # doctest: +SKIP
    >>> writer.start(config); ...; writer.finish(config)
    """

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self._reserve = self.folder / ".config.json.reserve"

    def path(self, name: str) -> Path:
        return self.folder / name

    def start(self, config: dict) -> dict:
        """config.json with status running, host and pid; the space for the last write."""
        config = {
            "format": fmt.FORMAT_VERSION,
            **config,
            "status": fmt.RUNNING,
            "host": socket.gethostname(),
            "pid": os.getpid(),
        }
        self._set_aside()
        write_json(self.path(fmt.CONFIG), config)
        return config

    def _set_aside(self) -> None:
        try:
            with open(self._reserve, "wb") as f:
                f.write(b" " * CONFIG_RESERVE)
        except OSError:  # no room to spare: the last write may fail, the pid still tells
            self._reserve.unlink(missing_ok=True)

    def finish(self, config: dict, more: bool = False) -> None:
        """config.json with the run's status, written into the space set aside by `start`.

        `more`: more files follow (the report), so space is set aside again for a status
        that may still change.
        """
        data = json_text({"format": fmt.FORMAT_VERSION, **config}).encode("utf-8")
        target = self.path(fmt.CONFIG)
        if self._reserve.is_file() and len(data) <= CONFIG_RESERVE:
            try:
                with open(self._reserve, "r+b") as f:
                    f.write(data)
                    f.truncate(len(data))
                sync_file(self._reserve)
                os.replace(self._reserve, target)
                sync_folder(target.parent)
            except OSError as err:
                raise WriteError(target, err.strerror or str(err)) from None
        else:
            write_json(target, config)
        if more:
            self._set_aside()

    def discard_reserve(self) -> None:
        self._reserve.unlink(missing_ok=True)

    def history(self, history: list[dict]) -> None:
        write_text(self.path(fmt.HISTORY), history_csv(history))

    def metrics(self, metrics: dict) -> None:
        write_json(self.path(fmt.METRICS), metrics)

    def report_text(self, text: str) -> None:
        write_text(self.path(fmt.REPORT_TEXT), text)

    def arrays(self, name: str, arrays: dict[str, np.ndarray]) -> None:
        """predictions.npz or data.npz."""
        with atomic_path(self.path(name)) as part:
            np.savez_compressed(part, **arrays)

    def model(self, model) -> None:
        with atomic_path(self.path(fmt.MODEL)) as part:
            model.save(part)


def describe_layers(model) -> list[dict]:
    """Per layer: type, output shape, parameters; Dense adds neurons, inputs, weights, biases;
    a convolution its filters, kernel, stride, padding (`pad`: the pixels of zeros around its
    input, as the lab writes it, when known), input channels and its neurons (output units),
    connections, shared weights and biases; pooling its size and stride; a kernel penalty
    adds `l1` and `l2`, a Dropout layer its `rate`."""
    rows = []
    pending_pad = 0  # a ZeroPadding2D's pixels (None: uneven), for the convolution after it
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "InputLayer":
            continue
        try:
            shape = list(layer.output.shape)
        except (AttributeError, ValueError):
            shape = None
        row = {
            "name": layer.name,
            "type": kind,
            "output_shape": shape,
            "params": int(layer.count_params()) if layer.built else 0,
        }
        if kind == "Dense":
            kernel = layer.kernel.shape
            row.update(
                units=int(kernel[1]),
                inputs=int(kernel[0]),
                weights=int(kernel[0] * kernel[1]),
                biases=int(kernel[1]) if layer.use_bias else 0,
                activation=_activation(layer),
            )
        elif kind in ("Conv1D", "Conv2D", "Conv3D") and shape is not None:
            row.update(_convolution(layer, shape, pending_pad))
        elif kind.endswith(("Pooling1D", "Pooling2D", "Pooling3D")) and "Global" not in kind:
            row.update(pool_size=list(layer.pool_size), strides=list(layer.strides))
        elif kind == "ZeroPadding2D":
            row["padding"] = [list(side) for side in layer.padding]
        pending_pad = _symmetric_pad(layer) if kind == "ZeroPadding2D" else 0
        penalty = getattr(layer, "kernel_regularizer", None)
        if penalty is not None:
            config = penalty.get_config()
            row.update({k: float(config[k]) for k in ("l1", "l2") if config.get(k)})
        if kind == "Dropout":
            row["rate"] = float(layer.rate)
        rows.append(row)
    return rows


def _activation(layer) -> str:
    return getattr(layer.activation, "__name__", str(layer.activation))


def _symmetric_pad(layer) -> int | None:
    """The pixels a ZeroPadding2D adds on every side, or None when the sides differ."""
    sides = {int(v) for side in layer.padding for v in side}
    return sides.pop() if len(sides) == 1 else None


def _convolution(layer, shape: list, pad_before: int | None) -> dict:
    """A convolution's counts: each output value is a neuron joined to kernel × input
    channels values of its window; the filters' weights are shared by all positions."""
    kernel = [int(d) for d in layer.kernel.shape]  # (*window, channels in, filters)
    window, channels, filters = kernel[:-2], kernel[-2], kernel[-1]
    fan_in = int(np.prod(window)) * channels
    neurons = int(np.prod([d for d in shape[1:] if d is not None]))
    pad = None
    strides = [int(s) for s in layer.strides]
    if layer.padding == "valid":
        pad = pad_before
    elif all(s == 1 for s in strides) and all(k % 2 == 1 for k in window):
        pad = (window[0] - 1) // 2 if len(set(window)) == 1 else None  # "same" at stride 1
    return {
        "filters": filters,
        "kernel_size": window,
        "strides": strides,
        "padding": layer.padding,
        "pad": pad,
        "channels": channels,
        "inputs": fan_in,
        "neurons": neurons,
        "connections": neurons * fan_in,
        "weights": fan_in * filters,
        "biases": filters if layer.use_bias else 0,
        "activation": _activation(layer),
    }


def data_arrays(dataset, objective, p_test: np.ndarray | None) -> dict[str, np.ndarray]:
    """What the figures need of the data itself (data.npz), kept small.

    2-D and 1-D sets: every point. Image classification: `SAMPLES_PER_CLASS` training images
    per class, the first test image (`probe_x`, for a convolutional network's feature maps)
    and the `MISCLASSIFIED` test images the model got wrong most confidently.
    """
    x_train, x_test = dataset.x_train, dataset.x_test
    if x_train.ndim == 2 and x_train.shape[1] <= fmt.SMALL_INPUT:
        return {
            "x_train": x_train,
            "x_test": x_test,
            "y_train": dataset.y_train,
            "y_test": dataset.y_test,
        }
    if not dataset.is_image or dataset.task != "classification":
        return {}
    rng = np.random.default_rng(0)
    picks = []
    for c in range(dataset.num_classes):
        members = np.flatnonzero(dataset.y_train == c)
        picks.extend(rng.permutation(members)[: fmt.SAMPLES_PER_CLASS])
    picks = np.array(sorted(picks, key=lambda i: (dataset.y_train[i], i)), dtype=np.int64)
    arrays = {"sample_x": x_train[picks], "sample_y": dataset.y_train[picks]}
    if len(x_test):  # the test image whose feature maps the report draws
        arrays.update(probe_x=x_test[:1], probe_y=dataset.y_test[:1])
    if p_test is not None and np.isfinite(p_test).all():
        chosen, pred, conf = objective.surest_mistakes(dataset.y_test, p_test, fmt.MISCLASSIFIED)
        arrays.update(
            miss_x=x_test[chosen],
            miss_true=dataset.y_test[chosen],
            miss_pred=pred,
            miss_conf=conf.astype("float32"),
        )
    return arrays
