"""Ports for test servers: a start that lost a port to another process runs again on new ports, nothing else does."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from app.testing import ports
from app.testing.ports import listening, on_free_ports, require_listening


def test_a_start_that_lost_its_port_runs_again_on_new_ones(monkeypatch) -> None:
    tried: list[list[int]] = []
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    lost = taken.getsockname()[1]
    chosen = iter([[lost]])  # the first port chosen was taken before the server bound it
    monkeypatch.setattr(ports, "free_ports", lambda count: next(chosen, None) or [0])

    def start(picked: list[int]) -> int:
        tried.append(picked)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", picked[0]))  # OSError: [Errno 98] Address already in use
            return sock.getsockname()[1]

    with taken:
        assert on_free_ports(1, start) > 0
    assert tried == [[lost], [0]]


def test_other_failures_and_the_last_attempt_are_raised() -> None:
    calls: list[list[int]] = []

    def broken(picked: list[int]) -> None:
        calls.append(picked)
        raise RuntimeError("no such binary")

    with pytest.raises(RuntimeError, match="no such binary"):
        on_free_ports(1, broken)
    assert len(calls) == 1

    def always_taken(picked: list[int]) -> None:
        calls.append(picked)
        raise RuntimeError("Address already in use")

    with pytest.raises(RuntimeError, match="already in use"):
        on_free_ports(1, always_taken, attempts=3)
    assert len(calls) == 4


def test_a_port_counts_as_held_only_by_the_process_that_listens_on_it() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        assert not listening(os.getpid(), port)  # bound, not listening
        sock.listen()
        assert listening(os.getpid(), port)
        other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        try:
            assert not listening(other.pid, port)
            with pytest.raises(RuntimeError, match="held by another process"):
                require_listening(other.pid, {"http": port})
        finally:
            other.kill()
            other.wait()
