"""`export_run`: a run's model written in one format, checked with that format's runtime."""

from __future__ import annotations

import errno
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from zoo.errors import ExportError, OptionError, RunFolderError, WriteError, ZooError
from zoo.export.extras import require
from zoo.export.formats import FORMAT_SPECS, Format, held_back
from zoo.export.inputs import RunInputs, run_inputs
from zoo.export.model import (
    INPUT,
    OUTPUT,
    default_logits,
    export_model,
    predict,
    softmax_matches,
)
from zoo.export.options import EXTRA, FORMATS, TOLERANCE
from zoo.files import atomic_folder, atomic_path, write_text
from zoo.objective import model_outputs
from zoo.runfolder import EXPORTS, LABELS_SUFFIX, RunFolder, read_run_folder
from zoo.runfolder.format import RUNNING

CHECK_LIMIT = 1000  # test inputs compared at most (the first ones): enough to catch a bad op
COURSE_SHAPE = (32, 32, 3)  # what the course's ONNX page feeds: [1, 32, 32, 3]


@dataclass
class Exported:
    """What `export_run` wrote and how it was checked."""

    path: Path
    labels: Path | None
    fmt: str
    logits: bool
    batch: int | None  # None: any batch size
    input_shape: tuple[int, ...]
    outputs: int
    pixels: bool  # image inputs holding raw pixel values 0-255
    runtime: str
    checked: int
    available: int
    inputs: str  # where the inputs came from, in words
    difference: float  # the largest |exported - Keras| over the checked outputs
    inputs_key: str = ""  # the same in any language: zoo.export.inputs.source_text
    inputs_values: dict = field(default_factory=dict)

    @property
    def course_contract(self) -> bool:
        """Whether the file is what the course's ONNX page reads as it is."""
        return (
            self.fmt == "onnx"
            and self.logits
            and self.batch == 1
            and self.pixels
            and self.input_shape == COURSE_SHAPE
        )

    def facts(self) -> dict:
        """What `describe` says, as JSON values: a report words them in its own language."""
        return {
            "path": str(self.path),
            "labels": None if self.labels is None else str(self.labels),
            "title": FORMAT_SPECS[self.fmt].title,
            "logits": self.logits,
            "batch": self.batch,
            "input_shape": list(self.input_shape),
            "outputs": self.outputs,
            "pixels": self.pixels,
            "runtime": self.runtime,
            "checked": self.checked,
            "available": self.available,
            "inputs": self.inputs,
            "inputs_key": self.inputs_key,
            "inputs_values": dict(self.inputs_values),
            "difference": self.difference,
            "course_contract": self.course_contract,
        }

    def describe(self, lang: str = "en") -> str:
        """The lines `zoo export` prints, in `lang`."""
        return describe_export(self.facts(), lang)


def describe_export(facts: dict, lang: str = "en") -> str:
    """`Exported.describe` from `Exported.facts` (as exports.json keeps them), in `lang`."""
    from zoo.export.inputs import source_text
    from zoo.i18n import decimal, t

    batch = t("export.batch", lang) if facts["batch"] is None else str(facts["batch"])
    shape = ", ".join([batch, *map(str, facts["input_shape"])])
    if facts["pixels"]:
        layout = "_nhwc" if len(facts["input_shape"]) == 3 else ""
        values = t(f"export.values.pixels{layout}", lang)
    else:
        values = t("export.values.raw", lang)
    if facts["logits"]:
        what = t("export.what.logits", lang)
    elif facts["labels"] is None:
        what = t("export.what.value", lang)
    else:
        what = t("export.what.probabilities", lang)
    lines = [
        t("export.wrote", lang, path=facts["path"], title=facts["title"]),
        t("export.input", lang, name=repr(INPUT), shape=shape, values=values),
        t(
            "export.output",
            lang,
            name=repr(OUTPUT),
            batch=batch,
            outputs=facts["outputs"],
            what=what,
        ),
    ]
    if facts["labels"] is not None:
        lines.append(t("export.labels", lang, path=facts["labels"]))
    if facts["course_contract"]:
        lines.append(t("export.course", lang))
    checked, available = facts["checked"], facts["available"]
    sample = (
        t("export.sample_of", lang, checked=checked, available=available)
        if checked < available
        else str(checked)
    )
    lines.append(
        t(
            "export.checked",
            lang,
            runtime=facts["runtime"],
            sample=sample,
            difference=decimal(facts["difference"], ".2g", lang),
            allowed=decimal(TOLERANCE, "g", lang),
        )
    )
    key = facts.get("inputs_key")
    said = source_text(key, facts.get("inputs_values") or {}, lang) if key else facts["inputs"]
    lines.append(t("export.inputs", lang, source=said))
    return "\n".join(lines)


def labels_path(out: Path) -> Path:
    """Where the class names go: beside the export, named after it."""
    stem = out.name if not out.suffix else out.stem
    return out.with_name(stem + LABELS_SUFFIX)


def _labels_text(run: RunFolder) -> str:
    return "".join(f"{name}\n" for name in run.class_names)


def _target(run: RunFolder, spec: Format, out, force: bool) -> Path:
    """The path to write, checked before any work: nothing of the user's is replaced."""
    if out is None:
        path = run.path / EXPORTS[spec.name]
    else:
        path = Path(out)
        if not spec.folder and path.is_dir():  # a folder: the file goes in, named after the run
            path = path / f"{run.name}{spec.suffix}"
        if spec.suffix and path.suffix != spec.suffix:
            raise OptionError(
                "out", f"{spec.title} files end in {spec.suffix}, unlike {str(path)!r}"
            )
    if spec.folder:
        if path.exists() and not path.is_dir():
            raise OptionError("out", f"{str(path)!r} is a file; a SavedModel is a folder")
        if path.is_dir() and any(path.iterdir()):
            if not (path / "saved_model.pb").is_file():
                raise OptionError("out", f"{str(path)!r} is a folder that is not a SavedModel")
            if not force:
                raise OptionError(
                    "out", f"{str(path)!r} already exists; choose another name or pass `force=True`"
                )
    elif path.exists() and not force:
        raise OptionError(
            "out", f"{str(path)!r} already exists; choose another name or pass `force=True`"
        )
    labels = labels_path(path)
    if run.is_classification and labels.exists() and not force:
        try:
            same = labels.read_text(encoding="utf-8") == _labels_text(run)
        except (OSError, UnicodeDecodeError):
            same = False
        if not same:
            raise OptionError(
                "out", f"{str(labels)!r} already exists with other content; pass `force=True`"
            )
    return path


def _compare(runner, x: np.ndarray, reference: np.ndarray, batch: int | None) -> float:
    step = 1 if batch == 1 else 256
    parts = [
        np.asarray(runner(np.ascontiguousarray(x[i : i + step]))) for i in range(0, len(x), step)
    ]
    got = np.concatenate(parts) if parts else np.zeros_like(reference)
    if got.shape != reference.shape:
        raise ExportError(
            f"the exported model's output has shape {got.shape[1:]}, Keras's {reference.shape[1:]}"
        )
    same_nan = np.isnan(got) & np.isnan(reference)
    difference = np.where(same_nan, 0.0, np.abs(got.astype(np.float64) - reference))
    worst = float(np.max(difference)) if difference.size else 0.0
    return worst if math.isfinite(worst) else math.inf


def export_run(
    run_dir,
    fmt: str = "onnx",
    *,
    out=None,
    logits: bool | None = None,
    dynamic_batch: bool = False,
    force: bool = False,
) -> Exported:
    """Write the run's model as `fmt` ("onnx", "litert", "savedmodel") and check it.

    `out`: the file (a folder for "savedmodel"; an existing folder takes a file named after
    the run); default: in the run folder (model.onnx, model.tflite, saved_model). A labels
    file, the class names one per line in output order, goes beside it.
    `logits`: the pre-softmax (or pre-sigmoid) outputs; default True for ONNX of an image
    classifier, which is what the course's page reads, else the model's own outputs.
    `dynamic_batch`: any batch size; by default the batch dimension is 1.
    `force`: replace an export already there.

    The written file is loaded with its own runtime and its outputs on the run's test
    inputs (`zoo.export.inputs`) are compared with the Keras model's; a difference above
    `TOLERANCE` raises ExportError and leaves nothing under the name. Needs Keras on
    TensorFlow and, for ONNX and LiteRT, the `export` extra.
    """
    if fmt not in FORMATS:
        raise OptionError("fmt", f"{fmt!r} is not one of {', '.join(FORMATS)}")
    spec = FORMAT_SPECS[fmt]
    run = read_run_folder(run_dir)
    if run.status == RUNNING:  # its model, if any yet, is not the one it will end with
        raise RunFolderError(
            f"{run.path} is still training (process {run.config.get('pid')} on "
            f"{run.config.get('host')}); export it when it has finished"
        )
    if run.model_path is None:
        raise RunFolderError(f"{run.path} has no model to export (the run saved none)")
    path = _target(run, spec, out, force)
    if logits is None:
        logits = default_logits(fmt, run.is_image, run.is_classification)

    import keras

    if keras.backend.backend() != "tensorflow":
        raise ExportError(
            f"exporting to {spec.title} traces the model with TensorFlow, so Keras must run on "
            f"tensorflow, not {keras.backend.backend()} (set KERAS_BACKEND=tensorflow)"
        )
    require(spec.modules, f"exporting to {spec.title}", EXTRA)
    inputs = run_inputs(run)
    x = np.asarray(inputs.x[:CHECK_LIMIT], dtype="float32")
    batch = None if dynamic_batch else 1
    model = run.load_model()
    objective = run.objective
    original = model_outputs(model, x)  # before the head's activation may be switched off
    with export_model(model, objective, run.input_shape, logits=logits) as exporting:
        reference = predict(exporting, x)
        if logits and objective.head != "linear" and len(x):
            # the logits must be what the head turns into the run's answers
            squash = objective.head
            gap = softmax_matches(reference, original, squash)
            if gap > TOLERANCE:
                raise ExportError(
                    f"the logits taken from {model.name!r} do not give its probabilities back "
                    f"({squash} differs by {gap:.2g}); export its probabilities instead"
                )
        import tensorflow as tf

        signature = tf.TensorSpec([batch, *run.input_shape], tf.float32, name=INPUT)
        path.parent.mkdir(parents=True, exist_ok=True)
        keep = None if force else "out"  # nor a file another export put there meanwhile
        writing = atomic_folder(path, keep) if spec.folder else atomic_path(path, keep)
        with writing as part:
            try:
                with held_back():
                    spec.write(exporting, part, signature)
            except ZooError:
                raise
            except Exception as err:  # a converter refusing an op of the user's model
                reason = write_failure(err)
                if reason is not None:  # or the disk refusing the bytes: not the model's fault
                    raise WriteError(path, reason) from None
                first = str(err).strip().splitlines()[0] if str(err).strip() else ""
                raise ExportError(
                    f"{spec.title} cannot hold model {model.name!r}: {type(err).__name__}: {first}"
                ) from None
            try:
                with held_back():
                    runner = spec.read(part)
                    difference = _compare(runner, x, reference, batch)
            except ZooError:
                raise
            except Exception as err:  # written, yet its own runtime cannot run it
                first = str(err).strip().splitlines()[0] if str(err).strip() else ""
                raise ExportError(
                    f"{spec.runtime_version()} cannot run the {spec.title} file written for "
                    f"{run.path}: {type(err).__name__}: {first}; nothing was written"
                ) from None
            if not difference <= TOLERANCE:
                raise ExportError(
                    f"the {spec.title} export of {run.path} disagrees with the Keras model: "
                    f"outputs differ by up to {difference:.2g} (allowed {TOLERANCE:g}) on "
                    f"{len(x)} inputs, {inputs.source}; nothing was written"
                )
    labels = None
    if run.is_classification:
        labels = write_text(labels_path(path), _labels_text(run))
    return Exported(
        path=path,
        labels=labels,
        fmt=fmt,
        logits=logits,
        batch=batch,
        input_shape=run.input_shape,
        outputs=int(reference.shape[-1]) if reference.ndim == 2 else 1,
        pixels=_raw_pixels(run, inputs),
        runtime=spec.runtime_version(),
        checked=len(x),
        available=len(inputs),
        inputs=inputs.source,
        difference=difference,
        inputs_key=inputs.key,
        inputs_values=inputs.values,
    )


# What the disk says when it refuses bytes, in OSError's errno or in the text a converter
# (TensorFlow's C++ file system, tf2onnx, the LiteRT converter) wraps it into.
WRITE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO, errno.EACCES)
WRITE_TEXTS = {
    "no space left on device": errno.ENOSPC,
    "disk quota exceeded": errno.EDQUOT,
    "file too large": errno.EFBIG,
    "read-only file system": errno.EROFS,
    "permission denied": errno.EACCES,
}


def write_failure(err: BaseException) -> str | None:
    """The reason a write failed, if `err` (or what it wraps) is the disk refusing bytes."""
    seen: set[int] = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, OSError) and err.errno in WRITE_ERRNOS:
            return err.strerror or os.strerror(err.errno)
        text = str(err).lower()
        for phrase, number in WRITE_TEXTS.items():
            if phrase in text:
                return os.strerror(number)
        err = err.__cause__ or err.__context__
    return None


def _raw_pixels(run: RunFolder, inputs: RunInputs) -> bool:
    """Image inputs holding 0-255: uint8 images, or a model that scales by 1/255 inside."""
    if not run.is_image:
        return False
    if inputs.x.dtype == np.uint8:
        return True
    scale = (run.config.get("normalization") or {}).get("scale")
    return isinstance(scale, int | float) and abs(scale * 255 - 1) < 1e-6
