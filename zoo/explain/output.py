"""What every worked example shares: the output folder, figures, JSON, texts, small maths.

Figures are drawn with Matplotlib's Agg backend (no display needed), imported inside the
functions so that importing an example stays cheap.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from zoo.errors import OptionError
from zoo.i18n import t
from zoo.jsonable import to_jsonable

FORMATS = ("png", "pdf")
DPI = 150


def default_out(name: str) -> Path:
    """reports/explain-<name>, the folder a command writes to without --out."""
    return Path("reports") / f"explain-{name}"


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise OptionError("--format", f"{fmt!r} is not one of {', '.join(FORMATS)}")
    return fmt


def prepare_out(out: str | Path | None, name: str) -> Path:
    """The output folder, created if needed."""
    from zoo.reporting.pdf import cannot_write

    folder = Path(out) if out is not None else default_out(name)
    if folder.exists() and not folder.is_dir():
        raise OptionError("--out", f"{str(folder)!r} is a file, not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:  # read-only, no permission, a file in the way
        raise OptionError("--out", f"cannot make folder {str(folder)!r}: {err.strerror}") from None
    reason = cannot_write(folder)
    if reason:
        raise OptionError("--out", f"cannot write into {str(folder)!r}: {reason}")
    return folder


def sigmoid(z):
    """The logistic function S(z) = 1 / (1 + e^-z), elementwise."""
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))


def text(key: str, lang: str = "en", **values: Any) -> str:
    """`explain.<key>` in `lang`."""
    return t(f"explain.{key}", lang, **values)


def write_json(folder: Path, name: str, data: Any) -> Path:
    path = Path(folder) / f"{name}.json"
    path.write_text(json.dumps(to_jsonable(data), indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def new_figure(ncols: int = 1, nrows: int = 1, size: tuple[float, float] = (6.0, 4.5)):
    """A figure with `nrows` x `ncols` axes on the Agg backend; `size` is per panel, inches."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size[0] * ncols, size[1] * nrows), squeeze=False
    )
    return fig, axes


def save_figure(fig, folder: Path, stem: str, fmt: str = "png") -> Path:
    """Save at 150 dpi as `<stem>.<fmt>` and free the figure."""
    import matplotlib.pyplot as plt

    path = Path(folder) / f"{stem}.{check_format(fmt)}"
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def fmt2(value: float) -> str:
    """Two decimals, as the lecture prints its numbers; -0.00 prints as 0.00."""
    out = f"{value:.2f}"
    return "0.00" if out == "-0.00" else out


def vector(values, digits: int = 6) -> str:
    """(0.5, 0.9, -0.3) style."""
    return "(" + ", ".join(f"{v:.{digits}g}" for v in np.ravel(values)) + ")"
