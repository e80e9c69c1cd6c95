"""Fixtures shared by the test modules: what costs seconds is made once per session.

The helper modules (image_fixtures, run_fixtures, trained_runs) stay importable by name; the
fixtures here wrap them.
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
from pathlib import Path

import pytest


def pytest_configure(config):
    """The zoo's caches (compiled epochs, class subsets, checked archives) are this run's own:
    one folder, empty at the start whatever the machine or $ZOO_CACHE holds, shared by the
    pytest-xdist workers (started after this, they inherit it; the caches write whole files
    by renaming). A developer's suite then compiles what CI's does."""
    if hasattr(config, "workerinput"):  # a worker: its controller chose the folder
        return
    config._zoo_cache = tempfile.mkdtemp(prefix="zoo-tests-cache-")
    os.environ["ZOO_CACHE"] = config._zoo_cache


def pytest_unconfigure(config):
    folder = getattr(config, "_zoo_cache", None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def zoo_cache(tmp_path, monkeypatch) -> Path:
    """A $ZOO_CACHE of the test's own (downloads, subsets, checksums: what tests of them look
    at) that shares the run's compiled epochs and font subsets, which depend only on what
    they are made from: a command the test starts reads what other tests compiled."""
    shared = Path(os.environ["ZOO_CACHE"])
    cache = tmp_path / "cache"
    cache.mkdir()
    for name in ("xla", "fonts"):
        (shared / name).mkdir(parents=True, exist_ok=True)
        (cache / name).symlink_to(shared / name, target_is_directory=True)
    monkeypatch.setenv("ZOO_CACHE", str(cache))
    return cache


@pytest.fixture(scope="session")
def trained_cifar_runs(tmp_path_factory) -> dict[str, Path]:
    """The MLP and the small CNN of `trained_runs.cifar_runs`, trained once per session.

    Read-only: a module that writes into a run folder (exports) takes `cifar_runs_copy`."""
    from trained_runs import cifar_runs

    return cifar_runs(tmp_path_factory.mktemp("trained-cifar"))


@pytest.fixture(scope="module")
def cifar_runs_copy(trained_cifar_runs, tmp_path_factory) -> dict[str, Path]:
    """This module's own copy of the trained run folders, under `<tmp>/reports/` as `zoo
    train` wrote them; their data set stays the session's (read, never written)."""
    reports = tmp_path_factory.mktemp("cifar-runs") / "reports"
    return {
        name: Path(shutil.copytree(folder, reports / folder.name))
        for name, folder in trained_cifar_runs.items()
    }


@pytest.fixture(autouse=True, scope="session")
def _no_users_settings(tmp_path_factory):
    """The user's own zoo.toml (~/.config/zoo) must not change what a test sees; a test of
    the settings file points $XDG_CONFIG_HOME or --config at one of its own."""
    import os

    saved = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("no-user-config"))
    os.environ.pop("ZOO_CONFIG", None)
    yield
    if saved is None:
        os.environ.pop("XDG_CONFIG_HOME", None)
    else:
        os.environ["XDG_CONFIG_HOME"] = saved


@pytest.fixture(autouse=True, scope="session")
def _signals_as_in_a_terminal():
    """Tests of Ctrl-C, SIGTERM and SIGHUP need the signals delivered as in a terminal. A
    pytest-xdist worker ignores SIGINT (Ctrl-C is for its controller), and a suite started
    under nohup ignores SIGHUP; either would pass on to every command a test starts, which
    then (rightly, see test_signals_ignored) keeps going. Here they are the defaults again."""
    import signal

    defaults = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL}
    if hasattr(signal, "SIGHUP"):
        defaults[signal.SIGHUP] = signal.SIG_DFL
    ignored = {s: signal.SIG_IGN for s in defaults if signal.getsignal(s) is signal.SIG_IGN}
    for signum in ignored:
        signal.signal(signum, defaults[signum])
    yield
    for signum, handler in ignored.items():
        signal.signal(signum, handler)


def pytest_xdist_auto_num_workers(config):
    """`-n auto` for `pytest -m slow`: a worker more than the cores, at least 3. Those tests
    mostly wait (on Ray clusters, Jupyter kernels and the processes a documented command
    starts): on 2 cores two workers kept the CPU 134 % busy."""
    if config.getoption("markexpr", "") != "slow":
        return None  # pytest-xdist's own count: one worker per core
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(3, cores + 1)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """At the end of each test module, what is still alive (TensorFlow, Keras, matplotlib
    and their caches: half a million objects) is frozen out of the collector's reach.

    The zoo freezes what Keras's import made when the zoo imports Keras (`zoo.backend`), but
    here the test modules import it first. Python's full collections then walked all of it,
    0.4 s each time, and each worker ran 80-90 of them: 40 s of collector time per worker.
    What is frozen is never collected, so the collection just before keeps that to what the
    finished module left alive (the workers' peak memory did not grow)."""
    yield
    if nextitem is None or nextitem.path != item.path:
        gc.collect()
        gc.freeze()
