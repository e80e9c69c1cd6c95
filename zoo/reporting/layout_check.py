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


def _undrawn(fig) -> set[int]:
    """The tick labels an axis keeps but does not draw (their ticks lie outside the view)."""
    hidden = set()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            shown = ax.axison and axis.get_visible()  # axis("off") draws no tick at all
            drawn = {id(tick) for tick in axis._update_ticks()} if shown else set()
            for tick in (*axis.majorTicks, *axis.minorTicks):
                if id(tick) not in drawn:
                    hidden.update((id(tick.label1), id(tick.label2)))
    return hidden


def _texts(fig):
    from matplotlib.text import Text

    hidden = _undrawn(fig)
    for text in fig.findobj(Text):
        if (
            text.get_visible()
            and text.get_text().strip()
            and text.get_figure() is not None
            and id(text) not in hidden
        ):
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


MIN_FIGURE_TEXT = 5.5  # points on the page: a figure's caption smaller than this is not read


def _bars(ax):
    """The bars drawn in `ax` (a Rectangle patch of some size each)."""
    from matplotlib.patches import Rectangle

    for patch in ax.patches:
        if isinstance(patch, Rectangle) and patch.get_visible() and patch.get_height() != 0:
            yield patch


def figure_faults(fig, scale: float = 1.0) -> list[str]:
    """`layout_faults` of a figure the report draws, and what only a figure has: a text
    smaller than `MIN_FIGURE_TEXT` points once the figure is placed `scale` times its own
    size, a legend over the bars, a tick label of one or two characters turned on its side.

    >>> figure_faults(fig, scale=0.6)   # doctest: +SKIP
    ["10 texts are under 5.5 pt on the page, 'ship → cat (0.91)' 4.2 pt"]
    """
    renderer = _renderer(fig)
    faults = layout_faults(fig)
    shown = {id(text) for text in _texts(fig)}
    small = [text for text in _texts(fig) if text.get_fontsize() * scale < MIN_FIGURE_TEXT - 0.05]
    if small:  # one sentence: a figure set too small has all its texts too small
        first = min(small, key=lambda text: text.get_fontsize())
        faults.append(
            f"{len(small)} texts are under {MIN_FIGURE_TEXT} pt on the page, "
            f"{first.get_text()!r} {first.get_fontsize() * scale:.1f} pt"
        )
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            frame = legend.get_window_extent(renderer)
            for bar in _bars(ax):
                if frame.overlaps(bar.get_window_extent(renderer)):
                    faults.append(f"the legend of {ax.get_title()!r} covers a bar")
                    break
        for tick in (*ax.get_xticklabels(), *ax.get_yticklabels()):
            label = tick.get_text().strip()
            if label and len(label) <= 2 and id(tick) in shown and tick.get_rotation() % 180:
                faults.append(f"the tick label {label!r} is turned on its side")
    return faults
