"""The runs a page shows: each run's model and how its outputs read, image runs grouped by
the pictures they take, and the examples a "random" button draws from."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from zoo.errors import RunFolderError
from zoo.export.inputs import RunInputs, run_inputs
from zoo.runfolder import RunFolder, read_run_folder
from zoo.serve.images import Refused

UPLOAD_CHANNELS = (1, 3)  # pictures are converted to grayscale or RGB; other sets only draw


@dataclass
class ServedRun:
    """One run on the page: its folder, its loaded model, its examples (loaded on demand)."""

    id: int
    run: RunFolder
    model: object
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def is_image(self) -> bool:
        return self.run.is_image

    @property
    def shape(self) -> tuple[int, ...]:
        return self.run.input_shape

    @cached_property
    def inputs(self) -> RunInputs:
        return run_inputs(self.run)

    def answer(self, x: np.ndarray) -> dict:
        """The model's answer for one example: class probabilities, or the value."""
        from keras import ops

        with self.lock:  # handler threads share one model
            outputs = ops.convert_to_numpy(self.model(x[None].astype("float32"), training=False))
        outputs = np.asarray(outputs, dtype=np.float64).reshape(1, -1)
        if not self.run.is_classification:
            return {"value": float(outputs[0, 0])}
        p = self.run.objective.probabilities(outputs)[0]
        if p.shape[-1] == 1 and len(self.run.class_names) == 2:  # one sigmoid unit: p(class 1)
            p = np.array([1 - p[0], p[0]])
        return {"probabilities": [float(v) for v in p]}

    def describe(self) -> dict:
        """What the page shows about the run."""
        run = self.run
        return {
            "id": self.id,
            "name": run.name,
            "model": str(run.config.get("model", "")),
            "dataset": str(run.config.get("dataset", "")),
            "task": run.task,
            "classes": run.class_names,
            "shape": list(self.shape),
            "accuracy": run.accuracy("test"),
            "status": run.status,
        }

    def example(self, rng: np.random.Generator) -> dict:
        """A random stored example: its inputs, and its class or value when known."""
        inputs = self.inputs
        if not len(inputs):
            raise Refused(404, "This run has no examples to draw from.")
        i = int(rng.integers(len(inputs)))
        found = {"index": i, "source": inputs.source, "test": inputs.test}
        if inputs.y is not None:
            y = inputs.y[i]
            found["truth"] = (
                self.run.class_names[int(y)] if self.run.is_classification else float(y)
            )
        found["x"] = np.asarray(inputs.x[i])
        return found


@dataclass
class ImageGroup:
    """Image runs on the same pictures (shape, dataset and classes): one image, shifted
    together, answered by each of them side by side."""

    id: int
    runs: list[ServedRun]

    @property
    def shape(self) -> tuple[int, ...]:
        return self.runs[0].shape

    @property
    def uploads(self) -> bool:
        shape = self.shape
        return len(shape) == 2 or (len(shape) == 3 and shape[2] in UPLOAD_CHANNELS)

    def describe(self) -> dict:
        first = self.runs[0].run
        return {
            "id": self.id,
            "shape": list(self.shape),
            "dataset": str(first.config.get("dataset", "")),
            "runs": [r.id for r in self.runs],
            "uploads": self.uploads,
        }

    def pixels(self, values) -> np.ndarray:
        """The page's pixel list as an array of the group's shape; Refused when it is not."""
        size = int(np.prod(self.shape))
        if not isinstance(values, list) or len(values) != size:
            raise Refused(400, f"Expected {size} pixel values.")
        try:
            array = np.array(values, dtype=np.float64)
        except (TypeError, ValueError, OverflowError):  # an integer of 400 digits
            raise Refused(400, "Pixel values must be numbers.") from None
        if not np.all((array >= 0) & (array <= 255)) or not np.all(array == np.round(array)):
            raise Refused(400, "Pixel values must be whole numbers from 0 to 255.")
        return array.astype(np.uint8).reshape(self.shape)


def group_key(run: RunFolder) -> tuple:
    return (run.input_shape, str(run.config.get("dataset")), tuple(run.class_names))


def load_runs(run_dirs) -> list[RunFolder]:
    """The run folders, each checked and with a model; the same folder given twice once."""
    runs, seen = [], set()
    for run_dir in run_dirs:
        run = read_run_folder(run_dir)
        if run.model_path is None:
            raise RunFolderError(f"{run.path} has no model to serve (the run saved none)")
        key = Path(run.path).resolve()
        if key not in seen:
            seen.add(key)
            runs.append(run)
    if not runs:
        raise RunFolderError("no run folders given")
    return runs


def serve_runs(runs: list[RunFolder]) -> tuple[list[ServedRun], list[ImageGroup]]:
    """Load every run's model (imports Keras) and group the image runs."""
    served = [ServedRun(i, run, run.load_model()) for i, run in enumerate(runs)]
    groups: dict[tuple, list[ServedRun]] = {}
    for s in served:
        if s.is_image:
            groups.setdefault(group_key(s.run), []).append(s)
    return served, [ImageGroup(i, members) for i, members in enumerate(groups.values())]
