"""Paths longer than the file system takes: exit 2 naming the path, never a traceback."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from zoo.cli import cli

NAME = "é" * 200  # 400 bytes: over the 255 a file name may have


def invoke(*args):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.mark.parametrize(
    "argv",
    [
        ["export", "{long}"],
        ["report", "{long}"],
        ["shift", "{long}"],
        ["compare", "{long}"],
        ["serve", "{long}", "--port", "0"],
        ["sweep", "{long}"],
        ["sweep", "mlp", "gaussians", "--grid", "hidden=5", "--epochs", "1", "--out", "{long}"],
        ["sweep", "mlp", "gaussians", "--grid", "hidden=5", "--out", "{deep}"],
    ],
    ids=lambda argv: " ".join(argv[:2]) + (" --out" if "--out" in argv else ""),
)
def test_a_name_too_long_is_bad_input(tmp_path, argv):
    long = str(tmp_path / NAME)
    deep = str(tmp_path / "/".join(["d" * 250] * 20))  # over PATH_MAX
    code, out = invoke(*(a.format(long=long, deep=deep) for a in argv))
    assert code == 2, out
    assert "Traceback" not in out and "internal error" not in out
    assert "file name too long" in out
    assert list(tmp_path.iterdir()) == []  # nothing made on the way


def test_other_os_errors_still_count_as_bugs(monkeypatch):
    import zoo.cli.common as common

    def boom(*args, **kwargs):
        raise PermissionError(13, "Permission denied", "/somewhere")

    monkeypatch.setattr(common.click.Group, "invoke", boom)
    result = CliRunner().invoke(cli, ["models"])
    assert result.exit_code == 70
    assert "internal error" in result.output
