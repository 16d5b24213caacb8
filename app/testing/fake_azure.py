"""A loopback fake of Azure speaking the documented wire protocols, for tests and benchmarks.

- Microsoft Entra ID: OpenID discovery, ``/{tenant}/oauth2/v2.0/token`` (client credentials, AADSTS errors),
  instance discovery, and an App Service managed-identity endpoint (``/msi/token``, api-version 2019-08-01).
- ARM: ``GET`` of subscription / billing scopes (the cheap connection test), bearer tokens checked.
- Cost Details API: ``POST {scope}/providers/Microsoft.CostManagement/generateCostDetailsReport`` → ``202`` +
  ``Location`` + ``Retry-After``; polling ``costDetailsOperationResults/{id}`` → ``202`` … then ``200`` with the
  manifest (``blobs[].blobLink`` SAS URLs, ``validTill``); blob downloads (``403 AuthenticationFailed`` once
  expired).
- Legacy EA reporting API: ``/v3/enrollments/{n}/[billingPeriods/{YYYYMM}/]usagedetails`` and
  ``usagedetailsbycustomdate``, ``Authorization: bearer {API key}``, pages chained by ``nextLink``.

Faults are injectable: ``throttle`` (429 + Retry-After), ``fail`` (500), ``expire`` (reports whose SAS links
have expired), ``bad_reports`` (a blob that is not billing data), multi-blob and gzip reports. HTTPS on
127.0.0.1 with a self-signed certificate (MSAL accepts https authorities only); ``ca_file`` is what clients trust.
Run standalone with ``python -m app.testing.fake_azure --port N``; ``POST /_fake/control`` sets faults.
"""

from __future__ import annotations

import json
import secrets
import ssl
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from app.testing.fake_azure_data import ReportData
from app.testing.fake_azure_routes import Handler
from app.testing.tls import self_signed


@dataclass
class Fault:
    status: int
    remaining: int
    retry_after: float | None = None
    match: str | None = None
    echo: bool = False
    """The answer's message quotes the request (its URL and Authorization), as some gateways and services do."""


@dataclass
class Report:
    id: str
    scope: str
    metric: str
    month: date
    start: date
    end: date
    polls_left: int
    expired: bool
    sig: str = field(default_factory=lambda: secrets.token_hex(8))
    blobs: list[Path] = field(default_factory=list)


class FakeAzure:
    """The fake's state and knobs; ``start()`` serves it on 127.0.0.1 (port 0 = a free one)."""

    def __init__(self, workdir: Path, *, port: int = 0, scale: int = 1, blobs_per_report: int = 1,
                 compress: bool = False, polls: int = 1, retry_after: float = 0, ea_page_size: int = 200,
                 tenant: str = "00000000-0000-4000-8000-0000000000aa", client_id: str = "abi-test-client",
                 client_secret: str = "fake-client-secret", ea_api_key: str = "fake-ea-api-key",
                 enrollment: str = "8611537", identity_header: str = "fake-identity-header") -> None:
        self.workdir, self.port = Path(workdir), port
        self.data = ReportData(self.workdir / "data", scale)
        self.blobs_per_report, self.compress = blobs_per_report, compress
        self.polls, self.retry_after = polls, retry_after
        self.ea_page_size, self.tenant, self.enrollment = ea_page_size, tenant, enrollment
        self.client_id, self.client_secret, self.ea_api_key = client_id, client_secret, ea_api_key
        self.identity_header = identity_header
        self.tokens: set[str] = set()
        self.reports: dict[str, Report] = {}
        self.requests: list[tuple[str, str]] = []
        self.faults: list[Fault] = []
        self.expire_next = 0
        self.bad_reports: set[str] = set()
        """``YYYY-MM/Metric`` whose reports get an extra blob that is not billing data."""
        self.forbidden_scopes: set[str] = set()
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle
    def start(self) -> FakeAzure:
        self.cert_file, key_file = self_signed(self.workdir / "tls")
        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert_file, key_file)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        server.fake = self  # type: ignore[attr-defined]
        self._server, self.port = server, server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="fake-azure", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeAzure:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca_file(self) -> str:
        return str(self.cert_file)

    # knobs
    def throttle(self, count: int, retry_after: float = 0, match: str | None = None) -> None:
        """The next ``count`` requests (whose path contains ``match``) answer 429 with Retry-After."""
        with self.lock:
            self.faults.append(Fault(429, count, retry_after, match))

    def fail(self, count: int, status: int = 500, match: str | None = None, echo: bool = False) -> None:
        """The next ``count`` requests (whose path contains ``match``) answer ``status`` (``echo``: quoting the
        request)."""
        with self.lock:
            self.faults.append(Fault(status, count, None, match, echo))

    def expire(self, count: int = 1) -> None:
        """The next ``count`` reports come back already expired (their blob links answer 403)."""
        with self.lock:
            self.expire_next += count

    def count(self, method: str, fragment: str) -> int:
        """How many requests of ``method`` had ``fragment`` in their path."""
        with self.lock:
            return sum(1 for m, p in self.requests if m == method and fragment in p)

    def control(self, body: dict[str, Any]) -> None:
        """Apply a ``/_fake/control`` body: {"throttle": {...}, "fail": {...}, "expire": n, "bad_reports": [...]}."""
        if "throttle" in body:
            self.throttle(**body["throttle"])
        if "fail" in body:
            self.fail(**body["fail"])
        if "expire" in body:
            self.expire(int(body["expire"]))
        self.bad_reports.update(body.get("bad_reports", []))

    # internals used by the routes
    def take_fault(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.remaining > 0 and (fault.match is None or fault.match in path):
                    fault.remaining -= 1
                    return fault
        return None

    def new_report(self, scope: str, metric: str, month: date, start: date, end: date) -> Report:
        with self.lock:
            expired = self.expire_next > 0
            self.expire_next -= 1 if expired else 0
            report = Report(secrets.token_hex(8), scope, metric, month, start, end, self.polls, expired)
            self.reports[report.id] = report
        return report

    def complete(self, report: Report) -> None:
        if report.blobs:
            return
        report.blobs = self.data.blobs(report.id, report.month, report.metric, report.start, report.end,
                                       self.blobs_per_report, self.compress)
        if f"{report.month:%Y-%m}/{report.metric}" in self.bad_reports:
            bad = report.blobs[0].parent / "part_bad.csv"
            bad.write_text("Message,Detail\nnot billing data,this blob is not a cost file\n")
            report.blobs.append(bad)

    def valid_till(self, report: Report) -> str:
        moment = datetime.now(UTC) + (timedelta(hours=-1) if report.expired else timedelta(hours=1))
        return moment.strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


def main() -> None:
    import argparse
    import tempfile
    import time

    parser = argparse.ArgumentParser(description="Serve the fake Azure on 127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--blobs", type=int, default=1)
    parser.add_argument("--compress", action="store_true")
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="fake-azure-"))
    fake = FakeAzure(workdir, port=args.port, scale=args.scale, blobs_per_report=args.blobs,
                     compress=args.compress).start()
    print(json.dumps({"url": fake.url, "ca_file": fake.ca_file, "tenant": fake.tenant, "client_id": fake.client_id}),
          flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
