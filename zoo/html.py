"""Small pieces of HTML for notebook displays: escaped text, tables and embedded PNG images.

Nothing here imports a notebook package: the objects that display themselves return strings,
and Jupyter (or Colab, or VS Code) renders them.

    >>> table(["class", "train"], [["apple", 500], ["otter", 500]])[:7]
    '<table '
"""

from __future__ import annotations

import base64
import html
import struct
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

# One look for every table the zoo shows: compact, numbers on the right, a thin header rule.
TABLE_STYLE = "border-collapse:collapse;margin:4px 0 10px 0;font-size:90%"
CELL_STYLE = "padding:2px 10px;border-bottom:1px solid #ddd;text-align:{align}"


class Raw(str):
    """HTML to insert as it is (an image in a table cell)."""


def escape(value: Any) -> str:
    """Text as HTML, with line breaks kept; `Raw` HTML unchanged."""
    if isinstance(value, Raw):
        return value
    return html.escape(str(value)).replace("\n", "<br>")


def _align(value: Any) -> str:
    if isinstance(value, Raw):
        return "left"
    text = str(value).strip().rstrip("%")
    try:
        float(text)
    except ValueError:
        return "left"
    return "right"


def table(header: Sequence[Any], rows: Sequence[Sequence[Any]], caption: str = "") -> str:
    """An HTML table; cells that read as numbers are right-aligned."""
    head = "".join(
        f'<th style="{CELL_STYLE.format(align="left")}">{escape(h)}</th>' for h in header
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td style="{CELL_STYLE.format(align=_align(cell))}">{escape(cell)}</td>'
            for cell in row
        )
        + "</tr>"
        for row in rows
    )
    title = (
        f"<caption style='text-align:left'><b>{escape(caption)}</b></caption>" if caption else ""
    )
    return (
        f'<table style="{TABLE_STYLE}">{title if caption else ""}'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def image(png: bytes, alt: str = "", width: int | None = None, pixelated: bool = False) -> Raw:
    """A PNG embedded in the page (a data URI), so the notebook file carries it."""
    data = base64.b64encode(png).decode("ascii")
    style = []
    if width:
        style.append(f"width:{width}px")
    if pixelated:  # small images (32x32) enlarged without blurring
        style.append("image-rendering:pixelated")
    attrs = f' style="{";".join(style)}"' if style else ""
    return Raw(f'<img src="data:image/png;base64,{data}" alt="{escape(alt)}"{attrs}>')


def png_bytes(pixels: np.ndarray, level: int = 6) -> bytes:
    """An (H, W) grey or (H, W, 3) colour uint8 array as PNG bytes, without an image library;
    `level`: zlib's compression, 1 (fastest) to 9 (smallest)."""
    pixels = np.ascontiguousarray(pixels, dtype=np.uint8)
    height, width = pixels.shape[:2]
    colour_type = 2 if pixels.ndim == 3 else 0  # truecolour or greyscale, 8 bits

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + pixels[row].tobytes() for row in range(height))  # filter: none
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, level))
        + chunk(b"IEND", b"")
    )


def heading(text: str, level: int = 4) -> str:
    """A small heading (h4 unless `level` says otherwise)."""
    return f"<h{level} style='margin:8px 0 4px 0'>{escape(text)}</h{level}>"


def block(*parts: str) -> str:
    """The parts one under another, in one element."""
    return "<div>" + "".join(parts) + "</div>"


def side_by_side(*parts: str) -> str:
    """The parts next to each other, wrapping on a narrow page."""
    cells = "".join(f"<div style='margin-right:24px'>{p}</div>" for p in parts)
    return f"<div style='display:flex;flex-wrap:wrap;align-items:flex-start'>{cells}</div>"
