"""The connectors management API: JSON over HTTP for a web UI (``abi connectors serve``).

Routes (prefix ``/api/v1``): ``GET /plugins``, ``GET /plugins/{name}``, ``GET|POST /connectors``,
``GET|PATCH|DELETE /connectors/{name}``, ``POST /connectors/{name}/test``, ``POST /connectors/{name}/sync``
(``{"from": "YYYY-MM", "to": "YYYY-MM", "full": false}``), ``GET /health``. Bodies are validated; errors answer
``{"error": message, "field": name}`` with 400 (bad input), 401, 404, 409 (exists / busy), 413 or 415; configs
come back redacted. When ``ABI_API_TOKEN`` is set every call needs ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import re
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from app.connectors.base import ConfigError, PluginError
from app.connectors.registry import Conflict, NotFound, RegistryError
from app.connectors.service import Busy, ConnectorService

log = logging.getLogger(__name__)
PREFIX = "/api/v1"
MAX_BODY = 1 << 20
NEW_CONNECTOR_KEYS = {"name", "plugin", "config", "enabled"}
PATCH_KEYS = {"config", "enabled", "unset"}
SYNC_KEYS = {"from", "to", "full"}


class ApiError(Exception):
    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.field = status, field


class ManagementApi:
    """Routes a request to the connector service; returns (status, JSON body)."""

    def __init__(self, service: ConnectorService | None = None, token: str | None = None) -> None:
        self.service = service or ConnectorService()
        self.token = token if token is not None else os.environ.get("ABI_API_TOKEN") or None

    def handle(self, method: str, path: str, body: Any, auth: str) -> tuple[int, Any]:
        if self.token and not hmac.compare_digest(auth.encode(), f"Bearer {self.token}".encode()):
            raise ApiError(401, "missing or wrong bearer token")
        parts = [p for p in path.removeprefix(PREFIX).split("/") if p]
        svc = self.service
        match (method, parts):
            case ("GET", ["health"]):
                return 200, {"status": "ok"}
            case ("GET", ["plugins"]):
                return 200, svc.plugins()
            case ("GET", ["plugins", name]):
                return 200, svc.plugin(name)
            case ("GET", ["connectors"]):
                return 200, svc.list()
            case ("POST", ["connectors"]):
                data = _object(body, NEW_CONNECTOR_KEYS, required=("name", "plugin"))
                return 201, svc.add(_str(data, "name"), _str(data, "plugin"), _obj(data, "config"),
                                    _bool(data, "enabled", True))
            case ("GET", ["connectors", name]):
                return 200, svc.show(name)
            case ("PATCH", ["connectors", name]):
                data = _object(body, PATCH_KEYS)
                unset = data.get("unset", [])
                if not isinstance(unset, list) or not all(isinstance(u, str) for u in unset):
                    raise ApiError(400, "must be a list of setting names", "unset")
                enabled = _bool(data, "enabled", None)
                return 200, svc.update(name, _obj(data, "config"), enabled, unset)
            case ("DELETE", ["connectors", name]):
                svc.remove(name)
                return 204, None
            case ("POST", ["connectors", name, "test"]):
                return 200, svc.test(name)
            case ("POST", ["connectors", name, "sync"]):
                data = _object(body, SYNC_KEYS, required=("from",))
                return 200, svc.sync(name, _str(data, "from"), data.get("to"), _bool(data, "full", False))
        raise ApiError(404 if method in ("GET", "POST", "PATCH", "DELETE") else 405, f"no route {method} {path}")


def _object(body: Any, allowed: set[str], required: tuple[str, ...] = ()) -> dict[str, Any]:
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise ApiError(400, "the body must be a JSON object")
    for key in body:
        if key not in allowed:
            raise ApiError(400, f"unknown field (allowed: {', '.join(sorted(allowed))})", key)
    for key in required:
        if key not in body:
            raise ApiError(400, "is required", key)
    return body


def _str(data: dict[str, Any], key: str) -> str:
    if not isinstance(data.get(key), str) or not data[key]:
        raise ApiError(400, "must be a non-empty string", key)
    return data[key]


def _obj(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ApiError(400, "must be a JSON object", key)
    return value


def _bool(data: dict[str, Any], key: str, default: bool | None) -> bool | None:
    value = data.get(key, default)
    if value is not None and not isinstance(value, bool):
        raise ApiError(400, "must be true or false", key)
    return value


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    api: ManagementApi

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - structured log instead
        pass

    def _run(self) -> None:
        status, payload = self._answer()
        data = b"" if payload is None else json.dumps(payload, default=str).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        log.info("api method=%s path=%s status=%d", self.command, self.path.split("?")[0], status)

    def _answer(self) -> tuple[int, Any]:
        try:
            return self.api.handle(self.command, self.path.split("?")[0].rstrip("/"), self._body(),
                                   self.headers.get("Authorization", ""))
        except ApiError as exc:
            return exc.status, _error(str(exc), exc.field)
        except ConfigError as exc:
            return 400, _error(str(exc), exc.field)
        except NotFound as exc:
            return 404, _error(str(exc))
        except (Conflict, Busy) as exc:
            return 409, _error(str(exc))
        except RegistryError as exc:
            return 400, _error(str(exc), "name")
        except PluginError as exc:
            return 400, _error(str(exc))
        except Exception:  # noqa: BLE001 - never leak internals (or secrets) to the client
            log.exception("api %s %s failed", self.command, self.path.split("?")[0])
            return 500, _error("internal error (see the server log)")

    def _body(self) -> Any:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise ApiError(400, "Content-Length is not a number") from None
        if length < 0:
            raise ApiError(400, "Content-Length is negative")
        if length > MAX_BODY:
            raise ApiError(413, f"body larger than {MAX_BODY} bytes")
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        if "json" not in self.headers.get("Content-Type", "application/json"):
            raise ApiError(415, "send application/json")
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise ApiError(400, f"the body is not valid JSON ({exc})") from exc

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _run  # noqa: N815


def _error(message: str, field: str | None = None) -> dict[str, Any]:
    return {"error": message, **({"field": field} if field else {})}


def make_server(host: str, port: int, api: ManagementApi | None = None) -> ThreadingHTTPServer:
    """A threaded server for the API (port 0 picks a free one); call ``serve_forever``."""
    handler = type("Handler", (_Handler,), {"api": api or ManagementApi()})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def serve(host: str = "127.0.0.1", port: int = 8790) -> None:
    server = make_server(host, port)
    if not re.match(r"^(127\.|localhost$|::1$)", host) and not os.environ.get("ABI_API_TOKEN"):
        log.warning("serving the management API on %s without ABI_API_TOKEN: anyone who reaches it can manage "
                    "connectors", host)
    print(json.dumps({"listening": f"http://{host}:{server.server_address[1]}{PREFIX}"}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
