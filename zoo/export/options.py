"""What `zoo export` offers and holds itself to: the formats, the extra, the tolerance."""

from __future__ import annotations

from zoo.runfolder.format import EXPORTS

FORMATS = tuple(EXPORTS)  # the choice list of `fmt=` and of `zoo export --format`
EXTRA = "export"  # `pip install 'keras-zoo[export]'` brings what the formats need
TOLERANCE = 1e-4  # the largest difference between the exported file and Keras that passes
