"""Reading official archives safely: a restricted unpickler and tar members read in memory.

A pickle can run any code while it loads, so CIFAR files never meet `pickle.load`. The
`SafeUnpickler` admits only what the official batches hold: dicts, lists, strings, bytes,
numbers and NumPy arrays. Everything else is refused with a `DataError` before it is called.
Tar members are streamed from the archive without touching the disk, so names like
``../../etc/passwd`` in a hostile archive mean nothing.
"""

from __future__ import annotations

import gzip
import pickle
import struct
import tarfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

from zoo.errors import DataError

# The functions NumPy's own pickles call, whatever the NumPy version that wrote them:
# `_reconstruct` (protocol 2, the official files) and `_frombuffer` (protocol 5, re-saved copies).
_RECONSTRUCT = np.ndarray((0,), np.uint8).__reduce__()[0]
_FROMBUFFER = np.arange(1, dtype=np.uint8).__reduce_ex__(5)[0]


def _latin1_bytes(text: str, encoding: str = "utf-8") -> bytes:
    """``_codecs.encode`` as Python 3 uses it to pickle bytes at protocol 2, and nothing more."""
    if encoding.replace("_", "-").lower() not in ("latin1", "latin-1") or not isinstance(text, str):
        raise DataError(f"refused _codecs.encode with {encoding!r}: only latin-1 text is data")
    return text.encode("latin-1")


ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("_codecs", "encode"): _latin1_bytes,
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy.core.numeric", "_frombuffer"): _FROMBUFFER,
    ("numpy._core.numeric", "_frombuffer"): _FROMBUFFER,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}

# What a damaged archive raises on the way out of tarfile, gzip and zlib (BadGzipFile is an
# OSError), and what a malformed pickle can raise besides: its opcodes call list, dict and
# NumPy constructors with whatever arguments the bytes say.
READ_ERRORS = (tarfile.TarError, EOFError, zlib.error, OSError)
PICKLE_ERRORS = READ_ERRORS + (
    pickle.UnpicklingError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    MemoryError,
    struct.error,
)


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that builds only plain data and NumPy arrays.

    Python 2 strings are read as bytes (``encoding="bytes"``) so the pixel string becomes the
    array's buffer without a decoded copy; keys are turned into `str` by `load_pickle`.
    """

    def __init__(self, file: IO[bytes], source: str):
        super().__init__(file, encoding="bytes")
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise DataError(
                f"{self.source}: refused to unpickle {module}.{name}; the official files hold "
                "only arrays, lists, strings and numbers, so this file is not one of them "
                "(and loading it could run code)"
            ) from None


def _as_str(value: Any) -> Any:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def load_pickle(file: IO[bytes], source: str) -> dict[str, Any]:
    """Unpickle one CIFAR file with `SafeUnpickler`; bytes keys and names become `str`.

    >>> import io
    >>> load_pickle(io.BytesIO(b"\\x80\\x02}q\\x00U\\x01aK\\x01s."), "x")
    {'a': 1}
    """
    try:
        obj = SafeUnpickler(file, source).load()
    except DataError:
        raise
    except PICKLE_ERRORS as err:
        raise DataError(f"{source}: cannot read the pickle ({_reason(err)})") from None
    if not isinstance(obj, dict):
        raise DataError(f"{source}: expected a dict, found {type(obj).__name__}")
    return {
        _as_str(key): [_as_str(v) for v in value] if isinstance(value, list) else _as_str(value)
        for key, value in obj.items()
    }


def _reason(err: BaseException) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def read_tar_members(
    path: Path,
    wanted: Iterable[str],
    handle: Callable[[str, IO[bytes]], Any],
    ready: Callable[[str], bool] = lambda name: True,
    hint: str = "",
) -> dict[str, Any]:
    """Call ``handle(name, file)`` on each wanted member of a tar(.gz), streamed in memory.

    Members are matched by base name (``cifar-100-python/train`` -> ``train``). The archive is
    read in one forward pass where possible; a member for which ``ready(name)`` is still False
    (it needs another member read first) is remembered and handled after the pass. Returns
    ``{name: handle(...)}``; raises `DataError` naming the archive for a damaged file or a
    missing member (`hint` says where to get a good copy).
    """
    wanted = set(wanted)
    results: dict[str, Any] = {}
    deferred: list[tarfile.TarInfo] = []
    suffix = f"; {hint}" if hint else ""
    try:
        with tarfile.open(path, mode="r:*") as tar:
            for member in _members(tar):
                base = member.name.rstrip("/").rsplit("/", 1)[-1]
                if base not in wanted or base in results or not member.isfile():
                    continue
                if not ready(base):
                    deferred.append(member)
                    continue
                results[base] = _handle(tar, member, base, handle, path)
            for member in deferred:
                base = member.name.rsplit("/", 1)[-1]
                results[base] = _handle(tar, member, base, handle, path)
    except DataError as err:
        raise DataError(f"{err}{suffix}") from None
    except READ_ERRORS as err:
        raise DataError(f"{path}: damaged or incomplete archive ({_reason(err)}){suffix}") from None
    missing = sorted(wanted - set(results))
    if missing:
        raise DataError(f"{path}: the archive has no member {', '.join(missing)}{suffix}")
    return results


def _members(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    # Iterating the TarFile reads headers lazily, so a member is handled as soon as it is met
    # and the gzip stream is only ever read forwards.
    yield from tar


def _handle(tar, member, base, handle, path) -> Any:
    file = tar.extractfile(member)
    if file is None:
        raise DataError(f"{path}: member {member.name} is not a regular file")
    with file:
        return handle(base, file)


def open_maybe_gzip(path: Path) -> IO[bytes]:
    """Open a file for reading, decompressing it when its name ends in .gz."""
    path = Path(path)
    if path.suffix == ".gz":
        return gzip.open(path, "rb")
    return open(path, "rb")


def read_file(path: Path, handle: Callable[[IO[bytes]], Any], hint: str = "") -> Any:
    """``handle(file)`` on a plain or gzipped file, with damaged files turned into DataError."""
    suffix = f"; {hint}" if hint else ""
    try:
        with open_maybe_gzip(path) as file:
            return handle(file)
    except DataError as err:
        raise DataError(f"{err}{suffix}") from None
    except READ_ERRORS as err:
        raise DataError(f"{path}: damaged or incomplete file ({_reason(err)}){suffix}") from None


def read_exact(file: IO[bytes], size: int, source: str) -> bytes:
    """Exactly `size` bytes, or a DataError saying the file is truncated."""
    data = file.read(size)
    if len(data) != size:
        raise DataError(f"{source}: truncated (expected {size} more bytes, found {len(data)})")
    return data
