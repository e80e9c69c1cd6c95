"""Absurd sweep settings are refused before any worker starts or any folder is made."""

from __future__ import annotations

from click.testing import CliRunner

from zoo.cli import cli


def test_absurd_threads_are_refused_before_anything_starts(tmp_path):
    out = tmp_path / "sweep"
    argv = ["sweep", "mlp", "gaussians", "--grid", "hidden=5", "--epochs", "1"]
    result = CliRunner().invoke(cli, [*argv, "--threads", "100000", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "--threads" in result.output and "at most 1,024" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()
