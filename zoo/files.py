"""Writing files so that nothing is ever half there: a temporary name, then one rename.

A full disk, a signal or a crash half-way through a write leaves the previous file (or no file)
under the final name, never a cut one. A file the user made is not replaced unless they say so.

    >>> with atomic_path(Path("table.md")) as part:      # doctest: +SKIP
    ...     part.write_text("| a | b |")
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from zoo.errors import OptionError, WriteError, ZooError
from zoo.jsonable import to_jsonable


@contextmanager
def atomic_path(path: str | Path, refuse_existing: str | None = None) -> Iterator[Path]:
    """A temporary path beside `path` (same suffix), renamed onto it when the block succeeds.

    Any OSError (no space, no permission, a folder in the way) becomes a `WriteError` naming
    `path`; the temporary file is removed whatever happens. With `refuse_existing` (the option
    that named `path`), a file another process put there while the block ran is not replaced:
    OptionError, as `refuse_overwrite` gives before the work.
    """
    path = Path(path)
    if path.is_dir():  # put there by hand: bad input rather than a failing disk
        raise ZooError(f"cannot write {path}: a folder of that name is in the way")
    try:  # a name of its own: two processes writing the same file never share one
        fd, name = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.stem}.", suffix=f".part{path.suffix}"
        )
        try:  # mkstemp's private 0600: the file gets what open() would have given it
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o666 & ~_umask())
        finally:
            os.close(fd)
    except OSError as err:
        raise WriteError(path, err.strerror or str(err)) from None
    part = Path(name)
    try:
        yield part
        sync_file(part)  # the bytes on the disk before the name points at them
        if refuse_existing is None:
            os.replace(part, path)
        else:
            _link_new(part, path, refuse_existing)
        sync_folder(path.parent)  # and the new name itself
    except WriteError:  # an OSError too, already naming the file
        raise
    except OSError as err:
        raise WriteError(path, err.strerror or str(err)) from None
    finally:
        try:
            part.unlink(missing_ok=True)
        except OSError:
            pass


def sync_file(path: str | Path) -> None:
    """fsync `path`: after a power loss the file holds what was written, not a cut or empty
    file. Set ZOO_NO_FSYNC=1 to skip (scratch runs on a slow disk)."""
    if os.environ.get("ZOO_NO_FSYNC"):
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_folder(path: str | Path) -> None:
    """fsync a folder, so that a rename or a new name in it survives a power loss (Linux; a
    no-op where folders cannot be opened)."""
    if os.environ.get("ZOO_NO_FSYNC") or not hasattr(os, "O_DIRECTORY"):
        return
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on a folder; the file's own sync stands
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    """The process's umask: from /proc where Linux shows it, else read by setting it (once,
    and set straight back)."""
    global _UMASK
    if _UMASK is None:
        try:
            with open("/proc/self/status", encoding="ascii") as status:
                line = next(line for line in status if line.startswith("Umask:"))
            _UMASK = int(line.split()[1], 8)
        except (OSError, StopIteration, ValueError, IndexError):
            _UMASK = os.umask(0o022)
            os.umask(_UMASK)
    return _UMASK


_UMASK: int | None = None


def write_bytes(path: str | Path, data: bytes) -> Path:
    with atomic_path(path) as part:
        part.write_bytes(data)
    return Path(path)


def write_text(path: str | Path, text: str) -> Path:
    return write_bytes(path, text.encode("utf-8"))


def json_text(data: Any) -> str:
    """JSON as the zoo writes it: indented, UTF-8, NaN and infinity as null."""
    return json.dumps(to_jsonable(data), indent=2, ensure_ascii=False) + "\n"


def write_json(path: str | Path, data: Any) -> Path:
    return write_text(path, json_text(data))


def read_json(path: str | Path) -> Any:
    """A JSON file, also one an editor saved with a byte-order mark."""
    return json.loads(Path(path).read_text(encoding="utf-8-sig"))


def free_path(path: str | Path) -> Path:
    """`path` if nothing is there, else the first free of `stem-2.ext`, `stem-3.ext`, ...

    How a default output name avoids replacing what an earlier command wrote.
    """
    path = Path(path)
    if not path.exists():
        return path
    for n in range(2, 10_000):
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        if not candidate.exists():
            return candidate
    raise WriteError(path, "no free name left beside it")


def refuse_overwrite(path: str | Path, option: str, force: bool = False) -> Path:
    """OptionError when `path` exists and `force` is not set: a user's file is not replaced."""
    path = Path(path)
    if path.is_dir():
        raise OptionError(option, f"{str(path)!r} is a folder, not a file")
    if path.exists() and not force:
        raise OptionError(
            option, f"{str(path)!r} already exists; choose another name or pass `force=True`"
        )
    return path


def cannot_write(folder: str | Path) -> str | None:
    """Why nothing can be written into `folder`, or None when it can (tried, not guessed)."""
    try:
        with tempfile.TemporaryFile(dir=folder):
            return None
    except OSError as err:
        return err.strerror or str(err)


def _link_new(part: Path, path: Path, option: str) -> None:
    """`part` under the name `path` unless a file is there by now: a hard link is never made
    over one (where the file system has none, the check and the rename are two steps)."""
    import errno

    try:
        os.link(part, path)
        return
    except FileExistsError:
        pass
    except OSError as err:
        if err.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV):
            raise
        if not path.exists():
            os.replace(part, path)
            return
    raise OptionError(
        option,
        f"{str(path)!r} already exists (another process wrote it meanwhile); choose another "
        "name or pass `force=True`",
    )


@contextmanager
def atomic_folder(path: str | Path, refuse_existing: str | None = None) -> Iterator[Path]:
    """`atomic_path` for a folder (a SavedModel): filled under a temporary name of its own
    beside `path`, then renamed onto it; a folder already there is replaced only after the new
    one is whole. With `refuse_existing` (the option that named `path`), a folder with files
    another process put there while the block ran is not replaced: OptionError."""
    import errno
    import shutil

    path = Path(path)
    if path.exists() and not path.is_dir():
        raise WriteError(path, "a file of that name is in the way")
    try:  # names of its own: two processes writing the same folder never share one
        part = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part"))
        part.chmod(0o777 & ~_umask())  # mkdtemp's private 0700: what mkdir would have given
        old = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".old"))
    except OSError as err:
        raise WriteError(path, err.strerror or str(err)) from None
    try:
        yield part
        for folder, _, files in os.walk(part):
            for name in files:
                sync_file(Path(folder) / name)
            sync_folder(folder)
        if refuse_existing is not None:
            try:  # over nothing or an empty folder only: rename(2) refuses one with files
                os.rename(part, path)
            except OSError as err:
                if err.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
                raise OptionError(
                    refuse_existing,
                    f"{str(path)!r} already exists (another process wrote it meanwhile); "
                    "choose another name or pass `force=True`",
                ) from None
        elif path.exists():
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
            try:
                os.replace(part, path)
            except OSError:
                os.replace(old, path)  # the previous folder stays, whole
                raise
        else:
            os.replace(part, path)
        sync_folder(path.parent)
    except WriteError:  # an OSError too, already naming the file
        raise
    except OSError as err:
        raise WriteError(path, err.strerror or str(err)) from None
    finally:
        shutil.rmtree(part, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
