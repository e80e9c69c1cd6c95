"""The TensorFlow backend's compiled epoch: one `tf.function` (XLA where it pays) per epoch."""

from __future__ import annotations

import contextlib
import os

import numpy as np

from zoo.training.loops.common import (
    OUTPUT_ROWS,
    XLA_OUTPUT_ROWS,
    EpochResult,
    EpochRunner,
    added_losses,
    convolutional,
    correct_count,
    flipped_penalties,
    per_example,
    tall_kernels,
)
from zoo.training.loops.scaling import agrees, scale, split_input_scaling


class TFEpochRunner(EpochRunner):
    """Runs one epoch of updates (and the evaluation) per call, as one TensorFlow graph.

    The graph is compiled with XLA where the model allows it (5x faster per example on a
    CPU than plain graph mode), else run as an ordinary `tf.function`. XLA wants static
    shapes, so the epoch loops over the full batches and then takes one step on the smaller
    last batch: the batches, and their order, are those of `fit(batch_size=...)`.
    """

    reads_rate = True

    def __init__(
        self,
        model,
        optimizer,
        objective,
        x,
        y,
        x_eval,
        y_eval,
        *,
        batch_size: int,
        jit_compile: bool = True,
    ):
        import tensorflow as tf

        n_eval = 0 if x_eval is None else len(x_eval)
        super().__init__(model, optimizer, objective, len(x), batch_size, n_eval)
        hosts = (x, x_eval)
        self.full_steps = self.n // self.batch_size
        # What the epochs train: the model, or (see `scaling`) the part after its input
        # scaling, on inputs scaled once; both share the model's variables.
        self.net, self.scaled = model, False
        split = split_input_scaling(model, self.n + n_eval)
        if split is not None and agrees(model, *split, x):
            scaler, self.net = split
            x, x_eval = scale(scaler, x), None if x_eval is None else scale(scaler, x_eval)
            self.scaled = True
        # The data lives on the device once; images stay uint8 there and are cast per batch.
        self.x, self.y = device_tensor(x), tf.constant(y)
        self.has_eval = x_eval is not None
        self.x_eval = self.y_eval = None
        if self.has_eval:
            self.x_eval, self.y_eval = device_tensor(x_eval), tf.constant(y_eval)
        # host array -> its copy on the device, so the outputs after training read no data twice
        self._on_device = [(hosts[0], self.x)]
        if self.has_eval:
            self._on_device.append((hosts[1], self.x_eval))
        self._predict = {}
        optimizer.build(model.trainable_variables)
        self._compile(jit_compile)

    def _compile(self, jit_compile: bool) -> None:
        import tensorflow as tf

        on_cpu = "GPU" not in self.x.device
        # TensorFlow's own convolutions (oneDNN) beat XLA's inside a loop on a CPU
        self.jit_compile = jit_compile = jit_compile and not (on_cpu and convolutional(self.net))
        self.compile_cache = None
        if jit_compile and on_cpu:  # see zoo.compile_cache: a later run skips the compile
            from zoo import compile_cache

            self.compile_cache = compile_cache.active_folder()
        self.flip = tall_kernels(self.net) if jit_compile and on_cpu else None
        # XLA compiles each shape of batch anew: the smaller last batch, a second copy of the
        # step, took a quarter of the lab's compile
        self.pad_rest = jit_compile and per_example(self.net)
        self.wide = None
        if self.flip is not None:
            self.wide = WideKernels.make(self.net, self.optimizer, self.flip)
        if self.flip is not None and self.wide is None and _xla_barrier() is None:
            self.flip = None
        self._epoch = tf.function(self._epoch_graph, jit_compile=jit_compile, autograph=False)
        self._traced = {}
        self._called: set[bool] = set()  # the kinds of epoch called once
        self._flat_calls = True

    def _gradients(self, xb, yb, weights=None):
        """The batch's loss, the outputs and the gradients of the trainable variables.

        The loss is `fit`'s: the objective's batch mean plus the model's own losses (weight
        penalties, `add_loss` terms), with dropout and the like in training mode. With
        `weights` (1 for an example of the batch, 0 for padding) the mean is over the
        examples weighted 1."""
        import tensorflow as tf

        model, x = self.net, tf.cast(xb, tf.float32)

        def batch_loss(outputs):
            if weights is None:
                return tf.cast(self.loss_fn(yb, outputs), tf.float32)
            # Keras divides the weighted sum by the batch's size; the examples are fewer
            size = float(xb.shape[0]) / tf.reduce_sum(weights)
            return tf.cast(self.loss_fn(yb, outputs, sample_weight=weights), tf.float32) * size

        if self.flip is None:
            with tf.GradientTape() as tape:
                outputs = tf.cast(model(x, training=True), tf.float32)
                loss = _with(batch_loss(outputs), model.losses)
                # A loss-scaling optimizer (mixed_float16) scales here; others return the loss.
                scaled = self.optimizer.scale_loss(loss)
            return loss, outputs, tape.gradient(scaled, model.trainable_variables)
        # The tall kernels enter transposed: see `tall_kernels`.
        flip, barrier = self.flip, _xla_barrier()
        if self.wide is not None:  # the loop's own copies, kept transposed
            params_t = [v.value for v in self.wide.variables]
        else:
            params_t = [
                tf.transpose(v.value) if f else v.value
                for v, f in zip(model.trainable_variables, flip, strict=True)
            ]
        non_trainable = [v.value for v in model.non_trainable_variables]
        with tf.GradientTape() as tape:
            tape.watch(params_t)
            params = [tf.transpose(p) if f else p for p, f in zip(params_t, flip, strict=True)]
            wide = {p.ref(): p_t for p, p_t, f in zip(params, params_t, flip, strict=True) if f}
            with wide_products(wide if self.wide is not None else {}):
                outputs, non_trainable, losses = model.stateless_call(
                    params, non_trainable, x, training=True, return_losses=True
                )
            losses = flipped_penalties(model, losses, params_t, flip)
            outputs = tf.cast(outputs, tf.float32)
            loss = _with(batch_loss(outputs), losses)
            scaled = self.optimizer.scale_loss(loss)
        for variable, value in zip(model.non_trainable_variables, non_trainable, strict=True):
            variable.assign(value)  # e.g. batch-norm statistics, dropout seeds
        grads_t = tape.gradient(scaled, params_t)
        if self.wide is not None:
            return loss, outputs, grads_t
        grads = [
            tf.transpose(barrier(g)[0]) if f else g for g, f in zip(grads_t, flip, strict=True)
        ]
        return loss, outputs, grads

    def _train_step(self, xb, yb, totals, weights=None):
        import tensorflow as tf

        loss, outputs, grads = self._gradients(xb, yb, weights)
        if self.wide is not None:
            self.wide.optimizer.apply(grads, self.wide.variables)
        else:
            self.optimizer.apply(grads, self.net.trainable_variables)
        size = float(xb.shape[0]) if weights is None else tf.reduce_sum(weights)
        total_loss, total_correct, seen = totals
        correct = correct_count(self.objective, yb, outputs, weights) if self.classify else 0.0
        return total_loss + loss * size, total_correct + correct, seen + size

    def _epoch_graph(self, order, full_steps, with_rest: bool, data):
        # Written with tf.while_loop rather than a Python loop over tf.range: the function
        # is traced with autograph off, which spares about a second of converting this code
        # and the Keras code it calls on the first epoch; the graph is the same loop.
        import tensorflow as tf

        # The data comes as arguments, not captured: `release` can then free it.
        x, y, x_eval, y_eval = data
        bs, full = self.batch_size, self.full_steps
        totals = (tf.constant(0.0), tf.constant(0.0), tf.constant(0.0))
        rate = tf.cast(self.optimizer.learning_rate, tf.float32)  # before the updates move it
        if self.wide is not None:
            self.wide.load()
        if bs == self.n:  # full batch: every example, no gather
            totals = self._train_step(x, y, totals)
        else:
            padded = with_rest and self.pad_rest
            rest, loops = self.n - full * bs, full + padded
            if padded:  # the last batch filled up with its own examples, weighted 0
                last = order[full * bs :]
                order = tf.concat([order, tf.gather(last, tf.range(bs - rest) % rest)], 0)
                weights = tf.reshape(tf.concat([tf.ones(self.n), tf.zeros(bs - rest)], 0), (-1, bs))
            batches = tf.reshape(order[: loops * bs], (loops, bs))

            def step(i, *totals):
                idx = batches[i]
                gathered = (tf.gather(x, idx), tf.gather(y, idx))
                return (i + 1, *self._train_step(*gathered, totals, weights[i] if padded else None))

            _, *totals = tf.while_loop(
                lambda i, *_: i < full_steps + int(padded),
                step,
                (tf.constant(0), *totals),
                maximum_iterations=loops,
            )
            if with_rest and not padded:  # the smaller last batch, a step of its own
                idx = order[full * bs :]
                totals = self._train_step(tf.gather(x, idx), tf.gather(y, idx), totals)
        if self.wide is not None:
            self.wide.store()
        total_loss, total_correct, seen = totals
        result = {"loss": total_loss / seen, "accuracy": total_correct / seen, "lr": rate}
        if self.has_eval:
            result.update(self._evaluate(x_eval, y_eval))
        return result

    def _evaluate(self, x_eval, y_eval) -> dict:
        """The evaluation set's loss and accuracy, `OUTPUT_ROWS` examples at a time: a large
        test set (CIFAR-10's 10,000 images) is never cast to float32 all at once."""
        import tensorflow as tf

        n, rows = self.n_eval, OUTPUT_ROWS
        if n <= rows:
            outputs = self.net(tf.cast(x_eval, tf.float32), training=False)
            return self.evaluation(y_eval, outputs, self.net.losses)
        full = n // rows
        chunks_x = tf.reshape(x_eval[: full * rows], (full, rows, *x_eval.shape[1:]))
        chunks_y = tf.reshape(y_eval[: full * rows], (full, rows, *y_eval.shape[1:]))

        def sums(xb, yb):
            outputs = tf.cast(self.net(tf.cast(xb, tf.float32), training=False), tf.float32)
            # as `fit`'s val_loss: the model's own losses (a weight penalty) count here too
            loss = _with(tf.cast(self.loss_fn(yb, outputs), tf.float32), self.net.losses)
            loss = loss * float(xb.shape[0])
            return loss, correct_count(self.objective, yb, outputs)

        def step(i, loss_sum, correct):
            loss, right = sums(chunks_x[i], chunks_y[i])
            return i + 1, loss_sum + loss, correct + right

        zero = tf.constant(0.0)
        _, loss_sum, correct = tf.while_loop(
            lambda i, *_: i < full, step, (tf.constant(0), zero, zero), maximum_iterations=full
        )
        if n > full * rows:
            loss, right = sums(x_eval[full * rows :], y_eval[full * rows :])
            loss_sum, correct = loss_sum + loss, correct + right
        return {"val_loss": loss_sum / float(n), "val_accuracy": correct / float(n)}

    def outputs(self, x: np.ndarray) -> np.ndarray:
        """The model's float32 outputs for `x` in batches of `OUTPUT_ROWS`, compiled.

        Images stay in their stored dtype until a batch is cast inside the graph; the
        training and evaluation sets are read from the device copies the epochs use. A set
        of `XLA_OUTPUT_ROWS` examples or more goes through XLA (where the epochs did), in
        equal batches, the last one padded: a full CIFAR-10 in a third of the time."""
        import tensorflow as tf

        from zoo import compile_cache

        data = next((dev for host, dev in self._on_device if host is x), None)
        if data is None:
            if len(x) == 0 or self.scaled:  # the device holds scaled data of another kind
                return super().outputs(x)
            kind = (self.x.dtype.as_numpy_dtype, tuple(self.x.shape[1:]))
            if (x.dtype, x.shape[1:]) != kind:
                return super().outputs(x)  # not data of the training set's kind
            data = x
        if self.jit_compile and len(x) >= XLA_OUTPUT_ROWS:
            try:
                outputs = self._outputs(data, len(x), xla=True)
            except tf.errors.OpError:  # as in `epoch`: a plain graph, and no saved programs
                if compile_cache.active_folder() is not None:
                    compile_cache.forget_programs()
            else:
                compile_cache.keep_new_programs()
                return outputs
        return self._outputs(data, len(x), xla=False)

    def _outputs(self, data, n: int, xla: bool) -> np.ndarray:
        import tensorflow as tf

        predict = self._predictor(xla)
        parts = []
        with tf.device(self.x.device):  # where the epochs ran, whatever the caller's scope
            for start in range(0, n, OUTPUT_ROWS):
                batch = data[start : start + OUTPUT_ROWS]
                size = len(batch)
                if xla and size < OUTPUT_ROWS:  # one shape: one compiled program
                    batch = tf.concat([batch, tf.zeros_like(data[: OUTPUT_ROWS - size])], 0)
                parts.append(predict(tf.convert_to_tensor(batch)).numpy()[:size])
        return np.concatenate(parts)

    def _predictor(self, xla: bool):
        """The outputs of `net` for a batch of device data, as a plain graph (any batch size
        runs without compiling again) or through XLA (batches of `OUTPUT_ROWS`)."""
        import tensorflow as tf

        if xla not in self._predict:
            rows = OUTPUT_ROWS if xla else None
            spec = tf.TensorSpec((rows, *self.x.shape[1:]), self.x.dtype)

            def predict(xb):
                outputs = self.net(tf.cast(xb, tf.float32), training=False)
                return tf.cast(outputs, tf.float32)

            self._predict[xla] = tf.function(
                predict, input_signature=[spec], autograph=False, jit_compile=xla
            )
        return self._predict[xla]

    def release(self) -> None:
        import gc

        self.x = self.y = self.x_eval = self.y_eval = None
        self._on_device, self._predict, self._epoch, self.wide = [], {}, None, None
        self._traced, self._called = {}, set()
        gc.collect()  # the traced functions hold the data in reference cycles

    def _call(self, order, steps: int):
        import tensorflow as tf

        with_rest = steps > self.full_steps
        data = (self.x, self.y, self.x_eval, self.y_eval)
        args = (order, tf.constant(min(steps, self.full_steps), dtype=tf.int32), with_rest, data)
        epoch = self._traced.get(with_rest)
        if epoch is None:  # traced once for each kind of epoch (with or without the rest)
            with philox_dropout(self.jit_compile):
                epoch = self._traced[with_rest] = self._epoch.get_concrete_function(*args)
        elif with_rest in self._called and self._flat_calls:
            # Later calls hand the graph its tensors directly: the concrete function's own
            # call first binds its inputs (the variables among them) to its signature and
            # checks each one, 0.3-0.5 ms of the lab's 4-5 ms epoch. `_call_flat` is
            # TensorFlow's, not public: a release without it takes the call below.
            tensors = [t for t in tf.nest.flatten(args) if isinstance(t, tf.Tensor)]
            try:
                return epoch._call_flat(tensors, epoch.captured_inputs)
            except (AttributeError, TypeError):  # raised before the graph runs
                self._flat_calls = False
        # A concrete function's call skips `tf.function`'s matching of the arguments to its
        # traces: 0.2-0.3 ms. The process's first XLA compile may be in this call.
        with xla_flags(self.jit_compile, self.batch_size):
            out = epoch(*args)
        self._called.add(with_rest)
        return out

    def epoch(self, order: np.ndarray, steps: int) -> EpochResult:
        import tensorflow as tf

        from zoo import compile_cache

        order = tf.constant(order, dtype=tf.int32)
        try:
            out = self._call(order, int(steps))
        except tf.errors.OpError:
            if not self.jit_compile:
                raise
            # An op XLA cannot compile (a user's own layer), or a saved program TensorFlow
            # could not load: XLA fails before any update runs, so the same epoch goes again
            # as a plain graph, and the saved programs are dropped.
            if self.compile_cache is not None:
                compile_cache.forget_programs()
            self._compile(False)
            out = self._call(order, int(steps))
        else:
            if self.compile_cache is not None:
                compile_cache.keep_new_programs()
                self.compile_cache = None  # compiled once: nothing more to keep
        return self.result(out)


class WideKernels:
    """The loop's own transposed copies of the tall kernels, and an optimizer that updates
    them.

    One example at a time, a step's arithmetic is a product and an outer product with each
    tall kernel (3072x10 in the lab: about 10^5 operations); what it cost was XLA's handling
    of the layout: the kernel read across its rows for the product and the update, or
    copied transposed at each step. So the epoch copies the tall kernels, transposed, into
    variables of its own (with the optimizer's slots for them), runs every step on those
    (the product through `wide_products`, the update where the kernel lies) and copies them
    back once, at the end: 4-5x faster per step. A batch of 128 gains less, a fifth of the
    lab's epoch (6.0 against 4.9 ms): its update no longer transposes the gradient back.
    An elementwise update (SGD, momentum, Adam and the like) is the same number for each
    weight in either layout. Built only where that holds: every optimizer variable has the
    shape of its twin or of its twin transposed, and nothing reads the variables' names (no
    weight decay, EMA or accumulated gradients).
    """

    def __init__(self, pairs, variables, optimizer):
        self.pairs, self.variables, self.optimizer = pairs, variables, optimizer

    @classmethod
    def make(cls, model, optimizer, flip) -> WideKernels | None:
        import keras

        plain = type(optimizer).__module__.startswith("keras.")
        if not plain or getattr(optimizer, "inner_optimizer", None) is not None:
            return None  # a loss-scaling or user-made optimizer: left as it is
        special = ("use_ema", "gradient_accumulation_steps", "weight_decay")
        if any(getattr(optimizer, name, None) for name in special):
            return None
        try:
            twin = type(optimizer).from_config(optimizer.get_config())
        except (TypeError, ValueError):
            return None
        variables, pairs = [], []
        for variable, f in zip(model.trainable_variables, flip, strict=True):
            if f:
                wide = keras.Variable(
                    np.zeros(variable.shape[::-1], variable.dtype),
                    dtype=variable.dtype,
                    trainable=True,
                    name=f"{variable.name}_wide",
                )
                pairs.append((variable, wide, True))
                variable = wide
            variables.append(variable)
        twin.build(variables)
        if len(twin.variables) != len(optimizer.variables):
            return None
        for own, copy in zip(optimizer.variables, twin.variables, strict=True):
            if tuple(own.shape) == tuple(copy.shape):
                flipped = False
            elif len(own.shape) == 2 and tuple(own.shape[::-1]) == tuple(copy.shape):
                flipped = True
            else:
                return None
            pairs.append((own, copy, flipped))
        return cls(pairs, variables, twin)

    def load(self) -> None:
        """The kernels and the optimizer's state into the copies (inside the epoch's graph)."""
        import tensorflow as tf

        for own, copy, flipped in self.pairs:
            copy.assign(tf.transpose(own.value) if flipped else own.value)

    def store(self) -> None:
        """The copies back into the model's kernels and the optimizer's state."""
        import tensorflow as tf

        for own, copy, flipped in self.pairs:
            own.assign(tf.transpose(copy.value) if flipped else copy.value)


def _with(loss, losses):
    """`loss` plus the model's own `losses` (see `added_losses`)."""
    extra = added_losses(losses)
    return loss if extra is None else loss + extra


ALIGNMENT = 64  # bytes: TensorFlow shares a NumPy array's memory only from such an address


def device_tensor(x: np.ndarray):
    """`x` as a tensor where the current scope places tensors. On a CPU the tensor shares
    the array's memory (through DLPack) rather than copying it, as `tf.constant` does (twice,
    for a while): the full CIFAR-10's 150 MB are held once. An array TensorFlow cannot share
    (misaligned, read-only, strided) is copied once, into aligned memory.

    The zoo never writes into a data set's arrays, so the tensor stays what it was."""
    import tensorflow as tf

    x = np.asarray(x)
    small = x.nbytes < 1 << 20
    if small or x.dtype.kind not in "biuf" or "CPU" not in tf.constant(0).device:
        return tf.constant(x)
    if x.ctypes.data % ALIGNMENT or not x.flags.c_contiguous or not x.flags.writeable:
        raw = np.empty(x.nbytes + ALIGNMENT, np.uint8)
        start = -raw.ctypes.data % ALIGNMENT
        aligned = raw[start : start + x.nbytes].view(x.dtype).reshape(x.shape)
        aligned[...] = x
        x = aligned
    return tf.experimental.dlpack.from_dlpack(x.__dlpack__())


@contextlib.contextmanager
def wide_products(wide: dict):
    """Keras's `x @ kernel` computed as `(kernel_t @ x^T)^T` for the kernels in `wide` (a
    transposed kernel's tensor -> the kernel as stored transposed), while an epoch traces.

    XLA on a CPU wants the matrix of a product laid out along its summed dimension: for
    `x @ kernel` with the kernel kept transposed it would copy the kernel, transposed, at
    every step; `kernel_t @ x^T` reads it as it lies. For one example the transposes of `x`
    and of the result are free (vectors); for a batch XLA takes the transposed product as
    one product of `x` and the kernel as it lies. The products summed are the same."""
    if not wide:
        yield
        return
    try:
        from keras.src.backend.tensorflow import numpy as keras_numpy

        keras_matmul = keras_numpy.matmul
    except (ImportError, AttributeError):
        yield
        return
    import keras
    import tensorflow as tf

    def matmul(x1, x2):
        value = x2.value if isinstance(x2, keras.Variable) else x2  # a layer's kernel
        kernel_t = wide.get(value.ref()) if isinstance(value, tf.Tensor) else None
        if kernel_t is None or getattr(x1, "ndim", None) != 2 or x1.dtype != kernel_t.dtype:
            return keras_matmul(x1, x2)
        return tf.transpose(tf.matmul(kernel_t, x1, transpose_b=True))

    keras_numpy.matmul = matmul
    try:
        yield
    finally:
        keras_numpy.matmul = keras_matmul


@contextlib.contextmanager
def philox_dropout(active: bool):
    """Keras's dropout masks drawn with the Philox algorithm named, while an XLA epoch traces.

    Keras asks TensorFlow for its automatically chosen random algorithm, which is Philox on
    a CPU or GPU; XLA on a CPU gives the same numbers for it but generates them three times
    slower than for Philox named outright (the lab's MLP with dropout 0.2: 10.6 ms an epoch
    against 4.2). The masks, and so the run, are the same bit for bit
    (tests/test_speed_equivalence.py); a Keras without the function this replaces is left as
    it is."""
    if not active:
        yield
        return
    try:
        from keras.src.backend.tensorflow import random as keras_random

        keras_dropout = keras_random.dropout
        draw_seed, cast_seed = keras_random.draw_seed, keras_random._cast_seed
        noise_shape_of = keras_random._get_concrete_noise_shape
    except (ImportError, AttributeError):
        yield
        return
    import tensorflow as tf

    def dropout(inputs, rate, noise_shape=None, seed=None):
        if rate == 1.0 or rate == 0.0:
            return keras_dropout(inputs, rate, noise_shape=noise_shape, seed=seed)
        return tf.nn.experimental.stateless_dropout(
            inputs,
            rate=rate,
            noise_shape=noise_shape_of(inputs, noise_shape),
            seed=cast_seed(draw_seed(seed)),
            rng_alg="philox",
        )

    keras_random.dropout = dropout
    try:
        yield
    finally:
        keras_random.dropout = keras_dropout


# XLA's older loop emitters compile the lab's epoch 0.25 s sooner than its fusion emitters
# (0.57 against 0.82 s on two cores) and run it as fast; the per-sample loop, though, they
# run 2.5x slower (22 against 8.8 ms an epoch), so it is compiled without them. XLA stops
# the process at a flag it does not know, so the flag is given only to the TensorFlow
# releases whose XLA was seen to have it.
XLA_FLAGS = "--xla_cpu_use_fusion_emitters=false"
XLA_FLAGS_RELEASES = ("2.21.",)
_xla_flags_given = False


@contextlib.contextmanager
def xla_flags(jit: bool, batch_size: int):
    """Around a call of an epoch (`jit`: compiled by XLA, over batches of `batch_size`):
    `XLA_FLAGS` in the environment if it is the process's first XLA program and one the
    flags pay for (batches, not single examples).

    XLA reads the variable once, at its first compile, so it is set for that call only and
    then put back: processes started later (a JAX run, whose XLA may not know the flag) do
    not inherit it. A flag of the same name the user set wins; a process that compiled an
    XLA program before keeps the flags it read then, and so does one whose first program
    was a per-sample epoch. A plain graph's call leaves the chance to the first XLA one."""
    global _xla_flags_given
    if not jit:
        yield
        return
    if _xla_flags_given or batch_size == 1:
        _xla_flags_given = True
        yield
        return
    _xla_flags_given = True
    from importlib.metadata import PackageNotFoundError, version

    try:
        known = version("tensorflow").startswith(XLA_FLAGS_RELEASES)
    except PackageNotFoundError:
        known = False
    before = os.environ.get("XLA_FLAGS")
    own = " ".join(flag.split("=")[0] for flag in (before or "").split())
    if not known or XLA_FLAGS.split("=")[0] in own:
        yield
        return
    os.environ["XLA_FLAGS"] = f"{before} {XLA_FLAGS}" if before else XLA_FLAGS
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("XLA_FLAGS", None)
        else:
            os.environ["XLA_FLAGS"] = before


def _xla_barrier():
    """XLA's optimization barrier (it keeps XLA from folding the transposes back), or None."""
    try:
        from tensorflow.compiler.tf2xla.python.xla import optimization_barrier
    except ImportError:
        return None
    return optimization_barrier
