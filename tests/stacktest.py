"""Test helpers for the local stack: free loopback ports and a stack that is always taken down again."""

from __future__ import annotations

import http.client
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import clickhouse_connect

from app.stack import local, probes
from app.stack.services import SERVICES, StackConfig
from app.testing.ports import free_ports, on_free_ports, require_listening

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 60.0


def stack_config(run_dir: Path, ports: list[int] | None = None) -> StackConfig:
    redis, temporal, temporal_http, kafka, clickhouse = ports or free_ports(5)
    return StackConfig(run_dir=run_dir, redis_port=redis, temporal_port=temporal, temporal_http_port=temporal_http,
                       kafka_port=kafka, clickhouse_port=clickhouse)


def busy_ports(cfg: StackConfig) -> list[int]:
    return [port for port in cfg.ports().values() if probes.port_in_use(port)]


def _up(run_dir: Path, ports: list[int]) -> StackConfig:
    """``abi stack up`` on ``ports``; down again unless every service is healthy and holds its ports itself."""
    cfg = stack_config(run_dir, ports)
    try:
        rows = local.up(cfg)
        assert all(r.healthy for r in rows), rows
        records = local.load_state(cfg)
        for svc in SERVICES:
            require_listening(records[svc.name].pid, {name: port for name, port in cfg.ports().items()
                                                      if name.startswith(svc.name)})
    except BaseException:
        local.down(cfg)
        raise
    return cfg


@contextmanager
def running_stack(run_dir: Path) -> Iterator[StackConfig]:
    """``abi stack up`` on free ports (new ones when another process took one first); ``down`` afterwards."""
    cfg = on_free_ports(5, lambda ports: _up(run_dir, ports))
    try:
        yield cfg
    finally:
        local.down(cfg)


@dataclass
class Server:
    """A running server subprocess."""

    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _wait_ready(proc: subprocess.Popen[bytes], port_file: Path, log_path: Path) -> int:
    """Poll for the port file, then for /ping, until the deadline."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log_path.read_text()}")
        if port_file.exists():
            port = int(port_file.read_text())
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as resp:
                    if resp.read() == b"Ok.\n":
                        return port
            except OSError:
                pass
        time.sleep(0.05)  # polling interval, not a wait for readiness
    raise TimeoutError(f"server not ready after {START_TIMEOUT_S}s:\n{log_path.read_text()}")


@contextmanager
def run_server(data_dir: Path, work: Path) -> Iterator[Server]:
    """Start the server; on exit stop it with SIGTERM and require a clean exit."""
    port_file, log_path = work / "port", work / "server.log"
    port_file.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "app.stack.clickhouse_http", "--data-dir", str(data_dir), "--port", "0"]
    with open(log_path, "ab") as log_fh:
        proc = subprocess.Popen([*cmd, "--port-file", str(port_file)], cwd=ROOT, stderr=log_fh, stdout=log_fh)
    try:
        yield Server(proc, _wait_ready(proc, port_file, log_path), log_path)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert code == 0, log_path.read_text()


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def call(
    srv: Server,
    params: dict[str, str] | None = None,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    path: str = "/",
) -> Reply:
    """One HTTP request (POST when there is a body), errors returned rather than raised."""
    url = srv.base + path + ("?" + urllib.parse.urlencode(params) if params else "")
    method = "POST" if body is not None else "GET"
    request = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return Reply(resp.status, resp.headers, resp.read())
    except urllib.error.HTTPError as err:
        return Reply(err.code, err.headers, err.read())


def client(srv: Server, compress: bool) -> clickhouse_connect.driver.Client:
    return clickhouse_connect.get_client(host="127.0.0.1", port=srv.port, compress=compress)
