"""The run driver with Keras's habits: callbacks, arrays, tf.data, compiled models, History."""

from __future__ import annotations

import ast
import csv
from pathlib import Path

import numpy as np
import pytest

import zoo
from zoo.errors import OptionError


def blobs(n=120, seed=0):
    """Three separable classes in 4 dimensions, as arrays (x, y)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = (rng.normal(size=(n, 4)) + 3 * np.eye(3, 4)[y]).astype(np.float32)
    return x, y


def small_model(activation="softmax"):
    import keras

    return keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(3, activation=activation),
        ]
    )


def test_keras_callbacks_see_a_zoo_run_and_early_stopping_stops_it(tmp_path):
    import keras

    seen = {"epochs": [], "ended": 0, "batches": 0}
    callbacks = [
        keras.callbacks.CSVLogger(str(tmp_path / "log.csv")),
        # any epoch after the first fails to improve by 10: the run stops after epoch 2
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=1, min_delta=10.0),
        keras.callbacks.ModelCheckpoint(str(tmp_path / "best.keras"), monitor="val_loss"),
        keras.callbacks.LambdaCallback(
            on_epoch_end=lambda epoch, logs: seen["epochs"].append((epoch, dict(logs))),
            on_train_end=lambda logs: seen.__setitem__("ended", seen["ended"] + 1),
            on_train_batch_end=lambda batch, logs: seen.__setitem__("batches", 1),
        ),
    ]
    with pytest.warns(UserWarning, match=r"per-batch hooks.*LambdaCallback"):
        run = zoo.train(
            small_model(),
            blobs(),
            validation_data=blobs(60, seed=1),
            epochs=20,
            callbacks=callbacks,
            out=str(tmp_path / "runs"),
            report=False,
            quiet=True,
        )
    assert run.status == "stopped_early" and len(run.history) == 2
    assert "EarlyStopping" in run.config["stop_reason"]
    with (tmp_path / "log.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["0", "1"]
    assert float(rows[1]["val_loss"]) == pytest.approx(run.history[1]["val_loss"])
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "lr"} <= set(rows[0])
    assert keras.models.load_model(tmp_path / "best.keras").count_params() == 67
    assert [epoch for epoch, _ in seen["epochs"]] == [0, 1] and seen["ended"] == 1
    assert seen["epochs"][0][1]["loss"] == run.history[0]["loss"]
    assert seen["batches"] == 0  # a compiled epoch calls no per-batch hook (and warned so)


def test_arrays_and_validation_data_give_a_history_like_fits():
    x, y = blobs()
    run = zoo.train(
        small_model(),
        (x, y),
        validation_data=blobs(60, seed=1),
        epochs=4,
        lr=0.1,
        out=None,
        quiet=True,
    )
    assert run.history.epoch == [0, 1, 2, 3]
    assert run.history.history["val_loss"] == [row["val_loss"] for row in run.history]
    assert run.history.history["accuracy"][-1] > 0.5
    assert run.history[-1]["epoch"] == 4  # rows still read as before
    assert run.config["dataset"] == "arrays" and run.config["train_size"] == 120


def test_arrays_without_validation_data_name_the_option():
    with pytest.raises(OptionError) as err:
        zoo.train(small_model(), blobs(), epochs=1, out=None, quiet=True)
    assert err.value.option == "validation_data"


def test_a_batched_tf_data_set_trains_as_its_arrays():
    import tensorflow as tf

    x, y = blobs()
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
    run = zoo.train(small_model(), ds, validation_data=blobs(60, 1), epochs=2, out=None, quiet=True)
    assert run.config["dataset"] == "tf.data" and run.config["train_size"] == 120
    with pytest.raises(OptionError, match="infinite"):
        zoo.train(small_model(), ds.repeat(), validation_data=blobs(60, 1), out=None, quiet=True)


def test_a_compiled_models_optimizer_is_used_and_never_silently_replaced():
    import keras

    model = small_model()
    adam = keras.optimizers.Adam(0.05)
    model.compile(optimizer=adam, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    run = zoo.train(model, blobs(), validation_data=blobs(60, 1), epochs=3, out=None, quiet=True)
    assert model.optimizer is adam and int(adam.iterations) == 3 * 4  # 120 / 32 per epoch
    assert run.config["optimizer"] == "adam" and run.config["lr"] == pytest.approx(0.05)
    assert run.history[0]["lr"] == pytest.approx(0.05)
    with pytest.raises(OptionError) as err:
        zoo.train(model, blobs(), validation_data=blobs(60, 1), lr=0.1, out=None, quiet=True)
    assert err.value.option == "lr" and "Adam" in str(err.value)


def test_a_compiled_loss_or_metric_the_zoo_cannot_honour_is_refused():
    import keras

    model = small_model(activation=None)  # logits
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")  # reads probabilities
    with pytest.raises(OptionError, match="from_logits"):
        zoo.train(model, blobs(), validation_data=blobs(60, 1), epochs=1, out=None, quiet=True)
    model.compile(optimizer="sgd", loss="hinge")
    with pytest.raises(OptionError, match="hinge"):
        zoo.train(model, blobs(), validation_data=blobs(60, 1), epochs=1, out=None, quiet=True)
    model = small_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["auc"])
    with pytest.raises(OptionError, match="auc"):
        zoo.train(model, blobs(), validation_data=blobs(60, 1), epochs=1, out=None, quiet=True)
    assert keras is not None


FORBIDDEN = ("zoo.notebook", "zoo.reporting", "zoo.serve", "zoo.lab", "zoo.cli")


def test_the_engine_imports_none_of_its_viewers():
    root = Path(zoo.__file__).parent / "training"
    found = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            found += [f"{path.name}: {n}" for n in names if n.startswith(FORBIDDEN)]
    assert found == []


def test_a_sweep_checks_its_options_with_the_preset_train_uses(tmp_path):
    """`zoo sweep cnn cifar100-3class --nesterov` was refused ("give momentum") while `zoo train`
    took lab 2's momentum 0.9 for cnn: both now read the preset of the model family."""
    from image_fixtures import write_cifar100_archive

    from zoo.sweeps import worker

    (tmp_path / "data").mkdir()
    write_cifar100_archive(tmp_path / "data", train_per_class=6, test_per_class=2)
    options = {"nesterov": True, "data_dir": str(tmp_path / "data")}
    job = {"model": "cnn", "dataset": "cifar100-3class", "options": {**options, "lr": 0.005}}
    assert worker.check(job) == {}
    run = zoo.train("cnn", "cifar100-3class", **options, epochs=1, out=None, quiet=True)
    assert (run.config["momentum"], run.config["nesterov"]) == (0.9, True)


# each registered model on a data set it is meant for (cnn: lab 2's preset set)
MODEL_SETS = {
    "cnn": "cifar100-3class",
    "lecture-net": "xor",
    "linear": "sigmoid-1d",
    "logistic": "iris",
    "mlp": "digits",
}


def _train_accepts(model, dataset, options) -> str | None:
    try:
        zoo.train(model, dataset, **options, iterations=1, out=None, quiet=True)
    except OptionError as err:
        return err.option
    return None


def _sweep_accepts(model, dataset, options) -> str | None:
    from zoo.sweeps import worker
    from zoo.sweeps.runner import check_configurations
    from zoo.sweeps.spec import SweepSpec

    try:
        spec = SweepSpec.create(model, dataset, options={**options, "iterations": 1})
        for job in check_configurations(spec).values():
            answer = worker.check(job)
            if answer:
                return answer["error"].get("option") or answer["error"]["type"]
    except OptionError as err:
        return err.option
    return None


@pytest.mark.parametrize("model", sorted(MODEL_SETS))
def test_train_and_sweep_accept_the_same_options_for_each_model(model, tmp_path):
    """Every option of the model's builder (at its default value), and a preset-sensitive
    training option, is accepted, or refused with the same option named, by both."""
    from zoo.models.registry import MODELS

    assert sorted(MODEL_SETS) == zoo.list_models()
    dataset, extra = MODEL_SETS[model], {}
    if dataset == "cifar100-3class":
        from image_fixtures import write_cifar100_archive

        (tmp_path / "data").mkdir()
        write_cifar100_archive(tmp_path / "data", train_per_class=6, test_per_class=2)
        extra = {"data_dir": str(tmp_path / "data")}
    builder = {k: v for k, v in MODELS.options(model).items() if k != "normalization"}
    builder = {k: list(v) if isinstance(v, tuple) else v for k, v in builder.items()}
    for options in ({**builder, **extra}, {"nesterov": True, **extra}):
        assert _sweep_accepts(model, dataset, options) == _train_accepts(model, dataset, options), (
            options
        )


def test_an_interrupt_between_the_folder_and_the_first_epoch_leaves_an_honest_folder(tmp_path):
    """The run folder exists from `open` on; a Ctrl-C before the driver's first epoch (here,
    while the live display is being set up) ends the run "interrupted", never "running"."""
    import json

    from zoo.training.trainer import Viewers, train

    def display(live, **_):
        raise KeyboardInterrupt

    run = train(
        "mlp",
        "gaussians",
        epochs=3,
        out=str(tmp_path),
        report=False,
        quiet=True,
        viewers=Viewers(display=display),
    )
    config = json.loads((run.folder / "config.json").read_text())
    assert config["status"] == "interrupted" == run.status
    assert config["stop_reason"] == "interrupted by SIGINT before epoch 1"
    assert config["epochs_run"] == 0


def test_the_report_viewers_imports_run_beside_the_epochs_and_end_before_it(tmp_path):
    """`Viewers.prepare` runs in a second thread from the first epoch on, only for a run that
    draws a report, and the report starts after it has ended (a fork for the figures must
    find no import under way)."""
    import threading
    import time

    from zoo.training.trainer import Viewers, train

    seen = []

    def prepare():
        seen.append(("prepare", threading.current_thread().name))
        time.sleep(0.5)
        seen.append(("prepared", None))

    def report(folder, *, lang, model):
        seen.append(("report", threading.current_thread().name))

    viewers = Viewers(report=report, prepare=prepare)
    options = {"epochs": 2, "out": str(tmp_path), "quiet": True, "viewers": viewers}
    train("mlp", "gaussians", **options)
    main = threading.main_thread().name
    assert seen == [("prepare", "zoo-prepare"), ("prepared", None), ("report", main)]
    seen.clear()
    train("mlp", "gaussians", report=False, **options)
    assert seen == []


def test_stacked_runs_are_lanes_of_the_one_driver():
    """The stacked sweep runner has no loop of its own: its epochs go through the driver, and
    the divergence rule is written once, in the callbacks."""
    source = Path(zoo.__file__).parent
    stack = (source / "training" / "stack.py").read_text()
    assert "drive_lanes(" in stack
    assert "for epoch in" not in stack
    for path in source.rglob("*.py"):
        if path.name != "callbacks.py":
            assert "def divergence_reason" not in path.read_text(), path
            assert "divergence_reason(" not in path.read_text(), path


def test_one_plan_routes_checks_and_groups_every_option():
    """`resolve` is the one owner of options: grouped by who takes them, typed, checked once."""
    from zoo.training.plan import resolve

    plan = resolve("mlp", "gaussians", hidden=np.int64(8), lr=np.float32(0.1), data_seed=3, seed=1)
    assert (plan.training.seed, plan.data_seed) == (1, 3)  # two seeds that cannot collide
    assert dict(plan.model_options) == {"hidden": 8}
    assert plan.training.mode == "minibatch"  # aliases resolved once
    with pytest.raises(TypeError):
        plan.model_options["hidden"] = 9  # frozen: nobody converts it again downstream
    with pytest.raises(OptionError, match="should be int, not '5'") as err:
        resolve("mlp", "gaussians", epochs="5")
    assert err.value.option == "epochs"
    with pytest.raises(OptionError, match="fixed split") as err:
        resolve("mlp", "mnist", data_seed=1)
    assert resolve("mlp", "gaussians", seed=None).training.seed == 0  # None: not given
    assert resolve("mlp", "gaussians", out=Path("runs")).training.out == "runs"  # a Path too


def test_a_sweep_refuses_in_the_parent_what_train_refuses():
    """The sweep's parent resolves each configuration as `train` does, before any worker."""
    from zoo.sweeps.runner import check_configurations
    from zoo.sweeps.spec import SweepSpec

    spec = SweepSpec.create("mlp", "mnist", grid={"data_seed": [1, 2]})
    with pytest.raises(OptionError, match=r"fixed split.*\(configuration 1"):
        check_configurations(spec)


def test_the_course_settings_are_named_listable_presets():
    from zoo.datasets.registry import load_dataset
    from zoo.errors import UnknownNameError

    names = [preset.name for preset in zoo.list_presets()]
    assert names == ["lab1", "lab1-training", "lab2", "digits"]
    assert dict(zoo.get_preset("lab2").options)["momentum"] == 0.9
    with pytest.raises(UnknownNameError, match="did you mean lab1"):
        zoo.get_preset("lab-1")
    digits = load_dataset("digits")
    assert digits.presets() == [("every model", "digits", {"lr": 0.1, "epochs": 200})]
    assert digits.defaults_for("mlp") == dict(zoo.get_preset("digits").options)


def test_the_engine_pages_examples_run_as_written(tmp_path, monkeypatch, capsys):
    """docs/engine.md's examples (a model of one's own, arrays, Keras callbacks; the plan)
    run as a reader pastes them."""
    import re

    page = (Path(__file__).parents[1] / "docs" / "engine.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", page, re.S)
    assert len(blocks) >= 2
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block, "docs/engine.md", "exec"), {})
    printed = capsys.readouterr().out.split()
    assert printed[0] in ("stopped_early", "completed") and "adam" in printed
    assert (tmp_path / "log.csv").read_text().startswith("epoch,")


def test_a_trained_run_and_its_folder_read_back_are_one_type(tmp_path):
    """`zoo.train` returns a `Run`; `Run.from_folder` (and `zoo.open_run`) read the same type
    back, with the same history (Keras's `History` view too) and metrics; the model of a
    run read back is loaded when first asked for."""
    run = zoo.train("mlp", "gaussians", epochs=3, out=str(tmp_path), report=False, quiet=True)
    again = zoo.Run.from_folder(run.folder)
    assert type(run) is type(again) is zoo.Run and type(zoo.open_run(run.folder)) is zoo.Run
    assert again.history.history["val_loss"] == pytest.approx(run.history.history["val_loss"])
    assert again.metrics["test"]["accuracy"] == run.metrics["test"]["accuracy"]
    assert again.trained_model is None and again.model.count_params() == run.model.count_params()
    assert repr(again).startswith("Run(mlp · gaussians, completed, test accuracy ")
    unsaved = zoo.train("mlp", "gaussians", epochs=1, out=None, quiet=True)
    assert unsaved.folder is None and not unsaved.saved and unsaved.model is not None
