"""Evaluation: what a model does on data, as numbers.

`metrics` computes a split's metrics as scikit-learn does (training's results use it);
`shift` classifies a run's test images moved by a few pixels. Everything here returns plain
numbers and dicts that can be written as JSON; `zoo.reporting` draws them and never computes
them again, and nothing here imports reporting, the notebook or the CLI.
"""
