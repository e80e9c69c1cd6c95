"""The ``--source tfds`` path: the same image sets read through `tensorflow_datasets`.

For people who already keep TFDS data (``tfds build cifar100 --data_dir DIR``). Nothing is
downloaded here (``download=False``): a set that TFDS has not prepared is a `DataError` saying
how to prepare it. Only the chosen classes are batched into memory, one split at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from zoo.datasets.subsets import Split, check_examples, resolve_classes
from zoo.errors import DataError


def class_names(info, label_key: str, known: Sequence[str]) -> list[str]:
    """Label names from the TFDS metadata; the official ones when it only has numbers.

    TFDS fills CIFAR's names while preparing the data, so metadata built from code alone (as
    `tfds.testing.mock_data` does) says "0", "1", ...
    """
    names = [str(n) for n in info.features[label_key].names]
    if names == [str(i) for i in range(len(names))] and len(names) == len(known):
        return list(known)
    return names


def load_tfds(
    name: str,
    label_key: str,
    classes,
    known: Sequence[str],
    data_dir: Path | None,
    title: str,
) -> Split:
    """Train and test arrays of the chosen classes of TFDS dataset `name`.

    `label_key` is the feature holding the class ("label", or "coarse_label" for CIFAR-100's
    superclasses); `known` are the official class names, used when TFDS has none.
    """
    import tensorflow as tf
    import tensorflow_datasets as tfds

    where = str(data_dir) if data_dir else "TFDS's default folder (~/tensorflow_datasets)"
    try:
        builder = tfds.builder(name, data_dir=str(data_dir) if data_dir else None)
        names = class_names(builder.info, label_key, known)
    except Exception as err:  # tfds raises many kinds; all mean "not usable here"
        raise DataError(f"TFDS cannot open {name} in {where} ({err})") from None
    ids = resolve_classes(classes, names, title)
    keep = tf.constant(ids if ids is not None else [], dtype=tf.int64)
    mapping = np.full(len(names), -1, dtype=np.int64)
    mapping[ids if ids is not None else slice(None)] = np.arange(len(ids or names))

    def pick(example):
        return example["image"], tf.cast(example[label_key], tf.int64)

    def wanted(image, label):
        return tf.reduce_any(tf.equal(label, keep))

    arrays = []
    for split in ("train", "test"):
        try:
            ds = tfds.load(
                name, split=split, data_dir=str(data_dir) if data_dir else None, download=False
            )
        except Exception as err:
            raise DataError(
                f"TFDS has no prepared {name} in {where} ({str(err).splitlines()[0]}); prepare "
                f"it with `tfds build {name}{' --data_dir ' + str(data_dir) if data_dir else ''}`"
                " or use `source=local` with the official files"
            ) from None
        ds = ds.map(pick)
        if ids is not None:
            ds = ds.filter(wanted)
        images, labels = [], []
        for x, y in tfds.as_numpy(ds.batch(4096)):
            images.append(x)
            labels.append(mapping[y])
        shape = tuple(builder.info.features["image"].shape)
        arrays.append(np.concatenate(images) if images else np.zeros((0, *shape), np.uint8))
        arrays.append(np.concatenate(labels) if labels else np.zeros(0, np.int64))
    chosen = ids if ids is not None else list(range(len(names)))
    split = Split(*arrays, [names[i] for i in chosen], chosen)
    check_examples(split, f"{title} from TFDS {name}", ids is not None)
    return split
