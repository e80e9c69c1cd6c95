"""matplotlib as the zoo draws with it: bare Figures on the Agg canvas, never pyplot's windows.

Reports are files. No backend is chosen or changed, so a notebook's own (inline) plots are left
alone, figures never pile up in pyplot's list, and an unusable $MPLBACKEND does not matter.

    >>> plt = pyplot()
    >>> fig, ax = plt.subplots(figsize=(4, 3))
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

from zoo.backend import import_matplotlib

DPI = 150  # every PNG the zoo writes
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
