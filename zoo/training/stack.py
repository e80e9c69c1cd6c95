"""Runs trained together: MLPs that differ only in their layer sizes, learning rate and
momentum (the same data, regime, order of examples and everything else) train as one
compiled program, each still written as its own run folder.

The lab's network is a thin matrix product: a batch of 128 images of 3,072 values against
ten hidden units. Reading the batch and scaling it costs more than the product, so runs side
by side cost far less than each alone (benchmarks/sweep_speed.py). Here the members' first
layers become one wide layer of all their units (the batch is read and scaled once), the
layers after it stay each member's own, and each member's loss, gradients and SGD update are
exactly its own: the block of weights of one member never meets another's. Every member
starts from the very weights `zoo train` would draw for it (its seed, its builder) and sees
the batches in the same order; what differs is the float summation order of the wider
product, so a member's numbers equal a lone run's up to rounding.

The stack is an epoch runner under the one driver (`zoo.training.driver`): each member is a
lane with its own Trainer, run folder and callbacks. Which runs of a sweep share a stack is
planned by `zoo.sweeps.stack_plan`, from what this program reproduces (the options below).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Options that may differ inside a stack (each member has its own), and those that only
# label the run; everything else must be the same for all members.
OWN_OPTIONS = ("lr", "momentum", "hidden")
LABELS = ("comment", "author", "group", "variant", "title", "lang", "report")
# What the stack's program reproduces; a run given any other option (an option added to
# `train` later included) trains alone, as `train` trains it.
SHARED_OPTIONS = ("mode", "batch_size", "epochs", "iterations", "optimizer", "loss", "seed")
SHARED_OPTIONS += ("normalize", "shuffle", "device", "backend", "activation", "head")
# Options whose use keeps a run out of any stack (stopping rules and the data split that
# each run decides for itself, arithmetic and devices the stack does not reproduce)
ALONE_OPTIONS = ("patience", "target_loss", "validation", "mixed_precision", "distribute")


class CannotStack(Exception):
    """These runs cannot train as one program; they train one by one instead."""


@dataclass
class Member:
    """One run of a stack: its name, its own Trainer (its options and run folder) and the
    model that Trainer built."""

    name: str
    trainer: Any
    model: Any
    objective: Any
    dense: list = field(default_factory=list)  # its Dense layers, first to last
    writer: Any = None


def member(name: str, trainer) -> Member:
    """The member `name` of a stack, its model built as `train` builds it, from its seed;
    CannotStack for a model the stack cannot train."""
    from zoo.backend import resolve_device, seed_everything

    if trainer.backend != "tensorflow":
        raise CannotStack(f"the {trainer.backend} backend")
    seed_everything(trainer.opts.seed, trainer.backend)
    scope, _ = resolve_device(trainer.opts.device, trainer.backend)
    with scope:
        model, objective = trainer.build()
    found = Member(name, trainer, model, objective)
    _, found.dense = _dense_chain(model)
    return found


def _dense_chain(model) -> tuple[int, list]:
    """(index of the first Dense layer, the Dense layers); CannotStack for other models."""
    layers = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    first = next((i for i, layer in enumerate(layers) if type(layer).__name__ == "Dense"), None)
    if first is None:
        raise CannotStack("no Dense layer")
    if any(layer.trainable_weights for layer in layers[:first]):
        raise CannotStack("trainable layers before the first Dense layer")
    dense = layers[first:]
    if any(type(layer).__name__ != "Dense" for layer in dense):
        raise CannotStack("layers other than Dense after the first Dense layer")
    return first, dense


def _same(members: list[Member], what: str, get) -> None:
    values = [get(m) for m in members]
    if any(v != values[0] for v in values[1:]):
        raise CannotStack(f"the members differ in {what}")


def check_members(members: list[Member]) -> None:
    """CannotStack unless the members can share one program."""
    first = members[0]
    n = len(first.trainer.data.x_train)
    _same(members, "data", lambda m: id(m.trainer.data))
    _same(members, "regime", lambda m: (m.trainer.opts.plan(n), m.trainer.opts.iterations))
    _same(members, "order", lambda m: (m.trainer.opts.seed, m.trainer.opts.shuffle))
    _same(members, "objective", lambda m: (m.objective.loss, m.objective.head, m.objective.units))
    _same(members, "scaling", lambda m: m.trainer.normalization)
    _same(members, "depth", lambda m: len(m.dense))
    _same(
        members,
        "activations",
        lambda m: [getattr(d.activation, "__name__", str(d.activation)) for d in m.dense],
    )
    _same(members, "device", lambda m: m.trainer.opts.device)
    for m in members:
        opts = m.trainer.opts
        if opts.optimizer != "sgd" or any(getattr(opts, name) for name in ALONE_OPTIONS):
            raise CannotStack("an option that trains alone")


class StackRunner:
    """One compiled epoch for every member: the shared input scaling and wide first layer,
    then each member's own layers, losses and SGD updates."""

    def __init__(self, members: list[Member], batch_size: int, planned_updates: int):
        import keras
        import tensorflow as tf

        from zoo.training.loops.common import correct_count, worth_compiling

        self.members = members
        first = members[0]
        data = first.trainer.data
        objective = first.objective
        self.objective, self.correct_count = objective, correct_count
        self.loss_fn = objective.keras_loss()
        self.classify = objective.task == "classification"
        start, _ = _dense_chain(first.model)
        layers = [layer for layer in first.model.layers if type(layer).__name__ != "InputLayer"]
        first_dense = layers[start]
        # the scaling (Rescaling, Normalization, Flatten) is every member's: run it once
        self.scale = keras.Model(first.model.inputs, first_dense.input)
        self.n, self.batch_size = len(data.x_train), min(batch_size, len(data.x_train))
        self.full_steps = self.n // self.batch_size
        self.x = tf.constant(data.x_train)
        self.y = tf.constant(objective.encode(data.y_train))
        self.x_eval = tf.constant(data.x_test)
        self.y_eval = tf.constant(objective.encode(data.y_test))
        self.n_eval = len(data.x_test)
        # the wide first layer, kept transposed: XLA:CPU's product for the gradient of a tall
        # kernel is slow, that of its transpose fast (see loops.common.tall_kernels)
        kernels = [np.asarray(m.dense[0].kernel) for m in members]
        self.widths = [k.shape[1] for k in kernels]
        self.w1t = tf.Variable(np.concatenate([k.T for k in kernels]), name="w1t")
        self.b1 = tf.Variable(np.concatenate([np.asarray(m.dense[0].bias) for m in members]))
        self.rest = [
            [
                (tf.Variable(np.asarray(d.kernel)), tf.Variable(np.asarray(d.bias)))
                for d in m.dense[1:]
            ]
            for m in members
        ]
        self.activations = [d.activation for d in first.dense]
        lr = [float(m.trainer.opts.lr) for m in members]
        momentum = [float(m.trainer.opts.momentum) for m in members]
        self.lr = tf.Variable(np.array(lr, dtype="float32"), trainable=False)
        self.momentum = np.array(momentum, dtype="float32")
        self.use_momentum = bool(np.any(self.momentum))
        self.velocity = None
        if self.use_momentum:
            self.velocity = [tf.Variable(tf.zeros_like(v)) for v in self.variables()]
        self.jit = worth_compiling(planned_updates, self.batch_size, data.x_train)
        self._epoch = tf.function(self._epoch_graph, jit_compile=self.jit)

    def variables(self) -> list:
        return [self.w1t, self.b1] + [v for layers in self.rest for pair in layers for v in pair]

    def _outputs(self, x):
        """Every member's outputs for the same (raw) inputs."""
        import tensorflow as tf

        h = self.scale(tf.cast(x, tf.float32), training=False)
        wide = self.activations[0](tf.matmul(h, self.w1t, transpose_b=True) + self.b1)
        outputs = []
        for part, layers in zip(tf.split(wide, self.widths, axis=1), self.rest, strict=True):
            for (kernel, bias), activation in zip(layers, self.activations[1:], strict=True):
                part = activation(tf.matmul(part, kernel) + bias)
            outputs.append(tf.cast(part, tf.float32))
        return outputs

    def _step(self, xb, yb, totals):
        import tensorflow as tf

        variables = self.variables()
        with tf.GradientTape() as tape:
            outputs = self._outputs(xb)
            losses = [tf.cast(self.loss_fn(yb, out), tf.float32) for out in outputs]
            total = tf.add_n(losses)
        grads = tape.gradient(total, variables)
        self._update(variables, grads)
        size = tf.cast(tf.shape(xb)[0], tf.float32)
        loss_sums, correct = totals
        loss_sums = loss_sums + tf.stack(losses) * size
        if self.classify:
            right = tf.stack([self.correct_count(self.objective, yb, o) for o in outputs])
            correct = correct + right
        return loss_sums, correct

    def _rates(self):
        """Per variable: the learning rate (and momentum) of its member(s), shaped to it."""
        import tensorflow as tf

        k = len(self.members)
        lr_rows = tf.repeat(self.lr, self.widths)
        rates = [lr_rows[:, None], lr_rows]
        momenta = [
            np.repeat(self.momentum, self.widths)[:, None],
            np.repeat(self.momentum, self.widths),
        ]
        for i in range(k):
            for _ in self.rest[i]:
                rates += [self.lr[i], self.lr[i]]
                momenta += [self.momentum[i], self.momentum[i]]
        return rates, momenta

    def _update(self, variables, grads) -> None:
        """Keras's SGD, member by member: w -= lr g, or m = momentum m - lr g; w += m."""
        rates, momenta = self._rates()
        for j, (variable, grad, lr) in enumerate(zip(variables, grads, rates, strict=True)):
            if self.use_momentum:
                velocity = self.velocity[j]
                velocity.assign(velocity * momenta[j] - grad * lr)
                variable.assign_add(velocity)
            else:
                variable.assign_sub(grad * lr)

    def _epoch_graph(self, order, full_steps, with_rest: bool):
        import tensorflow as tf

        k = len(self.members)
        bs, full = self.batch_size, self.full_steps
        totals = (tf.zeros(k), tf.zeros(k))
        seen = tf.constant(0.0)
        if bs == self.n:
            totals = self._step(self.x, self.y, totals)
            seen += float(self.n)
        else:
            batches = tf.reshape(order[: full * bs], (full, bs))
            for step in tf.range(full_steps):
                idx = batches[step]
                totals = self._step(tf.gather(self.x, idx), tf.gather(self.y, idx), totals)
            seen += tf.cast(full_steps * bs, tf.float32)
            if with_rest:
                idx = order[full * bs :]
                totals = self._step(tf.gather(self.x, idx), tf.gather(self.y, idx), totals)
                seen += tf.cast(tf.shape(idx)[0], tf.float32)
        loss_sums, correct = totals
        result = {"loss": loss_sums / seen, "accuracy": correct / seen}
        outputs = self._outputs(self.x_eval)
        result["val_loss"] = tf.stack(
            [tf.cast(self.loss_fn(self.y_eval, o), tf.float32) for o in outputs]
        )
        if self.classify:
            right = [self.correct_count(self.objective, self.y_eval, o) for o in outputs]
            result["val_accuracy"] = tf.stack(right) / float(self.n_eval)
        return result

    def epoch(self, order: np.ndarray, steps: int) -> dict[str, np.ndarray]:
        import tensorflow as tf

        from zoo.training.loops.tf_loop import xla_flags

        full_steps = min(steps, self.full_steps)
        with xla_flags(self.jit, self.batch_size):
            out = self._epoch(
                tf.constant(order, dtype=tf.int32),
                tf.constant(full_steps, dtype=tf.int32),
                steps > self.full_steps,
            )
        return {key: np.asarray(value, dtype=float) for key, value in out.items()}

    def stop(self, i: int) -> None:
        """Member `i` takes no more updates (it diverged): its rate becomes zero."""
        lr = self.lr.numpy()
        lr[i] = 0.0
        self.lr.assign(lr)

    def write_back(self) -> None:
        """Each member's trained weights into its own Keras model."""
        w1t, b1 = self.w1t.numpy(), self.b1.numpy()
        start = 0
        for member, width, layers in zip(self.members, self.widths, self.rest, strict=True):
            first = member.dense[0]
            first.kernel.assign(w1t[start : start + width].T)
            first.bias.assign(b1[start : start + width])
            start += width
            for dense, (kernel, bias) in zip(member.dense[1:], layers, strict=True):
                dense.kernel.assign(kernel.numpy())
                dense.bias.assign(bias.numpy())


def train_together(members: list[Member]) -> list[Any]:
    """Train `members` as one program; for each, its `Run`, or the exception that ended it.

    CannotStack (before any run folder is made) when they cannot share one program.
    """
    from zoo import interrupts
    from zoo.backend import resolve_device
    from zoo.runfolder.history import History
    from zoo.training.callbacks import RunState
    from zoo.training.driver import Lane, drive_lanes

    try:
        check_members(members)
        first = members[0]
        batch, steps, epochs = first.trainer.regime()
        scope, device_name = resolve_device(first.trainer.opts.device, first.trainer.backend)
        with scope:
            runner = StackRunner(members, batch, steps * epochs)
    except CannotStack:
        raise
    except Exception as err:  # anything before a folder is made: the runs go one by one
        raise CannotStack(f"{type(err).__name__}: {err}") from err
    names = [m.name for m in members]
    lanes: list[Lane] = []
    try:
        for m in members:
            trainer = m.trainer
            with scope:
                optimizer = trainer.optimizer(steps, epochs)  # constant SGD: see ALONE_OPTIONS
            with interrupts.deferred():
                m.writer = trainer.open(
                    m.model,
                    m.objective,
                    batch,
                    steps,
                    epochs,
                    device_name,
                    stacked_with=[name for name in names if name != m.name],
                )
            state = RunState(history=History())
            lanes.append(Lane(m.model, trainer.callbacks(state, optimizer, scope, epochs), state))
        drive_lanes(_epochs(runner, members, lanes, scope), lanes, epochs=epochs, steps=steps)
    except BaseException as err:  # the folders say so, and every member is a failed run
        for m in members:
            m.trainer.fail(m.writer, err)
        if not isinstance(err, Exception):
            raise
        return [err for _ in members]
    runner.write_back()
    outcomes: list[Any] = []
    for m, lane in zip(members, lanes, strict=True):
        try:
            outcomes.append(m.trainer.finish(m.model, m.objective, lane.state, m.writer))
        except Exception as err:  # noqa: BLE001 (this member failed; the others are written)
            outcomes.append(err)
    return outcomes


def _epochs(runner: StackRunner, members: list[Member], lanes: list, scope):
    """The driver's `run_epoch` for a stack: one compiled epoch for every member, a history
    row for each live one; a member that stopped (e.g. diverged) has its rate set to zero."""
    from zoo.training.driver import Epochs

    opts, n = members[0].trainer.opts, runner.n
    _, steps, _ = opts.plan(n)
    epochs = Epochs(n, steps, seed=opts.seed, shuffle=opts.shuffle, budget=opts.iterations)
    index = {id(lane): i for i, lane in enumerate(lanes)}
    frozen: set[int] = set()

    def run_epoch(epoch: int, live: list) -> list[dict]:
        for i in set(range(len(lanes))) - {index[id(lane)] for lane in live} - frozen:
            runner.stop(i)
            frozen.add(i)
        order, todo = epochs.next()
        out, seconds = epochs.run(runner, order, todo, scope)
        rows = []
        for lane in live:
            i = index[id(lane)]
            rows.append(
                {
                    "epoch": epoch,
                    "iterations": epochs.done,
                    "loss": float(out["loss"][i]),
                    "accuracy": float(out["accuracy"][i]) if runner.classify else None,
                    "val_loss": float(out["val_loss"][i]),
                    "val_accuracy": float(out["val_accuracy"][i]) if runner.classify else None,
                    "lr": members[i].trainer.opts.lr,
                    "seconds": seconds / len(live),  # its share of the stack's epoch
                }
            )
        return rows

    return run_epoch
