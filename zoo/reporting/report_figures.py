"""Every figure of a run's report, built from the run folder alone, in report order.

`report_figures(run, lang)` returns the figures by file name (without extension) and, for
each figure the folder cannot give, a note saying what is missing and why; the PDF shows the
notes where the figures would be. Each figure is a matplotlib Figure, except the sample grid:
`zoo.reporting.samples` writes files, so it comes as a `SampleGrid` that can save itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from zoo.i18n import decimal, t
from zoo.reporting import figures, insight, overview
from zoo.reporting.model_table import conv_layers, dense_layers
from zoo.reporting.plot import localize
from zoo.runfolder import RunFolder

SAMPLES = "samples"
FIGURE_GROUPS = {  # report page -> the figures shown on it
    "data": ("data_overview", "target_distribution", SAMPLES, "data_points"),
    "training": ("learning_curves",),
    "generalization": ("generalization_gap", "learning_rate"),
    "confusion": ("confusion_matrix_train", "confusion_matrix", "predicted_vs_true"),
    "insight": (
        "conv_filters",
        "feature_maps",
        "first_layer_weights",
        "first_layer_map",
        "misclassified",
        "decision_boundary",
        "regression_fit",
    ),
}


@dataclass
class SampleGrid:
    """samples.png: training images, a row per class, drawn by `save_sample_grid`."""

    images: np.ndarray
    labels: np.ndarray
    class_names: list[str]
    title: str

    def figure(self):
        """The grid as a Figure of its own size (see `sample_grid_figure`)."""
        from zoo.reporting.samples import sample_grid_figure

        return sample_grid_figure(self.images, self.labels, self.class_names, title=self.title)

    def save(self, path: Path) -> Path:
        """Write the grid; the suffix (.png, .svg) picks the format."""
        from zoo.reporting.samples import save_sample_grid

        return save_sample_grid(self.images, self.labels, self.class_names, path, title=self.title)


def class_counts(run: RunFolder) -> dict[str, list[int]] | None:
    """Examples per class and split: from the reports' support, else from the predictions."""
    names = run.class_names
    counts = {}
    for split in ("train", "test"):
        report = run.report(split) or {}
        if all(isinstance(report.get(n), dict) for n in names):
            counts[split] = [int(report[n].get("support", 0)) for n in names]
        elif run.predictions is not None and f"y_{split}" in run.predictions:
            y = np.asarray(run.predictions[f"y_{split}"], dtype=np.int64)
            counts[split] = np.bincount(y, minlength=len(names))[: len(names)].tolist()
    return counts or None


def _eval_label(run: RunFolder) -> str:
    return f"common.{run.eval_split}"


def _data_figures(run: RunFolder, lang: str, out: dict, notes: dict, make) -> None:
    data, preds = run.data or {}, run.predictions or {}
    if run.is_classification:
        counts = class_counts(run)
        if counts:
            out["data_overview"] = make(
                overview.class_counts_figure, counts, run.class_names, lang=lang
            )
        else:
            notes["data_overview"] = t("report.missing.counts", lang)
    elif "y_train" in preds and "y_test" in preds:
        out["target_distribution"] = make(
            overview.target_histogram, preds["y_train"], preds["y_test"], lang=lang
        )
    if "sample_x" in data and "sample_y" in data:
        out[SAMPLES] = SampleGrid(
            data["sample_x"], data["sample_y"], run.class_names, t("report.samples", lang)
        )
    elif all(k in data for k in ("x_train", "y_train", "x_test", "y_test")):
        out["data_points"] = make(
            overview.points_figure,
            data["x_train"],
            data["y_train"],
            data["x_test"],
            data["y_test"],
            class_names=run.class_names,
            lang=lang,
        )
    else:
        features = int(np.prod(run.input_shape)) if run.input_shape else 0
        key = "report.missing.samples_wide" if features > 3 else "report.missing.samples"
        notes[SAMPLES] = t(key, lang, features=features)


def _result_figures(run: RunFolder, lang: str, out: dict, notes: dict, make) -> None:
    if run.is_classification:
        for split, name in (("train", "confusion_matrix_train"), ("test", "confusion_matrix")):
            matrix = (run.report(split) or {}).get("confusion_matrix")
            if matrix:
                title = f"{t('common.confusion_matrix', lang)}: {t('common.' + split, lang)}"
                out[name] = make(
                    figures.confusion_matrix_figure, matrix, run.class_names, lang=lang, title=title
                )
            else:
                notes[name] = t("report.missing.metrics", lang)
        return
    preds = run.predictions or {}
    if all(k in preds for k in ("y_train", "pred_train", "y_test", "pred_test")):
        out["predicted_vs_true"] = make(
            overview.predicted_vs_true,
            preds["y_train"],
            preds["pred_train"],
            preds["y_test"],
            preds["pred_test"],
            lang=lang,
        )
    else:
        notes["predicted_vs_true"] = t("report.missing.predictions", lang)


def _predictor(run: RunFolder, model=None) -> Callable[[np.ndarray], np.ndarray]:
    """x -> the class (or value) the run's model gives, decoded by the run's own Objective:
    the rule behind metrics.json, so a boundary never disagrees with the run's numbers."""
    from zoo.objective import model_outputs

    model = model if model is not None else run.load_model()
    objective = run.objective
    return lambda x: objective.decode(model_outputs(model, x))


def _insight_figures(run: RunFolder, lang: str, out: dict, notes: dict, model, make) -> None:
    data = run.data or {}
    dense = dense_layers(run.config.get("layers") or [])
    layer = str(dense[0].get("name", "")) if dense else ""
    features = int(np.prod(run.input_shape)) if run.input_shape else 0
    points = all(k in data for k in ("x_train", "y_train", "x_test", "y_test"))
    if points and run.model_path is None and model is None:
        notes["decision_boundary"] = t("report.missing.model", lang)
    elif points and features == 2 and run.is_classification:
        out["decision_boundary"] = figures.decision_boundary(
            _predictor(run, model),
            data["x_train"],
            data["y_train"],
            data["x_test"],
            data["y_test"],
            class_names=run.class_names,
            lang=lang,
        )
    elif points and features == 1 and not run.is_classification:
        out["regression_fit"] = figures.regression_fit(
            _predictor(run, model),
            data["x_train"],
            data["y_train"],
            data["x_test"],
            data["y_test"],
            lang=lang,
        )
    elif conv_layers(run.config.get("layers") or []):
        _conv_figures(run, lang, out, notes, model)
    elif features > 3:  # the weights say something only when there are many inputs
        kernel = insight.first_layer_kernel(run, model)
        if kernel is None:
            notes["first_layer_weights"] = t("report.missing.model", lang)
        elif not np.isfinite(kernel).all():  # a diverged run: an empty heat map says nothing
            name = "first_layer_weights" if run.is_image else "first_layer_map"
            notes[name] = t("report.missing.nonfinite_weights", lang)
        elif run.is_image and kernel.shape[0] == features:
            out["first_layer_weights"] = make(
                insight.first_layer_weights_figure, kernel, run.input_shape, lang=lang, layer=layer
            )
        else:
            out["first_layer_map"] = make(insight.weights_heatmap, kernel, lang=lang, layer=layer)
    if "miss_x" in data and len(data["miss_x"]) and not np.isfinite(data["miss_conf"]).all():
        notes["misclassified"] = t("report.missing.nonfinite_outputs", lang)
    elif "miss_x" in data and len(data["miss_x"]):
        out["misclassified"] = make(
            insight.misclassified_figure,
            data["miss_x"],
            data["miss_true"],
            data["miss_pred"],
            data["miss_conf"],
            run.class_names,
            lang=lang,
        )


def _conv_figures(run: RunFolder, lang: str, out: dict, notes: dict, model=None) -> None:
    """A convolutional network's first-layer filters and one test image's feature maps."""
    if model is None and run.model_path is None:
        notes["conv_filters"] = t("report.missing.model", lang)
        return
    model = model if model is not None else run.load_model()
    first = next((x for x in model.layers if type(x).__name__ == "Conv2D"), None)
    if first is None:
        return
    kernel = np.asarray(first.kernel, dtype="float32")
    out["conv_filters"] = insight.conv_filters_figure(kernel, lang=lang, layer=first.name)
    data = run.data or {}
    if "probe_x" in data and len(data["probe_x"]):
        maps = insight.conv_maps(model, data["probe_x"][0])
        label = ""
        if "probe_y" in data and run.class_names:
            label = run.class_names[int(data["probe_y"][0])]
        if maps:
            out["feature_maps"] = insight.feature_maps_figure(
                data["probe_x"][0], maps, label=label, lang=lang
            )
    else:
        notes["feature_maps"] = t("report.missing.probe", lang)


def _training_figures(run: RunFolder, lang: str, out: dict, notes: dict, make) -> None:
    """The learning curves and the generalisation gap over the epochs, and the learning rate
    when it moved."""
    if not run.history:
        for name in ("learning_curves", "generalization_gap"):
            notes[name] = t("report.missing.history", lang)
        return
    curves = {"best_epoch": run.best_epoch, "lang": lang, "eval_label": _eval_label(run)}
    out["learning_curves"] = make(figures.learning_curves, run.history, **curves)
    if np.isfinite(run.column("val_loss")).any():
        out["generalization_gap"] = make(figures.generalization_gap, run.history, **curves)
    else:
        notes["generalization_gap"] = t("report.missing.gap", lang)
    if figures.rate_changes(run.history):
        log = run.config.get("lr_schedule") != "cosine"
        out["learning_rate"] = make(figures.learning_rate_curve, run.history, lang=lang, log=log)
    else:
        rates = run.column("lr")
        rate = rates[np.isfinite(rates)]
        value = decimal(rate[0], "g", lang) if rate.size else "—"
        notes["learning_rate"] = t("report.constant_rate", lang, lr=value)


def report_figures(
    run: RunFolder, lang: str = "en", model=None, later: bool = False
) -> tuple[dict, dict[str, str]]:
    """(figures by file stem, notes by file stem for what cannot be drawn).

    `model`: the run's trained model when the caller holds it; else model.keras is loaded
    for the figures that need it. `later`: the figures drawn from the run's numbers alone
    come as `Later`, built where they are drawn (the report's second process builds them
    while this one starts the pages); those that call the model are built here, now."""
    out: dict = {}
    notes: dict[str, str] = {}

    def make(build, *args, **kwargs):
        return Later(build, args, kwargs, lang) if later else build(*args, **kwargs)

    _data_figures(run, lang, out, notes, make)
    _training_figures(run, lang, out, notes, make)
    _result_figures(run, lang, out, notes, make)
    _insight_figures(run, lang, out, notes, model, make)
    for fig in out.values():
        if not isinstance(fig, (SampleGrid, Later)):
            localize(fig, lang)
    return out, notes


@dataclass
class Later:
    """A figure built when it is drawn: `build()` makes it and puts it in `lang`."""

    make: Callable
    args: tuple
    kwargs: dict
    lang: str

    def build(self):
        fig = self.make(*self.args, **self.kwargs)
        localize(fig, self.lang)
        return fig
