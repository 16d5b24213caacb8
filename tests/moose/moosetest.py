"""A running Moose app for end-to-end tests: ``moose-cli dev --no-infra`` on a local stack (``abi stack``).

Moose runs on a snapshot of the project (``app/``, ``sql/``, config) in a temporary folder: edits made to the work
tree while the tests run do not trigger Moose's file-watcher reloads, and Moose's ``.moose/`` state stays out of
the work tree. ``HOME`` is temporary too (telemetry off; Moose's logs in ``$HOME/.moose``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core import settings
from app.stack import local, probes
from app.stack.services import StackConfig
from app.testing.ports import on_free_ports

PROJECT_FILES = ("app", "sql", "setup.py", "pyproject.toml", "moose.config.toml")
START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 60.0
POLL_S = 0.25


def snapshot_project(dest: Path) -> Path:
    """Copy what Moose reads of the project into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in PROJECT_FILES:
        src = settings.PROJECT_ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=ignore)
        else:
            shutil.copy2(src, dest / name)
    return dest


@dataclass
class MooseApp:
    """Moose's public HTTP server on a stack; ``query`` reads ClickHouse directly."""

    stack: StackConfig
    proc: subprocess.Popen[bytes]
    http_port: int
    management_port: int
    proxy_port: int
    project: Path
    home: Path
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def clickhouse_url(self) -> str:
        return f"http://127.0.0.1:{self.stack.clickhouse_port}"

    def ports(self) -> list[int]:
        return [self.http_port, self.management_port, self.proxy_port]

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, str]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base_url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def post(self, ingest: str, rows: Any) -> tuple[int, str]:
        return self.request("POST", f"/ingest/{ingest}", rows)

    def query(self, sql: str) -> list[dict[str, Any]]:
        params = urllib.parse.urlencode({"database": self.stack.database, "default_format": "JSONEachRow",
                                         "output_format_json_quote_decimals": "1"})
        req = urllib.request.Request(f"{self.clickhouse_url}/?{params}", data=sql.encode(), method="POST")
        with urllib.request.urlopen(req, timeout=60) as resp:
            return [json.loads(line) for line in resp.read().decode().splitlines() if line.strip()]

    def wait_for(self, sql: str, done: Callable[[list[dict[str, Any]]], bool], timeout_s: float = 90.0,
                 ) -> list[dict[str, Any]]:
        """Poll ``sql`` until ``done(rows)``; fail with Moose's log tail at the deadline."""
        deadline = time.monotonic() + timeout_s
        rows: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            rows = self.query(sql)
            if done(rows):
                return rows
            time.sleep(POLL_S)
        raise AssertionError(f"not reached in {timeout_s}s: {sql}\nlast rows: {rows[:5]}\n{self.logs()}")

    def logs(self, lines: int = 40) -> str:
        out = _tail(self.log_path, lines)
        for path in sorted((self.home / ".moose").glob("*-cli.log")):
            out += f"\n--- {path.name} ---\n" + _tail(path, lines)
        return out


def _tail(path: Path, lines: int) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def start_moose(stack: StackConfig, run_dir: Path, tables: list[str], ingest_apis: list[str]) -> MooseApp:
    """Start ``moose-cli dev --no-infra`` on ``stack``; return once ``/ready`` answers, ``tables`` exist and every
    ingest API accepts an empty batch (Moose answers 503 while it still processes its infrastructure). When another
    process took one of its ports first (Moose exits: "Port N already in use"), again on new ports."""
    project = snapshot_project(run_dir / "project")
    home = run_dir / "home"
    local.write_moose_home(home)
    log_path, tried = run_dir / "moose.log", []

    def launch(ports: list[int]) -> MooseApp:
        if tried:  # what the failed start left of Moose's state in Redis would stop its syncs from starting
            local.reset(stack)
        tried.append(ports)
        env = {**os.environ, **local.moose_env(stack, *ports), "HOME": str(home)}
        app = MooseApp(stack, _spawn(project, env, log_path), *ports, project, home, log_path)
        try:
            _await_ready(app, tables, ingest_apis)
        except BaseException:
            stop_moose(app)
            raise
        return app

    return on_free_ports(3, launch)


def _spawn(project: Path, env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with open(log_path, "wb") as log:
        return subprocess.Popen([str(Path(sys.executable).parent / "moose-cli"), "dev", "--no-infra"], cwd=project,
                                env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def _await_ready(app: MooseApp, tables: list[str], ingest_apis: list[str]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    wanted = ", ".join(f"'{t}'" for t in tables)
    sql = f"SELECT name FROM system.tables WHERE database = '{app.stack.database}' AND name IN ({wanted})"
    while time.monotonic() < deadline:
        if app.proc.poll() is not None:
            raise RuntimeError(f"moose-cli exited with {app.proc.returncode}:\n{app.logs()}")
        if (probes.http(app.base_url + "/ready") is None and len(app.query(sql)) == len(tables)
                and all(app.post(name, [])[0] == 200 for name in ingest_apis)):
            return
        time.sleep(POLL_S)
    raise TimeoutError(f"moose not ready after {START_TIMEOUT_S}s:\n{app.logs()}")


def stop_moose(app: MooseApp) -> float:
    """SIGTERM Moose (it stops its workers); SIGKILL its process group if it hangs. Returns the seconds taken."""
    started = time.monotonic()
    if app.proc.poll() is None:
        app.proc.send_signal(signal.SIGTERM)
        try:
            app.proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(app.proc.pid, signal.SIGKILL)
            app.proc.wait(10)
    _kill_leftovers(app.proc.pid)
    return time.monotonic() - started


def _kill_leftovers(pgid: int) -> None:
    """Workers Moose started and left behind (same process group) are killed, never anything else."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
