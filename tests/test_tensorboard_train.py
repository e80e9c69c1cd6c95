"""`zoo train --tensorboard` and `zoo.train(tensorboard=True)`: event files in the run folder."""

from __future__ import annotations

import struct

import pytest
from click.testing import CliRunner

import zoo
from zoo.cli import cli
from zoo.errors import OptionError


def read_events(folder):
    """Every summary value of the event files under `folder`: (split, tag, step, value)."""
    import tensorflow as tf

    found = []
    for path in sorted(folder.rglob("events.out.tfevents.*")):
        for record in tf.data.TFRecordDataset(str(path)):
            event = tf.compat.v1.Event.FromString(record.numpy())
            for value in event.summary.value:
                found.append((path.parent.name, value, event.step))
    return found


def session_hparams(value) -> dict:
    """The hyperparameters of an hparams session-start record, read back from its bytes."""
    from google.protobuf import struct_pb2

    data = value.metadata.plugin_data.content
    assert data[:3] == b"\x08\x00\x1a"  # version 0, then field 3: the session's start
    length, shift, at = 0, 0, 3
    while True:
        byte = data[at]
        length |= (byte & 0x7F) << shift
        at, shift = at + 1, shift + 7
        if byte < 0x80:
            break
    session = data[at : at + length]
    assert at + length == len(data)
    fields = struct_pb2.Struct.FromString(session[:-9])  # the map, then start_time_secs
    assert session[-9] == 0x29 and struct.unpack("<d", session[-8:])[0] > 1.7e9
    return dict(fields)


def test_cli_tensorboard_writes_the_curves_and_hyperparameters_into_the_run_folder(tmp_path):
    out = tmp_path / "runs"
    args = ["train", "mlp", "gaussians", "--epochs", "3", "--hidden", "4", "--lr", "0.05"]
    result = CliRunner().invoke(
        cli, [*args, "--out", str(out), "--no-report", "--tensorboard", "-q"]
    )
    assert result.exit_code == 0, result.output
    (folder,) = out.iterdir()
    run = zoo.Run.from_folder(folder)
    values = read_events(folder / "tensorboard")
    curves = {}
    for split, value, step in values:
        if value.tag.startswith("epoch_"):
            curves.setdefault((split, value.tag), []).append((step, value.tensor.float_val[0]))
    assert curves[("train", "epoch_loss")] == [
        (i + 1, pytest.approx(v, rel=1e-6)) for i, v in enumerate(run.history.history["loss"])
    ]
    assert [v for _, v in curves[("test", "epoch_loss")]] == pytest.approx(
        run.history.history["val_loss"], rel=1e-6
    )
    (hp,) = [v for _, v, _ in values if v.tag == "_hparams_/session_start_info"]
    assert hp.metadata.plugin_data.plugin_name == "hparams"
    got = session_hparams(hp)
    assert got["model"] == "mlp" and got["dataset"] == "gaussians"
    assert got["lr"] == pytest.approx(0.05) and got["epochs"] == 3
    assert "pid" not in got and "status" not in got


def test_library_tensorboard_needs_a_run_folder():
    with pytest.raises(OptionError) as err:
        zoo.train("mlp", "gaussians", epochs=1, out=None, tensorboard=True, quiet=True)
    assert err.value.option == "tensorboard"
