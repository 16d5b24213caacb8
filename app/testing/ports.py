"""Loopback ports for servers started by tests, and what to do when another process takes one first.

A port found free is released before the server binds it: in between, another process (or another server of the
same start, e.g. Temporal's internal services binding ephemeral ports) can take it. ``on_free_ports`` starts a
server on new ports when its start failed because an address was in use (a bounded number of times); ``listening``
tells whether the server's own process holds a port (a probe answered by another process proves nothing).
"""

from __future__ import annotations

import logging
import os
import re
import socket
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

log = logging.getLogger("abi.testing")

PORT_ATTEMPTS = 4
ADDRESS_IN_USE = re.compile(r"already in use|address in use|errno 98|os error 98|held by another process", re.I)
"""How a start that lost a port fails: redis, Temporal, Python ("Address already in use"), tansu ("Address in
use (os error 98)"), ``abi stack up``'s own check ("ports already in use"), ``listening`` below."""
LISTEN = "0A"


def free_ports(count: int) -> list[int]:
    """Distinct ports that are free on 127.0.0.1 right now (all bound at once, then released)."""
    with ExitStack() as stack:
        socks = [stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]


def on_free_ports[T](count: int, start: Callable[[list[int]], T], attempts: int = PORT_ATTEMPTS) -> T:
    """``start(ports)`` on ``count`` free ports; again on new ports while it fails because an address was in use
    (its error says so), at most ``attempts`` times. Any other failure, or the last one, is raised."""
    for attempt in range(1, attempts + 1):
        ports = free_ports(count)
        try:
            return start(ports)
        except Exception as exc:
            if attempt == attempts or not ADDRESS_IN_USE.search(str(exc)):
                raise
            log.warning("a port of %s was taken by another process (attempt %d): %s", ports, attempt, exc)
    raise AssertionError("unreachable")


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == LISTEN and int(fields[1].rsplit(":", 1)[1], 16) == port:
            inodes.add(fields[9])
    return inodes


def listening(pid: int, port: int) -> bool:
    """Process ``pid`` itself holds a socket listening on ``port`` (IPv4), as ``/proc`` shows."""
    inodes = _listening_inodes(port)
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            return True
    return False


def require_listening(pid: int, ports: dict[str, int]) -> None:
    """Raise (saying an address is in use) when process ``pid`` does not hold each of ``ports`` itself."""
    lost = {name: port for name, port in ports.items() if not listening(pid, port)}
    if lost:
        raise RuntimeError(f"ports held by another process, not by process {pid}: {lost}")
