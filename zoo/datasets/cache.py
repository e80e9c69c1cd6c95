"""The zoo's cache folder, files written whole, and the checksums of the files it trusts.

``$ZOO_CACHE`` (default ``$XDG_CACHE_HOME/zoo``, else ``~/.cache/zoo``) holds downloads,
class subsets and, under ``checksums/``, one small JSON record per file checked (written
whole, like every file):

- a file the zoo puts in the cache (a download, a subset) is recorded with its size and
  SHA-256 as it is written. On reuse its size must still match, and so must its SHA-256
  whenever its modification time differs from the last check; `unchanged` says whether it
  does (the caller refuses a changed file).
- an official file found elsewhere (the data folder, or put in the cache by hand) is checked
  against its published MD5 by `check_published`, once: the verdict is remembered with the
  file's size and modification time, so a 160 MB archive is not hashed on every run and a
  copy that differs draws one warning, not one per run.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from contextlib import suppress
from pathlib import Path

from zoo.files import atomic_path

CHUNK = 1 << 20
RECORDS = "checksums"  # the folder of records under the cache


def cache_dir() -> Path:
    """``$ZOO_CACHE``, else ``$XDG_CACHE_HOME/zoo``, else ``~/.cache/zoo`` (not created here).

    A relative ``$XDG_CACHE_HOME`` is ignored, as the XDG rules say.
    """
    if os.environ.get("ZOO_CACHE"):
        return Path(os.environ["ZOO_CACHE"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "zoo"


def hash_file(path: Path, *algorithms: str) -> dict[str, str]:
    """Hex digests of a file by each named algorithm, in one pass.

    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile() as f:
    ...     hash_file(Path(f.name), "md5")
    {'md5': 'd41d8cd98f00b204e9800998ecf8427e'}
    """
    hashes = {name: hashlib.new(name) for name in algorithms}
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK):
            for h in hashes.values():
                h.update(chunk)
    return {name: h.hexdigest() for name, h in hashes.items()}


def _record_path(path: Path) -> Path:
    key = hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:32]
    return cache_dir() / RECORDS / f"{key}.json"


def _read_record(path: Path) -> dict | None:
    try:
        record = json.loads(_record_path(path).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("path") != str(Path(path).resolve()):
        return None
    return record


def remember(path: Path, *, written: bool, **digests: str) -> None:
    """Record `path`'s size, modification time and `digests` (``sha256=``, ``md5=``).

    `written`: the zoo wrote the file into the cache, so any change to it is damage. A cache
    that cannot be written only costs a hash on the next run.
    """
    stat = path.stat()
    record = {
        "path": str(Path(path).resolve()),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "written": written,
        **digests,
    }
    target = _record_path(path)
    with suppress(OSError):
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(target) as part:
            part.write_text(json.dumps(record, indent=1) + "\n")


def drop_record(path: Path) -> None:
    """Forget what was recorded of `path` (it was removed)."""
    with suppress(OSError):
        _record_path(path).unlink(missing_ok=True)


def unchanged(path: Path) -> bool | None:
    """Whether a file the zoo put in the cache is still as written; None if it did not write it.

    The size is compared on every call; the SHA-256 only when the modification time differs
    from the last check (a file whose bytes match again is re-recorded with its new time).
    """
    record = _read_record(path)
    if record is None or not record.get("written") or "sha256" not in record:
        return None
    stat = path.stat()
    if stat.st_size != record["size"]:
        return False
    if stat.st_mtime_ns == record["mtime_ns"]:
        return True
    digest = hash_file(path, "sha256")["sha256"]
    if digest != record["sha256"]:
        return False
    remember(
        path, written=True, sha256=digest, **({"md5": record["md5"]} if "md5" in record else {})
    )
    return True


def check_published(path: Path, md5: str, url: str) -> bool:
    """Whether `path` has its published MD5; a `UserWarning` when not, once per file.

    The verdict is kept with the file's size and modification time: the file is hashed
    again (and a difference reported again) only when it has changed.
    """
    stat = path.stat()
    record = _read_record(path)
    if (
        record is not None
        and record.get("size") == stat.st_size
        and record.get("mtime_ns") == stat.st_mtime_ns
        and "md5" in record
    ):
        return record["md5"] == md5
    digest = hash_file(path, "md5")["md5"]
    remember(path, written=False, md5=digest)
    if digest != md5:
        warnings.warn(
            f"{path} is not the file published at {url} (md5 {digest}, published {md5}); "
            "results from it may differ from everyone else's",
            UserWarning,
            stacklevel=2,
        )
    return digest == md5
