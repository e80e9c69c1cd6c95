"""Every page a report writes, checked for texts that leave their cell or the page; and every
figure it draws, checked the same way at the size it has on the page."""

from __future__ import annotations

import contextlib

from zoo.reporting.layout_check import figure_faults, layout_faults


@contextlib.contextmanager
def checked_pages(monkeypatch):
    """Within the block every page saved into a PDF is measured, and every figure rendered
    (for a page or a PNG file) at the scale a page places it (1 when no page does); yields
    the faults found, each prefixed with the page's number in the order saved or the
    figure's title."""
    from matplotlib.backends.backend_pdf import PdfPages

    from zoo.reporting import layout, pdf

    faults: list[str] = []
    saved = []
    drawn = []  # (figure, its pixels' shape), in the order rendered
    scales: dict[int, float] = {}  # id(figure) -> the smallest scale a page placed it at
    original_savefig, original_render = PdfPages.savefig, layout.render
    original_image = layout.Page.image

    def savefig(self, figure=None, **kwargs):
        import matplotlib.pyplot as plt

        fig = figure if figure is not None else plt.gcf()
        saved.append(fig)
        faults.extend(f"page {len(saved)}: {fault}" for fault in layout_faults(fig))
        return original_savefig(self, figure, **kwargs)

    def render(fig, dpi=layout.IMAGE_DPI, crop=True):
        result = original_render(fig, dpi, crop)
        drawn.append((fig, result.pixels.shape[:2], dpi))
        return result

    def image(self, picture, max_height=None):
        before = len(self.fig.axes)
        original_image(self, picture, max_height)
        placed = self.fig.axes[before].get_position().width * self.size[0]  # inches
        for fig, shape, dpi in reversed(drawn):  # a PNG read back has the shape it was drawn at
            if shape == picture.shape[:2]:
                scale = placed / (shape[1] / dpi)
                scales[id(fig)] = min(scale, scales.get(id(fig), scale))
                break

    with monkeypatch.context() as patch:
        patch.setattr(PdfPages, "savefig", savefig)
        patch.setattr(layout, "render", render)
        patch.setattr(pdf, "render", render)
        patch.setattr(layout.Page, "image", image)
        yield faults
    assert saved, "no page was saved into a PDF"
    seen = set()
    for fig, _, _ in drawn:
        if id(fig) not in seen:
            seen.add(id(fig))
            titles = [text.get_text() for text in fig.texts] + [ax.get_title() for ax in fig.axes]
            name = next((title for title in titles if title), "?")
            for fault in figure_faults(fig, scales.get(id(fig), 1.0)):
                faults.append(f"figure {name!r}: {fault}")
