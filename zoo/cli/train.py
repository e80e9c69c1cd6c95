"""`zoo train MODEL DATASET`: the CLI face of `zoo.train`."""

from __future__ import annotations

import click

from zoo.cli.common import (
    click_options,
    command,
    complete_dataset,
    complete_model,
    dataset_kwargs,
    model_option_flag,
    parse_model_options,
)
from zoo.datasets.options import LOADER_OPTIONS
from zoo.errors import EXIT_DIVERGED, OptionError
from zoo.i18n import t
from zoo.training.plan import option_specs

# The order of the options in --help: training, model, seeds and stopping, machine, output,
# data. Each flag's facts live with the option's owner (`zoo.training.plan.option_specs`);
# an option described there but not listed here still gets its flag, after these.
ORDER = (
    *("mode", "batch_size", "epochs", "iterations", "lr", "momentum", "optimizer", "nesterov"),
    *("weight_decay", "clip_norm", "lr_schedule", "lr_decay", "lr_step", "warmup"),
    *("l2", "l1", "dropout", "loss", "hidden", "activation", "init", "conv", "kernel"),
    *("stride", "padding", "pooling", "pool_size", "batch_norm", "dense", "augment", "head"),
    *("normalize", "seed", "data_seed", "target_loss", "patience", "validation", "device"),
    *("mixed_precision", "distribute", "backend", "out", "comment", "author", "group"),
    *("variant", "title", "lang", "report", "tensorboard", "quiet"),
    *LOADER_OPTIONS,
)


@command()
@click.argument("model", shell_complete=complete_model)
@click.argument("dataset", shell_complete=complete_dataset)
@click.pass_context
def train(ctx, model, dataset, quiet, model_options, **options):
    """Train MODEL on DATASET and write a run folder under --out.

    \b
    Examples:
      zoo train mlp digits
      zoo train mlp gaussians --mode sample --epochs 20
      zoo train mlp cifar100-3class --hidden 10 --lr 0.005 --batch-size 128 --epochs 250
      zoo train cnn cifar100-3class --pooling max
      zoo train cnn mnist --conv 16,32 --kernel 3 --stride 1 --padding same --pool-size 2
      zoo train mlp digits --l2 1e-3 --dropout 0.2 --lr-schedule cosine --optimizer adamw
      zoo train logistic iris --mode batch --iterations 500 --comment "full batch"
      zoo train mlp digits --tensorboard   # then: tensorboard --logdir reports
    """
    import zoo

    data_options = dataset_kwargs(**{k: options.pop(k) for k in LOADER_OPTIONS})
    extra = parse_model_options(model, model_options, flagged=ctx.params)
    try:
        run = zoo.train(model, dataset, quiet=quiet, **data_options, **options, **extra)
    except OptionError as err:
        if err.option in extra:  # the user wrote `-o NAME=...`, not `--NAME`
            raise OptionError(f"-o {err.option}", err.message) from None
        raise
    if not quiet:
        _summarise(run, options.get("lang", "en"))
    elif run.status not in ("completed", "stopped_early", "target_reached") and run.folder:
        # quiet hides progress, not failure
        click.echo(t("train.run_folder", options.get("lang", "en"), folder=run.folder), err=True)
    if run.status == "diverged":
        raise SystemExit(EXIT_DIVERGED)
    if run.status == "interrupted":  # kept, but not a success: `zoo train ... && zoo report`
        raise SystemExit(128 + _signal_number(run.config.get("stop_signal")))


def _signal_number(name: str | None) -> int:
    import signal

    return int(getattr(signal, name or "SIGINT", signal.SIGINT))


def _summarise(run, lang: str = "en") -> None:
    from zoo.i18n import decimal
    from zoo.runfolder import REPORT_TEXT, eval_split

    folder = run.folder
    text = (folder / REPORT_TEXT) if folder else None
    classes = run.config.get("class_names") or []
    if lang != "en" and classes and all(s in run.metrics for s in ("train", "test")):
        click.echo(_classification_text(run.metrics, classes, lang))
    elif text is not None and text.exists():
        click.echo(text.read_text(encoding="utf-8"))
    elif "test" in run.metrics:
        for split in ("train", "test"):
            m = {k: decimal(run.metrics[split][k], ".4f", lang) for k in ("mse", "mae", "r2")}
            name = split if lang == "en" else t(f"common.{split}", lang)
            click.echo(t("train.regression", lang, split=name, **m))
    if run.best_epoch:
        split = eval_split(run.config)
        where = split if lang == "en" else t(f"report.eval.{split}", lang)
        click.echo(t("train.best_epoch", lang, epoch=run.best_epoch, eval=where))
    if folder is not None:
        click.echo(t("train.run_folder", lang, folder=folder))


def _classification_text(metrics: dict, classes: list[str], lang: str) -> str:
    """Both splits' classification reports as aligned text in `lang` (sklearn's layout, the
    report's own words and decimal marks)."""
    from zoo.i18n import decimal_marks
    from zoo.reporting.pages import report_rows

    header = [t(f"report.col.{k}", lang) for k in ("class", "precision", "recall", "f1", "support")]
    lines = []
    for split in ("train", "test"):
        rows = [[decimal_marks(cell, lang) for cell in row] for row in report_rows(
            metrics[split], classes, lang)]  # fmt: skip
        first = max(len(str(row[0])) for row in [header, *rows])
        rest = max(len(cell) for row in [header, *rows] for cell in row[1:])
        lines.append(t(f"common.{split}", lang))
        for row in [header, *rows]:
            lines.append(str(row[0]).ljust(first) + "".join(c.rjust(rest + 2) for c in row[1:]))
        lines.append("")
    return "\n".join(lines)


# every option of a run described by its owner, then `-o NAME=VALUE` for the model's own
train.params.extend([*click_options(option_specs(), ORDER), model_option_flag()])
