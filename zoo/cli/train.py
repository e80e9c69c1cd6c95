"""`zoo train MODEL DATASET`: the CLI face of `zoo.train`."""

from __future__ import annotations

import click

from zoo.backend import BACKENDS
from zoo.cli.common import (
    Choice,
    command,
    complete_dataset,
    complete_model,
    dataset_kwargs,
    dataset_option_decorators,
)
from zoo.errors import EXIT_DIVERGED
from zoo.i18n import languages, t
from zoo.models.cnn import POOLINGS
from zoo.models.layers import ACTIVATIONS, HEADS, INITS
from zoo.objective import LOSSES
from zoo.training.options import DEVICES, DISTRIBUTE, MODES, NORMALIZE, OPTIMIZERS, SCHEDULES


def _dropout(ctx, param, value):
    from zoo.errors import OptionError
    from zoo.models.layers import parse_rates

    if value is None:
        return None
    try:
        rates = parse_rates(value)  # the rule the builders apply, as a usage error
    except OptionError as err:
        raise click.BadParameter(err.message) from None
    return rates[0] if len(rates) == 1 else rates


def _hidden(ctx, param, value):
    from zoo.errors import OptionError
    from zoo.models.layers import check_units

    if value is None:
        return None
    try:
        return check_units(value, param.name)  # the rule the builders apply, as a usage error
    except OptionError as err:
        raise click.BadParameter(err.message) from None


def _padding(ctx, param, value):
    from zoo.errors import OptionError
    from zoo.models.layers import check_paddings

    if value is None:
        return None
    try:
        return check_paddings(value)
    except OptionError as err:
        raise click.BadParameter(err.message) from None


def _augment(ctx, param, value):
    from zoo.errors import OptionError
    from zoo.models.augment import parse_augment

    if value is None:
        return None
    try:
        return parse_augment(value)
    except OptionError as err:
        raise click.BadParameter(err.message) from None


@command()
@click.argument("model", shell_complete=complete_model)
@click.argument("dataset", shell_complete=complete_dataset)
@click.option(
    "--mode",
    type=click.Choice(list(MODES), case_sensitive=False),
    help="batch: one update per epoch; minibatch: --batch-size examples; sample: every example "
    "[default: minibatch, or the dataset's preset].",
)
@click.option("--batch-size", type=click.IntRange(min=1), help="Mini-batch size [default: 32].")
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    help="Passes over the training set [default: 100, or the dataset's preset].",
)
@click.option("--iterations", type=click.IntRange(min=1), help="Total updates instead of --epochs.")
@click.option(
    "--lr",
    type=click.FloatRange(min=0, min_open=True),
    help="Learning rate [default: 0.01, or the dataset's preset].",
)
@click.option(
    "--momentum",
    type=click.FloatRange(0, 1, max_open=True),
    help="Momentum (sgd, rmsprop) [default: 0, or the dataset's preset].",
)
@click.option("--optimizer", type=click.Choice(OPTIMIZERS), default="sgd", show_default=True)
@click.option("--nesterov", is_flag=True, help="Nesterov's momentum (sgd with --momentum).")
@click.option(
    "--weight-decay",
    type=click.FloatRange(min=0),
    help="Decoupled weight decay: w -= lr·decay·w each step (sgd, adamw [default: 0.004], "
    "rmsprop, adagrad).",
)
@click.option(
    "--clip-norm",
    type=click.FloatRange(min=0, min_open=True),
    help="Rescale the gradient when its norm (all weights together) is larger than this.",
)
@click.option(
    "--lr-schedule",
    type=click.Choice(SCHEDULES),
    default="constant",
    show_default=True,
    help="step: x --lr-decay every --lr-step epochs; exponential: smoothly, x --lr-decay per "
    "--lr-step epochs; cosine: to 0 over the run after --warmup epochs; plateau: x --lr-decay "
    "after --lr-step epochs without a lower test loss.",
)
@click.option(
    "--lr-decay",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    help="Factor of each cut (step, exponential, plateau) [default: 0.1].",
)
@click.option(
    "--lr-step",
    type=click.IntRange(min=1),
    help="Epochs per cut (step [default: a third of the run], exponential [default: the run]); "
    "plateau: epochs without improvement [default: 10].",
)
@click.option(
    "--warmup",
    type=click.IntRange(min=0),
    help="Epochs of linear warm-up from 0 to --lr (cosine) [default: 0].",
)
@click.option(
    "--l2",
    type=click.FloatRange(min=0),
    help="L2 penalty l2·Σw² on every kernel, convolutions too (registered models) [default: 0].",
)
@click.option(
    "--l1",
    type=click.FloatRange(min=0),
    help="L1 penalty l1·Σ|w| on every kernel, convolutions too (registered models) [default: 0].",
)
@click.option(
    "--dropout",
    callback=_dropout,
    help="Dropout rate after every hidden layer, or one per hidden layer: 0.2 or 0.2,0.5 (mlp; "
    "cnn: on the flattened maps and after each --dense layer) [default: 0, none].",
)
@click.option(
    "--loss",
    type=click.Choice(LOSSES),
    help="Loss [default: the head's: crossentropy (softmax), bce (sigmoid), mse (linear)].",
)
@click.option(
    "--hidden",
    callback=_hidden,
    help="Hidden layer sizes, e.g. 10 or 64,32 (mlp) [default: 10, the lab's FC(10)].",
)
@click.option(
    "--activation",
    type=click.Choice(ACTIVATIONS),
    help="Hidden activation (mlp, cnn) [default: relu, or the model's preset].",
)
@click.option(
    "--init",
    type=click.Choice(INITS),
    help="Starting weights: glorot (Keras's), he, lecun, torch (PyTorch's nn.Linear/Conv2d) "
    "[default: glorot, or the dataset's preset: torch for the course's mlp and cnn on CIFAR-100].",
)
@click.option(
    "--conv",
    callback=_hidden,
    help="Filters of each conv block, e.g. 32,64 (cnn) [default: the lab's 32,64].",
)
@click.option(
    "--kernel",
    callback=_hidden,
    help="Kernel size per conv block, or one for all (cnn) [default: 5,3].",
)
@click.option(
    "--stride", callback=_hidden, help="Stride per conv block, or one for all (cnn) [default: 4,1]."
)
@click.option(
    "--padding",
    callback=_padding,
    help="Zeros around each conv block's input, in pixels as in PyTorch, or same/valid: "
    "2,1 or same (cnn) [default: 2,1].",
)
@click.option(
    "--pooling",
    type=click.Choice(POOLINGS),
    help="Downsampling after a block: avg or max pooling, stride (the convolution's stride "
    "times --pool-size instead), none (cnn) [default: avg].",
)
@click.option(
    "--pool-size",
    callback=_hidden,
    help="Pooling size per conv block, 1 for none, or one for all (cnn) [default: 1,4].",
)
@click.option(
    "--batch-norm/--no-batch-norm",
    default=None,
    help="Batch normalisation after each convolution (cnn) [default: off].",
)
@click.option(
    "--dense",
    callback=_hidden,
    help="Hidden Dense sizes before the head, e.g. 128 (cnn) [default: none].",
)
@click.option(
    "--augment",
    callback=_augment,
    help="Random changes of the training images inside the model, e.g. "
    "flip,translate=0.1,rotate=10,zoom=0.1,contrast=0.2 (cnn; only while training).",
)
@click.option(
    "--head",
    type=click.Choice(HEADS),
    help="Output layer and its loss [default: softmax; linear for a regression set].",
)
@click.option(
    "--normalize",
    type=click.Choice(NORMALIZE),
    default="dataset",
    show_default=True,
    help="Input scaling inside the model: the dataset's preset "
    "(CIFAR: the lab's mean and std) or statistics of the training set.",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed of the weights and the order."
)
@click.option(
    "--data-seed",
    type=click.IntRange(min=0),
    help="Seed of a generated dataset and of its split [default: the loader's, 0].",
)
@click.option(
    "--target-loss",
    type=click.FloatRange(min=0),
    help="Stop when the training loss is this small [default: off].",
)
@click.option(
    "--patience",
    type=click.IntRange(min=1),
    help="Stop after this many epochs without a lower test/validation loss; keep the best "
    "weights [default: off, train every epoch].",
)
@click.option(
    "--validation",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    help="Fraction of the training set held out to draw the curves (default: the test set).",
)
@click.option("--device", type=click.Choice(DEVICES), default="auto", show_default=True)
@click.option(
    "--mixed-precision",
    is_flag=True,
    help="float16 (TensorFlow) or bfloat16 (JAX) arithmetic, float32 weights and loss; for GPUs.",
)
@click.option(
    "--distribute",
    type=click.Choice(DISTRIBUTE),
    help="Split each batch over all local GPUs (mirrored) or hosts in TF_CONFIG (multiworker).",
)
@click.option(
    "--backend",
    type=click.Choice(BACKENDS),
    # no envvar here: $KERAS_BACKEND is checked where Keras is loaded, and named in its error
    help="Keras backend [default: $KERAS_BACKEND, else tensorflow]; jax needs "
    "`pip install 'keras-zoo[jax]'`.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="reports",
    show_default=True,
    help="Folder under which the run folder is made.",
)
@click.option("--comment", help="A note for the summary table, e.g. 'base variant'.")
@click.option(
    "--author", envvar="ZOO_AUTHOR", help="For the report's title page (also $ZOO_AUTHOR)."
)
@click.option(
    "--group", envvar="ZOO_GROUP", help="Student group (also $ZOO_GROUP, zoo.toml's group)."
)
@click.option(
    "--variant", envvar="ZOO_VARIANT", help="Lab variant (also $ZOO_VARIANT, zoo.toml's variant)."
)
@click.option("--title", envvar="ZOO_TITLE", help="Report title (also $ZOO_TITLE).")
@click.option(
    "--lang",
    type=Choice(languages()),
    envvar="ZOO_LANG",
    default="en",
    show_default=True,
    help="Language of report.pdf (also $ZOO_LANG, else zoo.toml's lang).",
)
@click.option(
    "--report/--no-report",
    default=True,
    show_default=True,
    help="Write report.pdf and its figures into the run folder.",
)
@click.option(
    "--tensorboard/--no-tensorboard",
    default=False,
    show_default=True,
    help="TensorBoard event files (curves, hyperparameters) in the run folder's tensorboard/.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing while training.")
@dataset_option_decorators
def train(
    model,
    dataset,
    hidden,
    activation,
    head,
    samples,
    noise,
    classes,
    label,
    data_dir,
    source,
    data_seed,
    quiet,
    **options,
):
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

    data_options = dataset_kwargs(
        samples=samples, noise=noise, classes=classes, label=label, data_dir=data_dir, source=source
    )
    run = zoo.train(
        model,
        dataset,
        quiet=quiet,
        data_seed=data_seed,
        hidden=hidden,
        activation=activation,
        head=head,
        **data_options,
        **options,
    )
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
