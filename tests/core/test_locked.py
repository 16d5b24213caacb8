"""A warehouse shared by threads: loads run whole and one at a time; ``holding`` keeps it until the block ends."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

from app.core.locked import LockedWarehouse


class Recorder:
    """A stand-in warehouse that records the calls it gets."""

    database, embedded = "abi", False

    def __init__(self) -> None:
        self.calls: list[str] = []

    def command(self, sql, params=None):
        self.calls.append(sql)

    def close(self):
        pass


def run_later(fn) -> threading.Thread:
    thread = threading.Thread(target=fn)
    thread.start()
    return thread


def test_a_held_warehouse_waits_for_the_end_of_the_holding_block():
    process_locks: list[str] = []
    among_processes = threading.Lock()  # stands for the registry's lock

    @contextmanager
    def process_lock():
        with among_processes:
            process_locks.append("in")
            yield
            process_locks.append("out")

    wh = LockedWarehouse(Recorder(), process_lock)
    loaded = threading.Event()

    def month_a() -> None:
        with wh.holding():
            with wh.exclusive():  # the month's first load
                wh.command("load a1")
            loaded.set()
            with wh.exclusive():  # a second unit of the same month: already ours, no second acquisition
                wh.command("load a2")
            time.sleep(0.3)
            wh.command("record a")

    thread = run_later(month_a)
    assert loaded.wait(10)
    with wh.exclusive():
        wh.command("load b")
    thread.join()
    assert wh.inner.calls == ["load a1", "load a2", "record a", "load b"]
    assert process_locks == ["in", "out", "in", "out"]


def test_plain_calls_interleave_outside_a_load():
    wh = LockedWarehouse(Recorder())
    wh.command("one")
    with wh.exclusive():
        wh.command("two")
    wh.command("three")
    assert wh.inner.calls == ["one", "two", "three"]
