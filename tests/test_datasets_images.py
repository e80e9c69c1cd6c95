"""CIFAR-10/100, MNIST and Fashion-MNIST loaders on miniature archives in the official formats.

Covers every source (local archive, extracted folder, cache, download over HTTP and file://,
TFDS through `tfds.testing.mock_data`) and every input a user can get wrong, through the CLI
where a user would meet it.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import hashlib
import http.server
import io
import json
import os
import pickle
import re
import subprocess
import sys
import tarfile
import threading
import tracemalloc
from pathlib import Path

import image_fixtures as fx
import numpy as np
import pytest
from click.testing import CliRunner

from zoo import load_dataset
from zoo.cli import cli
from zoo.datasets import archive, cache, cifar, mnist
from zoo.datasets.archive import RowFilterUnpickler, load_pickle
from zoo.errors import DataError, OptionError

# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """A private cache, no data folder from the environment, and no way to reach the network."""
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("ZOO_DATA_DIR", raising=False)
    closed = "http://127.0.0.1:9"  # the discard port: nothing listens, the connection is refused
    for env in ("ZOO_CIFAR_URL", "ZOO_MNIST_URL", "ZOO_FASHION_MNIST_URL"):
        monkeypatch.setenv(env, closed)


@pytest.fixture
def data_dir(tmp_path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


@pytest.fixture
def cifar100_dir(data_dir) -> Path:
    fx.write_cifar100_archive(data_dir)
    return data_dir


def cache_files(tmp_path: Path) -> list[str]:
    """Downloads and subsets in the cache (not the checksum records, see `records`)."""
    root = tmp_path / "cache"
    files = (str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    return sorted(f for f in files if not f.startswith(f"{cache.RECORDS}/"))


def records(tmp_path: Path) -> dict[str, dict]:
    """The cache's checksum records by the file they describe."""
    found = (tmp_path / "cache" / cache.RECORDS).glob("*.json")
    return {r["path"]: r for r in (json.loads(p.read_text()) for p in found)}


def raw_batch(members: dict[str, bytes], name: str) -> dict:
    """A member as the official instructions read it (trusted test data only)."""
    return pickle.load(io.BytesIO(members[name]), encoding="bytes")


def zoo(*args: str):
    return CliRunner().invoke(cli, list(args))


class Server:
    """A local HTTP server over one folder that records the paths asked for."""

    def __init__(self, root: Path, truncate: bool = False):
        self.requests: list[str] = []
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append(self.path)
                if not truncate:
                    return super().do_GET()
                body = (root / self.path.lstrip("/")).read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])  # then the connection closes

        handler = functools.partial(Handler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A local server publishing a miniature cifar-100-python.tar.gz; CIFAR's URL points at it."""
    root = tmp_path / "mirror"
    root.mkdir()
    archive = fx.write_cifar100_archive(root)
    server = Server(root)
    monkeypatch.setenv("ZOO_CIFAR_URL", server.url)
    publish_md5(monkeypatch, hashlib.md5(archive.read_bytes()).hexdigest())
    yield server
    server.close()


def publish_md5(monkeypatch, md5: str) -> None:
    """The miniature archive's checksum stands in for the official one."""
    remote = dataclasses.replace(cifar.CIFAR100.remote, md5=md5)
    monkeypatch.setattr(cifar, "CIFAR100", dataclasses.replace(cifar.CIFAR100, remote=remote))


# --- CIFAR-100 from a local copy --------------------------------------------------------------


def test_cifar100_3class_keeps_the_labs_classes_in_order_as_uint8_nhwc(cifar100_dir):
    data = load_dataset("cifar100-3class", data_dir=str(cifar100_dir))
    assert data.name == "cifar100-3class"
    assert data.class_names == ["apple", "otter", "pickup_truck"]
    assert data.class_ids == [0, 55, 58]
    assert data.x_train.shape == (15, 32, 32, 3) and data.x_train.dtype == np.uint8
    assert data.x_test.shape == (6, 32, 32, 3)
    assert data.counts() == {"train": [5, 5, 5], "test": [2, 2, 2]}
    assert data.normalization == cifar.CIFAR100_NORMALIZATION
    assert data.normalization.mean == (0.5074, 0.4867, 0.4411)
    assert data.train_defaults == {"lr": 0.005, "batch_size": 128, "epochs": 250}
    # Same pixels as the official reading recipe, planes R, G, B moved to the last axis
    raw = raw_batch(fx.cifar100_members(), "train")
    labels = np.asarray(raw[b"fine_labels"])
    keep = np.isin(labels, [0, 55, 58])
    expected = raw[b"data"][keep].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(data.x_train, expected)
    np.testing.assert_array_equal(np.array([0, 55, 58])[data.y_train], labels[keep])


def test_cifar100_classes_by_name_or_index_are_renumbered_in_the_order_given(cifar100_dir):
    data = load_dataset("cifar100", classes=["Pickup Truck", "0", "otter"], data_dir=cifar100_dir)
    assert data.class_names == ["pickup_truck", "apple", "otter"]
    assert data.class_ids == [58, 0, 55]
    # The fixture marks each image's source class in its first red byte
    np.testing.assert_array_equal(data.x_train[:, 0, 0, 0], np.array([58, 0, 55])[data.y_train])


def test_cifar100_coarse_labels_use_the_superclass_names(cifar100_dir):
    data = load_dataset(
        "cifar100", label="coarse", classes="vehicles_2,aquatic_mammals", data_dir=cifar100_dir
    )
    assert data.class_names == ["vehicles_2", "aquatic_mammals"]
    assert data.class_ids == [19, 0]
    assert data.counts()["train"] == [25, 25]


def test_cifar100_without_classes_gives_all_hundred(cifar100_dir, tmp_path):
    data = load_dataset("cifar100", data_dir=cifar100_dir)
    assert len(data.class_names) == 100 and data.class_ids == list(range(100))
    assert data.class_names[55] == "otter"
    assert data.x_train.shape == (500, 32, 32, 3)
    assert [f for f in cache_files(tmp_path) if f.startswith("subsets/")]  # read once


def test_extracted_folder_loads_like_the_archive(data_dir):
    fx.write_cifar100_folder(data_dir)
    from_folder = load_dataset("cifar100-3class", data_dir=data_dir)
    inside = load_dataset("cifar100-3class", data_dir=data_dir / "cifar-100-python")
    assert "cifar-100-python (local)" in from_folder.description
    np.testing.assert_array_equal(from_folder.x_train, inside.x_train)
    assert from_folder.counts() == {"train": [5, 5, 5], "test": [2, 2, 2]}


def test_copy_resaved_by_python3_pickle_still_loads(data_dir):
    folder = fx.write_cifar100_folder(data_dir)
    train = raw_batch(fx.cifar100_members(), "train")
    resaved = {k.decode(): v for k, v in train.items()}
    (folder / "train").write_bytes(fx.modern_pickle(resaved))
    data = load_dataset("cifar100-3class", data_dir=data_dir)
    assert data.counts()["train"] == [5, 5, 5]


def test_data_dir_comes_from_the_environment(cifar100_dir, monkeypatch):
    monkeypatch.setenv("ZOO_DATA_DIR", str(cifar100_dir))
    result = zoo("info", "cifar100-3class")
    assert result.exit_code == 0, result.output
    assert "0 apple" in result.output and "1 otter [55]" in result.output
    assert "2 pickup_truck [58]" in result.output
    assert "train: 15   test: 6" in result.output


# --- subset cache -----------------------------------------------------------------------------


def test_second_load_reads_the_small_npz_not_the_archive(cifar100_dir, tmp_path, monkeypatch):
    first = load_dataset("cifar100-3class", data_dir=cifar100_dir)
    assert [f for f in cache_files(tmp_path) if f.startswith("subsets/")]

    def must_not_read(*args, **kwargs):
        raise AssertionError("the archive was read again")

    monkeypatch.setattr(cifar, "read_cifar", must_not_read)
    second = load_dataset("cifar100-3class", data_dir=cifar100_dir)
    np.testing.assert_array_equal(first.x_train, second.x_train)
    np.testing.assert_array_equal(first.y_test, second.y_test)
    assert second.class_names == first.class_names and second.class_ids == [0, 55, 58]


def test_a_whole_set_is_cached_too_and_read_back_without_the_archive(
    cifar100_dir, tmp_path, monkeypatch
):
    first = load_dataset("cifar100", data_dir=cifar100_dir)
    assert len(first.class_names) == 100

    def must_not_read(*args, **kwargs):
        raise AssertionError("the archive was read again")

    monkeypatch.setattr(cifar, "read_cifar", must_not_read)
    second = load_dataset("cifar100", data_dir=cifar100_dir)
    np.testing.assert_array_equal(first.x_train, second.x_train)
    np.testing.assert_array_equal(first.y_test, second.y_test)
    assert second.class_names == first.class_names


def test_a_changed_archive_or_a_broken_npz_is_read_afresh(cifar100_dir, tmp_path):
    load_dataset("cifar100-3class", data_dir=cifar100_dir)
    (npz,) = (tmp_path / "cache" / "subsets").glob("*.npz")
    npz.write_bytes(b"not a zip")
    data = load_dataset("cifar100-3class", data_dir=cifar100_dir)
    assert data.counts()["test"] == [2, 2, 2]
    archive = cifar100_dir / "cifar-100-python.tar.gz"
    fx.write_cifar100_archive(cifar100_dir, train_per_class=3)
    os.utime(archive, ns=(1, 1))  # an archive replaced by another one
    assert load_dataset("cifar100-3class", data_dir=cifar100_dir).counts()["train"] == [3, 3, 3]


def test_an_npz_changed_since_it_was_written_is_not_trusted(cifar100_dir, tmp_path):
    first = load_dataset("cifar100-3class", data_dir=cifar100_dir)
    (npz,) = (tmp_path / "cache" / "subsets").glob("*.npz")
    assert records(tmp_path)[str(npz)]["sha256"] == hashlib.sha256(npz.read_bytes()).hexdigest()
    with np.load(npz) as f:
        forged = {k: f[k] for k in f.files}
    forged["y_train"] = np.zeros_like(forged["y_train"])  # a valid npz, wrong labels
    with open(npz, "wb") as out:
        np.savez(out, **forged)
    second = load_dataset("cifar100-3class", data_dir=cifar100_dir)
    np.testing.assert_array_equal(second.y_train, first.y_train)


# --- checksums of the files in the cache and the data folder ----------------------------------


def count_hashes(monkeypatch, path: Path) -> list:
    """The hashing passes over `path` (each still hashes: nothing is skipped)."""
    passes, real = [], cache.hash_file
    monkeypatch.setattr(
        cache, "hash_file", lambda p, *a: (passes.append(a) if p == path else 0) or real(p, *a)
    )
    return passes


def test_download_records_size_and_sha256_and_reuse_hashes_only_a_touched_copy(
    mirror, tmp_path, monkeypatch
):
    load_dataset("cifar100-3class")
    archive = tmp_path / "cache" / "downloads" / "cifar-100-python.tar.gz"
    record = records(tmp_path)[str(archive)]
    assert record["written"] and record["size"] == archive.stat().st_size
    assert record["sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    passes = count_hashes(monkeypatch, archive)
    assert "(cache)" in load_dataset("cifar100", classes=[1, 2]).description
    assert passes == []  # size and time as recorded: no hashing on a warm load
    os.utime(archive, ns=(1, 1))  # touched, bytes unchanged: hashed once, then trusted again
    load_dataset("cifar100", classes=[1, 3])
    load_dataset("cifar100", classes=[1, 4])
    assert passes == [("sha256",)] and records(tmp_path)[str(archive)]["mtime_ns"] == 1
    assert mirror.requests == ["/cifar-100-python.tar.gz"]


@pytest.mark.parametrize(
    "change",
    [
        lambda b: b + b"\x00",  # another size: refused without hashing
        lambda b: b[:100] + bytes([b[100] ^ 1]) + b[101:],  # same size, another byte
    ],
)
def test_cached_download_changed_since_is_refused_removed_and_fetched_again(
    mirror, tmp_path, change
):
    load_dataset("cifar100-3class")
    archive = tmp_path / "cache" / "downloads" / "cifar-100-python.tar.gz"
    archive.write_bytes(change(archive.read_bytes()))
    result = zoo("info", "cifar100", "--classes", "1,2")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"{archive} changed since it was put in the cache" in result.output
    assert "removed from the cache: run again to download it" in result.output
    assert not archive.exists() and str(archive) not in records(tmp_path)
    assert zoo("info", "cifar100", "--classes", "1,2").exit_code == 0
    assert mirror.requests == ["/cifar-100-python.tar.gz"] * 2


def unpublished(load, *args, **kwargs) -> list[str]:
    """The warnings that `load(*args, **kwargs)` gives about files unlike the published ones
    (each one shown, whatever the warning filters say)."""
    import warnings

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        load(*args, **kwargs)
    return [str(w.message) for w in seen if "is not the file published" in str(w.message)]


def test_local_archive_unlike_the_published_one_warns_once_per_version(cifar100_dir, monkeypatch):
    archive = cifar100_dir / "cifar-100-python.tar.gz"
    md5 = hashlib.md5(archive.read_bytes()).hexdigest()
    passes = count_hashes(monkeypatch, archive)
    (warning,) = unpublished(load_dataset, "cifar100-3class", data_dir=cifar100_dir)
    assert f"{archive} is not the file published at http://127.0.0.1:9/" in warning
    assert f"(md5 {md5}, published {cifar.CIFAR100.remote.md5})" in warning
    # read again, not hashed
    assert unpublished(load_dataset, "cifar100", classes=[3, 4], data_dir=cifar100_dir) == []
    assert passes == [("md5",)]
    fx.write_cifar100_archive(cifar100_dir, train_per_class=3)  # another copy: checked again
    assert unpublished(load_dataset, "cifar100-3class", data_dir=cifar100_dir)
    assert len(passes) == 2


def test_local_archive_with_the_published_md5_loads_without_a_word(
    cifar100_dir, capsys, monkeypatch
):
    publish_md5(
        monkeypatch,
        hashlib.md5((cifar100_dir / "cifar-100-python.tar.gz").read_bytes()).hexdigest(),
    )
    result = zoo("info", "cifar100-3class", "--data-dir", str(cifar100_dir))
    assert result.exit_code == 0 and "warning" not in result.output


def test_mnist_files_are_each_checked_once_and_unpublished_forms_not_at_all(data_dir):
    folder = fx.write_mnist_files(data_dir / "mnist")
    warnings = unpublished(load_dataset, "mnist", data_dir=data_dir)
    assert sorted(w.split()[0] for w in warnings) == sorted(
        str(folder / f) for f in fx.MNIST_FILES.values()
    )
    assert unpublished(load_dataset, "mnist", classes=[1, 2], data_dir=data_dir) == []
    plain = fx.write_mnist_files(data_dir / "plain" / "mnist")
    for file in plain.iterdir():  # uncompressed: no published checksum to compare with
        file.with_suffix("").write_bytes(gzip.decompress(file.read_bytes()))
        file.unlink()
    assert unpublished(load_dataset, "mnist", data_dir=data_dir / "plain") == []


# --- CIFAR-10, MNIST, Fashion-MNIST -----------------------------------------------------------


def test_cifar10_reads_the_five_training_batches_in_numeric_order(data_dir):
    fx.write_cifar10_archive(data_dir)
    data = load_dataset("cifar10", classes=["cat", "dog"], data_dir=data_dir)
    assert data.class_names == ["cat", "dog"] and data.class_ids == [3, 5]
    assert data.normalization == cifar.CIFAR10_NORMALIZATION
    members = fx.cifar10_members()
    rows = []
    for number in range(1, 6):
        batch = raw_batch(members, f"data_batch_{number}")
        labels = np.asarray(batch[b"labels"])
        rows.append(batch[b"data"][np.isin(labels, [3, 5])])
    expected = np.concatenate(rows).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(data.x_train, expected)
    assert data.counts() == {"train": [10, 10], "test": [3, 3]}


@pytest.mark.parametrize("layout", ["mnist", "MNIST/raw", ""])
def test_mnist_reads_gzipped_idx_files_from_its_usual_folders(data_dir, layout):
    fx.write_mnist_files(data_dir / layout)
    data = load_dataset("mnist", data_dir=data_dir)
    assert data.x_train.shape == (30, 28, 28, 1) and data.x_train.dtype == np.uint8
    assert data.x_test.shape == (20, 28, 28, 1)
    assert data.class_names == [str(d) for d in range(10)]
    x, y = fx.mnist_split(3, 1)
    np.testing.assert_array_equal(data.x_train[..., 0], x)
    np.testing.assert_array_equal(data.y_train, y)
    assert data.normalization == mnist.MNIST_NORMALIZATION


def test_uncompressed_idx_files_load_too(data_dir):
    folder = fx.write_mnist_files(data_dir / "mnist")
    for gz in folder.glob("*.gz"):
        gz.with_suffix("").write_bytes(gzip.decompress(gz.read_bytes()))
        gz.unlink()
    assert load_dataset("mnist", data_dir=data_dir, classes=[3, 8]).counts()["train"] == [3, 3]


def test_fashion_mnist_lives_in_its_own_folder_and_takes_class_names(data_dir):
    fx.write_mnist_files(data_dir)  # digits at the top level are not mistaken for clothes
    with pytest.raises(DataError, match="fashion-mnist"):
        load_dataset("fashion-mnist", data_dir=data_dir, source="local")
    fx.write_mnist_files(data_dir / "fashion-mnist")
    data = load_dataset("fashion-mnist", data_dir=data_dir, classes="ankle boot,T-shirt/top")
    assert data.class_names == ["Ankle boot", "T-shirt/top"] and data.class_ids == [9, 0]
    np.testing.assert_array_equal(data.x_train[:, 0, 0, 0], np.array([9, 0])[data.y_train])


def test_zoo_datasets_lists_the_image_sets():
    result = zoo("datasets", "*mnist*")
    assert result.exit_code == 0
    assert "fashion-mnist" in result.output and "mnist" in result.output
    assert "cifar100-3class" in zoo("datasets", "cifar*").output


# --- download ---------------------------------------------------------------------------------


def test_download_is_verified_kept_in_the_cache_and_reused(mirror, tmp_path, capsys):
    data = load_dataset("cifar100-3class")
    assert data.class_names == ["apple", "otter", "pickup_truck"]
    assert "(download)" in data.description
    assert "Downloading cifar-100-python.tar.gz" in capsys.readouterr().err
    assert "downloads/cifar-100-python.tar.gz" in cache_files(tmp_path)
    assert not [f for f in cache_files(tmp_path) if f.endswith(".part")]
    assert "(cache)" in load_dataset("cifar100", classes=[1, 2]).description
    assert mirror.requests == ["/cifar-100-python.tar.gz"]


def test_tampered_download_is_refused_and_leaves_nothing(mirror, tmp_path, monkeypatch):
    publish_md5(monkeypatch, "0" * 32)
    result = zoo("info", "cifar100-3class")
    assert result.exit_code == 2
    assert "checksum mismatch" in result.output and "not kept" in result.output
    assert "put cifar-100-python.tar.gz" in result.output
    assert not (tmp_path / "cache").exists()  # not even an empty folder


def test_interrupted_download_leaves_nothing(tmp_path, monkeypatch):
    root = tmp_path / "mirror"
    root.mkdir()
    fx.write_cifar100_archive(root)
    server = Server(root, truncate=True)
    try:
        monkeypatch.setenv("ZOO_CIFAR_URL", server.url)
        with pytest.raises(DataError, match="download of .* (failed|stopped at)"):
            load_dataset("cifar100-3class")
    finally:
        server.close()
    assert not (tmp_path / "cache").exists()  # not even an empty folder


def test_mnist_downloads_from_a_file_address(tmp_path, monkeypatch):
    folder = fx.write_mnist_files(tmp_path / "published")
    monkeypatch.setenv("ZOO_MNIST_URL", folder.as_uri())
    remotes = tuple(
        dataclasses.replace(r, md5=hashlib.md5((folder / r.filename).read_bytes()).hexdigest())
        for r in mnist.MNIST.remotes
    )
    monkeypatch.setattr(mnist, "MNIST", dataclasses.replace(mnist.MNIST, remotes=remotes))
    data = load_dataset("mnist", classes=[0, 1])
    assert data.counts() == {"train": [3, 3], "test": [2, 2]}
    assert len([f for f in cache_files(tmp_path) if f.startswith("downloads/mnist/")]) == 4


def test_source_local_never_downloads_and_download_skips_the_data_dir(mirror, cifar100_dir):
    with pytest.raises(DataError, match="CIFAR-100 not found in the cache"):
        load_dataset("cifar100-3class", source="local")
    assert mirror.requests == []
    data = load_dataset("cifar100-3class", data_dir=cifar100_dir, source="download")
    assert "(download)" in data.description and mirror.requests


def test_damaged_archive_in_the_cache_is_removed(tmp_path):
    downloads = tmp_path / "cache" / "downloads"
    downloads.mkdir(parents=True)
    archive = fx.write_cifar100_archive(downloads)
    archive.write_bytes(archive.read_bytes()[:5000])
    result = zoo("info", "cifar100-3class")
    assert result.exit_code == 2 and "removed from the cache" in result.output
    assert cache_files(tmp_path) == []


# --- what a user can get wrong, through the CLI -----------------------------------------------


def test_no_copy_and_no_network_says_which_file_to_put_where(tmp_path):
    result = zoo("info", "cifar100-3class", "--data-dir", str(tmp_path))
    assert result.exit_code == 2
    assert f"put cifar-100-python.tar.gz in {tmp_path}" in result.output
    assert "http://127.0.0.1:9/cifar-100-python.tar.gz" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "cache").exists()  # not even an empty folder


def test_official_address_is_named_when_no_mirror_is_set(monkeypatch):
    monkeypatch.delenv("ZOO_CIFAR_URL")
    monkeypatch.delenv("ZOO_MNIST_URL")
    assert cifar.CIFAR100.remote.url == "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    assert mnist.MNIST.remotes[0].url.endswith("/mnist/train-images-idx3-ubyte.gz")


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--classes", "apple,otterr"],
            "no class 'otterr' in CIFAR-100 (fine labels); did you mean otter",
        ),
        (["--classes", "0,100"], "index 100 is out of range for CIFAR-100 (fine labels) (0..99)"),
        (["--classes", "apple"], "give two or more classes"),
        (["--classes", "apple,0"], "'apple' is given twice"),
        (
            ["--label", "coarse", "--classes", "apple,otter"],
            "no class 'apple' in CIFAR-100 (coarse",
        ),
        (["--source", "nowhere"], "'nowhere' is not one of"),
    ],
)
def test_bad_class_choices_exit_2_with_the_reason(cifar100_dir, args, message):
    result = zoo("info", "cifar100", "--data-dir", str(cifar100_dir), *args)
    assert result.exit_code == 2
    assert message in result.output


def test_options_a_set_does_not_take_exit_2(cifar100_dir, tmp_path):
    assert "--label" in zoo("info", "cifar10", "--label", "coarse").output
    assert zoo("info", "cifar100-3class", "--classes", "1,2").exit_code == 2
    result = zoo("info", "mnist", "--data-dir", str(tmp_path / "missing"))
    assert result.exit_code == 2 and "does not exist" in result.output


def partial_cifar100(data_dir: Path, train: list[int], test: list[int]) -> Path:
    """A miniature archive holding only some classes (labels as given, in order)."""
    members = fx.cifar100_members()
    members["train"] = fx.py2_pickle(fx.cifar100_batch(train, "training batch 1 of 1", 1))
    members["test"] = fx.py2_pickle(fx.cifar100_batch(test, "testing batch 1 of 1", 2))
    return fx.write_cifar100_archive(data_dir, members)


def test_chosen_classes_without_examples_are_named_with_their_split(data_dir, tmp_path):
    partial_cifar100(data_dir, train=[0, 0, 1, 1, 2, 2], test=[0, 1])
    result = zoo("info", "cifar100", "--classes", "1,2,bed", "--data-dir", str(data_dir))
    assert result.exit_code == 2 and "Traceback" not in result.output  # was: 0/0 rows
    assert "has no examples of 'bed' [5] in the training split; " in result.output
    assert "nor of 'baby' [2], 'bed' [5] in the test split" in result.output
    assert "choose classes= that it holds" in result.output
    assert cache_files(tmp_path) == []
    with pytest.raises(DataError, match=r"no examples of 'bed' \[5\], 'bee' \[6\] in the train"):
        load_dataset("cifar100", classes=[5, 6], data_dir=data_dir)  # was: ZeroDivisionError
    assert load_dataset("cifar100", classes=[0, 1], data_dir=data_dir).counts() == {
        "train": [2, 2],
        "test": [1, 1],
    }


def test_partial_copy_in_the_cache_is_kept_when_chosen_classes_are_missing(tmp_path):
    downloads = tmp_path / "cache" / "downloads"
    downloads.mkdir(parents=True)
    archive = partial_cifar100(downloads, train=[0, 1], test=[0, 1])  # put there by hand
    with pytest.raises(DataError, match=r"no examples of 'bed' \[5\]"):
        load_dataset("cifar100", classes=[0, 5])
    assert archive.is_file()  # not damaged: not removed


def test_whole_set_of_a_partial_copy_loads_and_info_names_the_missing_classes(data_dir):
    partial_cifar100(data_dir, train=[0, 1, 2], test=[0, 1, 2])
    result = zoo("info", "cifar10", "--data-dir", str(data_dir))  # not there: the usual error
    assert result.exit_code == 2
    result = zoo("info", "cifar100", "--data-dir", str(data_dir))
    assert result.exit_code == 0, result.output
    assert "no train examples of: 3 bear, 4 beaver, 5 bed," in result.output
    assert "no test examples of: 3 bear," in result.output


def test_a_split_with_no_examples_at_all_is_refused(data_dir):
    partial_cifar100(data_dir, train=[0, 1, 2], test=[])
    with pytest.raises(DataError, match="no examples of any class in the test split"):
        load_dataset("cifar100", data_dir=data_dir)


def test_mnist_classes_missing_from_the_files_are_named(data_dir):
    folder = fx.write_mnist_files(data_dir / "mnist")
    images, labels = fx.mnist_split(2, seed=3)
    keep = labels < 5  # digits 0..4 only in the test files
    test_files = {"test_images": images[keep], "test_labels": labels[keep]}
    for key, array in test_files.items():
        (folder / fx.MNIST_FILES[key]).write_bytes(gzip.compress(fx.idx_bytes(array)))
    with pytest.raises(DataError, match=r"MNIST from .* no examples of '8' \[8\] in the test"):
        load_dataset("mnist", classes="3,8", data_dir=data_dir)


def test_truncated_archive_exits_2_and_caches_nothing(cifar100_dir, tmp_path):
    archive = cifar100_dir / "cifar-100-python.tar.gz"
    archive.write_bytes(archive.read_bytes()[:-2000])
    result = zoo("info", "cifar100-3class", "--data-dir", str(cifar100_dir))
    assert result.exit_code == 2
    assert "cifar-100-python.tar.gz" in result.output and "get a good copy from" in result.output
    assert cache_files(tmp_path) == []


def test_pickle_that_would_run_code_is_refused(data_dir, tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    members = fx.cifar100_members()
    members["train"] = pickle.dumps({"data": Exploit()}, protocol=2)
    fx.write_cifar100_archive(data_dir, members)
    result = zoo("info", "cifar100-3class", "--data-dir", str(data_dir))
    assert result.exit_code == 2
    assert "refused to unpickle posix.system" in result.output
    assert not marker.exists()
    assert cache_files(tmp_path) == []


def test_row_filter_reads_only_the_wanted_pixel_rows(monkeypatch):
    monkeypatch.setattr(RowFilterUnpickler, "SLICE", 7 * 3072)  # many slices, a short last one
    payload = fx.cifar100_members()["train"]
    content, kept = load_pickle(io.BytesIO(payload), "train", ("fine_labels", [58, 0, 55]))
    raw = raw_batch({"train": payload}, "train")
    wanted = np.isin(raw[b"fine_labels"], [0, 55, 58])
    np.testing.assert_array_equal(kept, wanted)
    np.testing.assert_array_equal(content["data"], raw[b"data"][wanted])
    assert len(content["fine_labels"]) == 500  # the labels stay whole; `kept` selects them


def test_batch_with_pixels_before_labels_is_read_whole_and_still_right(data_dir):
    members = fx.cifar100_members()
    batch = raw_batch(members, "train")
    reordered = {"data": batch[b"data"], "fine_labels": batch[b"fine_labels"]}
    members["train"] = fx.py2_pickle(reordered)
    content, kept = load_pickle(io.BytesIO(members["train"]), "train", ("fine_labels", [0, 55]))
    assert kept is None and content["data"].shape == (500, 3072)
    fx.write_cifar100_archive(data_dir, members)
    data = load_dataset("cifar100-3class", data_dir=data_dir)
    np.testing.assert_array_equal(data.x_train[:, 0, 0, 0], np.array([0, 55, 58])[data.y_train])


def test_safe_unpickler_admits_plain_data_only():
    content, kept = load_pickle(io.BytesIO(pickle.dumps({"a": [1, b"x"]}, protocol=2)), "x")
    assert content == {"a": [1, "x"]} and kept is None
    with pytest.raises(DataError, match="builtins.eval"):
        load_pickle(io.BytesIO(b"\x80\x02cbuiltins\neval\nX\x03\x00\x00\x001+1\x85R."), "x")
    # Python 3 writes bytes at protocol 2 as _codecs.encode(text, "latin1"); nothing else passes
    with pytest.raises(DataError, match="only latin-1"):
        load_pickle(
            io.BytesIO(b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00aX\x03\x00\x00\x00hex\x86R."),
            "x",
        )


# A structured dtype whose one field holds Python objects, with flags that say it holds none:
# NumPy then takes the array's bytes as object pointers (0x4141... here), and reading the
# element crashes the process. Only the state of the outer dtype is forged.
OBJECT = fx.Dtype(b"O8", (3, b"|", None, None, None, -1, -1, 63))
POINTERS = fx.Dtype(b"V8", (3, b"|", None, (b"p",), {b"p": (OBJECT, 0)}, 8, 1, 0))
# A uint8 dtype told it has fields (of a type that passes on its own)
POINTERS_U1 = fx.Dtype(b"u1", (3, b"|", None, (b"p",), {b"p": (fx.U1, 0)}, 8, 1, 0))


def hostile_batch(dtype: fx.Dtype, data: bytes = b"A" * 8) -> bytes:
    return fx.py2_pickle({"fine_labels": [0], "data": fx.RawArray((1,), dtype, data)})


@pytest.fixture
def built_arrays(monkeypatch) -> list:
    """Shapes of the arrays the unpickler builds (the real builder still builds them)."""
    built, real = [], archive._new_array
    monkeypatch.setattr(archive, "_new_array", lambda *a: built.append(a[0]) or real(*a))
    return built


def test_forged_dtype_state_really_reads_bytes_as_pointers_in_plain_numpy(tmp_path):
    script = tmp_path / "check.py"
    script.write_text(
        "import pickle, sys\n"
        "a = pickle.loads(sys.stdin.buffer.read(), encoding='latin1')['data']\n"
        "print(a.dtype.fields['p'][0].kind, a.dtype.hasobject)\n"  # never a[0]: it would crash
    )
    done = subprocess.run(
        [sys.executable, str(script)], input=hostile_batch(POINTERS), capture_output=True
    )
    assert done.stdout.split() == [b"O", b"False"], done.stderr  # objects NumPy does not see


@pytest.mark.parametrize("keep", [None, ("fine_labels", [0, 1])])
@pytest.mark.parametrize(
    "dtype, message",
    [
        (POINTERS, "refused numpy.dtype(b'V8')"),
        (fx.Dtype(b"O8", (3, b"|", None, None, None, -1, -1, 0)), "refused numpy.dtype(b'O8')"),
        (POINTERS_U1, "refused a forged numpy.dtype state for u1"),
        (fx.Dtype(b"u1", (3, b"|", None, None, None, -1, -1, 63)), "refused a forged numpy.dtype"),
        (fx.Dtype(b"u1", (3, b"|", None, None, None, 8, 1, 0)), "refused a forged numpy.dtype"),
        (
            fx.Dtype(b"u1", (4, b"|", None, None, None, -1, -1, 0, {})),
            "refused a forged numpy.dtype",
        ),
        (fx.Dtype(b"S8", (3, b"|", None, None, None, 8, 1, 0)), "refused numpy.dtype(b'S8')"),
    ],
)
def test_dtype_other_than_plain_numeric_is_refused_before_any_array_is_built(
    built_arrays, keep, dtype, message
):
    with pytest.raises(DataError, match=re.escape(f"train: {message}")):
        load_pickle(io.BytesIO(hostile_batch(dtype)), "train", keep)
    assert built_arrays == []
    content, _ = load_pickle(io.BytesIO(hostile_batch(fx.U1, b"A")), "train", keep)
    assert built_arrays == [(1,)] and content["data"].tobytes() == b"A"  # the check can pass


def test_plain_dtypes_keep_their_byte_order():
    big = fx.Dtype(b"i4", (3, b">", None, None, None, -1, -1, 0))
    content, _ = load_pickle(io.BytesIO(hostile_batch(big, b"\x00\x00\x01\x02")), "x")
    assert content["data"].dtype.kind == "i" and content["data"].tolist() == [258]


def test_archive_with_a_forged_dtype_exits_2_naming_the_member(data_dir, tmp_path):
    members = fx.cifar100_members()
    members["train"] = hostile_batch(POINTERS)
    fx.write_cifar100_archive(data_dir, members)
    result = zoo("info", "cifar100-3class", "--data-dir", str(data_dir))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "cifar-100-python.tar.gz:train: refused numpy.dtype(b'V8')" in result.output
    assert cache_files(tmp_path) == []


def test_an_unreadable_archive_is_named_as_such_and_kept_in_the_cache(tmp_path, monkeypatch):
    downloads = tmp_path / "cache" / "downloads"
    downloads.mkdir(parents=True)
    archive = fx.write_cifar100_archive(downloads)

    def locked(*args, **kwargs):  # what a file without read permission raises
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tarfile, "open", locked)
    result = zoo("info", "cifar100-3class")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "cannot read it (Permission denied)" in result.output
    assert "damaged" not in result.output and archive.is_file()  # not "damaged", not removed


def test_a_data_dir_behind_a_locked_folder_is_a_usage_error(tmp_path, monkeypatch):
    is_dir = Path.is_dir

    def guarded(self):
        if "locked" in self.parts:
            raise PermissionError(13, "Permission denied", str(self))
        return is_dir(self)

    monkeypatch.setattr(Path, "is_dir", guarded)
    result = zoo("info", "cifar100-3class", "--data-dir", str(tmp_path / "locked" / "data"))
    assert result.exit_code == 2 and "--data-dir" in result.output
    assert "Permission denied" in result.output and "Traceback" not in result.output


def test_a_cache_that_cannot_be_written_says_to_set_zoo_cache(mirror, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("keep me")
    monkeypatch.setenv("ZOO_CACHE", str(blocker / "cache"))
    result = zoo("info", "cifar100-3class", "--source", "download")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "cannot be written" in result.output and "ZOO_CACHE" in result.output
    assert blocker.read_text() == "keep me" and mirror.requests == []


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: m.pop("test"), "has no member test"),
        (lambda m: m.update(meta=fx.py2_pickle({"names": ["a"]})), "no list of 100 names"),
        (
            lambda m: m.update(train=fx.py2_pickle({"data": np.zeros((2, 5), np.uint8)})),
            "no 'fine_labels' entry",
        ),
        (lambda m: m.update(train=m["train"][:3000]), "cannot read the pickle"),
        (lambda m: m.update(train=m["train"][: len(m["train"]) // 2]), "pixel data ends"),
        (lambda m: m.update(train=b"garbage"), "cannot read the pickle"),
    ],
)
def test_archive_with_wrong_content_exits_2(data_dir, tmp_path, change, message):
    members = fx.cifar100_members()
    change(members)
    fx.write_cifar100_archive(data_dir, members)
    result = zoo("info", "cifar100", "--classes", "apple,otter", "--data-dir", str(data_dir))
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert cache_files(tmp_path) == []


def test_extracted_folder_missing_a_file_exits_2(data_dir):
    (fx.write_cifar100_folder(data_dir) / "meta").unlink()
    result = zoo("info", "cifar100-3class", "--data-dir", str(data_dir))
    assert result.exit_code == 2 and "no file 'meta'" in result.output


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda b: b[:-10], "truncated"),
        (lambda b: b"\x00\x00\x09\x03" + b[4:], "not an idx file"),
        (lambda b: b + b"\x00", "more bytes than its header"),
    ],
)
def test_damaged_idx_file_exits_2(data_dir, tmp_path, damage, message):
    folder = fx.write_mnist_files(data_dir / "mnist")
    path = folder / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(damage(gzip.decompress(path.read_bytes()))))
    result = zoo("info", "mnist", "--data-dir", str(data_dir))
    assert result.exit_code == 2 and message in result.output
    assert cache_files(tmp_path) == []


def test_gzip_cut_short_exits_2(data_dir):
    folder = fx.write_mnist_files(data_dir / "mnist")
    path = folder / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:20])
    result = zoo("info", "mnist", "--data-dir", str(data_dir))
    assert result.exit_code == 2 and "t10k-labels-idx1-ubyte.gz" in result.output


IMAGES = "train-images-idx3-ubyte"


@pytest.mark.parametrize(
    "shape, message",
    [
        ((2**31 - 1, 28, 28), "more than a gzipped file of"),  # was: Unable to allocate 1.53 TiB
        ((60, 2**31 - 1, 2**31 - 1), "not 28x28 items"),  # was: array is too big
        ((0, 28, 28), "impossible sizes in the header (0, 28, 28)"),  # was a TypeError
        ((60, -28, 28), "impossible sizes"),
    ],
)
def test_idx_header_with_impossible_sizes_exits_2_naming_the_file(data_dir, shape, message):
    folder = fx.write_mnist_files(data_dir / "mnist")
    (folder / f"{IMAGES}.gz").write_bytes(gzip.compress(fx.idx_header(shape) + bytes(784)))
    result = zoo("info", "mnist", "--data-dir", str(data_dir))
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert f"{IMAGES}.gz" in result.output and message in result.output


@pytest.mark.parametrize(
    "extra, message",
    [(-784, "truncated (the header (30, 28, 28) announces 23520 bytes"), (1, "more bytes")],
)
def test_uncompressed_idx_file_is_checked_against_its_length(data_dir, extra, message):
    folder = fx.write_mnist_files(data_dir / "mnist")
    gz = folder / f"{IMAGES}.gz"
    raw = gzip.decompress(gz.read_bytes())
    gz.unlink()
    (folder / IMAGES).write_bytes(raw[:extra] if extra < 0 else raw + bytes(extra))
    with pytest.raises(DataError, match=re.escape(message)) as err:
        load_dataset("mnist", data_dir=data_dir)
    assert str(folder / IMAGES) in str(err.value)


def test_gzipped_idx_values_are_read_as_they_come_not_allocated_from_the_header(tmp_path):
    # A header that a gzip file of this size could just hold (so it is not refused at once),
    # over 40 kB of values instead of 31 MB: reading must fail having held about 40 kB.
    payload = fx.idx_header((40_000, 28, 28)) + np.random.default_rng(0).bytes(40_000)
    path = tmp_path / f"{IMAGES}.gz"
    path.write_bytes(gzip.compress(payload))
    assert path.stat().st_size * mnist.MAX_DEFLATE_RATIO > 40_000 * 28 * 28
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match="truncated .40000 of 31360000 bytes"):
            with gzip.open(path) as file:
                mnist.read_idx(file, str(path), 3, (28, 28), mnist.room(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8_000_000  # the chunk buffers of gzip, not the 31 MB the header announces


def test_archive_members_are_never_extracted_to_disk(data_dir, tmp_path):
    members = fx.cifar100_members()
    path = data_dir / "cifar-100-python.tar.gz"
    with tarfile.open(path, "w:gz") as tar:  # a hostile archive naming paths outside
        for name, payload in members.items():
            fx.add_member(tar, f"../../escaped/{name}", payload)
    data = load_dataset("cifar100-3class", data_dir=data_dir)
    assert data.counts()["test"] == [2, 2, 2]
    assert not (tmp_path.parent / "escaped").exists() and not (tmp_path / "escaped").exists()


# --- TFDS -------------------------------------------------------------------------------------


def test_tfds_source_selects_and_renumbers_classes_from_mock_data():
    tf = pytest.importorskip("tensorflow")
    tfds = pytest.importorskip("tensorflow_datasets")
    labels = np.array([0, 55, 3, 58, 55, 99, 0, 58], dtype=np.int64)
    images = np.arange(len(labels), dtype=np.uint8)[:, None, None, None] * np.ones(
        (1, 32, 32, 3), np.uint8
    )

    def as_dataset(self, *args, **kwargs):
        return tf.data.Dataset.from_tensor_slices(
            {
                "id": [b"x"] * len(labels),
                "image": images,
                "label": labels,
                "coarse_label": labels % 20,
            }
        )

    with tfds.testing.mock_data(as_dataset_fn=as_dataset):
        data = load_dataset("cifar100-3class", source="tfds")
    assert data.class_names == ["apple", "otter", "pickup_truck"]
    assert data.x_train.dtype == np.uint8 and data.x_train.shape == (6, 32, 32, 3)
    np.testing.assert_array_equal(data.y_train, [0, 1, 2, 1, 0, 2])
    np.testing.assert_array_equal(data.x_train[:, 0, 0, 0], [0, 1, 3, 4, 6, 7])


def test_tfds_source_with_random_mock_examples_keeps_image_shapes():
    tfds = pytest.importorskip("tensorflow_datasets")
    with tfds.testing.mock_data(num_examples=12):
        data = load_dataset("fashion-mnist", source="tfds")
    assert data.x_train.shape == (12, 28, 28, 1) and data.x_train.dtype == np.uint8
    assert data.class_names[9] == "Ankle boot"
    assert set(np.unique(data.y_train)) <= set(range(10))


def test_tfds_source_without_prepared_data_says_how_to_prepare(tmp_path):
    pytest.importorskip("tensorflow_datasets")
    result = zoo("info", "cifar10", "--source", "tfds", "--data-dir", str(tmp_path))
    assert result.exit_code == 2
    assert f"tfds build cifar10 --data_dir {tmp_path}" in result.output


# --- samples.png ------------------------------------------------------------------------------


def test_sample_grid_draws_each_class_row_at_150_dpi(tmp_path):
    from matplotlib.image import imread

    from zoo.reporting.samples import save_sample_grid

    images = np.zeros((6, 32, 32, 3), np.uint8)
    images[:3, ..., 0] = 255  # class 0 is pure red
    labels = np.array([0, 0, 0, 1, 1, 1])
    path = save_sample_grid(
        images, labels, ["red", "black"], tmp_path / "samples.png", per_class=3, title="Examples"
    )
    png = imread(path)
    assert png.shape[:2] == (round((2 * 0.8 + 0.6) * 150), round((3 * 0.8 + 1.6) * 150))
    red = (png[..., 0] > 0.9) & (png[..., 1] < 0.1) & (png[..., 2] < 0.1)
    assert red.sum() > 3 * 32 * 32  # three red images, drawn larger than 32x32


def test_sample_grid_takes_grey_images_and_caps_the_rows(tmp_path):
    from zoo.reporting.samples import save_sample_grid

    images = np.random.default_rng(0).integers(0, 256, (60, 28, 28, 1), dtype=np.uint8)
    path = save_sample_grid(
        images,
        np.arange(60) % 30,
        [str(i) for i in range(30)],
        tmp_path / "grid.png",
        per_class=2,
        max_classes=5,
    )
    assert path.stat().st_size > 1000
    with pytest.raises(ValueError, match="labels"):
        save_sample_grid(images, np.arange(3), ["a"], tmp_path / "x.png")


def test_option_errors_name_the_python_argument():
    with pytest.raises(OptionError) as err:
        load_dataset("mnist", classes=["7"], data_dir=None)
    assert err.value.option == "classes"


def test_library_loaders_look_in_zoo_data_dir(tmp_path, monkeypatch):
    import zoo
    from zoo.errors import OptionError

    monkeypatch.setenv("ZOO_DATA_DIR", str(tmp_path / "missing"))
    monkeypatch.setenv("ZOO_CACHE", str(tmp_path / "cache"))
    with pytest.raises(OptionError, match="ZOO_DATA_DIR"):
        zoo.load_dataset("cifar100-3class", source="local")
