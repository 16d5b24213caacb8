"""A loopback HTTP server for the consumption APIs over ABI's warehouse, without the Moose runtime.

It serves ``GET /api/<name>`` exactly as Moose's Python API runner does: the query string is mapped onto the
API's query model with moose-lib's own ``map_params_to_class`` (HTTP 400 with the validation message), the
registered handler is called with a client whose ``query.execute_raw`` runs on the warehouse, and the result
is written the same way (model → JSON, text as is, ``ApiResult`` → its status). For tests, the benchmark and
local use (``python -m app.apis.server``); in ``moose dev`` / ``moose prod`` Moose serves the same handlers.
"""

from __future__ import annotations

import argparse
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from clickhouse_connect.driver.binding import format_bind_value
from moose_lib.commons import EnhancedJSONEncoder
from moose_lib.dmv2 import get_api
from moose_lib.query_param import convert_pydantic_definition, map_params_to_class
from pydantic import BaseModel, ValidationError

import app.main  # noqa: F401 - registers the APIs
from app.apis.openapi import openapi
from app.core.staging import drop_stale_stages
from app.core.warehouse import Warehouse, open_warehouse
from app.workflows.store import ensure_workflow_schema

log = logging.getLogger(__name__)


class WarehouseQueryClient:
    """The part of Moose's ``QueryClient`` the handlers use, on an ABI warehouse (one query at a time)."""

    def __init__(self, wh: Warehouse) -> None:
        self.wh = wh
        self.lock = threading.Lock()

    def execute_raw(self, sql: str, parameters: dict[str, Any] | None, row_type: Any = None) -> list[dict]:
        params = {k: format_bind_value(v) for k, v in (parameters or {}).items()}
        with self.lock:
            return self.wh.rows(sql, params)


class WarehouseClient:
    """Stands in for ``MooseClient``: ``client.query.execute_raw(sql, params)``."""

    def __init__(self, wh: Warehouse) -> None:
        self.query = WarehouseQueryClient(wh)
        self.workflow = None


def answer(client: Any, path: str, query: str) -> tuple[int, bytes, str]:
    """(status, body, content type) of ``GET path?query``, computed like Moose's API runner."""
    name = urlsplit(path).path.removeprefix("/api/").removeprefix("/consumption/").strip("/")
    api = get_api(name)
    if api is None:
        return 404, json.dumps({"error": f"API {name} not found"}).encode(), "application/json"
    try:
        params = map_params_to_class(parse_qs(query), convert_pydantic_definition(api.model_type), api.model_type)
    except (ValidationError, ValueError) as exc:
        return 400, json.dumps({"error": str(exc)}).encode(), "application/json"
    result = api.query_function(client, params)
    if isinstance(result, BaseModel):
        return 200, result.model_dump_json().encode(), "application/json"
    if hasattr(result, "status") and hasattr(result, "body"):
        return result.status, json.dumps(result.body, cls=EnhancedJSONEncoder).encode(), "application/json"
    if isinstance(result, str):
        return 200, result.encode(), "text/csv; charset=utf-8"
    return 200, json.dumps(result, cls=EnhancedJSONEncoder).encode(), "application/json"


class ApiHandler(BaseHTTPRequestHandler):
    """``GET``/``HEAD /api/<name>?…``, ``/openapi.json`` and ``/health``; CORS for browser clients (Grafana, DataLens):
    every origin may read (the APIs are read-only and take no credentials)."""

    server: ApiServer
    timeout = 30  # a connection that sends nothing for this long is closed (other clients are served meanwhile)
    CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
            "Access-Control-Allow-Headers": "*", "Access-Control-Max-Age": "86400"}

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        status, body, ctype = self._answer()
        self._send(status, ctype, body)

    def do_HEAD(self) -> None:  # noqa: N802 - http.server naming
        status, body, ctype = self._answer()
        self._send(status, ctype, body, with_body=False)

    def do_OPTIONS(self) -> None:  # noqa: N802 - http.server naming
        self._send(204, "text/plain", b"", with_body=False)

    def _answer(self) -> tuple[int, bytes, str]:
        parts = urlsplit(self.path)
        if parts.path == "/health":
            return 200, b'{"status":"healthy"}', "application/json"
        if parts.path == "/openapi.json":
            return 200, json.dumps(openapi()).encode(), "application/json"
        try:
            return answer(self.server.client, parts.path, parts.query)
        except Exception:  # noqa: BLE001 - HTTP 500, the details in the log (never to the client)
            log.exception("API request %s failed", parts.path)
            return 500, b'{"error":"internal error: see the API server\'s log"}', "application/json"

    def _send(self, status: int, ctype: str, body: bytes, with_body: bool = True) -> None:
        self.send_response(status)
        for name, value in {**self.CORS, "Content-Type": ctype, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base class signature
        """Quiet: no access log on stderr."""


class ApiServer(ThreadingHTTPServer):
    """Serves the registered APIs over one warehouse on 127.0.0.1 (``port=0`` picks a free port): a thread per
    connection (a slow client holds no other), queries one at a time (``WarehouseQueryClient``)."""

    daemon_threads = True

    def __init__(self, wh: Warehouse, port: int = 0, host: str = "127.0.0.1") -> None:
        super().__init__((host, port), ApiHandler)
        ensure_workflow_schema(wh)  # the workflows' tables answer empty before any workflow has run (as in Moose)
        self.client = WarehouseClient(wh)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> threading.Thread:
        """Serve in a daemon thread (stop with ``shutdown()``)."""
        thread = threading.Thread(target=self.serve_forever, name="abi-api", daemon=True)
        thread.start()
        return thread


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve ABI's consumption APIs on loopback over the warehouse")
    parser.add_argument("--port", type=int, default=4001)
    args = parser.parse_args(argv)
    wh = open_warehouse()
    if wh.embedded:  # held by this process alone: complete or drop what a killed load left before serving
        drop_stale_stages(wh)
    server = ApiServer(wh, args.port)
    print(f"ABI consumption APIs on {server.url}/api/<name>", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
