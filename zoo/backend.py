"""Choosing the Keras backend (before Keras is imported) and the device to train on."""

from __future__ import annotations

import contextlib
import importlib.machinery
import importlib.util
import os
import sys
import threading
import types

from zoo.distribution import install_hint
from zoo.errors import OptionError

BACKENDS = ("tensorflow", "jax")


def _check_backend(name: str, option: str) -> None:
    if name not in BACKENDS:
        raise OptionError(option, f"{name!r} is not one of {', '.join(BACKENDS)}")
    if importlib.util.find_spec(name) is None:
        extra = f" ({install_hint('jax')})" if name == "jax" else ""
        raise OptionError(option, f"{name} is not installed{extra}")


def import_matplotlib():
    """matplotlib, imported even when $MPLBACKEND names no backend it knows.

    matplotlib's own import fails on such a value, and Keras imports matplotlib when it can:
    the zoo draws off-screen anyway, so the bad setting is dropped for this process.
    """
    try:
        import matplotlib
    except ValueError:
        os.environ.pop("MPLBACKEND", None)
        for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
            del sys.modules[name]
        import matplotlib
    return matplotlib


def select_backend(name: str | None) -> str:
    """Make `name` Keras's backend; it must happen before the first `import keras`.

    With `name` None Keras follows $KERAS_BACKEND, checked here first: Keras itself would
    fail on an unknown name with a traceback from deep inside its import.
    """
    if name is not None:
        _check_backend(name, "backend")
    elif os.environ.get("KERAS_BACKEND") and "keras" not in sys.modules:
        _check_backend(os.environ["KERAS_BACKEND"], "KERAS_BACKEND")
    if "keras" in sys.modules:
        import keras

        current = keras.backend.backend()
        if name is not None and name != current:
            raise OptionError(
                "backend",
                f"Keras is already running on {current}; set KERAS_BACKEND={name} "
                "before importing keras",
            )
        return current
    if name is not None:
        os.environ["KERAS_BACKEND"] = name
    if importlib.util.find_spec("matplotlib") is not None:
        import_matplotlib()  # before Keras, which imports it
    with _deferred(*KERAS_EXTRAS):
        import keras

    return keras.backend.backend()


# Modules Keras and TensorFlow import as they start only for features the zoo never uses, or
# uses only at the end of a run: pyplot (`keras.visualization`), IPython (`keras.saving`'s
# file editor), requests (TensorFlow's old `RemoteMonitor` callback) and `keras.wrappers`
# (scikit-learn's estimators, with scikit-learn and scipy.stats), about 1 s of every process
# that trains. The zoo draws on bare Figures, and imports scikit-learn's metrics after the
# epochs (beside them in a run that draws a report). Each loads on its first use (`_deferred`).
KERAS_EXTRAS = ("matplotlib.pyplot", "IPython", "requests", "keras.wrappers")


class _Deferred(types.ModuleType):
    """A module's stand-in in `sys.modules` (see `_deferred`): the first use of an attribute
    imports the module, puts it in `sys.modules` instead, and every later use is passed on."""

    def __init__(self, name: str):
        super().__init__(name)
        # each its own, and re-entrant: importing one module may touch another's stand-in
        self.__dict__["_lock"] = threading.RLock()

    def __getattr__(self, attr: str):
        with self.__dict__["_lock"]:
            real = self.__dict__.get("_real")
            if real is None:
                if sys.modules.get(self.__name__) is self:
                    del sys.modules[self.__name__]
                real = self.__dict__["_real"] = importlib.import_module(self.__name__)
        return getattr(real, attr)


def imported(name: str) -> types.ModuleType | None:
    """The module `name` if it has been imported, else None; a stand-in that `_deferred` put
    in its place and nothing has used yet does not count."""
    module = sys.modules.get(name)
    return None if isinstance(module, _Deferred) else module


@contextlib.contextmanager
def _deferred(*names: str):
    """Within the block, importing one of `names` binds a stand-in that imports the module on
    the first use of any of its attributes, so code that imports it and never uses it pays
    nothing. A module already imported, or not installed, is left as it is."""
    for name in names:
        if name in sys.modules:
            continue
        try:
            spec = _spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            continue
        stand_in = _Deferred(name)
        stand_in.__spec__ = spec
        if spec.has_location:  # so that a look for a module's file (inspect) passes it by
            stand_in.__file__ = spec.origin
        sys.modules[name] = stand_in
        parent, _, child = name.rpartition(".")
        if parent in sys.modules:  # as the import system binds a submodule on its package
            setattr(sys.modules[parent], child, stand_in)
    yield


def _spec(name: str):
    """`importlib.util.find_spec(name)`, without importing the packages above it."""
    parent, _, _ = name.rpartition(".")
    if not parent or parent in sys.modules:
        return importlib.util.find_spec(name)
    above = _spec(parent)
    if above is None or above.submodule_search_locations is None:
        return None
    return importlib.machinery.PathFinder.find_spec(name, above.submodule_search_locations)


def start_backend(name: str | None = None) -> str:
    """`select_backend(name)`, then import Keras and its backend with TensorFlow's C++ start-up
    chatter held back. Returns the backend's name.

    TensorFlow prints its oneDNN and CUDA probing notes before its logging is set up, so no
    setting silences them; they go to a temporary file instead, shown only if the import fails
    (not when a signal stops it: the one line that says so stays alone).
    """
    import tempfile

    def load() -> str:
        if "tensorflow" not in sys.modules:  # TensorFlow reads its XLA flags as it starts
            # its C++ log lines after start-up stay out of notebooks and terminals: notes,
            # warnings and the error-level ones that are not errors of the run (XLA's cache
            # entry it cannot parse, cuInit on a machine without a GPU); a real failure is a
            # Python exception with its own message. A value the user set is kept.
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
            from zoo.compile_cache import use_compile_cache

            use_compile_cache()
        with _without_jax(name), frozen_after_import("keras"):
            chosen = select_backend(name)
            # Keras imports an installed TensorFlow on any backend when it saves a model
            if chosen == "tensorflow" or importlib.util.find_spec("tensorflow") is not None:
                import tensorflow as tf

                tf.config.list_physical_devices("GPU")
        return chosen

    if "tensorflow" in sys.modules:  # nothing left to hold back
        return load()
    try:
        sink = tempfile.TemporaryFile(mode="w+b")
    except OSError:  # no writable temporary folder: the chatter is a lesser evil than failing
        return load()
    with sink:
        try:
            saved = os.dup(2)
        except OSError:
            return load()
        os.dup2(sink.fileno(), 2)
        try:
            return load()
        except KeyboardInterrupt:  # a signal, not a failed import: its notes explain nothing
            raise
        except BaseException:
            os.dup2(saved, 2)
            sink.seek(0)
            os.write(2, sink.read())
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


@contextlib.contextmanager
def frozen_after_import(module: str):
    """Python's cyclic garbage collector off while `module` (and what it brings) is imported,
    and what exists then moved out of its way (`gc.freeze`); nothing if it is imported already.

    Keras's import makes about 400,000 objects: every full collection afterwards walked them
    all again, 0.9 s of the lab command's 6-7 s (0.15 s with them frozen). Frozen, they are
    never collected; they are modules, classes and functions that live as long as the
    process. Only the call that imports the module freezes: before it, a program has made no
    Keras model (with matplotlib, no figure) whose cycles a later collection should free."""
    import gc

    if module in sys.modules:
        yield
        return
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if module in sys.modules:
            gc.freeze()
        if enabled:
            gc.enable()


def _surely_tensorflow(name: str | None) -> bool:
    """Whether Keras will run on TensorFlow: asked for, or $KERAS_BACKEND and keras.json (as
    Keras reads them) leave it at its default. Unsure (an unreadable keras.json): False."""
    if name is not None:
        return name == "tensorflow"
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"] == "tensorflow"
    import json
    from pathlib import Path

    home = os.environ.get("KERAS_HOME")
    folders = [Path(home)] if home else [Path.home() / ".keras", Path("/tmp/.keras")]
    for config in (folder / "keras.json" for folder in folders):
        if config.exists():
            try:
                return json.loads(config.read_text()).get("backend", "tensorflow") == "tensorflow"
            except (OSError, ValueError, AttributeError):
                return False
    return True


@contextlib.contextmanager
def _without_jax(name: str | None):
    """While TensorFlow is imported for the tensorflow backend: no JAX. TensorFlow's TFLite
    helpers import JAX if it is installed (for converting JAX functions, which the zoo never
    does): 0.5 s and 140 MB of every run. JAX stays importable afterwards."""
    if "jax" in sys.modules or "tensorflow" in sys.modules or not _surely_tensorflow(name):
        yield
        return
    sys.modules["jax"] = None  # `import jax` raises ImportError, which TFLite expects
    try:
        yield
    finally:
        if sys.modules.get("jax", False) is None:
            del sys.modules["jax"]


def leave(code) -> None:
    """End the process now with `code` (as `sys.exit` takes it), skipping the interpreter's
    teardown: with TensorFlow loaded, freeing its modules costs a second of CPU after every
    command's work is done. Output is flushed and the zoo's own exit work done first; call
    it only where nothing else is left to run (the end of a command)."""
    from zoo import compile_cache

    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    compile_cache.close()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def require_tensorflow(what: str) -> None:
    """OptionError unless Keras runs on TensorFlow: `what` differentiates with GradientTape."""
    import keras

    current = keras.backend.backend()
    if current != "tensorflow":
        raise OptionError(
            "KERAS_BACKEND",
            f"{what} takes gradients with tf.GradientTape, so Keras must run on tensorflow, "
            f"not {current}",
        )


@contextlib.contextmanager
def precision_policy(enabled: bool, backend: str):
    """While the model is built: float16 (TensorFlow) or bfloat16 (JAX) arithmetic.

    The variables stay float32 (Keras's mixed policies); the loops take the loss and the
    metrics in float32. Outside the block the global policy is what it was.
    """
    if not enabled:
        yield None
        return
    import keras

    previous = keras.config.dtype_policy()
    name = "mixed_float16" if backend == "tensorflow" else "mixed_bfloat16"
    keras.config.set_dtype_policy(name)
    try:
        yield name
    finally:
        keras.config.set_dtype_policy(previous)


def resolve_device(device: str, backend: str) -> tuple[contextlib.AbstractContextManager, str]:
    """A context that places variables and computation, and the device's name for the record."""
    if backend == "jax":
        import jax

        gpus = [d for d in jax.devices() if d.platform == "gpu"]
        if device == "gpu" and not gpus:
            raise OptionError("device", "no GPU is visible to JAX")
        target = gpus[0] if gpus and device != "cpu" else jax.devices("cpu")[0]
        name = f"GPU:0 ({target.device_kind})" if target.platform == "gpu" else "CPU"
        return jax.default_device(target), name
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if device == "gpu" and not gpus:
        raise OptionError("device", "no GPU is visible to TensorFlow")
    if gpus and device != "cpu":
        return tf.device("/GPU:0"), "GPU:0"
    return tf.device("/CPU:0"), "CPU"


def seed_everything(seed: int, backend: str) -> None:
    """Python's, NumPy's and Keras's seeds, as `keras.utils.set_random_seed` sets them.

    On JAX that function would import TensorFlow (seconds, and its start-up noise) only to
    seed it, so the same global state is set directly; should Keras move it, the public
    function is used after all.
    """
    import keras

    if backend != "jax":
        keras.utils.set_random_seed(seed)
        return
    try:
        from keras.src.backend.common import global_state
        from keras.src.random import seed_generator
        from keras.src.utils.rng_utils import GLOBAL_RANDOM_SEED
    except ImportError:
        keras.utils.set_random_seed(seed)
        return
    import random

    import numpy as np

    global_state.set_global_attribute(GLOBAL_RANDOM_SEED, seed)
    global_state.set_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR, None)
    random.seed(seed)
    np.random.seed(seed)
