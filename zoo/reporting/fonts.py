"""The fonts a PDF embeds: subsets without layout tables, kept on disk by glyph set.

matplotlib embeds each TrueType font a PDF uses as a subset of the glyphs it shows, made by
fontTools when the file is closed: it parses the font file and rebuilds its tables, about
0.07 s a font, four fonts in a report. The subset depends only on the font file, the glyphs
and fontTools' options, and a lab's reports show nearly the same glyphs each time, so each
subset is kept in ``$ZOO_CACHE/fonts`` and the next PDF that shows the same glyphs of the
same font embeds the same bytes without making them again.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

FOLDER = "fonts"
KEEP = 400  # subsets kept (20-60 KB each); the least recently used go first
# matplotlib places every glyph itself and PDF viewers never read these tables
LAYOUT_TABLES = ("GSUB", "GPOS", "GDEF", "kern")


@contextlib.contextmanager
def font_subsets() -> Iterator[None]:
    """While a PDF is written: font subsets without their layout tables (the pages look and
    read the same; subsetting those tables was a third of the time spent embedding), kept
    and reused by glyph set (with a matplotlib whose subsets come otherwise, made each time).
    """
    try:
        from fontTools import subset
        from matplotlib.backends import _backend_pdf_ps as pdf_ps
    except ImportError:
        yield
        return
    options = subset.Options
    original = getattr(pdf_ps, "get_glyphs_subset", None)
    results = getattr(pdf_ps, "SubsetResults", None)
    if getattr(results, "_fields", None) != ("font", "glyph_index_map"):
        original = None  # another matplotlib: its subsets are made as it makes them

    class Options(options):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.drop_tables = [*self.drop_tables, *LAYOUT_TABLES]

    def get_glyphs_subset(fontfile, glyphs):
        return _kept_subset(original, fontfile, glyphs)

    subset.Options = Options
    if original is not None:
        pdf_ps.get_glyphs_subset = get_glyphs_subset
    try:
        yield
    finally:
        subset.Options = options
        if original is not None:
            pdf_ps.get_glyphs_subset = original


class _Subset:
    """What matplotlib's `get_glyphs_subset` gives, from kept bytes: a context manager
    yielding `.font` (saved as those bytes) and `.glyph_index_map`."""

    def __init__(self, data: bytes, glyph_index_map: dict[int, int]):
        self.font, self.glyph_index_map = _Saved(data), glyph_index_map

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None


class _Saved:
    def __init__(self, data: bytes):
        self.data = data

    def save(self, file, reorderTables=False):  # noqa: N803 (fontTools' name)
        file.write(self.data)


def _kept_subset(make, fontfile, glyphs) -> _Subset:
    """The subset of `glyphs` of `fontfile`: kept bytes if a previous PDF made it, else made
    by matplotlib's `make` and kept. A cache that cannot be read or written is passed by."""
    glyphs = set(glyphs)
    path = _path(fontfile, sorted(glyphs))
    if path is not None:
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            kept = _unpack(path.read_bytes())
            with contextlib.suppress(OSError):
                os.utime(path)  # used now: pruned last
            return kept
    with make(fontfile, glyphs) as made:
        buffer = io.BytesIO()
        made.font.save(buffer, reorderTables=False)  # as matplotlib's font_as_file saves it
        kept = _Subset(buffer.getvalue(), dict(made.glyph_index_map))
    if path is not None:
        with contextlib.suppress(OSError):
            _keep(path, kept)
    return kept


def _path(fontfile, glyphs: list[int]) -> Path | None:
    """Where the subset is kept: named by everything it depends on."""
    import fontTools
    import matplotlib
    from fontTools import subset

    from zoo.datasets.cache import cache_dir

    try:
        file = Path(os.fspath(fontfile))
        stat = file.stat()
    except (OSError, TypeError):
        return None
    key = json.dumps(
        [
            str(file.resolve()),
            getattr(fontfile, "face_index", 0),
            stat.st_size,
            stat.st_mtime_ns,
            fontTools.version,
            matplotlib.__version__,
            sorted(subset.Options().drop_tables),
            glyphs,
        ]
    )
    name = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return cache_dir() / FOLDER / f"{file.stem}-{name}.ttf-subset"


def _unpack(data: bytes) -> _Subset:
    size = int.from_bytes(data[:4], "big")
    header = json.loads(data[4 : 4 + size])
    font = data[4 + size :]
    if len(font) != header["bytes"]:
        raise ValueError("a kept subset cut short")
    glyph_map = {int(k): v for k, v in header["glyph_index_map"].items()}
    return _Subset(font, glyph_map)


def _keep(path: Path, kept: _Subset) -> None:
    from zoo.files import write_bytes

    header = json.dumps({"bytes": len(kept.font.data), "glyph_index_map": kept.glyph_index_map})
    head = header.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(path, len(head).to_bytes(4, "big") + head + kept.font.data)
    kept_files = sorted(path.parent.glob("*.ttf-subset"), key=_used, reverse=True)
    for old in kept_files[KEEP:]:
        with contextlib.suppress(OSError):
            old.unlink()


def _used(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
