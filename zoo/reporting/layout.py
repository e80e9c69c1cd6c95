"""A4 pages built top to bottom: headings, paragraphs, tables and figures.

Each page is a matplotlib Figure the size of an A4 sheet; a cursor runs down it. Figures are
placed as images rendered at `IMAGE_DPI` (the very PNGs saved beside the report), so the
figure functions keep their own sizes and every page of a report has the same size.

    >>> page = Page(pyplot(), footer="mlp-digits-20261127-101500")   # doctest: +SKIP
    >>> page.heading("1. Task"); page.paragraph("Train an MLP ...")   # doctest: +SKIP
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np

from zoo.i18n import decimal_marks
from zoo.reporting.plot import DPI

A4 = (8.27, 11.69)  # inches, portrait
LEFT, RIGHT, TOP, BOTTOM = 0.08, 0.92, 0.95, 0.05  # figure fractions
IMAGE_DPI = DPI  # the figures' PNG files are placed as they are: rendered once
GREY = "0.35"


PAD_INCHES = 0.1  # the margin left around a figure's content, as savefig's "tight" leaves
PNG_COMPRESSION = 1  # zlib level: 6 costs a third more time for files a tenth smaller
WHITE = np.frombuffer(bytes([255, 255, 255, 255]), dtype=np.uint32)[0]  # opaque white, RGBA


@contextmanager
def pdf_pages(path, metadata: dict[str, str]) -> Iterator[object]:
    """matplotlib's PdfPages on `path`, closed at the end; when the block fails (a write
    refused for lack of space), that failure is what is raised. PdfPages closes the file
    whatever happened, and after a refused write its compressor's state is broken: the close
    raises zlib.error, which would hide the full disk behind what reads as a bug. The fonts
    are embedded as `fonts.font_subsets` makes them."""
    from matplotlib.backends.backend_pdf import PdfPages

    from zoo.reporting.fonts import font_subsets

    with font_subsets():
        pdf = PdfPages(path, metadata=metadata)
        try:
            yield pdf
        except BaseException:
            try:
                pdf.close()
            except Exception:  # the block's own failure says what went wrong
                pass
            raise
        pdf.close()


@dataclass(frozen=True)
class Rendered:
    """A figure drawn once: the PNG file's bytes and the very pixels it holds (RGB)."""

    png: bytes
    pixels: np.ndarray


def render(fig, dpi: int = IMAGE_DPI, crop: bool = True) -> Rendered:
    """Draw `fig` once at `dpi` on white, trimmed to its content plus `PAD_INCHES` (unless
    `crop` is False); the figure stays open.

    One draw: ``savefig(bbox_inches="tight")`` lays the figure out twice, and reading the
    PNG back for the PDF decoded it again."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    saved_dpi, saved_face = fig.dpi, fig.get_facecolor()
    fig.dpi = dpi
    fig.set_facecolor("white")
    try:
        canvas.draw()
        rgba = np.asarray(canvas.buffer_rgba())
        pixels = rgba[..., :3]
    finally:
        fig.dpi = saved_dpi
        fig.set_facecolor(saved_face)
    # one word per pixel: ink is any pixel that is not opaque white (one pass, not three)
    ink = rgba.view(np.uint32)[..., 0] != WHITE if crop else None
    # Ink on the canvas's edge means something reaches past it (a long title, a legend
    # outside the axes): savefig's tight box widens the picture to hold it. (Measuring every
    # artist's extent instead cost as much as drawing a figure with many labels.)
    inside = not crop or not _ink_on_edge(ink)
    if not inside:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
        pixels = np.asarray(Image.open(buffer).convert("RGB"))
        crop = False
    if crop:
        rows, columns = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
        if rows.size:
            pad = round(PAD_INCHES * dpi)
            top, bottom = max(rows[0] - pad, 0), min(rows[-1] + pad + 1, pixels.shape[0])
            left, right = max(columns[0] - pad, 0), min(columns[-1] + pad + 1, pixels.shape[1])
            pixels = pixels[top:bottom, left:right]
    pixels = np.ascontiguousarray(pixels)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(
        buffer, format="png", dpi=(dpi, dpi), compress_level=PNG_COMPRESSION
    )
    return Rendered(buffer.getvalue(), pixels)


def _touches_edge(pixels: np.ndarray) -> bool:
    """Whether anything but white lies on the outermost rows or columns of an RGB picture."""
    return _ink_on_edge((pixels != 255).any(axis=-1))


def _ink_on_edge(ink: np.ndarray) -> bool:
    """Whether any ink (a boolean mask) lies on the outermost rows or columns."""
    return bool(ink[0].any() or ink[-1].any() or ink[:, 0].any() or ink[:, -1].any())


MIN_CELL_SIZE = 5.5  # points: below this a shrunk cell would not be read


@cache
def _measure():
    from matplotlib.backends.backend_agg import RendererAgg

    return RendererAgg(1, 1, 72)  # at 72 dpi a pixel is a point


def text_width(text: str, size: float, bold: bool = False, family: str | None = None) -> float:
    """The width in points of one line of `text` in the pages' font (or `family`)."""
    if family is None:  # the font in force now (the pages draw inside their own settings)
        from matplotlib import rcParams

        family = tuple(rcParams["font.family"])
    return _width(text, float(size), bool(bold), family)


@lru_cache(maxsize=8192)
def _width(text: str, size: float, bold: bool, family) -> float:
    """`text_width`, kept per argument: a page's texts are measured again as it is laid out,
    checked and drawn.

    The width is the sum of the glyphs' advances with the font's pair kerning, each glyph
    loaded once per font and size: laying a whole line out with FreeType and HarfBuzz cost
    about 1 ms a line, and a lab report measures 1,300 lines. Ligatures (a report's "ft",
    "fi") make the laid-out line up to 2 points narrower on 500, never wider, so a line
    measured this way is never wider on the page than measured. A character the first font
    lacks (drawn by a fallback font) is measured the slow way, as matplotlib lays it out."""
    glyphs = _glyphs(size, bold, family)
    advances = glyphs.advances(text)
    if advances is None:
        from matplotlib.font_manager import FontProperties

        prop = FontProperties(family=family, size=size, weight="bold" if bold else "normal")
        return _measure().get_text_width_height_descent(text, prop, ismath=False)[0]
    return advances


class _Glyphs:
    """One font at one size: each character's glyph and advance, and each pair's kerning,
    read from matplotlib's own cached font object when first met."""

    def __init__(self, path: str, size: float):
        from matplotlib.backends.backend_agg import get_hinting_flag
        from matplotlib.ft2font import Kerning

        self.path, self.size = path, size
        self.flags, self.kerning = get_hinting_flag(), Kerning.DEFAULT
        self.glyphs: dict[str, tuple[int, int]] = {}  # char -> (glyph index, advance in 1/64)
        self.kerns: dict[tuple[int, int], int] = {}  # (left, right) glyph index -> 1/64

    def _font(self):
        """matplotlib's font object for the file (shared with its renderers, which set their
        own size before each use: no second copy of the face in memory), at this size."""
        from matplotlib.font_manager import get_font

        font = get_font(self.path)
        font.set_size(self.size, 72)  # at 72 dpi a pixel is a point
        return font

    def advances(self, text: str) -> float | None:
        """The line's width in points, or None when the font lacks one of its characters."""
        glyphs, kerns, font = self.glyphs, self.kerns, None
        total, previous = 0, None
        for char in text:
            glyph = glyphs.get(char)
            if glyph is None:
                font = self._font() if font is None else font
                index = font.get_char_index(ord(char))
                if index == 0:
                    return None
                glyph = glyphs[char] = (index, font.load_glyph(index, self.flags).horiAdvance)
            if previous is not None:
                kern = kerns.get((previous, glyph[0]))
                if kern is None:
                    font = self._font() if font is None else font
                    kern = font.get_kerning(previous, glyph[0], self.kerning)
                    kerns[previous, glyph[0]] = kern
                total += kern
            total += glyph[1]
            previous = glyph[0]
        return total / 64


@lru_cache(maxsize=64)
def _glyphs(size: float, bold: bool, family) -> _Glyphs:
    from matplotlib.font_manager import FontProperties, findfont

    prop = FontProperties(family=family, size=size, weight="bold" if bold else "normal")
    return _Glyphs(findfont(prop), size)


def wrap_lines(
    text: str,
    room: float,
    size: float,
    bold: bool = False,
    family: str | None = None,
    *,
    break_words: bool = False,
) -> list[str]:
    """`text` broken at spaces into lines at most `room` points wide. A single word wider than
    that keeps a line of its own, or with `break_words` goes on over the next lines (a path)."""
    lines: list[str] = []
    for part in text.split("\n"):
        line = ""
        for word in part.split(" "):
            joined = f"{line} {word}" if line else word
            if line and text_width(joined, size, bold, family) > room:
                lines.append(line)
                line = word
            else:
                line = joined
            while break_words and len(line) > 1 and text_width(line, size, bold, family) > room:
                cut = len(line) - 1
                while cut > 1 and text_width(line[:cut], size, bold, family) > room:
                    cut -= 1
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line)
    return lines


def fit_cell(text: str, room: float, size: float, bold: bool = False) -> tuple[str, float]:
    """`text` made to fit `room` points wide: wrapped at spaces, and where one word is still
    too wide, set smaller (down to `MIN_CELL_SIZE`); never cut. Returns the text and its size.

    >>> fit_cell("Класс CIFAR-100", 60, 10, bold=True)
    ('Класс\\nCIFAR-100', 10)
    """
    lines = wrap_lines(text, room, size, bold)
    widest = max(text_width(line, size, bold) for line in lines)
    if widest > room:
        size = max(MIN_CELL_SIZE, round(size * room / widest * 2 - 0.5) / 2)
    return "\n".join(lines), size


def figure_png(fig, dpi: int = IMAGE_DPI) -> bytes:
    """The figure as PNG bytes, trimmed to its content (does not close it)."""
    return render(fig, dpi).png


def png_image(png: bytes) -> np.ndarray:
    """PNG bytes as an RGBA array, ready for `Page.image`."""
    import matplotlib.image

    return matplotlib.image.imread(io.BytesIO(png))


def figure_image(fig, dpi: int = IMAGE_DPI) -> np.ndarray:
    """Render a figure to an RGB array (does not close it)."""
    return render(fig, dpi).pixels


class Page:
    """One A4 page; `y` is the cursor, in figure fractions from the bottom."""

    def __init__(
        self,
        plt,
        footer: str = "",
        number: str = "",
        warning: str = "",
        landscape: bool = False,
        lang: str = "en",
    ):
        self.lang = lang  # the tables' numbers are written its way (0,5 in Russian)
        self.size = (A4[1], A4[0]) if landscape else A4
        self.fig = plt.figure(figsize=self.size)
        self.y = TOP
        self.width_in = self.size[0] * (RIGHT - LEFT)
        if footer or number:
            self.fig.text(LEFT, 0.025, footer, fontsize=7, color=GREY)
            self.fig.text(RIGHT, 0.025, number, fontsize=7, color=GREY, ha="right")
        if warning:  # an unfinished run says so on every page
            self.fig.text(0.5, 0.975, warning, fontsize=8, color="darkred", ha="center")

    def space(self, inches: float) -> None:
        self.y -= inches / self.size[1]

    def remaining(self) -> float:
        """Inches left above the bottom margin."""
        return (self.y - BOTTOM) * self.size[1]

    def text(self, text: str, size: float = 10, **kwargs) -> None:
        """Text wrapped to the page width; the cursor moves below it."""
        # wrapped by the measured width of each line: Cyrillic runs wider than Latin
        bold = kwargs.get("weight") == "bold"
        family = kwargs.get("family")
        lines = wrap_lines(str(text), self.width_in * 72, size, bold, family, break_words=True)
        height = len(lines) * size * 1.45 / 72
        self.fig.text(
            LEFT, self.y, "\n".join(lines), fontsize=size, va="top", linespacing=1.45, **kwargs
        )
        self.space(height + 0.08)

    def text_height(
        self, text: str, size: float = 10, bold: bool = False, family: str | None = None
    ) -> float:
        """Inches the cursor moves for `page.text(text, size)`: to keep room for it below."""
        lines = wrap_lines(str(text), self.width_in * 72, size, bold, family, break_words=True)
        return len(lines) * size * 1.45 / 72 + 0.08

    def heading(self, text: str, size: float = 15) -> None:
        self.text(text, size=size, weight="bold")
        self.space(0.05)

    def subheading(self, text: str) -> None:
        self.text(text, size=11, weight="bold")

    def note(self, text: str) -> None:
        """Grey italic: what is missing, and why."""
        self.text(text, size=9, color=GREY, style="italic")

    def table(
        self,
        rows: Sequence[Sequence[str]],
        header: Sequence[str] | None = None,
        *,
        widths: Sequence[float] | None = None,
        size: float = 8.5,
        bold_first: bool = False,
        align: str = "center",
        borders: bool = True,
    ) -> None:
        """A table across the page width; `widths` are relative column widths."""
        if not rows:
            return
        widths = widths or [1.0] * len(rows[0])
        total = float(sum(widths))
        fitted, fitted_header, heights = self._fit(rows, header, widths, size, bold_first, align)
        all_rows = [fitted_header, *fitted] if fitted_header else fitted
        height = sum(heights)
        ax = self.fig.add_axes(
            (LEFT, self.y - height / self.size[1], RIGHT - LEFT, height / self.size[1])
        )
        ax.axis("off")
        table = ax.table(
            cellText=[[text for text, _ in row] for row in fitted],
            colLabels=[text for text, _ in fitted_header] if fitted_header else None,
            colWidths=[w / total for w in widths],
            cellLoc=align,
            bbox=(0, 0, 1, 1),
        )
        table.auto_set_font_size(False)
        table.set_fontsize(size)
        for (r, c), cell in table.get_celld().items():
            cell.set_height(heights[r] / height)  # the bbox keeps these proportions
            cell.set_edgecolor("0.7" if borders else "white")
            cell.set_linewidth(0.5)
            if align == "left":
                cell.PAD = 0.03
            if header and r == 0:
                cell.set_facecolor("0.9")
                cell.set_text_props(weight="bold")
            if c == 0 and bold_first:
                cell.set_text_props(weight="bold", ha="left")
            cell_size = all_rows[r][c][1]
            if cell_size != size:
                cell.get_text().set_fontsize(cell_size)
        self.space(height + 0.15)

    def _fit(self, rows, header, widths, size, bold_first=False, align="center"):
        """The cells wrapped or shrunk to their columns, and each row's height in inches (the
        header's first): a row is as tall as its cell with the most lines."""
        total = float(sum(widths))
        pad = 0.03 if align == "left" else 0.1  # matplotlib's Cell.PAD, a share of the width
        room = [w / total * self.width_in * 72 * (1 - 2 * pad) for w in widths]
        fitted = [
            [
                fit_cell(
                    decimal_marks(str(c), self.lang), room[j], size, bold=bold_first and j == 0
                )
                for j, c in enumerate(row)
            ]
            for row in rows
        ]
        fitted_header = (
            [fit_cell(str(c), room[j], size, bold=True) for j, c in enumerate(header)]
            if header
            else None
        )
        all_rows = [fitted_header, *fitted] if fitted_header else fitted
        heights = [
            size * (1.9 + 1.3 * (max(text.count("\n") for text, _ in row))) / 72 for row in all_rows
        ]
        return fitted, fitted_header, heights

    def rows_that_fit(self, rows, header, *, widths, size: float = 8.5, keep: float = 0.0) -> int:
        """How many of `rows` (from the first, under `header`) fit above the bottom margin,
        keeping `keep` inches free below the table; at least one."""
        _, fitted_header, heights = self._fit(rows, header, widths, size)
        used = (heights[0] if fitted_header else 0.0) + 0.15 + keep
        body = heights[1:] if fitted_header else heights
        count = 0
        for height in body:
            if used + height > self.remaining():
                break
            used += height
            count += 1
        return max(1, count)

    def image(self, image: np.ndarray, max_height: float | None = None) -> None:
        """A rendered figure, as wide as the page allows (and at most `max_height` inches)."""
        h_px, w_px = image.shape[:2]
        width = self.width_in
        height = width * h_px / w_px
        limit = min(max_height or self.remaining(), self.remaining())
        if height > limit:
            height, width = limit, limit * w_px / h_px
        left = LEFT + (RIGHT - LEFT - width / self.size[0]) / 2
        ax = self.fig.add_axes(
            (left, self.y - height / self.size[1], width / self.size[0], height / self.size[1])
        )
        ax.imshow(image, interpolation="none")
        ax.axis("off")
        self.space(height + 0.12)
