"""Where official data files come from: a local copy, the cache, or a verified download.

`locate` looks in this order (``source="auto"``):

1. ``data_dir`` (``--data-dir`` / ``$ZOO_DATA_DIR``), where the user keeps the official files;
2. the cache, ``$ZOO_CACHE/downloads`` (default ``$XDG_CACHE_HOME/zoo``, else ``~/.cache/zoo``);
3. Keras's own download folder (``$KERAS_HOME/datasets``, else ``~/.keras/datasets``), where
   ``keras.datasets.cifar100.load_data()`` leaves the archive and its extracted folder; it is
   only read, never written or cleaned;
4. the official address, downloaded with a progress bar into a temporary file in the cache,
   checked against the published checksum and renamed only when whole and verified; its
   size and SHA-256 are recorded (`zoo.datasets.cache`) so a later change is noticed.

``source="local"`` stops after step 3 and never touches the network; ``source="download"``
skips step 1. Every failure is a `DataError` that says which file to put where and its address.
The base addresses can be overridden (``$ZOO_CIFAR_URL``, ``$ZOO_MNIST_URL``,
``$ZOO_FASHION_MNIST_URL``) to use a mirror, or a local server in tests.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from zoo.datasets.cache import cache_dir, drop_record, remember
from zoo.errors import DataError, OptionError
from zoo.files import atomic_path

SOURCES = ("auto", "local", "download", "tfds")
CHUNK = 1 << 20
TIMEOUT_S = 30


@dataclass(frozen=True)
class Remote:
    """One official file: its name, where it is published and its published md5."""

    filename: str
    base_url: str
    md5: str
    url_env: str = ""  # environment variable that replaces base_url (a mirror, a test server)
    subdir: str = ""  # folder under the cache's downloads (MNIST and Fashion-MNIST share names)

    @property
    def url(self) -> str:
        base = os.environ.get(self.url_env) if self.url_env else None
        return (base or self.base_url).rstrip("/") + "/" + self.filename


def check_source(source: str) -> str:
    if source not in SOURCES:
        raise OptionError("source", f"{source!r} is not one of {', '.join(SOURCES)}")
    return source


def check_data_dir(data_dir: str | os.PathLike | None) -> Path | None:
    """The data folder as a Path (`$ZOO_DATA_DIR` when none is given); a missing one is said so."""
    option = "data_dir"
    if data_dir is None or str(data_dir) == "":
        data_dir, option = os.environ.get("ZOO_DATA_DIR"), "ZOO_DATA_DIR"
        if not data_dir:
            return None
    path = Path(data_dir).expanduser()
    try:
        found = path.is_dir()
    except OSError as err:  # a parent folder the user may not enter
        raise OptionError(option, f"cannot read folder {str(path)!r}: {err.strerror}") from None
    if not found:
        raise OptionError(option, f"folder {str(path)!r} does not exist")
    return path


def where_to_put(title: str, remotes: list[Remote], folder: str, data_dir: Path | None) -> str:
    """The sentence every "not found" message ends with."""
    files = ", ".join(r.filename for r in remotes)
    folders = {r.url.rsplit("/", 1)[0] for r in remotes}
    urls = f"{folders.pop()}/" if len(remotes) > 1 and len(folders) == 1 else remotes[0].url
    place = (
        f"in {data_dir / folder if folder else data_dir}"
        if data_dir
        else (
            f"in a folder{' under ' + folder if folder else ''} and pass it as `data_dir=` "
            "(or set ZOO_DATA_DIR)"
        )
    )
    return f"put {files} {place}; get {'them' if len(remotes) > 1 else 'it'} from {urls}"


def cached_download(remote: Remote) -> Path:
    return cache_dir() / "downloads" / remote.subdir / remote.filename


def fetch(remote: Remote, quiet: bool = False) -> Path:
    """The verified copy in the cache, downloading it first if needed.

    Raises `DataError` when the address cannot be reached or the file does not match its
    checksum; nothing is left in the cache then.
    """
    target = cached_download(remote)
    if target.is_file():
        return target
    created = [p for p in (target.parent, *target.parent.parents) if not p.exists()]
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        return _download(remote, target, quiet)
    except BaseException as err:
        for folder in created:  # innermost first: leave no empty folders behind either
            with contextlib.suppress(OSError):
                folder.rmdir()
        if isinstance(err, OSError):  # _download reports network errors itself: the cache
            raise DataError(
                f"the cache {target.parent} cannot be written ({err.strerror or err}); "
                "set ZOO_CACHE to a folder you can write"
            ) from None
        raise


def _download(remote: Remote, target: Path, quiet: bool) -> Path:
    import http.client  # only a download needs the HTTP stack
    import urllib.error
    import urllib.request

    url = remote.url
    with atomic_path(target) as part:
        digest, sha256 = hashlib.md5(), hashlib.sha256()
        try:
            with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
                total = int(response.headers.get("Content-Length") or 0)
                progress = Progress(remote.filename, total, quiet)
                received = 0
                with open(part, "wb") as out:
                    while chunk := response.read(CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        sha256.update(chunk)
                        received += len(chunk)
                        progress.update(received)
                progress.close(received)
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as err:
            reason = getattr(err, "reason", None) or err
            raise DataError(f"the download of {url} failed ({reason})") from None
        if total and received != total:
            raise DataError(f"the download of {url} stopped at {received} of {total} bytes")
        if digest.hexdigest() != remote.md5:
            raise DataError(
                f"the download of {url} has a checksum mismatch (md5 {digest.hexdigest()}, "
                f"published {remote.md5}) and was not kept"
            )
    # Recorded so that a later change to the cached copy is noticed (see zoo.datasets.cache)
    remember(target, written=True, md5=digest.hexdigest(), sha256=sha256.hexdigest())
    return target


class Progress:
    """A one-line download progress bar on stderr (plain start/end lines when not a terminal)."""

    def __init__(self, name: str, total: int, quiet: bool = False):
        self.name, self.total, self.quiet = name, total, quiet
        self.tty = sys.stderr.isatty()
        self.last = 0.0
        if not quiet:
            size = f" ({total / 1e6:.1f} MB)" if total else ""
            self._write(f"Downloading {name}{size}", end="" if self.tty else "\n")

    def _write(self, text: str, end: str = "") -> None:
        sys.stderr.write(text + end)
        sys.stderr.flush()

    def update(self, received: int) -> None:
        now = time.monotonic()
        if self.quiet or not self.tty or now - self.last < 0.2:
            return
        self.last = now
        if self.total:
            done = received / self.total
            bar = "#" * int(done * 30)
            self._write(f"\r{self.name} [{bar:<30}] {done:4.0%} {received / 1e6:.1f} MB")
        else:
            self._write(f"\r{self.name} {received / 1e6:.1f} MB")

    def close(self, received: int) -> None:
        if not self.quiet:
            self._write(f"\r{self.name}: {received / 1e6:.1f} MB downloaded", end="\n")


def keras_dataset_folders() -> list[Path]:
    """The folders where Keras's `get_file` leaves datasets, those that exist.

    ``$KERAS_HOME/datasets`` when it is set, else ``~/.keras/datasets``, and
    ``/tmp/.keras/datasets`` where Keras goes when the home folder cannot be written. Keras
    3.6 and later extract an archive into ``NAME-target/`` (or ``NAME_extracted/``) beside
    it, so those folders are searched too. Keras's environment is read here without
    importing Keras: the search must stay as cheap as a look into a folder.
    """
    home = os.environ.get("KERAS_HOME")
    bases = [Path(home).expanduser()] if home else [Path.home() / ".keras", Path("/tmp/.keras")]
    folders: list[Path] = []
    for base in bases:
        datasets = base / "datasets"
        try:
            if not datasets.is_dir():
                continue
            folders.append(datasets)
            folders += sorted(
                d
                for d in datasets.iterdir()
                if d.is_dir() and (d.name.endswith("-target") or d.name.endswith("_extracted"))
            )
        except OSError:  # a folder we may not read is as good as none
            continue
    return folders


def locate(
    find_local: Callable[[Path], Path | None],
    remotes: list[Remote],
    *,
    data_dir: Path | None,
    source: str,
    title: str,
    folder: str = "",
) -> tuple[Path, str]:
    """Find an official file set; returns (path, where), where in local/cache/keras/download.

    `find_local(folder)` returns the path of a usable copy in `folder` (an archive, or a
    folder of extracted files) or None; the cache is searched with the same function, so a
    user may also drop files there by hand. `remotes` are the files a download fetches
    (the first one is returned when there is only one, else the downloads folder).
    """
    check_source(source)
    if source in ("auto", "local") and data_dir is not None:
        found = find_local(data_dir)
        if found is not None:
            return found, "local"
    downloads = cache_dir() / "downloads"
    if downloads.is_dir():
        found = find_local(downloads)
        if found is not None:
            return found, "cache"
    for folder in keras_dataset_folders():
        found = find_local(folder)
        if found is not None:
            return found, "keras"
    hint = where_to_put(title, remotes, folder, data_dir)
    if source == "local":
        looked = f"{data_dir} or " if data_dir else ""
        raise DataError(f"{title} not found in {looked}the cache {downloads}: {hint}")
    try:
        for remote in remotes:
            fetch(remote)
    except DataError as err:
        raise DataError(f"{title} not found locally and {err}: {hint}") from None
    found = find_local(downloads)
    if found is None:  # a downloaded file set that find_local does not accept: our bug
        raise DataError(f"downloaded files in {downloads} are not usable: {hint}")
    return found, "download"


def forget(path: Path) -> None:
    """Remove a cached file found to be damaged, so the next run fetches a good one."""
    if path.is_file() and cache_dir().resolve() in path.resolve().parents:
        path.unlink(missing_ok=True)
        drop_record(path)
