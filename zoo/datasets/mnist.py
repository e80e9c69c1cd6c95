"""MNIST and Fashion-MNIST from the official idx files (or TFDS), with class subsets.

Each set is four files: ``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
``t10k-images-idx3-ubyte.gz``, ``t10k-labels-idx1-ubyte.gz`` (gzipped or not). The two sets use
the same file names, so each lives in its own folder: ``DATA_DIR/mnist/`` (or ``MNIST/raw/`` as
torchvision keeps it, or DATA_DIR itself) and ``DATA_DIR/fashion-mnist/`` (or
``FashionMNIST/raw/``). Images stay uint8 with shape (N, 28, 28, 1).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from zoo.datasets.archive import read_exact, read_file
from zoo.datasets.base import Dataset
from zoo.datasets.fetch import Remote, check_data_dir, check_source
from zoo.datasets.official import FileSet, load_official
from zoo.datasets.registry import register_dataset
from zoo.datasets.subsets import Split, resolve_classes, select
from zoo.errors import DataError
from zoo.models.layers import Normalization

# MNIST's own site often refuses scripts; this is the mirror TFDS downloads from.
MNIST_URL = "https://storage.googleapis.com/cvdf-datasets/mnist"
FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com"

FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
MNIST_MD5 = (
    "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "d53e105ee54ea40749a09fcbcd1e9432",
    "9fb629c4189551a2d022fa330f9573f3",
    "ec29112dd5afa0611ce80d1b7f02629c",
)
FASHION_MNIST_MD5 = (
    "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "25c81989df183df01b3e8a0aad5dffbe",
    "bef4ecab320f06d8554ea6380940ec79",
    "bb300cfdad3c16e7a12a480ee83cd310",
)

MNIST_NAMES = [str(d) for d in range(10)]
FASHION_MNIST_NAMES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]

# The usual training-set statistics of the pixels scaled to 0..1
MNIST_NORMALIZATION = Normalization(mean=(0.1307,), std=(0.3081,), scale=1 / 255)
FASHION_MNIST_NORMALIZATION = Normalization(mean=(0.2860,), std=(0.3530,), scale=1 / 255)


@dataclass(frozen=True)
class IdxSet:
    title: str
    folders: tuple[str, ...]  # where in a data folder to look, first one preferred
    remotes: tuple[Remote, ...]
    names: list[str]
    normalization: Normalization
    tfds_name: str


def _remotes(base: str, md5s: Sequence[str], env: str, subdir: str) -> tuple[Remote, ...]:
    return tuple(Remote(f"{f}.gz", base, m, env, subdir) for f, m in zip(FILES, md5s, strict=True))


MNIST = IdxSet(
    "MNIST",
    ("mnist", "MNIST/raw", ""),
    _remotes(MNIST_URL, MNIST_MD5, "ZOO_MNIST_URL", "mnist"),
    MNIST_NAMES,
    MNIST_NORMALIZATION,
    "mnist",
)
FASHION_MNIST = IdxSet(
    "Fashion-MNIST",
    ("fashion-mnist", "FashionMNIST/raw"),
    _remotes(FASHION_MNIST_URL, FASHION_MNIST_MD5, "ZOO_FASHION_MNIST_URL", "fashion-mnist"),
    FASHION_MNIST_NAMES,
    FASHION_MNIST_NORMALIZATION,
    "fashion_mnist",
)


def _file(folder: Path, stem: str) -> Path | None:
    for name in (f"{stem}.gz", stem):
        if (folder / name).is_file():
            return folder / name
    return None


def find_copy(spec: IdxSet, folder: Path) -> Path | None:
    """The first of the set's folders under `folder` that holds all four files."""
    for sub in spec.folders:
        candidate = folder / sub if sub else folder
        if all(_file(candidate, stem) for stem in FILES):
            return candidate
    return None


# Deflate shrinks data at most about 1032:1, so a gzip file of n bytes holds at most this many
# times n bytes: a header announcing more cannot be true, whatever the rest of the file says.
MAX_DEFLATE_RATIO = 1032
CHUNK = 1 << 22  # bytes of a gzipped file's values decompressed at a time


def room(path: Path) -> tuple[int, bool]:
    """The most bytes reading `path` can give, and whether that is exact (not gzipped)."""
    size = path.stat().st_size
    return (size * MAX_DEFLATE_RATIO, False) if path.suffix == ".gz" else (size, True)


def read_idx(
    file: IO[bytes],
    source: str,
    ndim: int,
    item_shape: tuple[int, ...] = (),
    space: tuple[int, bool] | None = None,
) -> np.ndarray:
    """One idx array of unsigned bytes: magic ``00 00 08 <ndim>``, big-endian sizes, values.

    The header's sizes are checked before anything is allocated: no zero sizes, each item of
    `item_shape` when one is given, and a total that fits ``space = (bytes, exact)``: the
    file's length, exact for a plain file, an upper bound for a gzipped one (see `room`).
    A gzipped file's values are then read a chunk at a time, so memory grows only with the
    bytes really there, never with what a forged header claims.
    """
    zero, kind, dims = struct.unpack(">HBB", read_exact(file, 4, source))
    if zero != 0 or kind != 0x08 or dims != ndim:
        raise DataError(
            f"{source}: not an idx file of {ndim}-D unsigned bytes "
            f"(header {zero:04x} {kind:02x} {dims:02x})"
        )
    header = 4 + 4 * ndim
    shape = struct.unpack(f">{ndim}i", read_exact(file, 4 * ndim, source))
    if min(shape) <= 0:
        raise DataError(f"{source}: impossible sizes in the header {shape} (zero or negative)")
    if item_shape and shape[1:] != item_shape:
        items = "x".join(map(str, item_shape))
        raise DataError(f"{source}: the header says {shape}, not {items} items")
    nbytes = math.prod(shape)
    if space is not None:
        available, exact = space[0] - header, space[1]
        if exact and nbytes > available:
            raise DataError(
                f"{source}: truncated (the header {shape} announces {nbytes} bytes of values, "
                f"the file holds {available})"
            )
        if exact and nbytes < available:
            raise DataError(f"{source}: more bytes than its header {shape} announces")
        if nbytes > available:
            raise DataError(
                f"{source}: the header {shape} announces {nbytes} bytes of values, more than "
                f"a gzipped file of {space[0] // MAX_DEFLATE_RATIO} bytes can hold"
            )
    if space is not None and space[1]:  # the length is known: one buffer, filled in place
        out = np.empty(shape, dtype=np.uint8)
        view, filled = memoryview(out).cast("B"), 0
        while filled < nbytes:  # readinto: no second copy of the pixels
            got = file.readinto(view[filled:])
            if not got:
                raise DataError(f"{source}: truncated ({filled} of {nbytes} bytes of values)")
            filled += got
    else:
        buffer = bytearray()
        while len(buffer) < nbytes:
            chunk = file.read(min(CHUNK, nbytes - len(buffer)))
            if not chunk:
                raise DataError(f"{source}: truncated ({len(buffer)} of {nbytes} bytes of values)")
            buffer += chunk
        out = np.frombuffer(buffer, dtype=np.uint8).reshape(shape)  # writable: a bytearray
    if file.read(1):
        raise DataError(f"{source}: more bytes than its header {shape} announces")
    return out


def read_set(spec: IdxSet, folder: Path, ids: list[int] | None, hint: str) -> Split:
    arrays = []
    for stem in FILES:
        path = _file(folder, stem)
        items = (28, 28) if "images" in stem else ()

        def read(file, path=path, items=items):
            return read_idx(file, str(path), 1 + len(items), items, room(path))

        arrays.append(read_file(path, read, hint))
    out = []
    for (images, labels), split in zip((arrays[:2], arrays[2:]), ("train", "t10k"), strict=True):
        if len(images) != len(labels):
            raise DataError(
                f"{folder}: {len(images)} {split} images but {len(labels)} labels; " + hint
            )
        if labels.max() >= len(spec.names):
            raise DataError(f"{folder}: {split} labels go up to {labels.max()}; " + hint)
        x, y = select(images, labels, ids)
        out += [x[..., np.newaxis], y]
    chosen = ids if ids is not None else list(range(len(spec.names)))
    return Split(*out, [spec.names[i] for i in chosen], chosen)


def load_idx_set(spec: IdxSet, name: str, *, classes, data_dir, source: str) -> Dataset:
    """The loader behind `mnist` and `fashion-mnist`."""
    folder = check_data_dir(data_dir)
    check_source(source)
    if source == "tfds":
        from zoo.datasets.tfds_source import load_tfds

        split = load_tfds(spec.tfds_name, "label", classes, spec.names, folder, spec.title)
        where = f"TFDS {spec.tfds_name}"
    else:
        ids = resolve_classes(classes, spec.names, spec.title)
        split, where = load_official(
            FileSet(
                spec.title,
                spec.remotes,
                lambda d: find_copy(spec, d),
                lambda path: [_file(path, stem) for stem in FILES],
                spec.folders[0],
            ),
            cache_name=name,
            key={"set": name, "classes": ids},
            what=spec.title,
            read=lambda path, hint: read_set(spec, path, ids, hint),
            data_dir=folder,
            source=source,
            chosen=ids is not None,
        )
    chosen = "all" if classes is None else f"{len(split.class_ids)} of {len(spec.names)}"
    return Dataset(
        name=name,
        x_train=split.x_train,
        y_train=split.y_train,
        x_test=split.x_test,
        y_test=split.y_test,
        class_names=split.class_names,
        description=f"{spec.title}, {chosen} classes, from {where}",
        normalization=spec.normalization,
        class_ids=split.class_ids,
    )


@register_dataset
def mnist(
    *,
    classes: Sequence[int | str] | None = None,
    data_dir: str | Path | None = None,
    source: str = "auto",
) -> Dataset:
    """MNIST: 28x28 handwritten digits, official 60,000/10,000 split.

    `classes` keeps some digits (``[3, 8]``), relabelled 0..k-1 in the order given.
    """
    return load_idx_set(MNIST, "mnist", classes=classes, data_dir=data_dir, source=source)


@register_dataset
def fashion_mnist(
    *,
    classes: Sequence[int | str] | None = None,
    data_dir: str | Path | None = None,
    source: str = "auto",
) -> Dataset:
    """Fashion-MNIST: 28x28 images of 10 kinds of clothing, official 60,000/10,000 split."""
    return load_idx_set(
        FASHION_MNIST, "fashion-mnist", classes=classes, data_dir=data_dir, source=source
    )
