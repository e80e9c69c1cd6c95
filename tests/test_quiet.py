"""Training in a fresh Python, as a notebook's first cell does, shows no C++ log lines and
loads none of the modules Keras imports for features the zoo never uses."""

from __future__ import annotations

import os
import re
import subprocess
import sys

CPP_LOG = re.compile(r"^([IWEF]\d{4} |WARNING: All log messages before absl)", re.MULTILINE)


def test_training_in_a_fresh_python_prints_no_tensorflow_log_lines_nor_loads_unused_modules(
    tmp_path,
):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env |= {"ZOO_CACHE": str(tmp_path / "cache"), "MPLBACKEND": "Agg", "HOME": str(tmp_path)}
    code = (
        "import zoo\n"
        f"zoo.train('mlp', 'digits', epochs=1, out={str(tmp_path / 'runs')!r}, report=False)\n"
        "import sys\n"
        "from zoo.backend import KERAS_EXTRAS\n"
        "def loaded():\n"
        "    return [m for m in KERAS_EXTRAS if type(sys.modules.get(m)).__name__ == 'module']\n"
        "print('loaded:', loaded())\n"
        # what Keras bound works, and the first use puts the real module in place
        "from keras.src.visualization import plot_image_gallery\n"
        "figure, _ = plot_image_gallery.plt.subplots()\n"
        "import matplotlib, matplotlib.pyplot as plt\n"
        "assert plt.gcf() is figure and matplotlib.pyplot is sys.modules['matplotlib.pyplot']\n"
        "from IPython import get_ipython\n"
        "import keras\n"
        "assert keras.wrappers.SKLearnClassifier.__module__.startswith('keras.src.wrappers')\n"
        "print('then:', loaded())\n"
        # what importing Keras made is out of the cyclic collector's way, which runs
        "import gc\n"
        "print('frozen:', gc.get_freeze_count() > 100_000, gc.isenabled())\n"
    )
    for _ in range(2):  # the second reads the compiled programs the first kept (XLA's cache)
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
        )
        assert result.returncode == 0, result.stderr[-2000:]
        assert "epoch 1/1" in result.stderr + result.stdout  # the run did train
        assert "loaded: []\n" in result.stdout, result.stdout
        then = "then: ['matplotlib.pyplot', 'IPython', 'keras.wrappers']\n"
        assert then in result.stdout, result.stdout
        assert "frozen: True True\n" in result.stdout, result.stdout
        assert not CPP_LOG.search(result.stderr), result.stderr[-2000:]
        assert not CPP_LOG.search(result.stdout)


def test_a_signal_during_the_backends_start_shows_none_of_its_notes():
    # the notes held back while TensorFlow starts are shown when its import fails, but a
    # signal is no failure: `zoo: stopped by SIGTERM` stays the only line
    code = (
        "import os, sys\n"
        "import zoo.backend as b\n"
        "def start(name=None):\n"
        "    os.write(2, b'I0000 cudart_stub.cc:31] Could not find cuda drivers\\n')\n"
        "    raise sys.modules['builtins'].__dict__[sys.argv[1]]('stop')\n"
        "b.select_backend = start\n"
        "try:\n"
        "    b.start_backend()\n"
        "except BaseException as err:\n"
        "    print(type(err).__name__)\n"
    )
    for raised, shown in (("KeyboardInterrupt", False), ("ImportError", True)):
        result = subprocess.run(
            [sys.executable, "-c", code, raised], capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert result.stdout.strip() == raised, result.stderr
        assert bool(CPP_LOG.search(result.stderr)) is shown, result.stderr


def test_a_start_of_the_backend_after_keras_was_imported_freezes_nothing():
    """Only the call that imports Keras moves its objects out of the collector's way: a
    program that imported Keras itself may hold models whose cycles must still be freed."""
    import gc

    import keras  # noqa: F401  (imported before, as by a program of the user's)

    from zoo.backend import start_backend

    frozen = gc.get_freeze_count()
    start_backend()
    assert gc.get_freeze_count() == frozen and gc.isenabled()
