"""`zoo report` and `zoo compare`: the lab report and the final table, from run folders alone."""

from __future__ import annotations

from pathlib import Path

import click

from zoo.backend import start_backend
from zoo.cli.common import Choice, command
from zoo.i18n import languages, t
from zoo.i18n import reason as i18n_reason

LANG = click.option(
    "--lang",
    type=Choice(languages()),
    envvar="ZOO_LANG",
    help="Language of the texts [default: $ZOO_LANG, else the language the run was trained "
    "with, else en].",
)


def _trained_lang(run) -> str:
    """The language `zoo train --lang` recorded; English for older folders."""
    lang = run.config.get("lang")
    return lang if lang in languages() else "en"


def _title_option(name: str, what: str):
    return click.option(
        f"--{name}",
        help=f"{what} on the title page (default: as given to `zoo train`, "
        f"else $ZOO_{name.upper()}).",
    )


@command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@LANG
@click.option(
    "--format",
    "formats",
    default="pdf,png",
    show_default=True,
    help="What to write, comma-separated: pdf (report.pdf), png and svg (every figure).",
)
@_title_option("author", "Author")
@_title_option("group", "Study group")
@_title_option("variant", "Variant of the task")
@_title_option("title", "Title of the work")
def report(run_dir, lang, formats, author, group, variant, title):
    """Rebuild a run folder's report.pdf and figures, without retraining.

    \b
    Examples:
      zoo report reports/mlp-cifar100-3class-20261127-101500 --lang ru
      zoo report RUN_DIR --format pdf,png,svg --author "Ivanov I." --group IU5-21M --variant 7
    """
    from zoo.reporting.describe import status_word
    from zoo.reporting.pdf import write_report
    from zoo.runfolder import read_run_folder

    run = read_run_folder(run_dir)
    lang = lang or _trained_lang(run)
    if run.data and "x_train" in run.data:
        start_backend()  # 2-D and 1-D figures call the model: keep Keras's start quiet
    paths = write_report(
        run, lang=lang, formats=formats, author=author, group=group, variant=variant, title=title
    )
    click.echo(t("report.written", lang, paths="".join(f"\n  {p}" for p in paths)))
    if not run.finished:  # a failed or killed run: say what the report had to do without
        missing = run.missing()
        files = t("report.unfinished_missing", lang, files=", ".join(missing)) if missing else ""
        reason = i18n_reason(run.config.get("stop_reason"), lang) or "-"
        status = status_word(run.status, lang)
        note = t(
            "report.unfinished_note",
            lang,
            run=run.path,
            status=status,
            reason=reason,
            missing=files,
        )
        click.echo(note, err=True)


@command()
@click.argument("run_dirs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "csv", "tex", "pdf"]),
    help="Format of the file written (default: the suffix of --out, else md).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="File, or folder for comparison.FORMAT (default: the folder holding the runs).",
)
@LANG
@click.option("--force", is_flag=True, help="Replace the file --out names if it exists.")
def compare(run_dirs, fmt, out, lang, force):
    """Print and write the lab's final table over several runs, and their test-loss curves.
    A sweep folder gives its summary: a row per configuration, mean ± sd over seeds.

    \b
    Examples:
      zoo compare reports/mlp-cifar100-3class-*
      zoo compare reports/sweep-mlp-digits-hidden --format pdf
      zoo compare RUN_A RUN_B --format tex --out report/table.tex --lang ru
    """
    from zoo.experiments.folder import is_sweep_folder
    from zoo.reporting.compare import write_comparison
    from zoo.runfolder import read_run_folder

    if any(is_sweep_folder(d) for d in run_dirs):  # its own summary: mean ± sd over seeds
        if len(run_dirs) > 1:
            raise click.UsageError("a sweep folder is compared on its own: zoo compare SWEEP_DIR")
        from zoo.experiments.report import write_sweep_comparison

        text, paths = write_sweep_comparison(run_dirs[0], fmt=fmt, out=out, lang=lang or "en")
        click.echo(text, nl=False)
        click.echo(t("report.written", lang or "en", paths="".join(f"\n  {p}" for p in paths)))
        return
    if lang is None:
        lang = _trained_lang(read_run_folder(run_dirs[0])) if run_dirs else "en"
    text, paths = write_comparison(run_dirs, fmt=fmt, out=out, lang=lang, force=force)
    click.echo(text, nl=False)
    click.echo(t("report.written", lang, paths="".join(f"\n  {p}" for p in paths)))
