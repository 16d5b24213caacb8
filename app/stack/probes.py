"""Health probes of the local stack's services: each answers ``None`` when healthy, else what is wrong."""

from __future__ import annotations

import socket
import struct
import urllib.error
import urllib.request

TIMEOUT_S = 2.0


def _exchange(port: int, payload: bytes, expect: int) -> bytes:
    """Send ``payload`` to 127.0.0.1:port and read at least ``expect`` bytes back."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S) as sock:
        sock.sendall(payload)
        data = b""
        while len(data) < expect:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        return data


def redis(port: int) -> str | None:
    """Redis answers PING with +PONG."""
    try:
        reply = _exchange(port, b"*1\r\n$4\r\nPING\r\n", 7)
    except OSError as exc:
        return f"redis: {exc}"
    return None if reply.startswith(b"+PONG") else f"redis: unexpected reply {reply[:40]!r}"


def kafka(port: int) -> str | None:
    """The broker answers a Kafka ApiVersions (v0) request with error code 0."""
    client = b"abi-stack"
    body = struct.pack(">hhih", 18, 0, 7, len(client)) + client
    try:
        reply = _exchange(port, struct.pack(">i", len(body)) + body, 10)
    except OSError as exc:
        return f"kafka: {exc}"
    if len(reply) < 10:
        return f"kafka: short reply {reply!r}"
    _, correlation, error = struct.unpack(">iih", reply[:10])
    return None if correlation == 7 and error == 0 else f"kafka: ApiVersions error {error}"


def http(url: str, expect: bytes | None = None) -> str | None:
    """``url`` answers 200 (and, when given, a body starting with ``expect``)."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as resp:
            body = resp.read()
    except (OSError, urllib.error.URLError) as exc:
        return f"{url}: {exc}"
    if expect is not None and not body.startswith(expect):
        return f"{url}: unexpected body {body[:60]!r}"
    return None


def port_in_use(port: int) -> bool:
    """Something accepts connections on 127.0.0.1:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0
