"""Sweeps under abuse: absurd settings refused before anything starts; a worker whose sweep is
killed stops once and says so."""

from __future__ import annotations

import subprocess
import sys

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


def test_the_sweeps_death_stops_a_worker_once(tmp_path):
    """The kernel repeats the parent-death signal for every thread of the sweep that ends; a
    second interrupt would cut short the worker's marking of its run as interrupted."""
    code = (
        "import os, time\n"
        "from zoo import interrupts\n"
        "from zoo.sweeps import local\n"
        "local._stop_with_parent(0)\n"
        "stops = []\n"
        "with interrupts.handled():\n"
        "    for _ in range(3):\n"
        "        try:\n"
        "            os.kill(os.getpid(), local.PARENT_GONE)\n"
        "            time.sleep(0.2)\n"
        "        except KeyboardInterrupt as err:\n"
        "            stops.append(err.name)\n"
        "print(stops)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.strip() == "['SIGTERM']"
