"""`train(model, dataset, **options)`: the three regimes, stopping rules and the run folder."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from zoo import interrupts
from zoo.datasets import Dataset
from zoo.errors import WriteError
from zoo.models.layers import canonical_options
from zoo.objective import Objective
from zoo.registry import canonical
from zoo.runfolder import RunWriter, create_run_folder, eval_split
from zoo.runfolder.history import History
from zoo.runfolder.run import UNSAVED, Run
from zoo.training.options import TrainOptions
from zoo.training.plan import RunPlan, resolve
from zoo.training.progress import Progress


@dataclass(frozen=True)
class Viewers:
    """What shows a run outside the engine, given by the caller (`zoo.train` gives the
    notebook's live curves and the report): the engine imports no viewer of its own.

    `display(live, quiet=, epochs=, config=)`: an object with `update(row, text)` and
    `close()` that shows the epochs in place of the progress lines, or None.
    `report(folder, lang=, model=)`: draws report.pdf and figures from a finished folder.
    `prepare()`: imports what `report` will need. A run that will draw a report calls it in a
    second thread from the end of its first epoch on (the epochs' work is done outside the
    interpreter's lock), and waits for it before the report.
    """

    display: Callable[..., Any] | None = None
    report: Callable[..., Any] | None = None
    prepare: Callable[[], Any] | None = None


def train(
    model: Any,
    dataset: Any,
    *,
    validation_data: Any = None,
    callbacks: Sequence[Any] = (),
    viewers: Viewers | None = None,
    **options: Any,
) -> Run:
    """Train `model` on `dataset` in one of the lecture's three regimes; write a run folder.

    `model` is a registered name (`zoo.list_models()`) or your own `keras.Model` (compiled
    or not: a compiled model's optimizer object is used as it is, its loss and metrics
    honoured; an option that would replace them is an OptionError); `dataset` a registered
    name (`zoo.list_datasets()`), a `Dataset`, arrays `(x, y)` or a finite
    `tf.data.Dataset` of `(x, y)`, then with `validation_data=(x, y)` (or a tf.data set) as
    its test set. Every option is a keyword; None means "not given" (the dataset's preset or
    the default applies).

    `callbacks`: Keras callbacks (CSVLogger, EarlyStopping, ModelCheckpoint, TensorBoard,
    MLflow's, ...), called per epoch after the zoo's own rules with `fit`'s logs (loss,
    accuracy, val_loss, val_accuracy, lr); one that sets `model.stop_training` ends the run
    "stopped_early". Per-batch hooks are not called (a warning names them): see
    `zoo.training.driver`. `viewers`: what shows the run (`zoo.train` gives the notebook's
    live curves and the report; here, by default, none).

    Regime: `mode` "minibatch" (default; aliases "mini-batch"), "batch" ("full",
    "full-batch": one update per epoch) or "sample" ("sgd", "stochastic", "per-sample": one
    per example); `batch_size` (minibatch, default 32); `epochs` (default 100) or
    `iterations` (total updates; the last epoch stops short).
    Optimisation: `lr` (default 0.01), `optimizer` "sgd" | "adam" | "adamw" | "rmsprop" |
    "adagrad", `momentum` (sgd, rmsprop), `nesterov` (sgd with momentum), `weight_decay`
    (decoupled: sgd, adamw (default 0.004), rmsprop, adagrad), `clip_norm` (the largest norm
    of the whole gradient), `loss` "crossentropy" | "bce" | "mse" (default: follows the
    head), `seed` (weights and order).
    Schedule: `lr_schedule` "constant" | "step" | "exponential" | "cosine" | "plateau";
    `lr_decay` (the factor, default 0.1) and `lr_step` (epochs: per decay; for plateau the
    epochs without a lower test loss) for step, exponential and plateau; `warmup` (epochs of
    linear rise) for cosine. The history's `lr` is the mean rate of each epoch's updates.
    Regularisation (registered models; the builder adds it): `l2`, `l1` (penalties on every
    kernel), `dropout` (a rate after each hidden layer, or one per layer: (0.2, 0.5)).
    A model's own penalties and `add_loss` terms are part of the loss, as in `fit`.
    Stopping: `target_loss`, `patience` (epochs without a lower test or validation loss; the
    best weights are restored), `validation` (a fraction of the training set held out to
    draw the curves instead of the test set).
    Data: `normalize` "dataset" (the dataset's preset scaling, e.g. the lab's CIFAR mean and
    std) | "train" (the training set's statistics) | "none"; `data_seed` (draw and split of a
    generated set); the dataset's own options (`classes`, `samples`, `noise`, `data_dir`,
    `source`, ...).
    Model: the builder's options (`hidden`, `activation`, `head`, ...).
    Machine: `device` "auto" | "cpu" | "gpu", `backend` "tensorflow" | "jax",
    `mixed_precision` (float16 on TensorFlow, bfloat16 on JAX), `distribute` "mirrored" |
    "multiworker" (tf.distribute).
    Output: `out` (folder under which the run folder is made, default "reports"; None writes
    nothing), `report` (report.pdf and figures, default True), `lang` "en" | "ru", `comment`,
    `author`, `group`, `variant`, `title` (the report's title page), `quiet`, `live` (in a
    Jupyter notebook: curves and a progress bar redrawn in place; None: unless quiet),
    `run_name` (the folder's exact name under `out`), `on_epoch` (called with each epoch's
    history row).

    Returns a `Run`: `status` ("completed", "stopped_early", "target_reached", "diverged",
    "interrupted"), `history` (one row per epoch; `history.history["val_loss"]` as `fit`'s),
    `metrics` (scikit-learn's reports), `model`, `folder`.
    Raises `OptionError` naming a bad option before any data is read, `DataError` for data
    that cannot be read, `WriteError` when the folder cannot be written (its config.json
    then says "failed").

    >>> run = train("mlp", "gaussians", epochs=5, out=None, quiet=True)
    >>> run.history[-1]["epoch"], run.status
    (5, 'completed')
    """
    # every option checked before any data is loaded; so is an unknown model
    plan = resolve(model, dataset, validation_data=validation_data, **options)
    return run_plan(plan, callbacks=callbacks, viewers=viewers)


def run_plan(
    plan: RunPlan,
    data: Dataset | None = None,
    *,
    callbacks: Sequence[Any] = (),
    viewers: Viewers | None = None,
) -> Run:
    """Train the run `plan` describes (`zoo.training.plan.resolve`); `data`: its data set
    when already loaded (a sweep's worker loads each set once)."""
    from zoo.backend import start_backend

    # The data first: loaders need no Keras, and a large archive is read before TensorFlow
    # takes its share of memory.
    data = plan.load() if data is None else data
    backend = start_backend(plan.training.backend)
    return Trainer.from_plan(plan, data, backend, callbacks=callbacks, viewers=viewers).run()


class Trainer:
    """One training run; `run()` returns the `Run`. Kept as a class so its steps read in order."""

    def __init__(
        self,
        model,
        data: Dataset,
        opts: TrainOptions,
        model_opts: dict,
        backend: str,
        *,
        callbacks: Sequence[Any] = (),
        viewers: Viewers | None = None,
        compiled: dict | None = None,
    ):
        from zoo.training.build import holdout

        self.compiled = compiled  # a compiled model's optimizer and loss (`training.compiled`)
        self.callbacks_given, self.viewers = list(callbacks), viewers or Viewers()
        self.model_arg, self.data, self.opts, self.backend = model, data, opts, backend
        self.model_opts = canonical_options({k: v for k, v in model_opts.items() if v is not None})
        if isinstance(model, str):
            from zoo.training.build import preset_model_options

            self.model_opts = preset_model_options(model, data, self.model_opts)
        self.model_name = (
            canonical(model) if isinstance(model, str) else getattr(model, "name", "model")
        )
        self.x_val = self.y_val = None
        self.normalization = None
        self.options_given: frozenset[str] = frozenset()  # names, as `RunPlan.given`
        self.progress = Progress(1, quiet=opts.quiet, lang=opts.lang)
        self.prepared: threading.Thread | None = None  # see `preparing`
        if opts.validation:
            self.data, self.x_val, self.y_val = holdout(data, opts.validation, opts.seed)

    @classmethod
    def from_plan(cls, plan: RunPlan, data: Dataset, backend: str, **more) -> Trainer:
        """The Trainer of `plan` on its loaded `data`, the dataset's preset applied."""
        trainer = cls(
            plan.model,
            data,
            plan.preset(data),
            dict(plan.model_options),
            backend,
            compiled=plan.compiled,
            **more,
        )
        trainer.options_given = plan.given  # recorded: a resumed sweep compares them
        return trainer

    # -- set-up: the phases `run` goes through, public for runs trained together ----------------
    def build(self):
        """(model, objective), called inside the device and precision scope."""
        import keras

        from zoo.training.build import build_model

        data = self.data
        if isinstance(self.model_arg, str):
            model, objective, self.normalization = build_model(
                self.model_arg,
                data,
                loss=self.opts.loss,
                normalize=self.opts.normalize,
                model_options=self.model_opts,
            )
            return model, objective
        if not isinstance(self.model_arg, keras.Model):
            raise TypeError(
                f"model must be a name or a keras.Model, not {type(self.model_arg).__name__}"
            )
        objective = Objective.for_model(
            self.model_arg, task=data.task, num_classes=data.num_classes, loss=self.opts.loss
        )
        if self.compiled is not None:
            from zoo.training.compiled import check_logits

            check_logits(self.compiled, objective)
        return self.model_arg, objective

    def regime(self) -> tuple[int, int, int]:
        """(batch size, updates per epoch, epochs), said aloud when the batch is the set."""
        opts, n = self.opts, len(self.data.x_train)
        if opts.batch_size and opts.batch_size > n:
            self.progress.message(
                f"batch_size {opts.batch_size} is larger than the training set ({n} examples): "
                f"each update uses all {n}, which is full-batch descent"
            )
        return opts.plan(n)

    def optimizer(self, steps: int, epochs: int):
        """The run's optimizer and rate schedule (`self.schedule`): the compiled model's own,
        as it is, or the one the options describe. Called inside the device scope."""
        from zoo.training.build import make_optimizer
        from zoo.training.schedules import Schedule

        if self.compiled is not None:
            from zoo.training.compiled import optimizer_record

            self.opts = replace(self.opts, **optimizer_record(self.compiled["optimizer"]))
            self.schedule = Schedule.plan(self.opts, steps, epochs)
            return self.compiled["optimizer"]
        opts = self.opts
        self.schedule = Schedule.plan(opts, steps, epochs)
        return make_optimizer(
            opts.optimizer,
            self.schedule.keras(),
            opts.momentum,
            opts.mixed_precision and self.backend == "tensorflow",  # loss scaling
            nesterov=opts.nesterov,
            weight_decay=opts.decay,
            clip_norm=opts.clip_norm,
        )

    def open(self, model, objective, batch, steps, epochs, device_name, **more):
        """The run's config (with `more` in it) and its folder's writer (None: no folder);
        from here on the folder says "running"."""
        from zoo.training.record import run_config

        self.config = {
            **run_config(self, model, objective, batch, steps, epochs, device_name),
            **more,
        }
        writer = None
        opts = self.opts
        if opts.out is not None:
            folder = create_run_folder(
                opts.out, self.model_name, self.data.name, name=opts.run_name
            )
            writer = RunWriter(folder)
            self.config = writer.start(self.config)
            if hasattr(opts.on_epoch, "start"):  # a log of the run's own, e.g. TensorBoard's
                opts.on_epoch.start(folder, self.config)
        return writer

    def fail(self, writer, err: BaseException) -> None:
        """A crash (or an interrupt outside the epochs): the folder says so before the
        traceback."""
        if writer is None:
            return
        status, reason = "failed", f"{type(err).__name__}: {err}"
        if isinstance(err, KeyboardInterrupt):
            status, reason = (
                "interrupted",
                f"interrupted by {interrupts.Interrupted(interrupts.signal_of(err)).name}",
            )
        with interrupts.deferred():
            writer.finish({**self.config, "status": status, "stop_reason": reason})
        writer.discard_reserve()

    # -- the run -------------------------------------------------------------------------------
    def run(self) -> Run:
        from zoo.backend import precision_policy, resolve_device, seed_everything
        from zoo.training.callbacks import RunState
        from zoo.training.driver import drive
        from zoo.training.loops import make_epoch_runner

        opts, data = self.opts, self.data
        seed_everything(opts.seed, self.backend)
        scope, device_name = resolve_device(opts.device, self.backend)
        strategy = None
        if opts.distribute:
            from zoo.training.distribute import check_distribute, make_strategy, strategy_scope

            check_distribute(opts.distribute, self.backend, opts.mode)
            strategy, device_name = make_strategy(opts.distribute, opts.device)
            scope = strategy_scope(strategy)
        batch, steps, epochs = self.regime()
        with scope, precision_policy(opts.mixed_precision, self.backend):
            model, objective = self.build()
            optimizer = self.optimizer(steps, epochs)
            x_eval, y_eval = (
                (self.x_val, self.y_val) if self.x_val is not None else (data.x_test, data.y_test)
            )
            runner = make_epoch_runner(
                model,
                optimizer,
                objective,
                data.x_train,
                objective.encode(data.y_train),
                x_eval,
                objective.encode(y_eval),
                batch_size=batch,
                planned_updates=steps * epochs,
                strategy=strategy,
            )
        state, writer = RunState(history=History()), None
        try:
            with interrupts.deferred():  # the folder and the writer that owns it, as one
                writer = self.open(model, objective, batch, steps, epochs, device_name)
            rules = self.callbacks(state, optimizer, scope, epochs)
            epoch = self.preparing(self.epoch_function(runner, optimizer, scope, steps))
            drive(epoch, model, rules, state, epochs=epochs, steps=steps)
        except KeyboardInterrupt as err:  # before the first epoch: the folder says so
            interrupts.acknowledge()
            state.stop_signal = interrupts.Interrupted(interrupts.signal_of(err)).name
            state.stop("interrupted", f"interrupted by {state.stop_signal} before epoch 1")
        except BaseException as err:
            self.fail(writer, err)
            raise
        return self.finish(model, objective, state, writer, runner)

    def callbacks(self, state, optimizer, scope, epochs: int) -> list:
        """The zoo's rules and side effects, in the order they see an epoch; then the user's."""
        from zoo.training import callbacks as zc
        from zoo.training.schedules import Plateau

        opts, schedule = self.opts, self.schedule
        display = None
        if self.viewers.display is not None:
            display = self.viewers.display(
                opts.live, quiet=opts.quiet, epochs=epochs, config=self.config
            )
        self.progress = Progress(epochs, quiet=opts.quiet, display=display, lang=opts.lang)
        rules = [zc.ProgressBar(state, self.progress)]
        if opts.on_epoch is not None:  # e.g. TensorBoard's event files
            rules.append(zc.OnEpoch(state, opts.on_epoch))
        rules += [zc.InterruptCheck(state), zc.Divergence(state)]
        if opts.target_loss is not None:
            rules.append(zc.TargetLoss(state, opts.target_loss))
        if schedule.kind == "plateau":
            plateau = Plateau(schedule.decay, schedule.every)
            rules.append(zc.PlateauRate(state, optimizer, plateau, scope))
        if opts.patience is not None:
            rules.append(zc.Patience(state, opts.patience, eval_split(self.config)))
        return rules + list(self.callbacks_given)

    def epoch_function(self, runner, optimizer, scope, steps: int) -> Callable[[int], dict]:
        """`epoch(k)`: trains epoch k (1-based) on `runner` and returns its history row."""
        from zoo.training.driver import Epochs
        from zoo.training.schedules import current_rate, float32_text

        opts, schedule = self.opts, self.schedule
        n = len(self.data.x_train)
        epochs = Epochs(n, steps, seed=opts.seed, shuffle=opts.shuffle, budget=opts.iterations)

        def run_epoch(epoch: int) -> dict:
            order, todo = epochs.next()
            # the rate of this epoch's updates, before they move it: a runner that reads it
            # inside the epoch spares an eager read (0.3 ms an epoch on TensorFlow)
            rate = None
            if schedule.per_update:
                rate = float32_text(np.mean(schedule.rates(epochs.done, todo)))
            elif not runner.reads_rate:
                rate = float32_text(current_rate(optimizer))
            result, seconds = epochs.run(runner, order, todo, scope)
            if rate is None:
                rate = float32_text(result.lr)
            return {
                "epoch": epoch,
                "iterations": epochs.done,
                "loss": result.loss,
                "accuracy": result.accuracy,
                "val_loss": result.val_loss,
                "val_accuracy": result.val_accuracy,
                "lr": rate,
                "seconds": seconds,
            }

        return run_epoch

    def preparing(self, epoch: Callable[[int], dict]) -> Callable[[int], dict]:
        """`epoch`, and for a run that will draw a report, a second thread started after the
        first epoch that imports what the end of the run needs: scikit-learn's metrics and
        the viewers' `prepare`. The epochs after the first run in TensorFlow's C++, outside
        the interpreter's lock (the first traces them, in Python, and is left alone). A
        failed import is left to fail again, with its message, where it is needed."""
        viewers = self.viewers
        if not (self.draws_report and viewers.prepare):
            return epoch

        def imports() -> None:
            with contextlib.suppress(Exception):
                import sklearn.metrics  # noqa: F401  (zoo.evaluation.metrics)

                viewers.prepare()

        def run_epoch(k: int) -> dict:
            row = epoch(k)
            if self.prepared is None:
                self.prepared = threading.Thread(target=imports, name="zoo-prepare", daemon=True)
                self.prepared.start()
            return row

        return run_epoch

    @property
    def draws_report(self) -> bool:
        """Whether the run ends with a report: asked for, with a folder to draw it from."""
        return bool(self.opts.report and self.opts.out and self.viewers.report is not None)

    def wait_prepared(self) -> None:
        if self.prepared is not None:
            self.prepared.join()

    # -- the record ----------------------------------------------------------------------------
    def finish(self, model, objective, state, writer, runner=None) -> Run:
        """Metrics, files and report of a run that has ended (`state`: how it went).
        `runner`: the epoch runner that trained it, whose compiled outputs the metrics read
        (None: the model is called)."""
        from zoo.training.results import evaluate, write_results

        history, status, reason = state.history, state.status, state.reason
        config = {
            **self.config,
            "status": status,
            "stop_reason": reason,
            "diverged_epoch": state.diverged_epoch,
            **({"stop_signal": state.stop_signal} if state.stop_signal else {}),
            "epochs_run": len(history),
            "iterations": history[-1]["iterations"] if history else 0,
            "train_seconds": float(sum(row["seconds"] for row in history)),
        }
        run = Run(
            path=UNSAVED if writer is None else writer.folder,
            config=config,
            history=History(history),
            metrics={},
            dataset=self.data,
            trained_model=model,
        )
        failure, recorded = None, False
        try:
            # one pass per split on the compiled path; then the runner's memory goes back
            outputs_of = None if runner is None else runner.outputs
            results = evaluate(model, objective, self.data, history, status, outputs_of)
            if runner is not None:
                runner.release()
            run.metrics = results.metrics
            if writer is not None:
                write_results(writer, model, self.data, history, results)
                # the report is drawn from the folder, so the folder says how the run ended
                with interrupts.deferred():
                    writer.finish(config, more=self.opts.report)
                recorded = True
                if self.draws_report:
                    self.wait_prepared()  # a fork for the figures must find no import under way
                    self.viewers.report(writer.folder, lang=self.opts.lang, model=model)
        except KeyboardInterrupt as err:  # after training: what was written stays, and says so
            interrupts.acknowledge()
            signal_name = interrupts.Interrupted(interrupts.signal_of(err)).name
            stage = "the report was drawn" if recorded else "the results were written"
            config.update(
                status="interrupted",
                stop_signal=signal_name,
                stop_reason=f"interrupted by {signal_name} while {stage}",
            )
            self.progress.message(config["stop_reason"], always=True)
            recorded = False
        except WriteError as err:
            config.update(status="failed", stop_reason=str(err))
            failure, recorded = err, False
        except Exception as err:  # a bug: the folder must not go on saying "running"
            failure = err
            if not recorded:  # else it already says how the run ended; the report failed
                config.update(status="failed", stop_reason=f"{type(err).__name__}: {err}")
        if writer is not None:
            try:
                if not recorded:
                    with interrupts.deferred():
                        writer.finish(config)
            except WriteError as err:  # not even the status fits: the pid tells readers
                failure = failure or err
            finally:
                writer.discard_reserve()
        if failure is not None:
            failure.run = run
            raise failure
        return run
