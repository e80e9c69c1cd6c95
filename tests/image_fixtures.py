"""Writers of miniature image archives laid out exactly like the official ones.

The official CIFAR batches were written by Python 2's cPickle (protocol 2): 8-bit strings
(`BINSTRING`), dict keys such as ``data`` and ``fine_labels``, and NumPy arrays rebuilt through
``numpy.core.multiarray._reconstruct``. `py2_pickle` emits that byte stream opcode by opcode, so
the loaders are tested against the real layout rather than what Python 3's pickle would write.
MNIST files are big-endian idx headers followed by raw bytes, gzipped.

The benchmark uses the same writers to build a full-size archive.
"""

from __future__ import annotations

import gzip
import io
import pickle
import struct
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from zoo.datasets.cifar import CIFAR10_NAMES, CIFAR100_COARSE_NAMES, CIFAR100_FINE_NAMES

# CIFAR-100: fine class -> coarse superclass, for the classes fixtures use; others get i % 20
COARSE_OF = {0: 4, 55: 0, 58: 18}


# --- Python 2 protocol-2 pickle writer ---------------------------------------------------------


def _string(value: bytes) -> bytes:
    if len(value) < 256:
        return b"U" + bytes([len(value)]) + value  # SHORT_BINSTRING
    return b"T" + struct.pack("<i", len(value)) + value  # BINSTRING


def _int(value: int) -> bytes:
    if 0 <= value < 256:
        return b"K" + bytes([value])
    if 0 <= value < 65536:
        return b"M" + struct.pack("<H", value)
    return b"J" + struct.pack("<i", value)


@dataclass(frozen=True)
class Dtype:
    """``numpy.dtype(spec)`` as a pickle builds it, then sets `state` (NumPy's, or a forgery)."""

    spec: bytes
    state: tuple


U1 = Dtype(b"u1", (3, b"|", None, None, None, -1, -1, 0))  # as the official batches hold it


@dataclass(frozen=True)
class RawArray:
    """An ndarray pickled from its parts as given, true or not (for hostile files)."""

    shape: tuple[int, ...]
    dtype: Dtype
    data: bytes


def _ndarray_head(shape: tuple[int, ...], dtype: Dtype = U1) -> bytes:
    """Everything of a pickled ndarray up to (not including) its data string."""
    dims = b"".join(_int(d) for d in shape)
    shape_op = {1: b"\x85", 2: b"\x86", 3: b"\x87"}.get(len(shape))
    shape_tuple = dims + shape_op if shape_op else b"(" + dims + b"t"
    return (
        b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85"
        + _string(b"b")
        + b"\x87R(K\x01"
        + shape_tuple
        + _value(dtype)
        + b"\x89"  # NEWFALSE: not Fortran order
    )


def _value(value) -> bytes:
    if value is None:
        return b"N"
    if isinstance(value, str):
        return _string(value.encode("latin-1"))
    if isinstance(value, bytes):
        return _string(value)
    if isinstance(value, int):
        return _int(value)
    if isinstance(value, tuple):
        return b"(" + b"".join(_value(v) for v in value) + b"t"
    if isinstance(value, dict):
        items = b"".join(_value(k) + _value(v) for k, v in value.items())
        return b"}" + (b"(" + items + b"u" if items else b"")
    if isinstance(value, list):
        out = [b"]"]
        for start in range(0, len(value), 1000):  # cPickle appends in batches of 1000
            out.append(b"(" + b"".join(_value(v) for v in value[start : start + 1000]) + b"e")
        return b"".join(out)
    if isinstance(value, Dtype):  # dtype(spec, 0, 1), then BUILD with the state
        return (
            b"cnumpy\ndtype\n"
            + _string(value.spec)
            + b"K\x00K\x01\x87R"
            + _value(value.state)
            + b"b"
        )
    if isinstance(value, RawArray):
        return _ndarray_head(value.shape, value.dtype) + _string(value.data) + b"tb"
    if isinstance(value, np.ndarray):
        data = np.ascontiguousarray(value, dtype=np.uint8).tobytes()
        return _ndarray_head(value.shape) + _string(data) + b"tb"
    raise TypeError(f"cannot write {type(value).__name__}")


def py2_pickle(obj: dict, out: BinaryIO | None = None) -> bytes | None:
    """A dict as Python 2's ``cPickle.dump(obj, f, 2)`` wrote it; to `out` if given."""
    buf = out or io.BytesIO()
    buf.write(b"\x80\x02}(")
    for key, value in obj.items():
        buf.write(_string(key.encode("ascii")))
        if isinstance(value, np.ndarray) and value.nbytes > (1 << 20):
            # Large arrays go straight to the stream instead of through one more copy
            data = np.ascontiguousarray(value, dtype=np.uint8)
            buf.write(_ndarray_head(value.shape))
            buf.write(b"T" + struct.pack("<i", data.nbytes))
            buf.write(memoryview(data).cast("B"))
            buf.write(b"tb")
        else:
            buf.write(_value(value))
    buf.write(b"u.")
    return None if out is not None else buf.getvalue()


# --- CIFAR ------------------------------------------------------------------------------------


def cifar_images(labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """Rows of 3072 bytes (R plane, G plane, B plane); pixel (0, 0) of red carries the label."""
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, size=(len(labels), 3072), dtype=np.uint8)
    data[:, 0] = np.asarray(labels, dtype=np.uint8)
    return data


def cifar100_batch(labels, batch_label: str, seed: int = 0, data=None) -> dict:
    """One batch dict with the official keys; `data` defaults to `cifar_images(labels)`."""
    labels = [int(v) for v in labels]
    return {  # the official key order: the labels come before the pixels
        "filenames": [f"{CIFAR100_FINE_NAMES[v]}_s_{i:06d}.png" for i, v in enumerate(labels)],
        "batch_label": batch_label,
        "fine_labels": labels,
        "coarse_labels": [COARSE_OF.get(v, v % 20) for v in labels],
        "data": cifar_images(np.asarray(labels), seed) if data is None else data,
    }


def cifar100_labels(per_class: int, num_classes: int = 100, seed: int = 0) -> np.ndarray:
    labels = np.repeat(np.arange(num_classes), per_class)
    return np.random.default_rng(seed).permutation(labels)


def add_member(tar: tarfile.TarFile, name: str, payload: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(payload))


def cifar100_members(train_per_class: int = 5, test_per_class: int = 2) -> dict[str, bytes]:
    """The official archive's members (file.txt~, train, test, meta), in its order."""
    meta = {"fine_label_names": CIFAR100_FINE_NAMES, "coarse_label_names": CIFAR100_COARSE_NAMES}
    train = cifar100_batch(cifar100_labels(train_per_class, seed=1), "training batch 1 of 1", 1)
    test = cifar100_batch(cifar100_labels(test_per_class, seed=2), "testing batch 1 of 1", 2)
    return {
        "file.txt~": b"",
        "train": py2_pickle(train),
        "test": py2_pickle(test),
        "meta": py2_pickle(meta),
    }


def write_cifar100_archive(
    folder: Path, members: dict[str, bytes] | None = None, compresslevel: int = 9, **sizes
) -> Path:
    """``folder/cifar-100-python.tar.gz``: ``cifar-100-python/{file.txt~,train,test,meta}``."""
    path = Path(folder) / "cifar-100-python.tar.gz"
    with tarfile.open(path, "w:gz", compresslevel=compresslevel) as tar:
        directory = tarfile.TarInfo("cifar-100-python")
        directory.type, directory.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(directory)
        for name, payload in (members or cifar100_members(**sizes)).items():
            add_member(tar, f"cifar-100-python/{name}", payload)
    return path


def write_drawn_cifar100_archive(folder: Path, classes, draw, rng) -> Path:
    """A full-size ``cifar-100-python.tar.gz`` (500 training and 100 test images per class, the
    official layout) whose `classes` hold drawn images: ``draw(places, rng)`` gives the rows of
    3072 bytes for images of those classes (`places`: each image's class as its index in
    `classes`); the other classes are random pixels. The benchmarks' generated lab data."""
    members = {"file.txt~": b""}
    splits = {"train": (500, "training batch 1 of 1", 1), "test": (100, "testing batch 1 of 1", 2)}
    for name, (per_class, batch_label, split_seed) in splits.items():
        labels = cifar100_labels(per_class, seed=split_seed)
        data = rng.integers(0, 256, size=(len(labels), 3072), dtype=np.uint8)
        for place, fine in enumerate(classes):
            rows = np.flatnonzero(labels == fine)
            data[rows] = draw(np.full(len(rows), place), rng)
        members[name] = py2_pickle(cifar100_batch(labels, batch_label, data=data))
    meta = {"fine_label_names": CIFAR100_FINE_NAMES, "coarse_label_names": CIFAR100_COARSE_NAMES}
    members["meta"] = py2_pickle(meta)
    Path(folder).mkdir(parents=True, exist_ok=True)
    return write_cifar100_archive(folder, members, compresslevel=1)


def smooth_fields(rng, n: int, cells: int, scale: float) -> np.ndarray:
    """`n` colour fields 32x32x3: random values on a cells x cells grid, bilinearly upsampled."""
    coarse = rng.normal(0.0, scale, size=(n, cells, cells, 3))
    ticks = np.linspace(0, cells - 1, 32)
    low = np.floor(ticks).astype(int)
    high = np.minimum(low + 1, cells - 1)
    w = (ticks - low)[None, :, None, None]
    rows = coarse[:, low] * (1 - w) + coarse[:, high] * w
    w = (ticks - low)[None, None, :, None]
    return rows[:, :, low] * (1 - w) + rows[:, :, high] * w


def write_cifar100_folder(folder: Path, **sizes) -> Path:
    """The extracted folder ``folder/cifar-100-python/`` as the lecture keeps it."""
    target = Path(folder) / "cifar-100-python"
    target.mkdir(parents=True)
    for name, payload in cifar100_members(**sizes).items():
        (target / name).write_bytes(payload)
    return target


def cifar10_members(train_per_class: int = 2, test_per_class: int = 3) -> dict[str, bytes]:
    """``data_batch_1..5``, ``test_batch``, ``batches.meta`` and ``readme.html``, official order."""
    meta = {"num_cases_per_batch": 10000, "label_names": CIFAR10_NAMES, "num_vis": 3072}
    members: dict[str, bytes] = {}

    def batch(labels, label: str, seed: int) -> bytes:
        labels = [int(v) for v in labels]
        files = [f"{CIFAR10_NAMES[v]}_s_{seed:02d}{i:04d}.png" for i, v in enumerate(labels)]
        data = cifar_images(np.asarray(labels), seed)
        return py2_pickle(
            {"batch_label": label, "labels": labels, "data": data, "filenames": files}
        )

    for number in (4, 3, 2, 5, 1):  # the official archive is not in numeric order
        labels = cifar100_labels(train_per_class, 10, seed=10 + number)
        members[f"data_batch_{number}"] = batch(labels, f"training batch {number} of 5", number)
    members["readme.html"] = b"<html></html>"
    members["test_batch"] = batch(
        cifar100_labels(test_per_class, 10, 20), "testing batch 1 of 1", 9
    )
    members["batches.meta"] = py2_pickle(meta)
    return members


def write_cifar10_archive(folder: Path, members: dict[str, bytes] | None = None, **sizes) -> Path:
    path = Path(folder) / "cifar-10-python.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, payload in (members or cifar10_members(**sizes)).items():
            add_member(tar, f"cifar-10-batches-py/{name}", payload)
    return path


def modern_pickle(obj: dict) -> bytes:
    """The same dict as today's Python writes it (for re-saved copies)."""
    return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)


# --- MNIST ------------------------------------------------------------------------------------

MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}


def idx_header(shape: tuple[int, ...]) -> bytes:
    """An idx header: magic 0x0000 08 <ndim>, then the sizes as big-endian int32 (any, forged)."""
    return struct.pack(">HBB", 0, 0x08, len(shape)) + struct.pack(f">{len(shape)}i", *shape)


def idx_bytes(array: np.ndarray) -> bytes:
    """An idx file: its header, then the uint8 values."""
    array = np.asarray(array, dtype=np.uint8)
    return idx_header(array.shape) + array.tobytes()


def mnist_split(per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    labels = cifar100_labels(per_class, 10, seed).astype(np.uint8)
    images = np.random.default_rng(seed).integers(0, 256, (len(labels), 28, 28), dtype=np.uint8)
    images[:, 0, 0] = labels
    return images, labels


def write_mnist_files(folder: Path, train_per_class: int = 3, test_per_class: int = 2) -> Path:
    """The four gzipped idx files in `folder` (created)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    x_train, y_train = mnist_split(train_per_class, 1)
    x_test, y_test = mnist_split(test_per_class, 2)
    arrays = {"train_images": x_train, "train_labels": y_train}
    arrays |= {"test_images": x_test, "test_labels": y_test}
    for key, array in arrays.items():
        (folder / MNIST_FILES[key]).write_bytes(gzip.compress(idx_bytes(array), mtime=0))
    return folder
