"""`zoo report` and `zoo compare`: the lab report and the final table, from run folders alone."""

from __future__ import annotations

from pathlib import Path

import click

from zoo.backend import start_backend
from zoo.cli.common import Choice, command
from zoo.cli.settings import config_lang
from zoo.i18n import languages, t
from zoo.i18n import reason as i18n_reason

LANG = click.option(
    "--lang",
    type=Choice(languages()),
    envvar="ZOO_LANG",
    help="Language of the texts [default: $ZOO_LANG, else the language the run was trained "
    "with, else zoo.toml's lang, else en].",
)


def _trained_lang(run) -> str:
    """The language `zoo train --lang` recorded; for older folders zoo.toml's, else English."""
    lang = run.config.get("lang")
    return lang if lang in languages() else (config_lang() or "en")


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
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the rows as one JSON document (stable keys, numbers unformatted); write no file.",
)
def compare(run_dirs, fmt, out, lang, force, as_json):
    """Print and write the lab's final table over several runs, and their test-loss curves.
    A sweep folder gives its summary: a row per configuration, mean ± sd over seeds.

    \b
    Examples:
      zoo compare reports/mlp-cifar100-3class-*
      zoo compare reports/sweep-mlp-digits-hidden --format pdf
      zoo compare RUN_A RUN_B --format tex --out report/table.tex --lang ru
      zoo compare reports/mlp-digits-* --json
    """
    import zoo
    from zoo.runfolder import read_run_folder
    from zoo.sweeps.folder import is_sweep_folder

    if as_json and (fmt is not None or out is not None):
        raise click.UsageError("--json prints the table and writes no file: drop --format/--out")
    if any(is_sweep_folder(d) for d in run_dirs):  # its own summary: mean ± sd over seeds
        if len(run_dirs) > 1:
            raise click.UsageError("a sweep folder is compared on its own: zoo compare SWEEP_DIR")
        if as_json:
            _echo_json(_sweep_document(run_dirs[0]))
            return
        from zoo.reporting.sweep import write_sweep_comparison

        lang = lang or config_lang() or "en"
        text, paths = write_sweep_comparison(run_dirs[0], fmt=fmt, out=out, lang=lang)
        click.echo(text, nl=False)
        click.echo(t("report.written", lang, paths="".join(f"\n  {p}" for p in paths)))
        return
    if as_json:
        from zoo.reporting.compare import compare_rows

        runs = [read_run_folder(d) for d in run_dirs]
        _echo_json({"kind": "runs", "rows": [_row_document(row) for row in compare_rows(runs)]})
        return
    if lang is None:
        lang = _trained_lang(read_run_folder(run_dirs[0])) if run_dirs else "en"
    table = zoo.compare(run_dirs, lang)  # the library's table, written as it writes it
    paths = table.write(out, fmt=fmt, force=force)
    click.echo(table.to_markdown(), nl=False)
    click.echo(t("report.written", lang, paths="".join(f"\n  {p}" for p in paths)))


def _echo_json(document) -> None:
    import json

    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


def _row_document(row) -> dict:
    """One run of `zoo compare --json`: the fields of the CSV table, numbers as numbers."""
    from dataclasses import asdict

    from zoo.jsonable import to_jsonable

    return to_jsonable(asdict(row))


def _sweep_document(folder: Path) -> dict:
    """`zoo compare SWEEP_DIR --json`: a row per configuration, mean and sd over seeds."""
    from zoo.jsonable import to_jsonable
    from zoo.sweeps.spec import load_spec
    from zoo.sweeps.summary import summarize

    summary = summarize(folder, load_spec(folder))
    rows = []
    for row in summary.rows:
        conf = row.configuration
        rows.append(
            {
                "number": conf.number,
                "values": {
                    name: conf.values[name] for name in summary.swept if name in conf.values
                },
                "stats": {
                    key: {"mean": stat.mean, "sd": stat.sd, "n": stat.n}
                    for key, stat in row.stats.items()
                },
                "finished": row.finished,
                "seeds": len(row.outcomes),
                "best": row.best,
                "runs": [
                    {"name": o.name, "seed": o.seed, "status": o.status} for o in row.outcomes
                ],
            }
        )
    return to_jsonable(
        {
            "kind": "sweep",
            "folder": folder,
            "swept": summary.swept,
            "task": summary.task,
            "rows": rows,
        }
    )
