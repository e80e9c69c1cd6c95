"""Whether every text on a page fits: inside the page, inside its table cell, clear of others.

matplotlib knows each drawn text's extent (`get_window_extent` with the figure's renderer);
a text that leaves its cell is drawn under the neighbour's face ("Класс CIFAR-10(") and one
that leaves the page is cut by the paper. The check measures; it changes nothing.

    >>> faults = layout_faults(page.fig)   # doctest: +SKIP
    >>> faults                             # doctest: +SKIP
    ['"Класс CIFAR-100" leaves its table cell by 9.1 pt']
"""

from __future__ import annotations

TOLERANCE = 1.0  # points: antialiasing and rounding, not a fault


def _renderer(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()  # tables place their cells while drawing
    return canvas.get_renderer()


def _texts(fig):
    from matplotlib.text import Text

    for text in fig.findobj(Text):
        if text.get_visible() and text.get_text().strip() and text.get_figure() is not None:
            yield text


def _past(inner, outer) -> float:
    """How far (points at 72 dpi when the boxes are) `inner` reaches past `outer`."""
    return max(
        outer.x0 - inner.x0, inner.x1 - outer.x1, outer.y0 - inner.y0, inner.y1 - outer.y1, 0.0
    )


def layout_faults(fig) -> list[str]:
    """The texts of `fig` that leave the page, leave their table cell or overlap another text,
    one sentence each; an empty list when the page is clean."""
    from matplotlib.table import Table

    renderer = _renderer(fig)
    points = 72.0 / fig.dpi
    page = fig.bbox
    faults: list[str] = []
    in_cells = set()
    for table in fig.findobj(Table):
        for cell in table.get_celld().values():
            text = cell.get_text()
            if not (text.get_visible() and text.get_text().strip()):
                continue
            in_cells.add(id(text))
            past = _past(text.get_window_extent(renderer), cell.get_window_extent(renderer))
            if past * points > TOLERANCE:
                faults.append(
                    f"{text.get_text()!r} leaves its table cell by {past * points:.1f} pt"
                )
    boxes = []
    for text in _texts(fig):
        box = text.get_window_extent(renderer)
        past = _past(box, page)
        if past * points > TOLERANCE:
            faults.append(f"{text.get_text()!r} leaves the page by {past * points:.1f} pt")
        axes = text.axes
        if axes is not None and id(text) not in in_cells and text.get_clip_on():
            clip = text.get_clip_box()
            if clip is not None and _past(box, clip) * points > TOLERANCE:
                faults.append(f"{text.get_text()!r} is cut by its axes")
        boxes.append((text, box.expanded(1.0, 1.0).padded(-TOLERANCE / points)))
    for i, (first, a) in enumerate(boxes):
        for second, b in boxes[i + 1 :]:
            if a.width > 0 and b.width > 0 and a.overlaps(b):
                faults.append(f"{first.get_text()!r} overlaps {second.get_text()!r}")
    return faults
