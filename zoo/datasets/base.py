"""The Dataset object every loader returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

CLASSIFICATION = "classification"
REGRESSION = "regression"


@dataclass
class Dataset:
    """Train and test arrays with what a model, a trainer and a report need to know.

    `x_*` keep their natural dtype (uint8 images stay uint8: the model scales them). `y_*` are
    integer class indices 0..k-1 for classification and float targets for regression.
    `normalization` is the scaling the model should apply (a `zoo.models.Normalization`);
    None means "adapt on the training set". `preset` names the training preset that suits
    this set (`zoo.presets`: lab 1's settings for its CIFAR subset), applied where the user
    gave no value; `model_presets` name others for one model family (lab 2's for `cnn`), see
    `defaults_for`.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list[str] = field(default_factory=list)
    task: str = CLASSIFICATION
    description: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    normalization: Any = None
    class_ids: list[int] | None = None  # the source's indices of the chosen classes
    preset: str | None = None  # a name in zoo.presets, for every model
    model_presets: dict[str, str] = field(default_factory=dict)  # family -> preset name

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.x_train.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.class_names) if self.task == CLASSIFICATION else 1

    @property
    def is_image(self) -> bool:
        return len(self.input_shape) >= 2

    def preset_for(self, model: str | None) -> str | None:
        """The name of the preset for training `model` (a registered name; None for a model
        of one's own) on this set: its family's own, else the set's."""
        return self.model_presets.get(str(model or ""), self.preset)

    def defaults_for(self, model: str | None) -> dict[str, Any]:
        """The options of the preset for `model` on this set (empty: none).

        >>> data = Dataset("d", *[np.zeros(1)] * 4, preset="digits",
        ...                model_presets={"cnn": "lab2"})
        >>> data.defaults_for("cnn")["momentum"], data.defaults_for("mlp")
        (0.9, {'lr': 0.1, 'epochs': 200})
        """
        from zoo.presets import get_preset

        name = self.preset_for(model)
        return dict(get_preset(name).options) if name else {}

    @property
    def train_defaults(self) -> dict[str, Any]:
        """The options of the set's preset for every model."""
        return self.defaults_for(None)

    def presets(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(which models, preset name, its options), as `zoo info` prints them: each family's
        own, then the one for every other model."""
        found = [
            (family, name, self.defaults_for(family)) for family, name in self.model_presets.items()
        ]
        if self.preset:
            others = "other models" if found else "every model"
            found.append((others, self.preset, self.train_defaults))
        return found

    def counts(self) -> dict[str, list[int]]:
        """Examples per class in each split (classification only)."""
        k = self.num_classes
        return {
            split: np.bincount(np.asarray(y, dtype=np.int64), minlength=k).tolist()
            for split, y in (("train", self.y_train), ("test", self.y_test))
        }

    def _repr_html_(self) -> str:
        """How a notebook shows the dataset: sizes, class counts, examples of each class."""
        from zoo.datasets.preview import dataset_html

        return dataset_html(self, classification=self.task == CLASSIFICATION)

    def summary(self) -> str:
        """Sizes, and class counts per split, as `zoo info` prints them."""
        shape = "x".join(str(d) for d in self.input_shape)
        lines = [
            f"{self.name}: {self.task}, input {shape} ({self.x_train.dtype})",
            f"  train: {len(self.x_train)}   test: {len(self.x_test)}",
        ]
        if self.description:
            lines.insert(1, f"  {self.description}")
        if self.task == CLASSIFICATION:
            counts = self.counts()
            ids = self.class_ids or list(range(self.num_classes))
            renumbered = ids != list(range(self.num_classes))  # then show the source's index
            labels = [
                f"{i} {name} [{ids[i]}]" if renumbered else f"{i} {name}"
                for i, name in enumerate(self.class_names)
            ]
            for split, per_class in counts.items():
                empty = [labels[i] for i, n in enumerate(per_class) if n == 0]
                if empty:  # a partial copy of a set, or a tiny generated one
                    lines.append(f"  no {split} examples of: {', '.join(empty)}")
            width = max(len(label) for label in labels + ["class"]) + 2
            lines.append(f"  {'class':<{width}} {'train':>7} {'test':>7}")
            for i, label in enumerate(labels):
                lines.append(f"  {label:<{width}} {counts['train'][i]:>7} {counts['test'][i]:>7}")
        else:
            y = np.concatenate([self.y_train, self.y_test])
            lines.append(f"  target: min {y.min():.4g}, max {y.max():.4g}, mean {y.mean():.4g}")
        return "\n".join(lines)
