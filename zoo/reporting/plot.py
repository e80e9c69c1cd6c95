"""matplotlib as the zoo draws with it: bare Figures on the Agg canvas, never pyplot's windows.

Reports are files. No backend is chosen or changed, so a notebook's own (inline) plots are left
alone, figures never pile up in pyplot's list, and an unusable $MPLBACKEND does not matter.

    >>> plt = pyplot()
    >>> fig, ax = plt.subplots(figsize=(4, 3))
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Iterator

from zoo.backend import import_matplotlib

DPI = 150  # every PNG the zoo writes
PAGE_WIDTH = 6.9  # inches: the room a report's page gives a figure (A4 less its margins)
PAGE_TEXT = 6.0  # points: the smallest a figure's text should come out on the page
RC = {"pdf.fonttype": 42, "font.family": "DejaVu Sans"}  # TrueType: PDF text is extractable


def matplotlib():
    """The matplotlib module (see `zoo.backend.import_matplotlib`: a bad $MPLBACKEND is dropped)."""
    return import_matplotlib()


class Figures:
    """The few pyplot calls the figures use, making bare Figures with an Agg canvas."""

    @staticmethod
    def figure(figsize=None, **kwargs):
        matplotlib()
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=figsize, **kwargs)
        FigureCanvasAgg(fig)
        return fig

    def subplots(self, nrows: int = 1, ncols: int = 1, *, figsize=None, **kwargs):
        fig_keys = {k: kwargs.pop(k) for k in ("dpi", "layout") if k in kwargs}
        fig = self.figure(figsize=figsize, **fig_keys)
        return fig, fig.subplots(nrows, ncols, **kwargs)

    @staticmethod
    def close(fig=None) -> None:
        """Nothing to do: a bare Figure is freed with its last reference."""

    @staticmethod
    def get_cmap(name: str):
        return matplotlib().colormaps[name]


def pyplot() -> Figures:
    return Figures()


@contextlib.contextmanager
def drawing() -> Iterator[None]:
    """The zoo's rc settings, and no warnings about glyphs a font lacks (a comment in another
    script draws as boxes; the text itself is kept in the PDF's metadata and tables)."""
    mpl = matplotlib()
    with mpl.rc_context(RC), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from")
        warnings.filterwarnings("ignore", message=r".*missing from font")
        yield


def localize(fig, lang: str):
    """`fig` with its numeric tick labels in the language's notation (Russian: 0,5, not 0.5);
    class names and other fixed labels are left as they are. Returns `fig`."""
    from matplotlib.ticker import FixedFormatter, NullFormatter

    from zoo.i18n import t

    mark = t("number.decimal_mark", lang)
    if mark == ".":
        return fig
    DecimalMark = _decimal_mark_class()  # noqa: N806 (a class)
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for minor in (False, True):
                inner = axis.get_minor_formatter() if minor else axis.get_major_formatter()
                if isinstance(inner, (FixedFormatter, NullFormatter, DecimalMark)):
                    continue
                wrapped = DecimalMark(inner, mark)
                (axis.set_minor_formatter if minor else axis.set_major_formatter)(wrapped)
    return fig


@functools.cache
def _decimal_mark_class():
    from matplotlib.ticker import Formatter

    class DecimalMark(Formatter):
        """Another formatter's labels with `mark` for the decimal point."""

        def __init__(self, inner, mark: str):
            self.inner, self.mark = inner, mark

        def set_axis(self, axis):
            super().set_axis(axis)
            self.inner.set_axis(axis)

        def set_locs(self, locs):
            self.inner.set_locs(locs)

        def __call__(self, x, pos=None):
            return self.inner(x, pos).replace(".", self.mark)

        def format_ticks(self, values):
            return [label.replace(".", self.mark) for label in self.inner.format_ticks(values)]

        def get_offset(self):
            return self.inner.get_offset().replace(".", self.mark)

        def format_data_short(self, value):
            return self.inner.format_data_short(value).replace(".", self.mark)

    return DecimalMark
