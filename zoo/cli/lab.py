"""`zoo lab 1`, `zoo lab 2`: the whole lab for a student's variant, and its report."""

from __future__ import annotations

import click

from zoo.cli.common import Choice, command
from zoo.i18n import languages
from zoo.lab.variant import DEPARTMENTS


@command()
@click.argument("number", type=click.IntRange(1, 2))
@click.option(
    "--group",
    envvar="ZOO_GROUP",
    help="Group, e.g. 2 or ИУ5-21М (also $ZOO_GROUP, zoo.toml's group).",
)
@click.option(
    "--group-number",
    type=click.IntRange(min=0),
    help="The number the variant rule "
    "adds to, when --group is a name (default: the last number in it).",
)
@click.option(
    "--variant",
    type=click.IntRange(min=0),
    envvar="ZOO_VARIANT",
    help="Variant number (also $ZOO_VARIANT, zoo.toml's variant).",
)
@click.option(
    "--department",
    type=click.Choice(DEPARTMENTS),
    default="iu5",
    show_default=True,
    help="Picks the third class: variant + 50 (iu5), 90 (guimc), 93 (foreign) (also "
    "zoo.toml's department).",
)
@click.option("--rule", help="Another year's offsets for class 1, 2, 3 [default: 7,30,50].")
@click.option("--author", envvar="ZOO_AUTHOR", help="For the title page (also $ZOO_AUTHOR).")
@click.option("--title", envvar="ZOO_TITLE", help="Report title (also $ZOO_TITLE).")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    help="Folder with cifar-100-python.tar.gz (also $ZOO_DATA_DIR, zoo.toml's data_dir; "
    "Keras's own download is found without it).",
)
@click.option(
    "--source",
    type=click.Choice(["auto", "local", "download", "tfds"]),
    help="Where CIFAR-100 comes from (default: local copy, cache, download).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    help="The lab folder [default: reports/lab1-GROUP-vVARIANT].",
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    help="Epochs of every run trained [default: the lab's: lab 1's task 3 250; lab 2's CNN "
    "runs 500, its FC run 250].",
)
@click.option(
    "--report-only",
    "report_only",
    type=click.Path(file_okay=False),
    help="Rebuild LABDIR/report.pdf from the folder, without training.",
)
@click.option(
    "--lang",
    type=Choice(languages()),
    envvar="ZOO_LANG",
    default="ru",
    show_default=True,
    help="Language of the report (also $ZOO_LANG, zoo.toml's lang; the lab's own default "
    "is ru, the course's language).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print no training progress.")
def lab(
    number,
    group,
    group_number,
    variant,
    department,
    rule,
    author,
    title,
    data_dir,
    source,
    out,
    epochs,
    report_only,
    lang,
    quiet,
):
    """Run lab NUMBER for your variant: every task into one folder, and the lab's report.

    \b
    The variant's classes: group + 7, variant + 30, variant + 50 (IU5; GUIMC 90, foreign
    students 93); lab 2 uses lab 1's. Add more training variants with `zoo train ... --out
    LABDIR/runs`, then rebuild the report with --report-only LABDIR.
    \b
    Lab 1: the manual regression, noisy XOR and the FC network on the variant's classes.
    Lab 2: lab 2's example CNN with average, max and stride pooling, lab 1's FC network on
    the same classes, `zoo shift` of FC against the best CNN, both models as ONNX.
    \b
    Examples:
      zoo lab 1 --group 2 --variant 5 --data-dir ~/data
      zoo lab 1 --group ИУ5-21М --group-number 21 --variant 5 --author "Иванов И. И."
      zoo lab 1 --report-only reports/lab1-2-v5
      zoo lab 2 --group 2 --variant 5 --data-dir ~/data
      zoo lab 1     (group, variant and data_dir from zoo.toml)
    """
    from zoo.i18n import t
    from zoo.lab.folder import check_same_variant, read_lab
    from zoo.lab.lab1 import run_lab1
    from zoo.lab.lab2 import run_lab2
    from zoo.lab.report import write_lab_report
    from zoo.lab.variant import Rule
    from zoo.runfolder import REPORT

    if report_only:
        lab_data = read_lab(report_only)
        if lab_data.lab != number:
            raise click.UsageError(f"{report_only} holds lab {lab_data.lab}, not lab {number}.")
        check_same_variant(lab_data, group, variant, report_only)
        path = write_lab_report(report_only, lang=lang)
        click.echo(t("lab.written", lang, folder=report_only, report=path))
        return
    if group is None or variant is None:
        missing = "--group" if group is None else "--variant"
        raise click.UsageError(
            f"Missing option '{missing}' (or --report-only LABDIR; or put group and variant "
            "in zoo.toml, see `zoo info`)."
        )
    if rule is not None:
        rule = Rule.parse(rule)
    run_lab = run_lab1 if number == 1 else run_lab2
    folder = run_lab(
        group=group,
        group_number=group_number,
        variant=variant,
        department=department,
        rule=rule,
        data_dir=data_dir,
        source=source,
        out=out,
        lang=lang,
        author=author,
        title=title,
        epochs=epochs,
        quiet=quiet,
        echo=click.echo,
    )
    click.echo(t("lab.written", lang, folder=folder, report=folder / REPORT))
