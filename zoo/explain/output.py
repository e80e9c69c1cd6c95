"""What every worked example shares: the output folder, figures, JSON, texts, small maths.

Figures are drawn with Matplotlib's Agg backend (no display needed), imported inside the
functions so that importing an example stays cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from zoo import files
from zoo.errors import OptionError
from zoo.files import cannot_write, free_path
from zoo.i18n import t
from zoo.reporting.plot import DPI, drawing, pyplot

FORMATS = ("png", "pdf")


def default_out(name: str) -> Path:
    """reports/explain-<name>, the folder a command writes to without --out."""
    return Path("reports") / f"explain-{name}"


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise OptionError("fmt", f"{fmt!r} is not one of {', '.join(FORMATS)}")
    return fmt


def prepare_out(out: str | Path | None, name: str, force: bool = False) -> Path:
    """The output folder, created if needed; what is in it is never replaced unasked.

    Without `out`, a new folder each time (reports/explain-NAME, then -2, -3 ...); a folder
    `out` names that already holds files is refused unless `force`.
    """
    folder = Path(out) if out is not None else free_path(default_out(name))
    if folder.exists() and not folder.is_dir():
        raise OptionError("out", f"{str(folder)!r} is a file, not a folder")
    if folder.is_dir() and not force and any(folder.iterdir()):
        raise OptionError(
            "out", f"{str(folder)!r} already holds files; pass `force=True` to replace them"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:  # read-only, no permission, a file in the way
        raise OptionError("out", f"cannot make folder {str(folder)!r}: {err.strerror}") from None
    reason = cannot_write(folder)
    if reason:
        raise OptionError("out", f"cannot write into {str(folder)!r}: {reason}")
    return folder


def sigmoid(z):
    """The logistic function S(z) = 1 / (1 + e^-z), elementwise."""
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))


def text(key: str, lang: str = "en", **values: Any) -> str:
    """`explain.<key>` in `lang`."""
    return t(f"explain.{key}", lang, **values)


def write_json(folder: Path, name: str, data: Any) -> Path:
    return files.write_json(Path(folder) / f"{name}.json", data)


def new_figure(ncols: int = 1, nrows: int = 1, size: tuple[float, float] = (6.0, 4.5)):
    """A figure with `nrows` x `ncols` axes (a bare Agg figure); `size` is per panel, inches."""
    plt = pyplot()
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(size[0] * ncols, size[1] * nrows), squeeze=False
    )
    return fig, axes


def save_figure(fig, folder: Path, stem: str, fmt: str = "png") -> Path:
    """Save at 150 dpi as `<stem>.<fmt>` (whole or not at all)."""
    path = Path(folder) / f"{stem}.{check_format(fmt)}"
    with drawing():
        fig.tight_layout()
        with files.atomic_path(path) as part:
            fig.savefig(part, dpi=DPI)
    return path


def fmt2(value: float) -> str:
    """Two decimals, as the lecture prints its numbers; -0.00 prints as 0.00."""
    out = f"{value:.2f}"
    return "0.00" if out == "-0.00" else out


def vector(values, digits: int = 6) -> str:
    """(0.5, 0.9, -0.3) style."""
    return "(" + ", ".join(f"{v:.{digits}g}" for v in np.ravel(values)) + ")"
