"""Fixtures shared by the test modules: what costs seconds is made once per session.

The helper modules (image_fixtures, run_fixtures, trained_runs) stay importable by name; the
fixtures here wrap them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


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
