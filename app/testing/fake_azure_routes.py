"""Request handling of the fake Azure (see ``fake_azure``): routing, auth checks, wire formats."""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from datetime import date
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

COST = r"(?P<scope>/.+?)/providers/Microsoft\.CostManagement"
ROUTES = [
    ("GET", r"^/(?P<tenant>[^/]+)/v2\.0/\.well-known/openid-configuration$", "openid"),
    ("GET", r"^/common/discovery/instance$", "instance_discovery"),
    ("POST", r"^/(?P<tenant>[^/]+)/oauth2/v2\.0/token$", "token"),
    ("GET", r"^/msi/token$", "managed_identity"),
    ("POST", COST + r"/generateCostDetailsReport$", "generate"),
    ("GET", COST + r"/costDetailsOperation(Results|Status)/(?P<id>[^/]+)$", "poll"),
    ("GET", r"^/blobs/(?P<id>[^/]+)/(?P<name>[^/]+)$", "blob"),
    ("GET", r"^/v3/enrollments/(?P<enrollment>[^/]+)/(billingPeriods/(?P<period>\d{6})/)?usagedetails"
            r"(?P<custom>bycustomdate)?$", "ea_usage"),
    ("GET", r"^/v3/enrollments/(?P<enrollment>[^/]+)/billingperiods$", "ea_periods"),
    ("GET", r"^(?P<scope>/subscriptions/[^/]+|/providers/Microsoft\.Billing/billingAccounts/[^/]+(/[^/]+/[^/]+)?)$",
     "scope"),
    ("POST", r"^/_fake/control$", "control"),
]
AZURE_EXPIRED = ("<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthenticationFailed</Code><Message>Server "
                 "failed to authenticate the request. Make sure the value of Authorization header is formed correctly "
                 "including the signature.</Message><AuthenticationErrorDetail>Signature not valid in the specified "
                 "time frame</AuthenticationErrorDetail></Error>")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeAzure/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    @property
    def fake(self):
        return self.server.fake  # type: ignore[attr-defined]

    def do_GET(self) -> None:  # noqa: N802
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        self.query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length else b""
        if not parts.path.startswith("/_fake/"):
            with self.fake.lock:
                self.fake.requests.append((method, parts.path))
            fault = self.fake.take_fault(parts.path)
            if fault:
                headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
                code = "TooManyRequests" if fault.status == 429 else "InternalServerError"
                quoted = f" for {method} {self.path} ({self.headers.get('Authorization')})" if fault.echo else ""
                return self.send_json(fault.status, _error(code, f"injected {fault.status}{quoted}"), headers)
        for verb, pattern, name in ROUTES:
            match = re.match(pattern, parts.path)
            if verb == method and match:
                return getattr(self, name)(**match.groupdict())
        self.send_json(404, _error("NotFound", f"no route for {method} {parts.path}"))

    # plumbing
    def send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.send_bytes(status, json.dumps(body).encode(), "application/json; charset=utf-8", headers)

    def send_bytes(self, status: int, data: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def _bearer_ok(self) -> bool:
        auth = self.headers.get("Authorization", "")
        if auth[:7].lower() == "bearer " and auth[7:] in self.fake.tokens:
            return True
        self.send_json(401, _error("InvalidAuthenticationToken", "The access token is missing or invalid."),
                       {"WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/"'})
        return False

    # Entra ID
    def openid(self, tenant: str) -> None:
        base = f"{self.fake.url}/{tenant}"
        self.send_json(200, {"token_endpoint": f"{base}/oauth2/v2.0/token", "issuer": f"{base}/v2.0",
                             "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                             "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                             "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"]})

    def instance_discovery(self) -> None:
        host = f"127.0.0.1:{self.fake.port}"
        self.send_json(200, {"tenant_discovery_endpoint": f"{self.fake.url}/{self.fake.tenant}/v2.0/.well-known/"
                             "openid-configuration", "api-version": "1.1",
                             "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}]})

    def token(self, tenant: str) -> None:
        form = {k: v[0] for k, v in parse_qs(self.body.decode()).items()}
        if tenant != self.fake.tenant:
            return self.send_json(400, _aad("invalid_request", 90002, f"Tenant '{tenant}' not found."))
        if form.get("client_id") != self.fake.client_id:
            return self.send_json(400, _aad("unauthorized_client", 700016,
                                            f"Application with identifier '{form.get('client_id')}' was not found."))
        if form.get("client_secret") != self.fake.client_secret:
            return self.send_json(401, _aad("invalid_client", 7000215, "Invalid client secret provided."))
        if not form.get("scope", "").endswith("/.default"):
            return self.send_json(400, _aad("invalid_scope", 1002012, "The provided value for scope is not valid."))
        self.send_json(200, self._new_token())

    def managed_identity(self) -> None:
        if self.headers.get("X-IDENTITY-HEADER") != self.fake.identity_header:
            return self.send_json(400, {"statusCode": 400, "message": "missing or wrong X-IDENTITY-HEADER"})
        token = self._new_token()
        self.send_json(200, {**token, "expires_on": str(int(time.time()) + 3599),
                             "resource": self.query.get("resource", ""), "client_id": self.fake.client_id})

    def _new_token(self) -> dict[str, Any]:
        token = secrets.token_urlsafe(24)
        with self.fake.lock:
            self.fake.tokens.add(token)
        return {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}

    # ARM
    def scope(self, scope: str) -> None:
        if not self._bearer_ok():
            return
        if scope in self.fake.forbidden_scopes:
            return self.send_json(403, _error("AuthorizationFailed", f"The client does not have authorization to "
                                              f"perform action 'read' over scope '{scope}'."))
        name = scope.rstrip("/").split("/")[-1]
        self.send_json(200, {"id": scope, "name": name, "properties": {"displayName": f"Fake {name}"}})

    def generate(self, scope: str) -> None:
        if not self._bearer_ok():
            return
        if scope in self.fake.forbidden_scopes:
            return self.send_json(403, _error("AuthorizationFailed", f"No access to scope '{scope}'."))
        if not self.query.get("api-version", "").startswith("20"):
            return self.send_json(400, _error("MissingApiVersionParameter", "The api-version query parameter is "
                                              "required."))
        try:
            metric, month, start, end = _report_request(json.loads(self.body or b"{}"))
        except (ValueError, KeyError, TypeError) as exc:
            return self.send_json(400, _error("BadRequest", str(exc)))
        report = self.fake.new_report(scope, metric, month, start, end)
        self._accepted(report)

    def _accepted(self, report) -> None:
        location = (f"{self.fake.url}{report.scope}/providers/Microsoft.CostManagement/costDetailsOperationResults/"
                    f"{report.id}?api-version=2022-05-01")
        self.send_bytes(202, b"", "application/json", {"Location": location,
                                                       "Retry-After": f"{self.fake.retry_after:g}"})

    def poll(self, scope: str, id: str) -> None:  # noqa: A002
        if not self._bearer_ok():
            return
        report = self.fake.reports.get(id)
        if report is None or report.scope != scope:
            return self.send_json(404, _error("NotFound", f"operation {id} not found"))
        if report.polls_left > 0:
            report.polls_left -= 1
            return self._accepted(report)
        self.fake.complete(report)
        base = f"{self.fake.url}/blobs/{report.id}"
        blobs = [{"blobLink": f"{base}/{p.name}?sv=2020-05-31&sr=b&sig={report.sig}", "byteCount": p.stat().st_size}
                 for p in report.blobs]
        body = {"start": report.start.isoformat(), "end": report.end.isoformat()}
        self.send_json(200, {
            "id": f"{scope.lstrip('/')}/providers/Microsoft.CostManagement/costDetailsOperationResults/{id}",
            "name": id, "status": "Completed", "validTill": self.fake.valid_till(report),
            "manifest": {"manifestVersion": "2022-05-01", "dataFormat": "Csv", "blobCount": len(blobs),
                         "byteCount": sum(b["byteCount"] for b in blobs), "compressData": self.fake.compress,
                         "requestContext": {"requestScope": scope.lstrip("/"),
                                            "requestBody": {"metric": report.metric, "timePeriod": body}},
                         "blobs": blobs}})

    def blob(self, id: str, name: str) -> None:  # noqa: A002
        report = self.fake.reports.get(id)
        path = next((p for p in (report.blobs if report else []) if p.name == name), None)
        if path is None:
            return self.send_bytes(404, b"<Error><Code>BlobNotFound</Code></Error>", "application/xml")
        if report.expired or self.query.get("sig") != report.sig:
            return self.send_bytes(403, AZURE_EXPIRED.encode(), "application/xml",
                                   {"x-ms-error-code": "AuthenticationFailed"})
        self.send_response(200)  # streamed: report blobs can be large
        for name, value in (("Content-Type", "application/octet-stream"), ("Content-Length", path.stat().st_size),
                            ("ETag", f'"0x{abs(hash(path.name)):X}"'), ("x-ms-blob-type", "BlockBlob")):
            self.send_header(name, str(value))
        self.end_headers()
        with open(path, "rb") as src:
            shutil.copyfileobj(src, self.wfile, 1 << 20)

    # legacy EA API
    def ea_usage(self, enrollment: str, period: str | None, custom: str | None) -> None:
        if self._ea_denied(enrollment):
            return
        try:
            rows = self._ea_rows(period, custom)
        except ValueError as exc:
            return self.send_json(400, {"error": {"code": "BadRequest", "message": str(exc)}})
        skip, size = int(self.query.get("skiptoken", 0)), self.fake.ea_page_size
        link = None
        if skip + size < len(rows):
            args = "&".join(f"{k}={v}" for k, v in self.query.items() if k != "skiptoken")
            link = f"{self.fake.url}{urlsplit(self.path).path}?{args + '&' if args else ''}skiptoken={skip + size}"
        self.send_json(200, {"id": f"usage-{enrollment}-{period or 'custom'}", "data": rows[skip:skip + size],
                             "nextLink": link})

    def ea_periods(self, enrollment: str) -> None:
        if self._ea_denied(enrollment):
            return
        from app.connectors.base import add_months, month_end, utc_today

        today = utc_today()
        months = [add_months(today, -n) for n in range(13)]
        self.send_json(200, [{"billingPeriodId": f"{m:%Y%m}", "billingStart": f"{m}T00:00:00Z",
                              "billingEnd": f"{month_end(m)}T00:00:00Z",
                              "usageDetails": f"/v3/enrollments/{enrollment}/billingPeriods/{m:%Y%m}/usagedetails"}
                             for m in months])

    def _ea_denied(self, enrollment: str) -> bool:
        auth = self.headers.get("Authorization", "")
        if auth[:7].lower() != "bearer " or auth[7:] != self.fake.ea_api_key:
            self.send_json(401, {"error": {"code": "Unauthorized", "message": "Authentication failed: "
                                           "the API key is invalid or expired."}})
            return True
        if enrollment != self.fake.enrollment:
            self.send_json(403, {"error": {"code": "Forbidden", "message": f"No access to enrollment {enrollment}."}})
            return True
        return False

    def _ea_rows(self, period: str | None, custom: str | None) -> list[dict]:
        if custom:
            return self.fake.data.ea_rows_between(date.fromisoformat(self.query["startTime"]),
                                                  date.fromisoformat(self.query["endTime"]))
        from app.connectors.base import utc_today

        month = date(int(period[:4]), int(period[4:]), 1) if period else utc_today().replace(day=1)
        return self.fake.data.ea_rows(month)

    def control(self) -> None:
        self.fake.control(json.loads(self.body or b"{}"))
        self.send_json(200, {"ok": True})


def _report_request(body: dict[str, Any]) -> tuple[str, date, date, date]:
    from app.connectors.base import month_end, utc_today

    metric = body.get("metric", "ActualCost")
    if metric not in ("ActualCost", "AmortizedCost"):
        raise ValueError(f"Invalid metric '{metric}': expected ActualCost or AmortizedCost")
    given = [k for k in ("timePeriod", "billingPeriod", "invoiceId") if k in body]
    if len(given) > 1:
        raise ValueError(f"Only one of timePeriod, billingPeriod, invoiceId may be given (got {', '.join(given)})")
    if "invoiceId" in body:
        raise ValueError("invoiceId reports are not served by this fake")
    if "billingPeriod" in body:
        text = body["billingPeriod"]
        month = date(int(text[:4]), int(text[4:6]), 1)
        return metric, month, month, month_end(month)
    period = body.get("timePeriod") or {"start": utc_today().replace(day=1).isoformat(),
                                        "end": utc_today().isoformat()}
    start, end = date.fromisoformat(period["start"]), date.fromisoformat(period["end"])
    if end < start or (end - start).days > 31:
        raise ValueError("The timePeriod must be at most one month and end after it starts")
    if (start.year, start.month) != (end.year, end.month):
        raise ValueError("This fake serves timePeriods within one calendar month")
    return metric, start.replace(day=1), start, end


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _aad(error: str, code: int, description: str) -> dict[str, Any]:
    return {"error": error, "error_description": f"AADSTS{code}: {description}", "error_codes": [code],
            "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime()), "trace_id": secrets.token_hex(8),
            "correlation_id": secrets.token_hex(8)}
