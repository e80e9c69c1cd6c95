"""A write failure inside an atomic write is said once: "cannot write X: reason"."""

from __future__ import annotations

import pytest

from zoo.errors import WriteError
from zoo.files import atomic_folder, atomic_path


@pytest.mark.parametrize("atomic", [atomic_path, atomic_folder])
def test_a_write_error_inside_is_not_wrapped_again(tmp_path, atomic):
    target = tmp_path / "model.onnx"
    with pytest.raises(WriteError) as caught:
        with atomic(target):
            raise WriteError(target, "No space left on device")
    assert str(caught.value) == f"cannot write {target}: No space left on device"
    assert caught.value.exit_code == 74
    assert list(tmp_path.iterdir()) == []  # no part file left, nothing under the final name
