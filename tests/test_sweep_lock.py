"""The sweep lock: one holder at a time, however many processes ask at once."""

from __future__ import annotations

import multiprocessing as mp

import pytest

from zoo.errors import OptionError
from zoo.sweeps.folder import LOCK, Lock


def _try_lock(folder, start, done, results):
    start.wait()
    lock = Lock(folder)
    try:
        lock.acquire()
    except OptionError:
        results.put("refused")
        return
    results.put("held")
    done.wait(30)  # hold the lock until every contender has tried


def test_many_concurrent_acquirers_give_exactly_one_holder(tmp_path):
    ctx = mp.get_context("fork")
    contenders = 8
    for trial in range(5):
        folder = tmp_path / str(trial)
        folder.mkdir()
        (folder / LOCK).write_text("")  # an empty lock file, as a crash can leave
        start = ctx.Barrier(contenders)
        done = ctx.Event()
        results = ctx.Queue()
        procs = [
            ctx.Process(target=_try_lock, args=(folder, start, done, results))
            for _ in range(contenders)
        ]
        for p in procs:
            p.start()
        outcomes = [results.get(timeout=30) for _ in procs]
        done.set()
        for p in procs:
            p.join(timeout=30)
        assert outcomes.count("held") == 1, outcomes


def test_a_held_lock_names_its_holder_and_a_released_one_is_free(tmp_path):
    first = Lock(tmp_path)
    first.acquire()
    with pytest.raises(OptionError, match="already running"):
        Lock(tmp_path).acquire()
    first.release()
    second = Lock(tmp_path)
    second.acquire()
    second.release()


def test_a_lock_left_by_a_killed_process_is_free(tmp_path):
    ctx = mp.get_context("fork")
    p = ctx.Process(target=_hold_and_die, args=(tmp_path,))
    p.start()
    p.join(timeout=30)
    assert (tmp_path / LOCK).exists()
    lock = Lock(tmp_path)
    lock.acquire()
    lock.release()


def _hold_and_die(folder):
    import os

    Lock(folder).acquire()
    os._exit(9)  # no release: the kernel drops the lock with the process


def test_a_holder_caught_before_writing_its_name_keeps_the_lock(tmp_path):
    # the moment between creating the lock file and writing the holder into it
    first = Lock(tmp_path)
    first.acquire()
    (tmp_path / LOCK).write_text("")
    with pytest.raises(OptionError, match="already running"):
        Lock(tmp_path).acquire()
    first.release()
