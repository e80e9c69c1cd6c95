"""Class subsets of image sets: `--classes` parsing, relabelling, and the .npz cache.

The lab keeps three of CIFAR-100's hundred classes; reading them from the 169 MB archive
takes a second or two, so the chosen subset is saved under ``$ZOO_CACHE/subsets`` and the next
load reads a few megabytes instead. A whole set is kept there too, uncompressed: CIFAR-10
reads in 0.1 s instead of 1.3 s.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import zipfile
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zoo.datasets.cache import cache_dir, drop_record, hash_file, remember, unchanged
from zoo.errors import DataError, OptionError
from zoo.files import atomic_path

SUBSET_FORMAT = 1  # bump when what is stored changes, so old files are not read


def _canonical(name: str) -> str:
    return re.sub(r"[\s_-]+", "_", name.strip().lower())


def resolve_classes(
    classes: Sequence[int | str] | str | None, names: Sequence[str], what: str
) -> list[int] | None:
    """Source indices of the requested classes, in the order given; None keeps them all.

    `classes` holds indices or names (``[0, 55, 58]``, ``["apple", "otter"]``, ``"7,31,52"``);
    names match ignoring case, spaces, hyphens and underscores. Two or more are needed.

    >>> resolve_classes("otter,0", ["apple", "bee", "otter"], "a set")
    [2, 0]
    >>> resolve_classes(["apple", 7], ["apple", "bee", "otter"], "a set")
    Traceback (most recent call last):
    ...
    zoo.errors.OptionError: classes: index 7 is out of range for a set (0..2)
    """
    if classes is None:
        return None
    if isinstance(classes, str):
        classes = [part for part in classes.split(",") if part.strip()]
    lookup = {_canonical(n): i for i, n in enumerate(names)}
    ids: list[int] = []
    for item in classes:
        index = _one_class(item, names, lookup, what)
        if index in ids:
            raise OptionError("classes", f"class {names[index]!r} is given twice")
        ids.append(index)
    if len(ids) < 2:
        raise OptionError("classes", f"give two or more classes (got {len(ids)}), e.g. 0,55,58")
    return ids


def _one_class(item: int | str, names: Sequence[str], lookup: dict[str, int], what: str) -> int:
    text = str(item).strip()
    # A name wins over an index: MNIST's class "7" is index 7 anyway
    if not isinstance(item, int | np.integer) and _canonical(text) in lookup:
        return lookup[_canonical(text)]
    if isinstance(item, int | np.integer) or re.fullmatch(r"[+-]?\d+", text):
        index = int(text)
        if not 0 <= index < len(names):
            raise OptionError(
                "classes", f"index {index} is out of range for {what} (0..{len(names) - 1})"
            )
        return index
    close = difflib.get_close_matches(_canonical(text), list(lookup), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(names[lookup[c]] for c in close)}?" if close else ""
    raise OptionError("classes", f"no class {text!r} in {what}{hint}")


def select(
    x: np.ndarray, y: np.ndarray, ids: Sequence[int] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose label is in `ids`, relabelled 0..k-1 in the order of `ids` (a copy)."""
    y = np.asarray(y, dtype=np.int64)
    if ids is None:
        return x, y
    mapping = np.full(max(int(y.max(initial=0)), max(ids)) + 1, -1, dtype=np.int64)
    mapping[list(ids)] = np.arange(len(ids))
    new = mapping[y]
    keep = new >= 0
    return x[keep], new[keep]


@dataclass
class Split:
    """The arrays and class names a loader produces, before they become a `Dataset`."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str]
    class_ids: list[int]


class MissingClassesError(DataError):
    """Classes with no examples in a copy: it may be partial, not damaged (it is kept)."""


def check_examples(split: Split, what: str, chosen: bool = True) -> None:
    """`MissingClassesError` when a split is empty, or a chosen class has no examples in one.

    A partial or miniature copy of a set may lack classes; a model cannot learn or be scored
    on a class it never sees. Without `chosen` (the whole set) only an empty split is refused:
    `Dataset.summary` names the classes missing.
    """
    gaps = []
    for part, y in (("training", split.y_train), ("test", split.y_test)):
        counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=len(split.class_names))
        if chosen and (counts == 0).any():
            empty = [
                f"{split.class_names[i]!r} [{split.class_ids[i]}]"
                for i in np.flatnonzero(counts == 0)
            ]
            gaps.append(f"{', '.join(empty)} in the {part} split")
        elif len(y) == 0:
            gaps.append(f"any class in the {part} split")
    if gaps:
        advice = (
            "choose classes= that it holds, or get the whole set" if chosen else "get the whole set"
        )
        raise MissingClassesError(
            f"{what} has no examples of {'; nor of '.join(gaps)} (a partial copy?); {advice}"
        )


def fingerprint(paths: Sequence[Path]) -> list:
    """What identifies a source copy cheaply: path, size and modification time of each file."""
    out = []
    for path in paths:
        stat = Path(path).stat()
        out.append([str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns])
    return out


def subset_path(dataset: str, key: dict) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return cache_dir() / "subsets" / f"{dataset}-{digest}.npz"


def cached_split(dataset: str, key: dict, build: Callable[[], Split]) -> Split:
    """`build()`'s result, saved as .npz under the cache and read back next time.

    A cache file that cannot be read, or that changed since it was written (its size and
    SHA-256 are recorded, see `zoo.datasets.cache`), is rebuilt; a new one is written
    atomically, so a crash never leaves half a file behind.
    """
    path = subset_path(dataset, {**key, "format": SUBSET_FORMAT})
    if path.is_file():
        try:
            if unchanged(path):  # else changed since written, or written without a record
                with np.load(path, allow_pickle=False) as f:
                    return Split(
                        f["x_train"],
                        f["y_train"],
                        f["x_test"],
                        f["y_test"],
                        [str(n) for n in f["class_names"]],
                        [int(i) for i in f["class_ids"]],
                    )
        except (OSError, KeyError, ValueError, zipfile.BadZipFile, EOFError):
            pass
        with suppress(OSError):
            path.unlink(missing_ok=True)
            drop_record(path)
    split = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as part:
            with open(part, "wb") as out:
                np.savez(
                    out,
                    x_train=split.x_train,
                    y_train=split.y_train,
                    x_test=split.x_test,
                    y_test=split.y_test,
                    class_names=np.asarray(split.class_names, dtype=str),
                    class_ids=np.asarray(split.class_ids, dtype=np.int64),
                )
            digest = hash_file(part, "sha256")
        remember(path, written=True, **digest)
    except OSError:
        pass  # a read-only or full cache costs speed, not correctness
    return split
