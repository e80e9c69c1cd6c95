"""Files reach the disk before their final name points at them: fsync of the file, then of
its folder after the rename (the run folder's files, exports, summaries)."""

from __future__ import annotations

import os

from zoo import files


def test_an_atomic_write_syncs_the_file_before_the_rename_and_the_folder_after(
    tmp_path, monkeypatch
):
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        return real_fsync(fd)

    def replace(src, dst):
        events.append(("replace", str(dst)))
        return real_replace(src, dst)

    monkeypatch.delenv("ZOO_NO_FSYNC", raising=False)
    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    target = tmp_path / "config.json"
    files.write_json(target, {"status": "completed"})
    kinds = [kind for kind, _ in events]
    assert kinds == ["fsync", "replace", "fsync"]
    assert ".part" in events[0][1]  # the temporary file, before the rename
    assert events[2][1] == str(tmp_path)  # the folder, after it
    assert target.read_text().strip().startswith("{")


def test_zoo_no_fsync_skips_the_syncs(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setenv("ZOO_NO_FSYNC", "1")
    monkeypatch.setattr(os, "fsync", lambda fd: calls.append(fd))
    files.write_text(tmp_path / "a.txt", "x")
    assert calls == [] and (tmp_path / "a.txt").read_text() == "x"
