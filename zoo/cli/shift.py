"""`zoo shift`: test accuracy of runs when every test image is moved by a few pixels."""

from __future__ import annotations

from pathlib import Path

import click

from zoo.cli.common import command
from zoo.cli.report import LANG, _trained_lang
from zoo.i18n import t


@command()
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--max",
    "max_shift",
    type=click.IntRange(1, 32),
    default=8,
    show_default=True,
    help="Largest shift in pixels: dx and dy go from -MAX to MAX.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for shift.json and the figures (default: the folder holding the runs).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    help="Where the runs' data set is now, if not where it was when they were trained.",
)
@LANG
@click.option("--force", is_flag=True, help="Replace the files in --out if they exist.")
def shift(run_dirs, max_shift, out, data_dir, lang, force):
    """Test accuracy of each run when every test image is shifted by dx, dy in -MAX..MAX.

    \b
    The uncovered border is black, as on the course's web page. Writes shift.json,
    shift_curves.png (accuracy along x and along y, all runs) and shift_heatmaps.png
    (one map of the (dx, dy) grid per run).
    \b
    Examples:
      zoo shift reports/mlp-cifar100-3class-* reports/cnn-cifar100-3class-*
      zoo shift RUN_A RUN_B --max 4 --lang ru --out reports/shift
    """
    from zoo.backend import start_backend
    from zoo.reporting.shift import summary, write_shift
    from zoo.runfolder import read_run_folder

    if lang is None:
        lang = _trained_lang(read_run_folder(run_dirs[0]))
    start_backend()  # the models classify: keep Keras's start quiet
    result, paths = write_shift(
        run_dirs, max_shift=max_shift, out=out, lang=lang, data_dir=data_dir, force=force
    )
    click.echo(summary(result, lang), nl=False)
    click.echo(t("report.written", lang, paths="".join(f"\n  {p}" for p in paths)))
