"""The inputs an exported model is checked on, and `zoo serve` draws its random examples from.

First choice: the run's own test set, loaded again from config.json's `dataset` and
`dataset_options` (never downloaded: a set the run downloaded is in the cache). When that
set cannot be loaded any more, or no longer matches the run (other shape, size or classes),
the examples stored in the run folder's data.npz are used, and the reason is said.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from zoo.errors import ZooError
from zoo.i18n import t
from zoo.runfolder import RunFolder


@dataclass
class RunInputs:
    """Examples in the form the run's model takes; `y` their classes (None when unknown).

    `source` says in English where they came from; `key` and `values` say it in any language
    (`said`); `test` whether they are test examples.
    """

    x: np.ndarray
    y: np.ndarray | None
    source: str
    test: bool = True
    key: str = ""
    values: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.x)

    def said(self, lang: str = "en") -> str:
        """Where the inputs came from, in `lang`."""
        return source_text(self.key, self.values, lang) if self.key else self.source


def source_text(key: str, values: dict, lang: str = "en") -> str:
    """The words of `export.source.<key>` with `values` (kept in exports.json)."""
    return t(f"export.source.{key}", lang, **values)


def _said(x, y, key: str, test: bool = True, **values) -> RunInputs:
    return RunInputs(x, y, source_text(key, values), test, key, values)


def _options_text(options: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in options.items())


def _reload(run: RunFolder) -> tuple[RunInputs | None, str]:
    """The run's test set loaded again, or None and why not."""
    from zoo.datasets import dataset_options, load_dataset

    name = run.config["dataset"]
    options = dict(run.config.get("dataset_options") or {})
    try:
        takes = dataset_options(name)
    except ZooError as err:  # a user's own Dataset object: not in the registry
        return None, str(err)
    if "source" in takes and options.get("source", "auto") in ("auto", "download"):
        options["source"] = "local"  # checking an export must not start a download
    try:
        data = load_dataset(name, **options)
    except ZooError as err:
        return None, f"{name} could not be loaded again ({err})"
    except (OSError, ValueError) as err:
        return None, f"{name} could not be loaded again ({type(err).__name__}: {err})"
    expected = run.config.get("test_size")
    differences = []
    if tuple(data.input_shape) != run.input_shape:
        differences.append(f"input shape {data.input_shape}, the run's {run.input_shape}")
    if expected is not None and len(data.x_test) != expected:
        differences.append(f"{len(data.x_test)} test examples, the run had {expected}")
    if run.is_classification and list(data.class_names) != run.class_names:
        differences.append(f"classes {data.class_names}, the run's {run.class_names}")
    if differences:
        return None, f"{name} as it loads now differs from the run's ({'; '.join(differences)})"
    y = data.y_test if run.is_classification else None
    options_text = _options_text(options)
    if not options_text:
        return _said(np.asarray(data.x_test), y, "test_set_plain", name=name), ""
    return _said(np.asarray(data.x_test), y, "test_set", name=name, options=options_text), ""


def _stored(run: RunFolder, reason: str) -> RunInputs | None:
    """Examples kept in data.npz: a small set's test points, else images the run stored."""
    data = run.data or {}
    if "x_test" in data:
        y = data.get("y_test") if run.is_classification else None
        return _said(data["x_test"], y, "stored_points", reason=reason)
    if len(data.get("miss_x", ())):
        count = len(data["miss_x"])
        return _said(
            data["miss_x"], data.get("miss_true"), "stored_misses", count=count, reason=reason
        )
    if len(data.get("sample_x", ())):
        count = len(data["sample_x"])
        return _said(
            data["sample_x"],
            data.get("sample_y"),
            "stored_samples",
            False,
            count=count,
            reason=reason,
        )
    return None


def run_inputs(run: RunFolder) -> RunInputs:
    """The run's test inputs, or the examples stored in its folder, or random ones (said so)."""
    found, reason = _reload(run)
    if found is not None:
        return found
    stored = _stored(run, reason)
    if stored is not None:
        return stored
    # Nothing of the data is left: random inputs still compare the two runtimes' arithmetic.
    rng = np.random.default_rng(0)
    shape = (64, *run.input_shape)
    if run.is_image:
        x = rng.integers(0, 256, size=shape).astype("float32")
        return _said(x, None, "random_images", False, count=len(x), reason=reason)
    x = rng.standard_normal(shape).astype("float32")
    return _said(x, None, "random_normal", False, count=len(x), reason=reason)
