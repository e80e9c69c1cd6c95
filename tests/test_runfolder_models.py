"""A run folder's model.keras is checked against its config.json wherever a model is loaded:
a model copied in from another run, or a file that is no model, is a message naming the file
(exit 2), never a crash deep inside export, shift or serve."""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner
from run_fixtures import make_run_folder

from zoo.cli import cli
from zoo.errors import RunFolderError
from zoo.runfolder import read_run_folder


@pytest.fixture(scope="module")
def swapped(tmp_path_factory):
    """An image run holding the model of a tabular run."""
    root = tmp_path_factory.mktemp("swap")
    image = make_run_folder(root / "a", "image", with_model=True)
    tabular = make_run_folder(root / "b", "tabular", with_model=True)
    shutil.copy(tabular / "model.keras", image / "model.keras")
    return image


def test_a_model_of_another_shape_is_refused_naming_model_keras(swapped):
    with pytest.raises(RunFolderError, match=r"model\.keras does not match config\.json"):
        read_run_folder(swapped).load_model()


@pytest.mark.parametrize(
    "command",
    [["export", "--format", "savedmodel"], ["shift"], ["serve", "--port", "0"]],
)
def test_every_command_that_loads_the_model_exits_2_naming_it(swapped, tmp_path, command):
    args = [command[0], str(swapped), *command[1:]]
    if command[0] != "serve":
        args += ["--out", str(tmp_path / "out")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "model.keras does not match config.json" in result.output


def test_outputs_that_are_not_the_heads_are_refused(tmp_path):
    run = make_run_folder(tmp_path, "image", with_model=True)
    for name in ("metrics.json", "predictions.npz"):  # as a run killed before its results
        (run / name).unlink()
    config = json.loads((run / "config.json").read_text())
    config.update(num_classes=4, class_names=[*config["class_names"], "extra"])
    (run / "config.json").write_text(json.dumps(config))
    with pytest.raises(RunFolderError, match="gives 3 outputs, the run's head 4"):
        read_run_folder(run).load_model()


def test_a_file_that_is_no_model_is_called_that(tmp_path):
    run = make_run_folder(tmp_path, "image")
    (run / "model.keras").write_bytes(b"not a zip at all")
    with pytest.raises(RunFolderError, match="not a Keras model file"):
        read_run_folder(run).load_model()


@pytest.mark.parametrize("change", ["missing", "null", "empty", "huge num_classes"])
def test_a_config_without_class_names_is_a_message_naming_the_key(tmp_path, change):
    run = make_run_folder(tmp_path, "image")
    config = json.loads((run / "config.json").read_text())
    if change == "missing":
        del config["class_names"]
    elif change == "huge num_classes":
        config.update(num_classes=10**9, class_names=None)
    else:
        config["class_names"] = None if change == "null" else []
    (run / "config.json").write_text(json.dumps(config))
    result = CliRunner().invoke(cli, ["report", str(run)])
    assert result.exit_code == 2, result.output
    assert "'class_names' is missing or empty" in result.output


def test_a_config_in_a_language_the_zoo_has_not_names_config_json(tmp_path):
    import zoo

    run = make_run_folder(tmp_path, "image")
    config = json.loads((run / "config.json").read_text())
    config["lang"] = "xx"
    (run / "config.json").write_text(json.dumps(config))
    with pytest.raises(RunFolderError, match=r"config\.json: 'lang' should be one of en, ru"):
        zoo.open_run(run)
