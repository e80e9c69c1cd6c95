"""CIFAR-10 and CIFAR-100 from the official python archives (or TFDS), with class subsets.

The lab reads ``cifar-100-python/{train,test,meta}`` and keeps fine classes 0, 55, 58
(apple, otter, pickup_truck): 500 training and 100 test images each. ``cifar100-3class`` is
that preset; ``cifar100 --classes ...`` picks any others. Images stay uint8, shape
(N, 32, 32, 3); the model scales them with `Dataset.normalization`.

Normalisation presets: CIFAR-100 uses the lab's per-channel mean (0.5074, 0.4867, 0.4411) and
std (0.2011, 0.1987, 0.2025) so runs match the lab. CIFAR-10 uses its own well-known training
set statistics, mean (0.4914, 0.4822, 0.4465) and std (0.2470, 0.2435, 0.2616): the lab's
numbers describe CIFAR-100's pixels, not CIFAR-10's. ``--normalize train`` replaces either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from zoo.datasets.archive import load_pickle, read_file, read_tar_members
from zoo.datasets.base import Dataset
from zoo.datasets.fetch import Remote, check_data_dir, check_source
from zoo.datasets.official import FileSet, load_official
from zoo.datasets.registry import register_dataset
from zoo.datasets.subsets import Split, resolve_classes, select
from zoo.errors import DataError, OptionError
from zoo.models.layers import Normalization
from zoo.presets import get_preset

CIFAR_URL = "https://www.cs.toronto.edu/~kriz"

# The course's training settings on its CIFAR-100 classes (`zoo.presets`)
LAB1_SETTINGS = dict(get_preset("lab1-training").options)
LAB2_SETTINGS = {k: v for k, v in get_preset("lab2").options.items() if k != "init"}
CIFAR100_NORMALIZATION = Normalization(
    mean=(0.5074, 0.4867, 0.4411), std=(0.2011, 0.1987, 0.2025), scale=1 / 255
)
CIFAR10_NORMALIZATION = Normalization(
    mean=(0.4914, 0.4822, 0.4465), std=(0.2470, 0.2435, 0.2616), scale=1 / 255
)

LAB_CLASSES = (0, 55, 58)  # apple, otter, pickup_truck

# The names as the archives' meta files list them; used to check indices before the meta
# member is reached, and by the TFDS source when its metadata carries no names.
CIFAR10_NAMES = "airplane automobile bird cat deer dog frog horse ship truck".split()
CIFAR100_FINE_NAMES = """
apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus butterfly
camel can castle caterpillar cattle chair chimpanzee clock cloud cockroach couch crab crocodile
cup dinosaur dolphin elephant flatfish forest fox girl hamster house kangaroo keyboard lamp
lawn_mower leopard lion lizard lobster man maple_tree motorcycle mountain mouse mushroom oak_tree
orange orchid otter palm_tree pear pickup_truck pine_tree plain plate poppy porcupine possum
rabbit raccoon ray road rocket rose sea seal shark shrew skunk skyscraper snail snake spider
squirrel streetcar sunflower sweet_pepper table tank telephone television tiger tractor train
trout tulip turtle wardrobe whale willow_tree wolf woman worm
""".split()
CIFAR100_COARSE_NAMES = """
aquatic_mammals fish flowers food_containers fruit_and_vegetables household_electrical_devices
household_furniture insects large_carnivores large_man-made_outdoor_things
large_natural_outdoor_scenes large_omnivores_and_herbivores medium_mammals
non-insect_invertebrates people reptiles small_mammals trees vehicles_1 vehicles_2
""".split()


@dataclass(frozen=True)
class Layout:
    """How one official CIFAR archive is laid out."""

    title: str
    remote: Remote
    folder: str  # the folder inside the archive
    train: tuple[str, ...]
    test: str
    meta: str
    labels: dict[str, tuple[str, str, list[str]]]  # label -> (meta key, batch key, names)
    tfds_name: str

    @property
    def members(self) -> tuple[str, ...]:
        return (self.meta, *self.train, self.test)


CIFAR100 = Layout(
    title="CIFAR-100",
    remote=Remote(
        "cifar-100-python.tar.gz", CIFAR_URL, "eb9058c3a382ffc7106e4002c42a8d85", "ZOO_CIFAR_URL"
    ),
    folder="cifar-100-python",
    train=("train",),
    test="test",
    meta="meta",
    labels={
        "fine": ("fine_label_names", "fine_labels", CIFAR100_FINE_NAMES),
        "coarse": ("coarse_label_names", "coarse_labels", CIFAR100_COARSE_NAMES),
    },
    tfds_name="cifar100",
)
CIFAR10 = Layout(
    title="CIFAR-10",
    remote=Remote(
        "cifar-10-python.tar.gz", CIFAR_URL, "c58f30108f718f92721af3b95e74349a", "ZOO_CIFAR_URL"
    ),
    folder="cifar-10-batches-py",
    train=tuple(f"data_batch_{i}" for i in range(1, 6)),
    test="test_batch",
    meta="batches.meta",
    labels={"fine": ("label_names", "labels", CIFAR10_NAMES)},
    tfds_name="cifar10",
)


def find_copy(layout: Layout, folder: Path) -> Path | None:
    """The archive or the extracted folder in `folder` (or `folder` itself if extracted)."""
    for candidate in (folder / layout.remote.filename, folder / layout.folder):
        if candidate.exists():
            return candidate
    if all((folder / m).is_file() for m in layout.members):
        return folder
    return None


def copy_files(layout: Layout, path: Path) -> list[Path]:
    """The files of a copy `find_copy` found: the archive, or the members there are."""
    return [path] if path.is_file() else [path / m for m in layout.members if (path / m).exists()]


def _batch_arrays(batch: dict[str, Any], key: str, k: int, source: str, kept=None):
    """Pixels and labels of one batch, checked; `kept` is the row mask already applied."""
    for needed in ("data", key):
        if needed not in batch:
            raise DataError(f"{source}: not a CIFAR batch (no {needed!r} entry)")
    data, labels = batch["data"], batch[key]
    try:
        y = np.asarray(labels, dtype=np.int64)
    except (TypeError, ValueError):
        raise DataError(f"{source}: {key!r} is not a list of integers") from None
    if y.ndim != 1 or (len(y) and (y.min() < 0 or y.max() >= k)):
        raise DataError(f"{source}: {key!r} is not a list of labels in 0..{k - 1}")
    if kept is not None:
        y = y[kept]
    if not (
        isinstance(data, np.ndarray)
        and data.dtype == np.uint8
        and data.ndim == 2
        and data.shape[1] == 3072
    ):
        raise DataError(f"{source}: 'data' is not a uint8 array of 3072-byte rows")
    if len(data) != len(y):
        raise DataError(f"{source}: {len(data)} images but {len(y)} labels")
    return data, y


def _what(layout: Layout, label: str) -> str:
    return f"{layout.title} ({label} labels)" if len(layout.labels) > 1 else layout.title


def read_cifar(layout: Layout, path: Path, label: str, classes, hint: str) -> Split:
    """Read the chosen classes from an archive or extracted folder, one batch at a time."""
    meta_key, label_key, known = layout.labels[label]
    what = _what(layout, label)
    request = classes.split(",") if isinstance(classes, str) else classes
    state: dict[str, Any] = {"ids": None, "resolved": False}
    if request is None or all(str(c).strip().lstrip("+-").isdigit() for c in request):
        # Indices only: the rows can be chosen before the meta member is reached
        state["ids"] = resolve_classes(request, known, what)
        state["resolved"] = True

    def handle(name: str, file: IO[bytes]):
        source = f"{path}:{name}" if path.is_file() else str(path / name)
        if name == layout.meta:
            content, _ = load_pickle(file, source)
            names = content.get(meta_key)
            if not isinstance(names, list) or len(names) != len(known):
                raise DataError(f"{source}: no list of {len(known)} names under {meta_key!r}")
            ids = resolve_classes(request, names, what)
            if state["resolved"] and ids != state["ids"]:
                raise DataError(f"{source}: class list differs from the official one")
            state["ids"], state["resolved"] = ids, True
            return [str(n) for n in names]
        ids = state["ids"]
        # With classes chosen only their rows are read (see RowFilterUnpickler)
        content, kept = load_pickle(file, source, (label_key, ids) if ids is not None else None)
        data, y = _batch_arrays(content, label_key, len(known), source, kept)
        keep = np.isin(y, ids) if ids is not None else slice(None)
        rows, y = select(data[keep], y[keep], ids)
        del content, data  # a split's full pixel array goes before the next one is read
        return np.ascontiguousarray(rows.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)), y

    ready = lambda name: name == layout.meta or state["resolved"]  # noqa: E731
    if path.is_file():
        parts = read_tar_members(path, layout.members, handle, ready, hint)
    else:
        parts = {}
        for name in layout.members:  # meta first: a folder can be read in any order
            member = path / name
            if not member.is_file():
                raise DataError(
                    f"{path}: no file {name!r} (expected {', '.join(layout.members)}); {hint}"
                )
            parts[name] = read_file(member, lambda f, n=name: handle(n, f), hint)
    names = parts[layout.meta]
    ids = state["ids"] if state["ids"] is not None else list(range(len(names)))
    x_train = np.concatenate([parts[m][0] for m in layout.train])
    y_train = np.concatenate([parts[m][1] for m in layout.train])
    x_test, y_test = parts[layout.test]
    return Split(x_train, y_train, x_test, y_test, [names[i] for i in ids], ids)


def load_cifar(
    layout: Layout,
    name: str,
    *,
    classes,
    label: str,
    data_dir,
    source: str,
    normalization: Normalization,
) -> Dataset:
    """The loader behind `cifar10`, `cifar100` and `cifar100-3class`."""
    if label not in layout.labels:
        raise OptionError("label", f"{label!r} is not one of {', '.join(layout.labels)}")
    folder = check_data_dir(data_dir)
    check_source(source)
    known = layout.labels[label][2]
    resolve_classes(classes, known, _what(layout, label))  # a typo fails before any file is read
    if source == "tfds":
        from zoo.datasets.tfds_source import load_tfds

        tfds_label = "label" if label == "fine" else f"{label}_label"
        split = load_tfds(layout.tfds_name, tfds_label, classes, known, folder, layout.title)
        where = f"TFDS {layout.tfds_name}"
    else:
        split, where = load_official(
            FileSet(
                layout.title,
                (layout.remote,),
                lambda d: find_copy(layout, d),
                lambda path: copy_files(layout, path),
            ),
            cache_name=layout.tfds_name,
            key={"layout": layout.folder, "label": label, "classes": _key(classes)},
            what=_what(layout, label),
            read=lambda path, hint: read_cifar(layout, path, label, classes, hint),
            data_dir=folder,
            source=source,
            chosen=classes is not None,
        )
    count = len(split.class_ids)
    chosen = "all" if classes is None else f"{count} of {len(known)}"
    labels = f", {label} labels" if len(layout.labels) > 1 else ""
    return Dataset(
        name=name,
        x_train=split.x_train,
        y_train=split.y_train,
        x_test=split.x_test,
        y_test=split.y_test,
        class_names=split.class_names,
        description=f"{layout.title}{labels}, {chosen} classes, from {where}",
        normalization=normalization,
        class_ids=split.class_ids,
    )


def _key(classes) -> list[str] | None:
    if classes is None:
        return None
    items = classes.split(",") if isinstance(classes, str) else classes
    return [str(c).strip() for c in items]


@register_dataset
def cifar100(
    *,
    classes: Sequence[int | str] | None = None,
    label: str = "fine",
    data_dir: str | Path | None = None,
    source: str = "auto",
) -> Dataset:
    """CIFAR-100: 32x32 colour images, 100 fine or 20 coarse classes, official split.

    `classes` keeps some classes by index or name, relabelled 0..k-1 in the order given;
    `label="coarse"` uses the 20 superclasses.

    >>> ds = cifar100(classes="apple,otter,pickup_truck", data_dir="~/data")  # doctest: +SKIP
    >>> ds.class_names, ds.class_ids, ds.x_train.shape  # doctest: +SKIP
    (['apple', 'otter', 'pickup_truck'], [0, 55, 58], (1500, 32, 32, 3))
    """
    data = load_cifar(
        CIFAR100,
        "cifar100",
        classes=classes,
        label=label,
        data_dir=data_dir,
        source=source,
        normalization=CIFAR100_NORMALIZATION,
    )
    if classes is not None:  # a class subset is a lab's experiment on other classes
        course_presets(data, every_model=False)
    return data


def course_presets(data: Dataset, every_model: bool) -> Dataset:
    """The course's settings on CIFAR-100 classes: lab 1's for `mlp`, lab 2's for `cnn`, each
    with PyTorch's starting weights; with `every_model`, lab 1's training settings (without
    the starting weights, which belong to the course's networks) for any other model too."""
    data.preset = "lab1-training" if every_model else None
    data.model_presets = {"mlp": "lab1", "cnn": "lab2"}
    return data


@register_dataset
def cifar100_3class(*, data_dir: str | Path | None = None, source: str = "auto") -> Dataset:
    """CIFAR-100 apple, otter, pickup_truck (classes 0, 55, 58) as in the lab: 500/100 each."""
    data = load_cifar(
        CIFAR100,
        "cifar100-3class",
        classes=list(LAB_CLASSES),
        label="fine",
        data_dir=data_dir,
        source=source,
        normalization=CIFAR100_NORMALIZATION,
    )
    # The labs' SGD settings; options the user gives win over them
    return course_presets(data, every_model=True)


@register_dataset
def cifar10(
    *,
    classes: Sequence[int | str] | None = None,
    data_dir: str | Path | None = None,
    source: str = "auto",
) -> Dataset:
    """CIFAR-10: 32x32 colour images of 10 classes, official 50,000/10,000 split."""
    return load_cifar(
        CIFAR10,
        "cifar10",
        classes=classes,
        label="fine",
        data_dir=data_dir,
        source=source,
        normalization=CIFAR10_NORMALIZATION,
    )
