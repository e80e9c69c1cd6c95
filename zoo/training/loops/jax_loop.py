"""The JAX backend's compiled epoch: `jax.lax.scan` over Keras's stateless calls, jitted.

The model and optimizer stay ordinary Keras objects; their variables travel through the scan
as arrays (`model.stateless_call`, `optimizer.stateless_apply`) and are written back to the
Keras variables after every call, so the trainer can read or restore the weights between
epochs exactly as on TensorFlow.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from zoo.training.loops.common import (
    OUTPUT_ROWS,
    EpochResult,
    EpochRunner,
    added_losses,
    convolutional,
    correct_count,
    flipped_penalties,
    tall_kernels,
)

# XLA:CPU (JAX 0.10) hands convolutions, products and reductions to YNNPACK. On batches of 16
# images or more XLA's own convolutions (Eigen's) run lab 2's updates faster (all 1,500
# images in less than half the time), on single images slower: docs/speed.md, "Then XLA's own
# convolutions". These options keep YNNPACK for the products and reductions only.
OWN_CONVOLUTIONS = {
    "xla_cpu_experimental_ynn_fusion_type": (
        "LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT,LIBRARY_FUSION_TYPE_REDUCE"
    )
}
OWN_CONVOLUTIONS_MIN_BATCH = 16


class JaxEpochRunner(EpochRunner):
    """Runs one epoch of updates (and the evaluation) per call, as one XLA program.

    Shapes in XLA are static, so an epoch is a scan over the full batches and, where the
    training set does not divide evenly, one more step on the smaller last batch - the same
    batches, in the same order, as `fit(batch_size=...)` would make.
    """

    def __init__(self, model, optimizer, objective, x, y, x_eval, y_eval, *, batch_size: int):
        import jax

        n_eval = 0 if x_eval is None else len(x_eval)
        super().__init__(model, optimizer, objective, len(x), batch_size, n_eval)
        optimizer.build(model.trainable_variables)
        # The data goes to the device once; images stay uint8 there and are cast per batch.
        self.data = (jax.device_put(x), jax.device_put(y))
        self.eval_data = None
        if x_eval is not None:
            self.eval_data = (jax.device_put(x_eval), jax.device_put(y_eval))
        self._compiled = {}
        # host array -> its copy on the device, so the outputs after training read no data twice
        self._on_device = [(x, self.data[0])]
        if x_eval is not None:
            self._on_device.append((x_eval, self.eval_data[0]))
        self._predict = None
        # See `tall_kernels`: XLA:CPU's weakness; a GPU's matrix library has none.
        self.device = next(iter(self.data[0].devices()))
        on_cpu = self.device.platform == "cpu"
        self.flip = tall_kernels(model) if on_cpu else None
        # XLA:CPU's convolutions are slow inside a scan (see `convolutional`): there each
        # update is its own compiled call, and the host loops over them
        self.stepwise = on_cpu and convolutional(model)
        self._step_call = self._eval_call = None

    # -- the traced program ----------------------------------------------------------------
    def _loss_and_outputs(self, trainable, non_trainable, xb, yb, params_t=None):
        import jax.numpy as jnp

        outputs, non_trainable, losses = self.model.stateless_call(
            trainable, non_trainable, xb.astype(jnp.float32), training=True, return_losses=True
        )
        if params_t is not None:  # the tall kernels' penalties on their transposes
            losses = flipped_penalties(self.model, losses, params_t, self.flip)
        # Under a bfloat16 policy the loss is still taken in float32.
        outputs = outputs.astype(jnp.float32)
        loss = self.loss_fn(yb, outputs).astype(jnp.float32)
        # `fit`'s loss: the model's own losses (weight penalties, add_loss terms) added
        extra = added_losses(losses)
        loss = loss if extra is None else loss + extra
        return loss, (outputs, non_trainable)

    def _gradients(self, trainable, non_trainable, xb, yb):
        import jax

        flip = self.flip
        if flip is None:
            grad_fn = jax.value_and_grad(self._loss_and_outputs, has_aux=True)
            return grad_fn(trainable, non_trainable, xb, yb)

        def loss_of_transposed(params_t, non_trainable, xb, yb):
            params = [p.T if f else p for p, f in zip(params_t, flip, strict=True)]
            return self._loss_and_outputs(params, non_trainable, xb, yb, params_t)

        params_t = [p.T if f else p for p, f in zip(trainable, flip, strict=True)]
        grad_fn = jax.value_and_grad(loss_of_transposed, has_aux=True)
        value, grads_t = grad_fn(params_t, non_trainable, xb, yb)
        # the barrier keeps XLA from folding the transposes back into the slow product
        grads = [
            jax.lax.optimization_barrier(g).T if f else g
            for g, f in zip(grads_t, flip, strict=True)
        ]
        return value, grads

    def _step(self, x, y, carry, idx):
        import jax.numpy as jnp

        trainable, non_trainable, opt_vars, loss_sum, correct, seen = carry
        if idx is None:  # full batch: every example, no gather
            xb, yb = x, y
        else:
            xb, yb = jnp.take(x, idx, axis=0), jnp.take(y, idx, axis=0)
        (loss, (outputs, non_trainable)), grads = self._gradients(trainable, non_trainable, xb, yb)
        trainable, opt_vars = self.optimizer.stateless_apply(opt_vars, grads, trainable)
        size = xb.shape[0]
        loss_sum = loss_sum + loss * size
        if self.classify:
            correct = correct + correct_count(self.objective, yb, outputs)
        return (trainable, non_trainable, opt_vars, loss_sum, correct, seen + size), None

    def _epoch_program(self, state, order, data, eval_data, *, full_steps: int, rest: int):
        import jax
        import jax.numpy as jnp

        x, y = data
        zero = jnp.zeros((), jnp.float32)
        carry = (*state, zero, zero, zero)
        step = partial(self._step, x, y)
        if self.batch_size >= self.n:
            carry, _ = step(carry, None)
        else:
            bs = self.batch_size
            if full_steps:
                batches = order[: full_steps * bs].reshape(full_steps, bs)
                carry, _ = jax.lax.scan(step, carry, batches)
            if rest:
                start = full_steps * bs
                carry, _ = step(carry, order[start : start + rest])
        trainable, non_trainable, opt_vars, loss_sum, correct, seen = carry
        result = {"loss": loss_sum / seen, "accuracy": correct / seen}
        if eval_data is not None:
            result.update(self._evaluate(trainable, non_trainable, eval_data))
        return (trainable, non_trainable, opt_vars), result

    def _evaluate(self, trainable, non_trainable, eval_data) -> dict:
        import jax.numpy as jnp

        x_eval, y_eval = eval_data
        outputs, _, losses = self.model.stateless_call(
            trainable,
            non_trainable,
            x_eval.astype(jnp.float32),
            training=False,
            return_losses=True,
        )
        return self.evaluation(y_eval, outputs, losses)

    def _program(self, steps: int):
        """The jitted epoch for `steps` updates (a short last epoch compiles once more)."""
        import jax

        if self.batch_size >= self.n:
            full_steps, rest = 1, 0
        else:
            full_steps = min(steps, self.n // self.batch_size)
            rest = self.n - full_steps * self.batch_size if steps > full_steps else 0
        key = (full_steps, rest)
        if key not in self._compiled:
            program = partial(self._epoch_program, full_steps=full_steps, rest=rest)
            self._compiled[key] = jax.jit(program)
        return self._compiled[key]

    def _predict_program(self, trainable, non_trainable, xb):
        import jax.numpy as jnp

        outputs, _ = self.model.stateless_call(
            trainable, non_trainable, xb.astype(jnp.float32), training=False
        )
        return outputs.astype(jnp.float32)

    def outputs(self, x: np.ndarray) -> np.ndarray:
        """The model's float32 outputs for `x` in batches of `OUTPUT_ROWS`, jitted.

        A set larger than one batch has its last batch padded, so every batch of every set
        that size shares one compiled program; the training and evaluation sets are read
        from the device copies the epochs use."""
        import jax
        import jax.numpy as jnp

        data = next((dev for host, dev in self._on_device if host is x), None)
        kind = (self.data[0].dtype, tuple(self.data[0].shape[1:]))
        if data is None and (len(x) == 0 or (x.dtype, x.shape[1:]) != kind):
            return super().outputs(x)  # not data of the training set's kind: call the model
        rows = min(OUTPUT_ROWS, len(x))
        if self._predict is None:
            self._predict = Jitted(self._predict_program, self._options(rows))
        trainable, non_trainable, _ = self._state()
        parts = []
        for start in range(0, len(x), rows):
            if data is not None:
                batch = data[start : start + rows]
            else:  # on the device the epochs ran on, whatever the default device is
                batch = jax.device_put(x[start : start + rows], self.device)
            size = len(batch)
            if size < rows:
                batch = jnp.concatenate(
                    [batch, jnp.zeros_like(batch, shape=(rows - size, *kind[1]))]
                )
            parts.append(np.asarray(self._predict(trainable, non_trainable, batch))[:size])
        return np.concatenate(parts)

    def release(self) -> None:
        self.data = self.eval_data = None
        self._on_device, self._compiled, self._predict = [], {}, None

    def _options(self, rows: int) -> dict | None:
        """XLA's options for a compiled call on batches of `rows` examples (None: defaults)."""
        own = self.stepwise and rows >= OWN_CONVOLUTIONS_MIN_BATCH
        return OWN_CONVOLUTIONS if own else None

    # -- the runner interface ----------------------------------------------------------------
    def _state(self):
        model, optimizer = self.model, self.optimizer
        return (
            [v.value for v in model.trainable_variables],
            [v.value for v in model.non_trainable_variables],
            [v.value for v in optimizer.variables],
        )

    def _write_back(self, state) -> None:
        model, optimizer = self.model, self.optimizer
        trainable, non_trainable, opt_vars = state
        for variables, values in (
            (model.trainable_variables, trainable),
            (model.non_trainable_variables, non_trainable),
            (optimizer.variables, opt_vars),
        ):
            for variable, value in zip(variables, values, strict=True):
                variable.assign(value)

    def _stepwise_epoch(self, order: np.ndarray, steps: int) -> EpochResult:
        """The same updates as `_epoch_program`, each a compiled call of its own."""
        import jax.numpy as jnp

        if self._step_call is None:
            step = lambda x, y, carry, idx: self._step(x, y, carry, idx)[0]  # noqa: E731
            self._step_call = Jitted(step, self._options(min(self.batch_size, self.n)))
            self._eval_call = Jitted(self._evaluate, self._options(self.n_eval))
        x, y = self.data
        zero = jnp.zeros((), jnp.float32)
        carry = (*self._state(), zero, zero, zero)
        bs = self.batch_size
        if bs >= self.n:
            carry = self._step_call(x, y, carry, None)
        else:
            order = np.asarray(order, np.int32)
            full = min(steps, self.n // bs)
            for start in range(0, full * bs, bs):
                carry = self._step_call(x, y, carry, order[start : start + bs])
            if steps > full and full * bs < self.n:  # the smaller last batch
                carry = self._step_call(x, y, carry, order[full * bs :])
        trainable, non_trainable, opt_vars, loss_sum, correct, seen = carry
        out = {"loss": loss_sum / seen, "accuracy": correct / seen}
        if self.eval_data is not None:
            out.update(self._eval_call(trainable, non_trainable, self.eval_data))
        self._write_back((trainable, non_trainable, opt_vars))
        return self.result(out)

    def epoch(self, order: np.ndarray, steps: int) -> EpochResult:
        import jax.numpy as jnp

        if self.stepwise:
            return self._stepwise_epoch(order, int(steps))
        program = self._program(int(steps))
        state, out = program(
            self._state(), jnp.asarray(order, jnp.int32), self.data, self.eval_data
        )
        self._write_back(state)
        return self.result(out)


class Jitted:
    """`jax.jit(function)` compiled with XLA `options` (None: XLA's defaults), or with the
    defaults where this JAX cannot pass them (older than `compiler_options`) or its XLA does
    not know them (an option renamed or gone: they are experimental)."""

    def __init__(self, function, options: dict | None):
        import jax

        self.function, self.plain = function, not options
        try:
            self.call = jax.jit(function, compiler_options=options) if options else None
        except TypeError:
            self.plain = True
        if self.plain:
            self.call = jax.jit(function)

    def __call__(self, *args):
        import jax

        try:
            return self.call(*args)
        except Exception as err:
            unknown = "setting option" in str(err) or "compile option" in str(err)
            if self.plain or not unknown:
                raise
            self.call, self.plain = jax.jit(self.function), True
            return self.call(*args)
