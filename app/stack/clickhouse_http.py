"""A ClickHouse HTTP interface over embedded chdb, for local development and tests.

moose-cli (Rust client), clickhouse-connect and curl can talk to chdb through it as if it were a
ClickHouse server: ``/ping``, queries in the URL and/or body, ``param_*`` parameters, settings as
URL parameters, gzip/deflate/lz4/zstd HTTP compression, ClickHouse's native compressed blocks
(``compress=1`` / ``decompress=1``), INSERT data in any input format, ClickHouse-style errors.
It listens on loopback only and has no authentication (user/password are accepted and ignored).

Run: ``python -m app.stack.clickhouse_http --data-dir D --port P`` (``--port 0`` picks a free port;
``--port-file F`` writes the bound port to F once the server accepts connections).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import threading
import time
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from app.core import logs
from app.stack.ch_compress import CompressionError, compress_native, encode_content, pick_encoding
from app.stack.ch_engine import KEPT_TABLES, ChdbEngine
from app.stack.ch_protocol import (
    RESERVED_PARAMS,
    ClickHouseError,
    build_request,
    content_type,
    decode_body,
    error_body,
    is_true,
    summary_header,
)

log = logging.getLogger("abi.stack.clickhouse_http")

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_TEXT = "text/plain; charset=UTF-8"
_MAX_LINE = 65537
MAX_URI_SIZE = 1 << 20
"""ClickHouse's ``http_max_uri_size``: a long query in the URL (e.g. ``INSERT … SELECT`` with a data body) fits."""
_LENGTH_REQUIRED = "The Transfer-Encoding is not chunked and there is no Content-Length header for POST request."


class ClickHouseHTTPServer(ThreadingHTTPServer):
    """Threaded HTTP server that owns one :class:`ChdbEngine`."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], engine: ChdbEngine) -> None:
        super().__init__(address, ClickHouseHandler)
        self.engine = engine

    @property
    def port(self) -> int:
        """The TCP port actually bound (useful with port 0)."""
        return int(self.server_address[1])

    def handle_error(self, request: object, client_address: object) -> None:
        """Log handler failures as structured records (a client hanging up is not an error)."""
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            log.info("client_disconnected", extra={"fields": {"error": type(exc).__name__}})
        else:
            log.exception("handler_error")


class ClickHouseHandler(BaseHTTPRequestHandler):
    """Request handler implementing the ClickHouse HTTP protocol subset."""

    protocol_version = "HTTP/1.1"
    server_version = "chdb-http"
    timeout = 120
    server: ClickHouseHTTPServer

    def setup(self) -> None:
        """No Nagle delay: a keep-alive client's next request must not wait for a delayed ACK (~40 ms)."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle_one_request(self) -> None:
        """As http.server's, but with ClickHouse's request-line limit (1 MiB) instead of 64 KiB."""
        try:
            self.raw_requestline = self.rfile.readline(MAX_URI_SIZE + 1)
            if len(self.raw_requestline) > MAX_URI_SIZE:
                self.requestline = self.request_version = self.command = ""
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            handler = getattr(self, f"do_{self.command}", None)
            if handler is None:
                self.send_error(HTTPStatus.NOT_IMPLEMENTED, f"Unsupported method ({self.command!r})")
                return
            handler()
            self.wfile.flush()
        except TimeoutError as exc:
            self.log_error("Request timed out: %r", exc)
            self.close_connection = True

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        """GET: ping, status and readonly queries; POST: any query, with the body appended to ``query``."""
        self._dispatch()

    do_POST = do_GET  # noqa: N815

    def do_HEAD(self) -> None:  # noqa: N802
        """HEAD: health checks."""
        self._send(200, b"", {"Content-Type": _TEXT}, head=True)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Access lines at debug level (queries get their own structured record)."""
        log.debug("request", extra={"fields": {"method": self.command, "status": code}})

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base class signature
        """Route http.server's own messages (protocol errors) to the module logger."""
        log.warning("http_protocol", extra={"fields": {"detail": format % args}})

    def _dispatch(self) -> None:
        """Route by path; any path other than the static ones runs a query."""
        started = time.perf_counter()
        url = urlsplit(self.path)
        params = dict(parse_qsl(url.query, keep_blank_values=True))
        try:
            body = self._read_body()
        except (ClickHouseError, ValueError) as exc:  # ValueError: malformed length or chunk size
            self.close_connection = True
            error = exc if isinstance(exc, ClickHouseError) else ClickHouseError(1000, f"Bad request body: {exc}")
            self._send_error(error, {}, started)
            return
        root = url.path == "/" and not params.get("query") and not body
        if self.command == "GET" and (root or url.path in ("/ping", "/replicas_status")):
            self._send(200, b"Ok.\n", {"Content-Type": _TEXT})
            return
        self._query(params, body, started)

    def _read_body(self) -> bytes:
        """The raw request body (Content-Length or chunked transfer encoding)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            if self.command == "POST":
                raise ClickHouseError(381, f"{_LENGTH_REQUIRED} (HTTP_LENGTH_REQUIRED)")
            return b""
        return self.rfile.read(int(length))

    def _read_chunked(self) -> bytes:
        """Decode a chunked request body, discarding trailers."""
        parts: list[bytes] = []
        while True:
            size = int(self.rfile.readline(_MAX_LINE).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline(_MAX_LINE) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline(_MAX_LINE)

    def _query(self, params: dict[str, str], body: bytes, started: float) -> None:
        """Run a query and send its result, or a ClickHouse-style error."""
        query_id = params.get("query_id") or self.headers.get("X-ClickHouse-Query-Id") or str(uuid.uuid4())
        reserved = sorted(k for k in params if k in RESERVED_PARAMS and k != "query")  # names only
        log_fields: dict[str, object] = {"query_id": query_id, "params": reserved}
        try:
            headers, payload = self._execute(params, body, log_fields)
        except (ClickHouseError, CompressionError) as exc:
            error = exc if isinstance(exc, ClickHouseError) else ClickHouseError(exc.code, str(exc))
            self._send_error(error, log_fields, started)
            return
        except Exception as exc:  # a bug must still produce a ClickHouse-style answer
            log.exception("internal_error", extra={"fields": log_fields})
            error = ClickHouseError(1001, f"{type(exc).__name__}: {exc} (STD_EXCEPTION)")
            self._send_error(error, log_fields, started)
            return
        headers["X-ClickHouse-Query-Id"] = query_id
        self._send(200, payload, headers)
        self._log_query(200, started, {**log_fields, "bytes": len(payload)})

    def _execute(
        self, params: dict[str, str], body: bytes, log_fields: dict[str, object]
    ) -> tuple[dict[str, str], bytes]:
        """Decode, run and encode one query; returns response headers and payload."""
        body = decode_body(body, self.headers.get("Content-Encoding"), params)
        request = build_request(params, self.headers, body, self.command)
        log_fields.update(kind=request.kind, settings=sorted(request.settings))
        result = self.server.engine.execute(request)
        payload = compress_native(result.data) if is_true(params.get("compress")) else result.data
        encoding = self._response_encoding(params)
        headers = {
            "Content-Type": content_type(result.fmt),
            "X-ClickHouse-Format": result.fmt,
            "X-ClickHouse-Timezone": "UTC",
            "X-ClickHouse-Summary": summary_header(result),
        }
        if encoding:
            headers["Content-Encoding"] = encoding
        return headers, encode_content(payload, encoding)

    def _response_encoding(self, params: dict[str, str]) -> str | None:
        """HTTP compression to apply, if the client enabled and accepts one."""
        if not is_true(params.get("enable_http_compression")):
            return None
        return pick_encoding(self.headers.get("Accept-Encoding", ""))

    def _send_error(self, exc: ClickHouseError, log_fields: dict[str, object], started: float) -> None:
        """Send a ClickHouse-style error: status, exception code header, ``Code: N. ...`` body."""
        headers = {
            "Content-Type": _TEXT,
            "X-ClickHouse-Exception-Code": str(exc.code),
            "X-ClickHouse-Query-Id": str(log_fields.get("query_id") or uuid.uuid4()),
        }
        self._send(exc.http_status, error_body(exc, self.server.engine.version), headers)
        self._log_query(exc.http_status, started, {**log_fields, "error_code": exc.code})

    def _send(self, status: int, payload: bytes, headers: dict[str, str], head: bool = False) -> None:
        """Write a complete response with Content-Length (keeps connections reusable)."""
        self.send_response(status)
        headers = {"X-ClickHouse-Server-Display-Name": "chdb", **headers, "Content-Length": str(len(payload))}
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(payload)

    def _log_query(self, status: int, started: float, fields: dict[str, object]) -> None:
        """One structured record per query: statement kind and setting names, never SQL or values."""
        record = {"method": self.command, "status": status, **{k: v for k, v in fields.items() if v}}
        record["ms"] = round((time.perf_counter() - started) * 1000, 2)
        level = logging.WARNING if "error_code" in fields else logging.INFO
        log.log(level, "query", extra={"fields": record})


def make_server(data_dir: str, host: str = "127.0.0.1", port: int = 0) -> ClickHouseHTTPServer:
    """Open chdb on ``data_dir`` and bind the HTTP server (loopback only; port 0 = free port)."""
    if host not in LOOPBACK_HOSTS and not host.startswith("127."):
        raise ValueError(f"refusing to listen on non-loopback host {host!r}")
    os.makedirs(data_dir, exist_ok=True)
    return ClickHouseHTTPServer((host, port), ChdbEngine(data_dir, KEPT_TABLES))


def _write_port_file(path: str, port: int) -> None:
    """Atomically write the bound port (readers never see a partial file)."""
    with open(path + ".tmp", "w", encoding="ascii") as fh:
        fh.write(str(port))
    os.replace(path + ".tmp", path)


def serve(data_dir: str, host: str = "127.0.0.1", port: int = 8123, port_file: str | None = None) -> None:
    """Serve until SIGTERM/SIGINT, then stop accepting, finish the running query and close chdb."""
    os.environ["TZ"] = "UTC"  # server timezone, read by chdb when it loads (session_timezone is set too)
    time.tzset()
    server = make_server(data_dir, host, port)

    def stop(signum: int, _frame: object) -> None:
        log.info("stopping", extra={"fields": {"signal": signum}})
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if port_file:
        _write_port_file(port_file, server.port)
    fields = {"host": host, "port": server.port, "chdb_version": server.engine.version}
    log.info("listening", extra={"fields": fields})
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        server.engine.close()
        log.info("stopped", extra={"fields": {"port": server.port}})


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="ClickHouse HTTP interface over embedded chdb")
    parser.add_argument("--data-dir", required=True, help="chdb data directory (one server per directory)")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--port", type=int, default=8123, help="TCP port (0 = any free port)")
    parser.add_argument("--port-file", help="write the bound port to this file once listening")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR")
    args = parser.parse_args(argv)
    logs.configure(args.log_level.upper())
    serve(args.data_dir, args.host, args.port, args.port_file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
