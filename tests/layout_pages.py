"""Every page a report writes, checked for texts that leave their cell or the page."""

from __future__ import annotations

import contextlib

from zoo.reporting.layout_check import layout_faults


@contextlib.contextmanager
def checked_pages(monkeypatch):
    """Within the block every page saved into a PDF is measured; yields the faults found,
    each prefixed with the page's number in the order saved."""
    from matplotlib.backends.backend_pdf import PdfPages

    faults: list[str] = []
    saved = []
    original = PdfPages.savefig

    def savefig(self, figure=None, **kwargs):
        import matplotlib.pyplot as plt

        fig = figure if figure is not None else plt.gcf()
        saved.append(fig)
        faults.extend(f"page {len(saved)}: {fault}" for fault in layout_faults(fig))
        return original(self, figure, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(PdfPages, "savefig", savefig)
        yield faults
    assert saved, "no page was saved into a PDF"
