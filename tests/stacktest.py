"""Test helpers for the local stack: free loopback ports and a stack that is always taken down again."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from app.stack import local, probes
from app.stack.services import StackConfig


def free_ports(count: int) -> list[int]:
    """Distinct ports that are free on 127.0.0.1 right now (all bound at once, then released)."""
    with ExitStack() as stack:
        socks = [stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]


def stack_config(run_dir: Path) -> StackConfig:
    redis, temporal, temporal_http, kafka, clickhouse = free_ports(5)
    return StackConfig(run_dir=run_dir, redis_port=redis, temporal_port=temporal, temporal_http_port=temporal_http,
                       kafka_port=kafka, clickhouse_port=clickhouse)


def busy_ports(cfg: StackConfig) -> list[int]:
    return [port for port in cfg.ports().values() if probes.port_in_use(port)]


@contextmanager
def running_stack(run_dir: Path) -> Iterator[StackConfig]:
    """``abi stack up`` on free ports; ``down`` afterwards, whatever happened."""
    cfg = stack_config(run_dir)
    try:
        rows = local.up(cfg)
        assert all(r.healthy for r in rows), rows
        yield cfg
    finally:
        local.down(cfg)
