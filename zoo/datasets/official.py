"""The path every official file set takes: find a copy, read the chosen classes once, cache them.

CIFAR and MNIST differ in how their files are laid out and read; the rest is shared here.
`load_official` finds a copy (`fetch.locate`: the data folder, the cache or a download) and
checks its files (`zoo.datasets.cache`: a file the zoo put in the cache must be as written,
an official file is compared with its published MD5, once). It reads the copy through the
loader's own `read` unless what is asked for (the chosen classes, or the whole set) is in the
cache (keyed by the files' path, size and time), checks that each chosen class has examples,
and removes a damaged copy from the cache so the next run downloads a good one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from zoo.datasets.archive import UnreadableError
from zoo.datasets.cache import check_published, unchanged
from zoo.datasets.fetch import Remote, forget, locate
from zoo.datasets.subsets import (
    MissingClassesError,
    Split,
    cached_split,
    check_examples,
    fingerprint,
)
from zoo.errors import DataError


@dataclass(frozen=True)
class FileSet:
    """One official set as the shared path needs to know it."""

    title: str  # "CIFAR-100", "MNIST": how messages name it
    remotes: tuple[Remote, ...]  # the files a download fetches, with their published md5
    find_copy: Callable[[Path], Path | None]  # a usable copy in a folder (archive or folder)
    files: Callable[[Path], list[Path]]  # the files that make up a copy `find_copy` found
    folder: str = ""  # where under the data folder the files belong (for messages)


def load_official(
    fileset: FileSet,
    *,
    cache_name: str,
    key: dict,
    what: str,
    read: Callable[[Path, str], Split],
    data_dir: Path | None,
    source: str,
    chosen: bool,
) -> tuple[Split, str]:
    """The split `read(path, hint)` makes of the copy found, and where it came from.

    `key` says what `read` selects (with the files' fingerprint added it keys the subset
    cache); `hint` is what a damaged-file message should end with; `what` names the set in
    messages. What is read is cached, a whole set too: reading CIFAR-10 from its archive
    takes 1.3 s of gunzip and unpickling on every run, its uncompressed copy 0.1 s (180 MB
    of cache). `chosen` classes must each have examples in both splits (see
    `check_examples`).
    """
    path, found = locate(
        fileset.find_copy,
        list(fileset.remotes),
        data_dir=data_dir,
        source=source,
        title=fileset.title,
        folder=fileset.folder,
    )
    files = fileset.files(path)
    _check_files(files, fileset.remotes)
    downloads = {r.filename for r in fileset.remotes}
    # A copy the zoo can fetch again is removed when damaged; one unpacked by hand is not
    removable = found in ("cache", "download") and all(f.name in downloads for f in files)
    copies = "good copies" if len(fileset.remotes) > 1 else "a good copy"
    hint = f"get {copies} from " + " ".join(r.url for r in fileset.remotes)
    if removable:
        hint = "the damaged copy was removed from the cache; run again to download it"
    where = f"{path} ({found})"

    def build() -> Split:
        split = read(path, hint)
        check_examples(split, f"{what} from {where}", chosen)  # before it is cached
        return split

    try:
        split = cached_split(cache_name, {**key, "files": fingerprint(files)}, build)
    except DataError as err:
        if removable and not isinstance(err, UnreadableError | MissingClassesError):
            for file in files:
                forget(file)
        raise
    return split, where


def _check_files(files: list[Path], remotes: tuple[Remote, ...]) -> None:
    """Refuse a file changed since the zoo cached it; warn once about one not as published."""
    published = {r.filename: r for r in remotes}
    for file in files:
        try:
            verdict = unchanged(file)
            if verdict is None and file.name in published:
                check_published(file, published[file.name].md5, published[file.name].url)
        except OSError:  # not readable: reading it says so, in the reader's words
            continue
        if verdict is False:
            forget(file)
            raise DataError(
                f"{file} changed since it was put in the cache (its size or SHA-256 differs "
                "from the record); it was removed from the cache: run again to download it"
            )
