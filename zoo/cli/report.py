"""`zoo report` and `zoo compare`: the lab report and the final table, from run folders alone."""

from __future__ import annotations

from pathlib import Path

import click

from zoo.backend import start_backend
from zoo.cli.common import Choice, command
from zoo.i18n import languages, t

LANG = click.option(
    "--lang",
    type=Choice(languages()),
    envvar="ZOO_LANG",
    help="Language of the texts [default: $ZOO_LANG, else the language the run was trained "
    "with, else en].",
)


def _draws_with_the_model(run_dir) -> bool:
    """2-D and 1-D runs keep their points in data.npz; their figures call the model."""
    import zipfile

    try:
        with zipfile.ZipFile(Path(run_dir) / "data.npz") as arrays:
            return "x_train.npy" in arrays.namelist()
    except (OSError, zipfile.BadZipFile):
        return False


def _trained_lang(run_dir) -> str:
    """The language `zoo train --lang` recorded; English for older or unreadable folders."""
    import json
    from pathlib import Path

    try:
        lang = json.loads((Path(run_dir) / "config.json").read_text(encoding="utf-8")).get("lang")
    except (OSError, ValueError, AttributeError):
        return "en"  # write_report says what is wrong with the folder
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
    from zoo.reporting.pdf import write_report

    lang = lang or _trained_lang(run_dir)
    if _draws_with_the_model(run_dir):
        start_backend()  # the decision boundary or fit needs Keras: keep its start quiet
    paths = write_report(
        run_dir,
        lang=lang,
        formats=formats,
        author=author,
        group=group,
        variant=variant,
        title=title,
    )
    click.echo(t("report.written", lang, paths="".join(f"\n  {p}" for p in paths)))


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
def compare(run_dirs, fmt, out, lang):
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

    if any(is_sweep_folder(d) for d in run_dirs):  # its own summary: mean ± sd over seeds
        if len(run_dirs) > 1:
            raise click.UsageError("a sweep folder is compared on its own: zoo compare SWEEP_DIR")
        from zoo.experiments.report import write_sweep_comparison

        text, paths = write_sweep_comparison(run_dirs[0], fmt=fmt, out=out, lang=lang or "en")
        click.echo(text, nl=False)
        click.echo(t("report.written", lang or "en", paths="".join(f"\n  {p}" for p in paths)))
        return
    if lang is None:
        lang = _trained_lang(run_dirs[0]) if run_dirs else "en"
    text, paths = write_comparison(run_dirs, fmt=fmt, out=out, lang=lang)
    click.echo(text, nl=False)
    click.echo(t("report.written", lang, paths="".join(f"\n  {p}" for p in paths)))
