"""Training in the lecture's three regimes with compiled epochs; run folders."""

from zoo.training.trainer import Run, Viewers, train

__all__ = ["Run", "Viewers", "train"]
