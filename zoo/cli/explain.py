"""`zoo explain ...` and `zoo lr-find`: the lecture's worked examples, printed and drawn.

Each command calls one function of `zoo.explain`, prints its `describe` text, and writes its
figures (PNG, or PDF with --format pdf) and its numbers (JSON) into --out.
"""

from __future__ import annotations

import click

from zoo.backend import start_backend
from zoo.cli.common import (
    ZooGroup,
    command,
    complete_dataset,
    complete_model,
    dataset_kwargs,
    dataset_option_decorators,
    renamed_data_seed,
)
from zoo.i18n import languages
from zoo.training.options import OPTIMIZERS


def _floats(count: tuple[int, ...]):
    """A click callback: "0.5,0.9,-0.3" -> (0.5, 0.9, -0.3), with `count` allowed lengths."""

    def parse(ctx, param, value):
        if value is None:
            return None
        parts = value.replace(" ", "").split(",")
        if parts == [""]:
            parts = []  # "" is no numbers, which `count` judges
        try:
            # an empty part ("1,,2,3", "0.5,") is a typo, not a number fewer
            numbers = tuple(float(v) for v in parts)
        except ValueError:
            raise click.BadParameter(
                f"{value!r} is not a comma-separated list of numbers"
            ) from None
        if count and len(numbers) not in count:
            wanted = " or ".join(str(c) for c in count)
            raise click.BadParameter(f"give {wanted} numbers, got {len(numbers)}")
        return numbers

    return parse


def output_options(name: str):
    """--out, --format, --lang, --seed: what every explain command takes."""

    def decorate(f):
        options = [
            click.option(
                "--out",
                type=click.Path(file_okay=False),
                default=None,
                help=f"Folder for the figures and JSON (default reports/explain-{name}).",
            ),
            click.option(
                "--format",
                "fmt",
                type=click.Choice(["png", "pdf"]),
                default="png",
                show_default=True,
                help="Figure format.",
            ),
            click.option(
                "--lang",
                type=click.Choice(languages()),
                default="en",
                show_default=True,
                help="Language of the texts and figures.",
            ),
            click.option(
                "--seed",
                type=int,
                default=0,
                show_default=True,
                help="Seed of the data and of every random choice.",
            ),
            click.option(
                "--force",
                is_flag=True,
                expose_value=False,
                callback=lambda ctx, param, value: ctx.meta.__setitem__("force", value),
                help="Replace the files an earlier run left in --out.",
            ),
        ]
        for option in reversed(options):
            f = option(f)
        return f

    return decorate


def finish(module, result, name: str, out, fmt: str, lang: str) -> None:
    """Print the example's text, write its figures and JSON, say where."""
    from zoo.explain.output import prepare_out, text, write_json

    force = click.get_current_context().meta.get("force", False)
    folder = prepare_out(out, name, force=force)
    click.echo(module.describe(result, lang))
    paths = [*module.plot(result, folder, fmt, lang), write_json(folder, name, result)]
    click.echo(text("written", lang, paths=", ".join(str(p) for p in paths)))


@click.group(cls=ZooGroup, context_settings={"help_option_names": ["-h", "--help"]})
def explain():
    """The lecture's worked examples: numbers printed, figures and JSON written.

    \b
    Examples:
      zoo explain forward
      zoo explain backprop --target 0.9 --lr 0.5
      zoo explain lr --lang ru --format pdf
      zoo explain overfitting --lang ru
      zoo explain optimizers
      zoo explain landscape reports/mlp-gaussians-20261127-101500
    """


@explain.command()
@click.option("--inputs", callback=_floats((3,)), help="Three inputs (default 0.5,0.9,-0.3).")
@output_options("forward")
def forward(inputs, out, fmt, lang, seed):
    """Inference in the lecture's 3-3-2 sigmoid network, neuron by neuron and as W·x."""
    start_backend()
    from zoo.explain import forward as module
    from zoo.models.lecture import INPUTS

    result = module.forward(inputs or INPUTS, keras_check=True)
    finish(module, result, "forward", out, fmt, lang)


@explain.command()
@click.option(
    "--target",
    callback=_floats((1, 2)),
    default="0.9",
    show_default=True,
    help="Target of O1, or of O1,O2.",
)
@click.option(
    "--lr",
    type=click.FloatRange(min=0, min_open=True),
    default=0.5,
    show_default=True,
    help="Learning rate of the one step shown.",
)
@click.option("--inputs", callback=_floats((3,)), help="Three inputs (default 0.5,0.9,-0.3).")
@output_options("backprop")
def backprop(target, lr, inputs, out, fmt, lang, seed):
    """Every weight's gradient by the chain rule and by GradientTape, then one step."""
    start_backend("tensorflow")  # GradientTape: whatever $KERAS_BACKEND says
    from zoo.explain import backprop as module
    from zoo.models.lecture import INPUTS

    result = module.backprop(target=target, lr=lr, inputs=inputs or INPUTS)
    finish(module, result, "backprop", out, fmt, lang)


@explain.command("manual-regression")
@click.option(
    "--hidden", type=click.IntRange(min=1), default=64, show_default=True, help="Hidden ReLU units."
)
@click.option(
    "--lr",
    type=click.FloatRange(min=0, min_open=True),
    default=0.05,
    show_default=True,
    help="Learning rate (0.1 overshoots in the first steps).",
)
@click.option(
    "--iterations",
    type=click.IntRange(min=1),
    default=5000,
    show_default=True,
    help="Full-batch updates.",
)
@click.option(
    "--every",
    type=click.IntRange(min=1),
    default=1000,
    show_default=True,
    help="Draw the fit every this many iterations.",
)
@click.option("--samples", type=click.IntRange(min=4), help="Size of sigmoid-1d (default 500).")
@output_options("manual-regression")
def manual_regression(hidden, lr, iterations, every, samples, out, fmt, lang, seed):
    """The lab's 1→64→1 ReLU network on sigmoid-1d with hand-derived gradients."""
    start_backend()
    from zoo.explain import manual_regression as module

    result = module.manual_regression(
        hidden=hidden, lr=lr, iterations=iterations, every=every, seed=seed, samples=samples
    )
    finish(module, result, "manual-regression", out, fmt, lang)


@explain.command()
@click.option(
    "--lr",
    type=click.FloatRange(min=0, min_open=True),
    default=0.05,
    show_default=True,
    help="Learning rate of both descents.",
)
@click.option("--epochs", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--start", callback=_floats((3,)), help="Starting w1,w2,b (default -1,1.5,0).")
@output_options("descent")
def descent(lr, epochs, start, out, fmt, lang, seed):
    """Batch against per-sample descent of one linear neuron on dataset-1 (gaussians)."""
    from zoo.explain import descent as module

    result = module.descent(lr=lr, epochs=epochs, seed=seed, start=start or module.START)
    finish(module, result, "descent", out, fmt, lang)


@explain.command()
@click.option(
    "--factors",
    callback=_floats(()),
    default="0.5,1,1.9,2.1",
    show_default=True,
    help="Rates to try, as multiples of η_opt.",
)
@click.option("--epochs", type=click.IntRange(min=1), default=50, show_default=True)
@output_options("lr")
def lr(factors, epochs, out, fmt, lang, seed):
    """η_opt = 1/λ_max of the Hessian, η_max = 2·η_opt, and descent at multiples of η_opt."""
    from zoo.explain import lr as module

    result = module.learning_rates(factors=factors, epochs=epochs, seed=seed)
    finish(module, result, "lr", out, fmt, lang)


def _widths(ctx, param, value):
    """ "0,2,8,32" -> (0, 2, 8, 32): whole numbers only."""
    if value is None:
        return None
    try:
        # an empty part ("0,,8") is a typo, not a width fewer
        return tuple(int(v) for v in value.replace(" ", "").split(","))
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a list of whole numbers like 0,2,8,32"
        ) from None


@explain.command()
@click.option("--points", type=click.IntRange(min=8), default=30, show_default=True)
@click.option(
    "--noise",
    type=click.FloatRange(min=0),
    default=0.4,
    show_default=True,
    help="Noise sd of noisy-xor.",
)
@click.option(
    "--widths",
    callback=_widths,
    default="0,1,2,4,8,16,32,64,128",
    show_default=True,
    help="Hidden neurons of each network (0: logistic regression).",
)
@click.option(
    "--draws",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Training sets to average over.",
)
@click.option("--steps", type=click.IntRange(min=1), default=3000, show_default=True)
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=0.03, show_default=True)
@click.option("--l2", type=click.FloatRange(min=0), default=0.01, show_default=True)
@click.option(
    "--dropout", type=click.FloatRange(0, 1, max_open=True), default=0.5, show_default=True
)
@click.option(
    "--patience",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Steps without a lower held-out loss before early stopping.",
)
@output_options("overfitting")
def overfitting(
    points, noise, widths, draws, steps, lr, l2, dropout, patience, out, fmt, lang, seed
):
    """Train and test error against capacity (the U), then the largest net with each cure."""
    from zoo.explain import overfitting as module

    result = module.overfitting(
        points=points, noise=noise, widths=widths, draws=draws, steps=steps, lr=lr, l2=l2,
        dropout=dropout, patience=patience, seed=seed,
    )  # fmt: skip
    finish(module, result, "overfitting", out, fmt, lang)


@explain.command()
@click.option("--steps", type=click.IntRange(min=1), default=300, show_default=True)
@click.option(
    "--lr",
    type=click.FloatRange(min=0, min_open=True),
    default=0.1,
    show_default=True,
    help="Learning rate of SGD, momentum and Nesterov.",
)
@click.option(
    "--adaptive-lr",
    type=click.FloatRange(min=0, min_open=True),
    default=0.05,
    show_default=True,
    help="Learning rate of RMSprop and Adam.",
)
@click.option(
    "--momentum",
    type=click.FloatRange(0, 1, max_open=True),
    default=0.9,
    show_default=True,
    help="μ of momentum and Nesterov.",
)
@click.option(
    "--target",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=1e-3,
    show_default=True,
    help="Count the steps until the excess error is this fraction of its start.",
)
@output_options("optimizers")
def optimizers(steps, lr, adaptive_lr, momentum, target, out, fmt, lang, seed):
    """SGD, momentum, Nesterov, RMSprop and Adam on dataset-1 and on a narrow valley."""
    from zoo.explain import optimizers as module

    result = module.optimizers(
        steps=steps, lr=lr, adaptive_lr=adaptive_lr, momentum=momentum, target=target, seed=seed
    )
    finish(module, result, "optimizers", out, fmt, lang)


@explain.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--points",
    type=click.IntRange(min=3),
    default=21,
    show_default=True,
    help="Grid points along each axis of the 2-D map.",
)
@click.option(
    "--span",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="How far along each direction (1 = the weights' norm).",
)
@click.option("--split", type=click.Choice(["train", "test"]), default="train", show_default=True)
@click.option(
    "--max-examples",
    type=click.IntRange(min=1),
    default=2000,
    show_default=True,
    help="Examples the loss is computed on (a random sample of the split).",
)
@output_options("landscape")
def landscape(run_dir, points, span, split, max_examples, out, fmt, lang, seed):
    """The loss around a trained run along random filter-normalised directions."""
    start_backend()
    from zoo.explain import landscape as module

    result = module.landscape(
        run_dir, points=points, span=span, split=split, max_examples=max_examples, seed=seed
    )
    finish(module, result, "landscape", out, fmt, lang)


@command()
@click.argument("model", shell_complete=complete_model)
@click.argument("dataset", shell_complete=complete_dataset)
@dataset_option_decorators
@click.option(
    "--data-seed",
    type=click.IntRange(min=0),
    help="Seed of a generated dataset and of its split [default: --seed].",
)
@click.option(
    "--start-lr", type=click.FloatRange(min=0, min_open=True), default=1e-5, show_default=True
)
@click.option(
    "--end-lr", type=click.FloatRange(min=0, min_open=True), default=10.0, show_default=True
)
@click.option(
    "--steps",
    type=click.IntRange(min=5),
    default=100,
    show_default=True,
    help="Mini-batches at most (the run stops when the loss explodes).",
)
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True)
@click.option("--optimizer", type=click.Choice(OPTIMIZERS), default="sgd", show_default=True)
@click.option(
    "--hidden",
    help="Hidden layer sizes, e.g. 10 or 64,32 (models that have them) [default: the model's].",
)
@click.option(
    "--activation", type=click.Choice(["relu", "sigmoid", "tanh"]), help="[default: the model's]"
)
@click.option(
    "--head",
    type=click.Choice(["softmax", "sigmoid", "linear"]),
    help="[default: softmax; linear for a regression set]",
)
@click.option(
    "--loss", type=click.Choice(["crossentropy", "bce", "mse"]), help="[default: the head's]"
)
@output_options("lr-find")
def lr_find(
    model,
    dataset,
    start_lr,
    end_lr,
    steps,
    batch_size,
    optimizer,
    hidden,
    activation,
    head,
    loss,
    out,
    fmt,
    lang,
    seed,
    data_seed,
    **data_options,
):
    """Raise the learning rate exponentially each step; plot the loss; suggest a rate.

    \b
    Examples:
      zoo lr-find mlp gaussians
      zoo lr-find mlp cifar100-3class --hidden 10 --batch-size 128 --end-lr 1
    """
    start_backend("tensorflow")  # it steps with tf.function, whatever $KERAS_BACKEND says
    from zoo.errors import OptionError
    from zoo.explain import lr_find as module
    from zoo.registry import drop_none

    try:
        result = module.lr_find(
            model,
            dataset,
            start_lr=start_lr,
            end_lr=end_lr,
            steps=steps,
            batch_size=batch_size,
            optimizer=optimizer,
            head=head,
            loss=loss,
            seed=seed,
            dataset_options=dataset_kwargs(seed=data_seed, **data_options),
            model_options=drop_none({"hidden": hidden, "activation": activation}),
        )
    except OptionError as err:  # the loader's seed is --data-seed when that was given
        raise (renamed_data_seed(err) if data_seed is not None else err) from None
    finish(module, result, "lr-find", out, fmt, lang)
