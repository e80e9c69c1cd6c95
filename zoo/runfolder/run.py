"""`Run`: one training run, as `zoo.train` returns it or as its folder holds it.

A run trained now and a run read back from its folder are the same type: everything the run
folder holds (`RunFolder`: config, history, metrics, predictions) and the trained model. The
model of a run read from a folder is loaded when first asked for (Keras is imported then).

    >>> run = Run.from_folder("reports/mlp-digits-20261127-100909")   # doctest: +SKIP
    >>> run.status, run.best_epoch, run.history.history["val_loss"][-1]  # doctest: +SKIP

In a notebook a run shows itself as HTML (status, hyperparameters, reports, figures): the
notebook package adds that view (`zoo.notebook.runs`); this module imports no viewer.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from zoo.runfolder.history import History
from zoo.runfolder.reader import RunFolder, read_run_folder

UNSAVED = Path("(not saved: out=None)")  # the path of a run trained without a folder


@dataclass(repr=False)
class Run(RunFolder):
    """One run: its folder's contents (`path` is `UNSAVED` for a run trained with
    `out=None`), `history` as Keras's `History` too, the trained `model` and, for a run
    trained now, its `dataset`."""

    dataset: Any = field(default=None, repr=False)
    trained_model: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.history, History):
            self.history = History(self.history)

    @classmethod
    def from_folder(cls, path: str | Path) -> Run:
        """The run in the folder at `path`, checked as `zoo report` checks it;
        RunFolderError when it is not a run folder."""
        return cls.of(read_run_folder(path))

    @classmethod
    def of(cls, folder: RunFolder) -> Run:
        """The run whose folder's contents `folder` holds."""
        return cls(**{f.name: getattr(folder, f.name) for f in fields(RunFolder)})

    @property
    def folder(self) -> Path | None:
        """The run folder, None for a run trained with `out=None`."""
        return None if self.path == UNSAVED else self.path

    @property
    def saved(self) -> bool:
        return self.path != UNSAVED

    @property
    def model(self):
        """The trained Keras model: the one trained now, else model.keras (None without)."""
        if self.trained_model is None and self.saved:
            self.trained_model = self.load_model()
        return self.trained_model

    @model.setter
    def model(self, model) -> None:
        self.trained_model = model

    def __repr__(self) -> str:
        """ "Run(mlp · digits, completed, test accuracy 96.00%, reports/mlp-digits-...)"."""
        c = self.config
        parts = [f"{c.get('model')} · {c.get('dataset')}", self.status]
        if self.is_classification and self.accuracy("test") is not None:
            parts.append(f"test accuracy {100 * self.accuracy('test'):.2f}%")
        parts.append(str(self.path))
        return f"Run({', '.join(parts)})"
