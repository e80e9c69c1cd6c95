"""Reading official archives safely: a restricted unpickler and tar members read in memory.

A pickle can run any code while it loads, so CIFAR files never meet `pickle.load`. The
`SafeUnpickler` admits only what the official batches hold: dicts, lists, strings, bytes,
numbers and NumPy arrays of plain numeric dtypes, whose parts are checked before NumPy sees
them (`PlainDtype`, `PendingArray`). Everything else is refused with a `DataError` before it
is called.
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

# The dtypes an array in a CIFAR file may have, as NumPy pickles them (kind and size; the byte
# order travels in the state): the official pixels are uint8; re-saved copies may hold ints,
# floats or booleans. Never objects, structures, strings or subarrays.
PLAIN_DTYPES = frozenset("b1 i1 i2 i4 i8 u1 u2 u4 u8 f2 f4 f8".split())


class RefusedError(DataError):
    """Something in a pickle that the official files never hold (named without the file)."""


def _latin1_bytes(text: str, encoding: str = "utf-8") -> bytes:
    """``_codecs.encode`` as Python 3 uses it to pickle bytes at protocol 2, and nothing more."""
    if encoding.replace("_", "-").lower() not in ("latin1", "latin-1") or not isinstance(text, str):
        raise RefusedError(f"refused _codecs.encode with {encoding!r}: only latin-1 text is data")
    return text.encode("latin-1")


def _text(value: Any) -> Any:
    return value.decode("latin-1") if isinstance(value, bytes) else value


class PlainDtype:
    """What ``numpy.dtype(spec, align, copy)`` gives in a pickle: a plain numeric dtype or nothing.

    NumPy pickles a dtype as that call followed by a state (byte order, field names, fields,
    sizes, flags) that `numpy.dtype.__setstate__` takes as it comes. A forged state can make a
    structured dtype with object fields whose flags deny them, and an array built with it
    reads raw bytes as object pointers. So the spec must be one of `PLAIN_DTYPES`, the state
    must be exactly that dtype's own (only its byte order may differ), and NumPy never sees
    the state: `.dtype` is ``numpy.dtype(spec)`` in that byte order.
    """

    __slots__ = ("dtype",)

    def __init__(self, spec: Any, align: Any = False, copy: Any = True):
        if _text(spec) not in PLAIN_DTYPES:
            raise RefusedError(
                f"refused numpy.dtype({spec!r}): the official files hold only plain numeric "
                "arrays (no objects, structures or strings)"
            )
        self.dtype = np.dtype(_text(spec))

    def __setstate__(self, state: Any) -> None:
        own = self.dtype.__reduce__()[2]  # (3, "|", None, None, None, -1, -1, 0) and the like
        order = _text(state[1]) if isinstance(state, tuple) and len(state) == len(own) else None
        if order not in ("<", ">", "|", "=") or state[0] != own[0] or state[2:] != own[2:]:
            raise RefusedError(
                f"refused a forged numpy.dtype state for {self.dtype.str[1:]} ({state!r:.200}): "
                "only the state NumPy itself writes for a plain dtype is data"
            )
        if order in "<>":
            self.dtype = self.dtype.newbyteorder(order)


def _shape(value: Any) -> bool:
    return isinstance(value, tuple) and all(type(d) is int and d >= 0 for d in value)


def _new_array(shape: tuple[int, ...], dtype: np.dtype, fortran: bool, data: bytes) -> np.ndarray:
    """An array of checked parts, built the way NumPy's own unpickling builds it (no copy)."""
    array = _RECONSTRUCT(np.ndarray, (0,), b"b")
    array.__setstate__((1, shape, dtype, fortran, data))
    return array


class PendingArray:
    """What ``_reconstruct(ndarray, ...)`` gives in a pickle: an array built once its state is
    checked (`load_pickle` puts `.array` in its place). Nothing is allocated before that."""

    __slots__ = ("array",)

    def __init__(self) -> None:
        self.array: np.ndarray | None = None

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) == 4:  # very old NumPy wrote no version
            state = (1, *state)
        if not (
            isinstance(state, tuple)
            and len(state) == 5
            and state[0] == 1
            and _shape(state[1])
            and isinstance(state[2], PlainDtype)
            and isinstance(state[3], bool)
            and isinstance(state[4], bytes | bytearray)
        ):
            raise RefusedError("refused an ndarray state that is not plain numeric data")
        _, shape, dtype, fortran, data = state
        self.array = _new_array(shape, dtype.dtype, fortran, data)


class _NdarrayName:
    """``numpy.ndarray`` in a pickle: a name `_reconstruct` takes, never a thing to call."""


_NDARRAY = _NdarrayName()


def _reconstruct(subtype: Any, shape: Any = (0,), typecode: Any = b"b") -> PendingArray:
    if subtype is not _NDARRAY:
        raise RefusedError("refused numpy's _reconstruct of anything but numpy.ndarray")
    return PendingArray()


def _frombuffer(buffer: Any, dtype: Any, shape: Any, order: Any) -> np.ndarray:
    if not (
        isinstance(buffer, bytes | bytearray | pickle.PickleBuffer)
        and isinstance(dtype, PlainDtype)
        and _shape(shape)
        and _text(order) in ("C", "F")
    ):
        raise RefusedError("refused numpy's _frombuffer of anything but plain numeric data")
    return _FROMBUFFER(buffer, dtype.dtype, shape, _text(order))


ALLOWED_GLOBALS: dict[tuple[str, str], Any] = {
    ("_codecs", "encode"): _latin1_bytes,
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy.core.numeric", "_frombuffer"): _frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _frombuffer,
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): PlainDtype,
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


class UnreadableError(DataError):
    """A file the user may not read: not damaged, so a cached copy is not removed for it."""


def _refuse(source: str, module: str, name: str) -> Any:
    try:
        return ALLOWED_GLOBALS[(module, name)]
    except KeyError:
        raise DataError(
            f"{source}: refused to unpickle {module}.{name}; the official files hold "
            "only arrays, lists, strings and numbers, so this file is not one of them "
            "(and loading it could run code)"
        ) from None


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that builds only plain data and NumPy arrays.

    Python 2 strings are read as bytes (``encoding="bytes"``) so the pixel string becomes the
    array's buffer without a decoded copy; keys are turned into `str` by `load_pickle`.
    """

    def __init__(self, file: IO[bytes], source: str):
        super().__init__(file, encoding="bytes")
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        return _refuse(self.source, module, name)


class RowFilterUnpickler(pickle._Unpickler):  # the pure-Python twin, whose opcodes we can hook
    """`SafeUnpickler` that keeps only the pixel rows of the wanted classes.

    The official batches store their labels before ``data``, so when the pixel string arrives
    the labels are already on the unpickler's stack. The string is then read in slices and only
    the wanted rows kept; the array's shape is rewritten to match. A split of 50,000 images
    never sits in memory whole. Files in another order are read whole, as `SafeUnpickler` does.
    `kept` is the boolean row mask applied (None when nothing was filtered).
    """

    dispatch = dict(pickle._Unpickler.dispatch)
    MIN_SIZE = 1 << 16  # smaller strings are read whole
    SLICE = 4 << 20  # bytes of pixels read at a time

    def __init__(self, file: IO[bytes], source: str, label_key: str, ids: list[int]):
        super().__init__(file, encoding="bytes")
        self.source, self.label_key, self.ids = source, label_key.encode(), ids
        self.kept: np.ndarray | None = None

    def find_class(self, module: str, name: str) -> Any:
        return _refuse(self.source, module, name)

    def load_binstring(self) -> None:
        (size,) = struct.unpack("<i", self.read(4))
        if size < 0:
            raise pickle.UnpicklingError("BINSTRING pickle has negative byte count")
        mask = self._row_mask(size) if self.kept is None and size >= self.MIN_SIZE else None
        if mask is None:
            self.append(self.read(size))
            return
        rows, width = self.stack[1]
        step = max(1, self.SLICE // width)
        parts = []
        for start in range(0, rows, step):
            n = min(step, rows - start)
            chunk = self.read(n * width)
            if len(chunk) != n * width:
                raise EOFError(f"pixel data ends after {start * width + len(chunk)} bytes")
            parts.append(np.frombuffer(chunk, np.uint8).reshape(n, width)[mask[start : start + n]])
        self.stack[1] = (int(mask.sum()), width)  # the shape ndarray.__setstate__ will see
        self.kept = mask
        self.append(np.concatenate(parts).tobytes() if parts else b"")

    dispatch[pickle.BINSTRING[0]] = load_binstring

    def _row_mask(self, size: int) -> np.ndarray | None:
        """Rows to keep, if this string is the pixels of a 2-D uint8 array with labels seen."""
        state = self.stack  # ndarray state so far: (version, shape, dtype, fortran, ...)
        if len(state) != 4 or not isinstance(state[1], tuple) or len(state[1]) != 2:
            return None
        rows, width = state[1]
        dtype = state[2].dtype if isinstance(state[2], PlainDtype) else None
        if rows * width != size or dtype != np.dtype(np.uint8) or state[3] is not False:
            return None
        items = self.metastack[-1] if self.metastack else []  # the dict's keys and values
        for key, value in zip(items[::2], items[1::2], strict=False):
            if key == self.label_key and isinstance(value, list) and len(value) == rows:
                try:
                    return np.isin(np.asarray(value, dtype=np.int64), self.ids)
                except (TypeError, ValueError):
                    return None
        return None


def _plain(value: Any, source: str) -> Any:
    """A value of the unpickled dict as the loaders see it: str for bytes, arrays built."""
    if isinstance(value, list):
        return [_text(v) for v in value]
    if isinstance(value, PendingArray):
        if value.array is None:
            raise DataError(f"{source}: an array without its data")
        return value.array
    return _text(value)


def load_pickle(
    file: IO[bytes], source: str, keep: tuple[str, list[int]] | None = None
) -> tuple[dict[str, Any], np.ndarray | None]:
    """Unpickle one CIFAR file safely; bytes keys and names become `str`.

    With ``keep=(label_key, ids)`` only the pixel rows whose label is in `ids` are read into
    ``data`` (see `RowFilterUnpickler`); the row mask applied is returned beside the dict
    (None when ``data`` holds every row).

    >>> import io
    >>> load_pickle(io.BytesIO(b"\\x80\\x02}q\\x00U\\x01aK\\x01s."), "x")
    ({'a': 1}, None)
    """
    try:
        if keep is None:
            unpickler = SafeUnpickler(file, source)
        else:
            unpickler = RowFilterUnpickler(file, source, *keep)
        obj = unpickler.load()
    except RefusedError as err:
        raise DataError(f"{source}: {err}") from None
    except DataError:
        raise
    except PICKLE_ERRORS as err:
        raise DataError(f"{source}: cannot read the pickle ({_reason(err)})") from None
    if not isinstance(obj, dict):
        raise DataError(f"{source}: expected a dict, found {type(obj).__name__}")
    content = {_text(key): _plain(value, source) for key, value in obj.items()}
    return content, getattr(unpickler, "kept", None)


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
    except PermissionError as err:  # not damaged: a good copy elsewhere would not help
        raise UnreadableError(
            f"{path}: cannot read it ({err.strerror}); check its permissions"
        ) from None
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
    except PermissionError as err:
        raise UnreadableError(
            f"{path}: cannot read it ({err.strerror}); check its permissions"
        ) from None
    except READ_ERRORS as err:
        raise DataError(f"{path}: damaged or incomplete file ({_reason(err)}){suffix}") from None


def read_exact(file: IO[bytes], size: int, source: str) -> bytes:
    """Exactly `size` bytes, or a DataError saying the file is truncated."""
    data = file.read(size)
    if len(data) != size:
        raise DataError(f"{source}: truncated (expected {size} more bytes, found {len(data)})")
    return data
