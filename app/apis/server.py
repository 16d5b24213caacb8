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
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from clickhouse_connect.driver.binding import format_bind_value
from moose_lib.commons import EnhancedJSONEncoder
from moose_lib.dmv2 import get_api
from moose_lib.query_param import convert_pydantic_definition, map_params_to_class
from pydantic import BaseModel, ValidationError

import app.main  # noqa: F401 - registers the APIs
from app.apis.openapi import openapi
from app.core.warehouse import Warehouse, open_warehouse
from app.workflows.store import ensure_workflow_schema


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
        return 400, str(exc).encode(), "text/plain; charset=utf-8"
    result = api.query_function(client, params)
    if isinstance(result, BaseModel):
        return 200, result.model_dump_json().encode(), "application/json"
    if hasattr(result, "status") and hasattr(result, "body"):
        return result.status, json.dumps(result.body, cls=EnhancedJSONEncoder).encode(), "application/json"
    if isinstance(result, str):
        return 200, result.encode(), "text/csv; charset=utf-8"
    return 200, json.dumps(result, cls=EnhancedJSONEncoder).encode(), "application/json"


class ApiHandler(BaseHTTPRequestHandler):
    """``GET /api/<name>?…``, ``GET /openapi.json`` and ``GET /health``."""

    server: ApiServer

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        parts = urlsplit(self.path)
        if parts.path == "/health":
            status, body, ctype = 200, b'{"status":"healthy"}', "application/json"
        elif parts.path == "/openapi.json":
            status, body, ctype = 200, json.dumps(openapi()).encode(), "application/json"
        else:
            try:
                status, body, ctype = answer(self.server.client, parts.path, parts.query)
            except Exception as exc:  # noqa: BLE001 - reported as HTTP 500 like Moose's runner
                status, body, ctype = 500, str(exc).encode(), "text/plain; charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base class signature
        """Quiet: no access log on stderr."""


class ApiServer(HTTPServer):
    """Serves the registered APIs over one warehouse on 127.0.0.1 (``port=0`` picks a free port)."""

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
    server = ApiServer(open_warehouse(), args.port)
    print(f"ABI consumption APIs on {server.url}/api/<name>", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
