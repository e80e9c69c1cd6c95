"""Uploaded pictures: refused when too big or not an image, else scaled to a set's size."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

UPLOAD_LIMIT = 5 * 1024 * 1024  # bytes: any photo a phone takes fits; more is refused
PIXEL_LIMIT = 40_000_000  # a small file can still unpack into a huge image (a "bomb")
# Decodes at once, and the bytes they hold: 16 uploads of 115 KB, each under both limits above,
# once took the server from 0.7 to 5.8 GB. Bytes, not pixels: a 16-bit or 32-bit picture holds
# up to four times what an 8-bit one of the same size does. One 40 M-pixel picture of any kind
# fits, or several smaller ones. Past either bound the answer is 503 with Retry-After.
DECODES_IN_FLIGHT = 4
BYTES_PER_PIXEL_MAX = 12  # its pixels (4 bytes), a turned copy (4), converted to RGB (4)
BYTES_IN_FLIGHT = BYTES_PER_PIXEL_MAX * PIXEL_LIMIT
RETRY_AFTER_S = 2


class Refused(Exception):
    """A request the page answers with a message: `status` is the HTTP status."""

    def __init__(self, status: int, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after  # seconds, for a 503


class DecodeBudget:
    """How many decodes, and how many bytes of pixels, may be in memory at once."""

    def __init__(self, decodes: int, size: int):
        self.decodes, self.size = decodes, size
        self.lock = threading.Lock()
        self.busy = self.held = self.peak = 0

    @contextmanager
    def take(self, size: int) -> Iterator[None]:
        with self.lock:
            if self.busy >= self.decodes or self.held + size > self.size:
                raise Refused(
                    503,
                    "The server is busy with other pictures; try again in a moment.",
                    retry_after=RETRY_AFTER_S,
                )
            self.busy += 1
            self.held += size
            self.peak = max(self.peak, self.held)
        try:
            yield
        finally:
            with self.lock:
                self.busy -= 1
                self.held -= size


BUDGET = DecodeBudget(DECODES_IN_FLIGHT, BYTES_IN_FLIGHT)


def bytes_per_pixel(mode: str) -> int:
    """What Pillow holds per pixel of `mode`: 1 for 8-bit grey or palette, 2 for 16-bit grey,
    4 for the rest (RGB is stored in 4 bytes, as are 32-bit integers and floats)."""
    if mode in ("1", "L", "P"):
        return 1
    return 2 if mode.startswith("I;16") else 4


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def too_big(size: int) -> Refused:
    return Refused(
        413, f"The file is {megabytes(size)}; this page takes images up to "
        f"{megabytes(UPLOAD_LIMIT)}."
    )  # fmt: skip


def decode(data: bytes, shape: tuple[int, ...]) -> np.ndarray:
    """The picture in `data` as uint8 pixels of `shape` ((H, W), (H, W, 1) or (H, W, 3)),
    stretched to the set's size as the course's page draws a picture onto its canvas.

    Refused (413) over UPLOAD_LIMIT bytes or PIXEL_LIMIT pixels, (415) for what Pillow
    cannot read as an image.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if len(data) > UPLOAD_LIMIT:
        raise too_big(len(data))
    if not data:
        raise Refused(400, "The file is empty.")
    not_image = Refused(
        415, "That file is not an image this page can read (PNG, JPEG, GIF, BMP, WebP...)."
    )
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise Refused(413, "The image has too many pixels for this page.") from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise not_image from None
    with image:
        width, height = image.size
        if width * height > PIXEL_LIMIT:
            raise Refused(
                413, f"The image is {width}x{height} pixels; this page takes up to "
                f"{PIXEL_LIMIT // 1_000_000} million."
            )  # fmt: skip
        channels = shape[2] if len(shape) == 3 else 1
        # Its pixels, a copy turned the right way up, and the copy in the set's mode.
        held = 2 * bytes_per_pixel(image.mode) + bytes_per_pixel("RGB" if channels == 3 else "L")
        with BUDGET.take(width * height * held):
            try:
                ImageOps.exif_transpose(image, in_place=True)  # a phone's photo the right way up
                if image.mode.startswith("I;16"):
                    image = _eight_bit(image)
                image = image.convert("RGB" if channels == 3 else "L")
                image = image.resize((shape[1], shape[0]), Image.Resampling.BILINEAR)
                pixels = np.asarray(image, dtype=np.uint8)
            except (OSError, ValueError, Image.DecompressionBombError):
                raise not_image from None
    return pixels.reshape(shape)


def _eight_bit(image):
    """A 16-bit grey picture in 8 bits, its high byte, as Pillow reads 16-bit colour PNGs;
    Pillow's own conversion would clip every value over 255 to white."""
    from PIL import Image

    values = np.array(image)
    values >>= 8
    return Image.fromarray(values.astype(np.uint8))


def shift(pixels: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """`pixels` moved `dx` right and `dy` down; the uncovered border is black (0).

    The page does the same in JavaScript; this is the reference the tests hold it to.
    """
    h, w = pixels.shape[:2]
    out = np.zeros_like(pixels)
    if abs(dx) >= w or abs(dy) >= h:
        return out
    src_y = slice(max(0, -dy), h - max(0, dy))
    src_x = slice(max(0, -dx), w - max(0, dx))
    dst_y = slice(max(0, dy), h - max(0, -dy))
    dst_x = slice(max(0, dx), w - max(0, -dx))
    out[dst_y, dst_x] = pixels[src_y, src_x]
    return out
