"""``ABI_CLICKHOUSE_URL`` with a password holding ``/ # ? @``: sent whole to the server, never printed back
(``urlsplit`` read what follows such a character as the port and printed it in a traceback, or as the host in the
error)."""

from __future__ import annotations

import base64
import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.server_warehouse import ServerWarehouse

PROJECT = Path(__file__).resolve().parents[2]
PASSWORDS = ("S3cr/etPW", "S3cr#etPW", "S3cr?etPW", "S3cr@etPW", "1234/5678", "S3cr/et#P?W@x")


class _ClickHouse(http.server.BaseHTTPRequestHandler):
    """Answers every query with an empty 200, as ClickHouse's HTTP interface does a DDL; keeps the credentials."""

    seen: list[tuple[str, str]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        user, _, password = base64.b64decode(self.headers["Authorization"].split()[1]).decode().partition(":")
        self.seen.append((user, password))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def clickhouse() -> Iterator[http.server.HTTPServer]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ClickHouse)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _ClickHouse.seen.clear()
    yield server
    server.shutdown()
    server.server_close()


def test_a_password_with_url_characters_reaches_the_server_whole(clickhouse):
    port = clickhouse.server_address[1]
    for password in PASSWORDS:
        wh = ServerWarehouse(f"http://alice:{password}@127.0.0.1:{port}/billing")
        assert (wh.database, _ClickHouse.seen[-1]) == ("billing", ("alice", password))
    ServerWarehouse(f"http://alice:p%2Fw%40rd@127.0.0.1:{port}/billing")  # percent-encoded, as URLs write it
    assert _ClickHouse.seen[-1] == ("alice", "p/w@rd")


def _abi_sql(url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ABI_CLICKHOUSE_URL": url}
    return subprocess.run([sys.executable, "-m", "app.cli.main", "sql", "SELECT 1"], cwd=PROJECT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("password", PASSWORDS)
def test_an_unreachable_server_is_named_without_any_part_of_the_password(password):
    out = _abi_sql(f"http://alice:{password}@127.0.0.1:1/abi")
    said = out.stdout + out.stderr
    assert out.returncode == 1 and "cannot reach the ClickHouse server at http://127.0.0.1:1/" in said, said
    assert "Traceback" not in said and not [p for p in password.replace("#", "/").split("/") if p in said]


def test_a_port_that_is_not_a_number_is_one_line_naming_the_host():
    out = _abi_sql("http://alice:S3cr3tPW@db.example:8l23/abi")
    said = out.stdout + out.stderr
    assert out.returncode == 1 and "the port of db.example is not a number" in said, said
    assert "Traceback" not in said and "S3cr3tPW" not in said and "8l23" not in said


def test_the_moose_clickhouse_password_reaches_the_server_as_it_is(clickhouse, monkeypatch):
    from app.workflows.definitions import moose_warehouse

    monkeypatch.delenv("ABI_CLICKHOUSE_URL", raising=False)
    for key, value in (("HOST_PORT", str(clickhouse.server_address[1])), ("USER", "moose"),
                       ("PASSWORD", "S3cr/et%41#PW"), ("DB_NAME", "abi")):
        monkeypatch.setenv(f"MOOSE_CLICKHOUSE_CONFIG__{key}", value)
    moose_warehouse()
    assert _ClickHouse.seen[-1] == ("moose", "S3cr/et%41#PW")
