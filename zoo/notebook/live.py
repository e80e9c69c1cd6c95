"""Live training display in a notebook: the learning curves and a progress bar, redrawn in place.

When `zoo.train` runs in a Jupyter kernel (Jupyter, Colab, VS Code), the cell shows a progress
bar in the notebook convention (an HTML bar with the epoch, elapsed and remaining time and the
metrics, like `tqdm.auto`'s) and one figure with the loss and accuracy curves, train and test
(or validation), the best epoch marked. Both are replaced in place (Jupyter's
`update_display_data`), so the cell holds one bar and one figure however long the run.

Drawing costs time the training could use. The figure is redrawn only while the time spent
drawing stays within `SHARE` (5%) of the training time so far: a draw that took 0.1 s waits for
2 s of training. The first epoch and the last are always shown. `train(..., live=False)` turns
the display off; outside a kernel nothing changes (the text progress of `Progress`).

A sweep that trains in this process passes `live=` on to each `train`, so every trial shows its
curves; one whose trials run elsewhere can feed a `LiveDisplay` itself, row by row, with
`title=` naming the trial.
"""

from __future__ import annotations

import base64
import html
import math
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from zoo.html import png_bytes
from zoo.i18n import t
from zoo.notebook.detect import in_notebook, publish
from zoo.runfolder import best_epoch, eval_split

SHARE = 0.05  # the most of the training time that drawing may take
BAR_INTERVAL = 0.2  # seconds between progress-bar updates (the last one is always shown)
FIGSIZE = (10, 3.6)  # inches; drawn at LIVE_DPI, smaller than the report's figures
LIVE_DPI = 80
PNG_LEVEL = 1  # zlib's fastest: the image lives for a few epochs
NICE_STEPS = (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10)


@dataclass
class DrawBudget:
    """When the figure may be redrawn: only while drawing stays within `share` of training.

    `spent` is every second the display took (figures and bar); the next figure is expected
    to cost what the last one did.
    """

    share: float = SHARE
    spent: float = 0.0
    last_figure: float = 0.0

    def allows(self, train_seconds: float) -> bool:
        return self.spent + self.last_figure <= self.share * train_seconds

    def add(self, seconds: float, figure: bool = False) -> None:
        self.spent += seconds
        if figure:
            self.last_figure = seconds


def clock_text(seconds: float) -> str:
    """61.5 -> "01:01"; an hour or more -> "1:00:00", as tqdm writes them."""
    seconds = int(max(0.0, seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def nice_ceiling(value: float) -> float:
    """The next 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten: an axis top that
    stays put while the curve moves a little."""
    if not value > 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(step * power for step in NICE_STEPS if step * power >= value * (1 - 1e-12))


def axis_limits(key: str, values: np.ndarray) -> tuple[float, float]:
    """(bottom, top) of a panel for the curves so far. Linear, from zero to a round number
    above the highest loss (usually the first epoch's): limits that hold for most of a run,
    because each change redraws the whole figure instead of the curves alone. (The report's
    figure, drawn once, puts a loss spanning decades on a log axis.)"""
    if key == "accuracy":
        return (-0.02, 1.02)
    finite = values[np.isfinite(values)]
    if not finite.size:
        return (0.0, 1.0)
    return (min(0.0, float(finite.min())), nice_ceiling(float(finite.max()) * 1.05))


class LiveCurves:
    """The report's learning curves (`zoo.reporting.figures.learning_curves`: its labels,
    colours and best-epoch line), drawn cheaply enough to redraw during training.

    The x axis spans the planned epochs and the y axes change only when the curves leave
    them (`axis_limits`), so the axes, ticks and titles are rendered once and kept as a
    background; a redraw paints the lines, the best-epoch line and the legends over it
    (matplotlib's blitting).
    """

    def __init__(self, epochs: int, accuracy: bool, *, lang: str, eval_label: str, title: str):
        from zoo.reporting.plot import pyplot

        self.lang = lang
        panels = [("loss", "common.loss")] + ([("accuracy", "common.accuracy")] if accuracy else [])
        self.fig, axes = pyplot().subplots(
            1, len(panels), figsize=FIGSIZE, dpi=LIVE_DPI, squeeze=False
        )
        self.panels = []
        for ax, (key, label) in zip(axes[0], panels, strict=True):
            (train,) = ax.plot([], [], label=t("common.train", lang), color="tab:blue")
            (val,) = ax.plot([], [], label=t(eval_label, lang), color="tab:orange")
            best = ax.axvline(1, color="grey", linestyle="--", linewidth=1)
            best.set_label(t("common.best_epoch", lang, epoch="—"))
            legend = ax.legend(
                handles=[train, val, best],
                loc="upper right" if key == "loss" else "lower right",
                fontsize=9,
            )
            legend.remove()  # drawn with the lines, not with the axes
            for artist in (train, val, best, legend):
                artist.set_animated(True)
            ax.set_xlim(0, max(epochs, 1) + max(1, epochs // 50))
            ax.set_xlabel(t("common.epoch", lang))
            ax.set_ylabel(t(label, lang))
            ax.grid(alpha=0.3)
            self.panels.append((key, ax, train, val, best, legend))
        self.fig.suptitle(title)
        # fixed margins: a layout computed on each draw would cost more than the draw itself
        self.fig.subplots_adjust(left=0.07, right=0.98, bottom=0.15, top=0.84, wspace=0.22)
        self.limits: dict[str, tuple[float, float]] = {}
        self.background = None
        self.full_draws = 0  # how often the axes had to be drawn again

    def draw(self, history: list[Mapping]) -> bytes:
        """Move the curves to `history`; the figure as PNG."""
        epochs = np.array([row["epoch"] for row in history], dtype=float)
        best = best_epoch(history)
        wanted = {}
        for key, _ax, train, val, best_line, legend in self.panels:
            for line, column in ((train, key), (val, f"val_{key}")):
                values = np.array(
                    [np.nan if row.get(column) is None else row[column] for row in history],
                    dtype=float,
                )
                line.set_data(epochs, values)
                line.set_marker("o" if len(epochs) == 1 else "None")  # one point shows too
            best_line.set_visible(best is not None)
            best_line.set_xdata([best or 1, best or 1])
            label = t("common.best_epoch", self.lang, epoch=best if best else "—")
            legend.get_texts()[2].set_text(label)
            values = np.concatenate([np.asarray(line.get_ydata(), float) for line in (train, val)])
            wanted[key] = axis_limits(key, values)
        canvas = self.fig.canvas
        if self.background is None or wanted != self.limits:
            for key, ax, *_ in self.panels:
                ax.set_ylim(*wanted[key])
            canvas.draw()  # everything but the animated artists
            self.background = canvas.copy_from_bbox(self.fig.bbox)
            self.limits = wanted
            self.full_draws += 1
        canvas.restore_region(self.background)
        for _key, ax, *artists in self.panels:
            for artist in artists:
                ax.draw_artist(artist)
        pixels = np.asarray(canvas.buffer_rgba())[..., :3]
        return png_bytes(pixels, level=PNG_LEVEL)


class LiveDisplay:
    """Shows a run's epochs as they come: `update(row)` after each, `close()` at the end.

    `publish(bundle, display_id, update)` puts a mimebundle in the cell (IPython's display by
    default); `clock` measures elapsed time and the display's own cost.
    """

    def __init__(
        self,
        epochs: int,
        *,
        lang: str = "en",
        eval_label: str = "common.test",
        title: str = "",
        share: float = SHARE,
        publish: Callable[[dict, str, bool], None] = publish,
        clock: Callable[[], float] = time.perf_counter,
    ):
        self.epochs, self.lang, self.eval_label, self.title = epochs, lang, eval_label, title
        self.budget = DrawBudget(share)
        self.publish, self.clock = publish, clock
        self.history: list[dict] = []
        self.train_seconds = 0.0
        self.curves: LiveCurves | None = None
        self.drawn_epoch: int | None = None
        self.figure_seconds: list[float] = []  # what each figure cost, drawn and sent
        self.started = clock()
        self._bar_id, self._figure_id = uuid.uuid4().hex, uuid.uuid4().hex
        self._bar_shown_at: float | None = None
        self._figure_shown = False
        self.metrics = ""

    # -- what the trainer calls ---------------------------------------------------------------
    def update(self, row: Mapping, metrics: str = "") -> None:
        """After each epoch: `row` as in history.csv, `metrics` as the terminal line shows them."""
        self.history.append(dict(row))
        self.metrics = metrics
        self.train_seconds += float(row.get("seconds") or 0.0)
        now = self.clock()
        if self._bar_shown_at is None or now - self._bar_shown_at >= BAR_INTERVAL:
            self._show_bar()
        if self.drawn_epoch is None or self.budget.allows(self.train_seconds):
            self._show_figure()

    def close(self) -> None:
        """The last epoch's curves (if not drawn yet) and the bar's final state."""
        if self.history and self.drawn_epoch != self.history[-1]["epoch"]:
            self._show_figure()
        if self.history:
            self._show_bar(final=True)

    # -- the two outputs ----------------------------------------------------------------------
    def _show_figure(self) -> None:
        start = self.clock()
        if self.curves is None:
            accuracy = any(row.get("accuracy") is not None for row in self.history)
            self.curves = LiveCurves(
                self.epochs, accuracy, lang=self.lang, eval_label=self.eval_label, title=self.title
            )
        png = self.curves.draw(self.history)
        epoch = self.history[-1]["epoch"]
        bundle = {
            "image/png": base64.b64encode(png).decode("ascii"),
            "text/plain": f"<learning curves, epoch {epoch}/{self.epochs}>",
        }
        self.publish(bundle, self._figure_id, self._figure_shown)
        self._figure_shown = True
        self.drawn_epoch = epoch
        seconds = self.clock() - start
        self.figure_seconds.append(seconds)
        self.budget.add(seconds, figure=True)

    @property
    def figures(self) -> int:
        """How many times the figure was drawn."""
        return len(self.figure_seconds)

    def _show_bar(self, final: bool = False) -> None:
        start = self.clock()
        self.publish(self.bar_bundle(final), self._bar_id, self._bar_shown_at is not None)
        self._bar_shown_at = self.clock()
        self.budget.add(self._bar_shown_at - start)

    def bar_bundle(self, final: bool = False) -> dict[str, str]:
        """The progress bar as HTML and as the terminal's text line."""
        row = self.history[-1]
        epoch, total = int(row["epoch"]), self.epochs
        elapsed = self.clock() - self.started
        seconds = [float(r.get("seconds") or 0.0) for r in self.history]
        # the first epoch compiles the step: the later ones tell the pace
        pace = float(np.mean(seconds[1:])) if len(seconds) > 1 else seconds[0]
        if final:
            timing = f"{clock_text(elapsed)}, {pace:.3g} s/epoch"
        else:
            left = clock_text(pace * (total - epoch))
            timing = f"{clock_text(elapsed)}<{left}, {pace:.3g} s/epoch"
        metrics = self.metrics
        percent = int(100 * epoch / total) if total else 100
        label = f"epoch {epoch}/{total}"
        text = f"{label} {percent:3d}% [{timing}] {metrics}"
        colour = "#5cb85c" if final and epoch == total else "#1f77b4"
        bar = (
            f"<progress value='{epoch}' max='{total}' "
            f"style='width:30ex;vertical-align:middle;accent-color:{colour}'></progress>"
        )
        return {
            "text/html": (
                "<div style='font-family:monospace;font-size:90%;white-space:nowrap'>"
                f"{html.escape(label)} {bar} {percent}% [{html.escape(timing)}] "
                f"{html.escape(metrics)}</div>"
            ),
            "text/plain": text,
        }


def live_display(
    live: bool | None, *, quiet: bool, epochs: int, config: Mapping[str, Any]
) -> LiveDisplay | None:
    """The display for a run about to train, or None where there is none to show.

    `live`: None shows it in a notebook unless `quiet`; True shows it in a notebook even when
    quiet; False never. Outside a Jupyter kernel there is nowhere to draw: None.
    """
    if live is False or (live is None and quiet) or not in_notebook():
        return None
    lang = str(config.get("lang") or "en")
    title = f"{t('common.learning_curves', lang)}: {config.get('model')} · {config.get('dataset')}"
    if config.get("comment"):
        title += f" ({config['comment']})"
    return LiveDisplay(
        epochs,
        lang=lang,
        eval_label=f"common.{eval_split(config)}",
        title=title,
    )
