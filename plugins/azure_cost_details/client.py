"""Clients of the Cost Details API: the abstract interface and its HTTP implementation (live or recorded transport).

Flow (Microsoft's "Get small cost datasets on demand"): ``POST {scope}/providers/Microsoft.CostManagement/
generateCostDetailsReport`` answers ``202`` with ``Location`` and ``Retry-After``; the location is polled until it
answers ``200`` with ``status: Completed`` and a manifest whose ``blobs[].blobLink`` are SAS URLs valid until
``validTill``. ``200`` straight away (a cached report) and ``204`` (no data) are handled too.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import requests
from urllib3.exceptions import ProtocolError, ReadTimeoutError

from app.connectors import http
from app.connectors.base import ExtractError, PermanentError
from app.connectors.http import Http, failure, retry_after, same_origin
from app.connectors.secrets import reveal
from plugins.azure_cost_details import settings


class ReportExpired(ExtractError):
    """The report's links are no longer valid: request it again."""


class CostDetailsClient(ABC):
    """What the plugin needs from the Cost Details API."""

    @abstractmethod
    def check_scope(self, scope: str) -> str:
        """Read the scope through ARM (proves token, reachability and access); return its display name."""

    @abstractmethod
    def request_report(self, scope: str, metric: str, start: date, end: date) -> dict[str, Any] | None:
        """Generate a report and wait for it; the completed operation body, or None when there is no data."""

    @abstractmethod
    def download(self, blob_link: str, dest: Path, on_bytes=None) -> int:
        """Stream one blob to ``dest``; return its size. ReportExpired when the link is no longer valid."""


class HttpCostDetailsClient(CostDetailsClient):
    """The Cost Details API over HTTP (``Http`` retries 429/5xx honouring Retry-After)."""

    def __init__(self, client: Http, management_url: str, poll_timeout: float = 3600.0) -> None:
        self.http, self.base, self.poll_timeout = client, management_url.rstrip("/"), poll_timeout

    def check_scope(self, scope: str) -> str:
        version = settings.SCOPE_API_VERSIONS[scope.strip("/").split("/")[0]]
        resp = self.http.request("GET", f"{self.base}{scope}", params={"api-version": version})
        if resp.status_code != 200:
            raise failure(resp, f"reading scope {scope}")
        body = resp.json()
        return str(body.get("displayName") or body.get("properties", {}).get("displayName") or body.get("name"))

    def request_report(self, scope: str, metric: str, start: date, end: date) -> dict[str, Any] | None:
        url = f"{self.base}{scope}/providers/Microsoft.CostManagement/generateCostDetailsReport"
        body = {"metric": metric, "timePeriod": {"start": start.isoformat(), "end": end.isoformat()}}
        what = f"the {metric} report of {start:%Y-%m-%d}..{end:%Y-%m-%d}"
        resp = self.http.request("POST", url, params={"api-version": settings.API_VERSION}, json=body)
        if resp.status_code == 204:
            return None
        if resp.status_code == 200:
            return _completed(resp.json(), what)
        if resp.status_code != 202 or "Location" not in resp.headers:
            raise failure(resp, f"requesting {what}")
        return self._poll(resp, what)

    def _poll(self, resp: requests.Response, what: str) -> dict[str, Any] | None:
        """Poll the operation's ``Location`` (on the management host only) until done, within ``poll_timeout``:
        a ``Retry-After`` longer than what is left of it is cut to a last poll at the deadline."""
        location = same_origin(resp.headers["Location"], self.base, f"the Location of {what}")
        deadline = time.monotonic() + self.poll_timeout
        wait = retry_after(resp)
        while True:
            http.sleep(max(0.0, min(settings.DEFAULT_POLL_SECONDS if wait is None else wait,
                                    deadline - time.monotonic())))
            resp = self.http.request("GET", location)
            if resp.status_code == 204:
                return None
            if resp.status_code == 200:
                body = resp.json()
                if str(body.get("status", "")).lower() in ("completed", "nodatafound"):
                    return _completed(body, what)
                _fail_if_failed(body, what)
            elif resp.status_code != 202:
                raise failure(resp, f"polling {what}")
            if time.monotonic() >= deadline:
                raise ExtractError(f"{what} was not ready after {self.poll_timeout:.0f}s of polling "
                                   "(poll_timeout_seconds)")
            told = retry_after(resp)
            wait = min(settings.MAX_POLL_SECONDS, (wait or 1.0) * 2) if told is None else told

    def download(self, blob_link: str, dest: Path, on_bytes=None) -> int:
        for attempt in range(1, 4):
            resp = self.http.request("GET", blob_link, authenticate=False, stream=True)
            if resp.status_code in (401, 403):  # Storage's answer to a SAS link past its expiry
                raise ReportExpired(f"the report's download links are refused ({resp.status_code} "
                                    f"{resp.headers.get('x-ms-error-code') or 'AuthenticationFailed'})")
            if resp.status_code == 404:
                raise ReportExpired("a blob of the report is gone")
            if resp.status_code != 200:
                raise failure(resp, f"downloading blob {dest.name}")
            try:
                return _stream(resp, dest, on_bytes)
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError, ProtocolError,
                    ReadTimeoutError) as exc:
                if attempt == 3:
                    raise ExtractError(f"downloading blob {dest.name} failed 3 times: "
                                       f"{exc.__class__.__name__}") from exc
        raise AssertionError("unreachable")


def _stream(resp: requests.Response, dest: Path, on_bytes) -> int:
    """The blob's bytes as stored (a ``Content-Encoding: gzip`` blob stays gzip: ``byteCount`` counts those)."""
    size = 0
    stored = resp.raw is not None and bool(resp.headers.get("Content-Encoding"))
    chunks = (resp.raw.stream(settings.CHUNK_BYTES, decode_content=False) if stored
              else resp.iter_content(settings.CHUNK_BYTES))
    with open(dest, "wb") as out:
        for chunk in chunks:
            out.write(chunk)
            size += len(chunk)
            if on_bytes:
                on_bytes(len(chunk))
    return size


def _completed(body: dict[str, Any], what: str) -> dict[str, Any] | None:
    """The completed operation; None for ``NoDataFound`` (a scope and period without charges)."""
    if str(body.get("status", "")).lower() == "nodatafound":
        return None
    manifest = body.get("manifest") or {}
    if not isinstance(manifest.get("blobs"), list):
        raise ExtractError(f"{what}: the completed report has no manifest.blobs")
    valid_till = body.get("validTill")
    if valid_till and _parse_time(valid_till) < datetime.now(UTC):
        raise ReportExpired(f"{what} expired at {valid_till}")
    return body


def _fail_if_failed(body: dict[str, Any], what: str) -> None:
    status = str(body.get("status", "")).lower()
    if status in ("failed", "canceled", "cancelled", "timedout"):
        err = body.get("error") or {}
        raise ExtractError(f"{what}: report generation {status}: {err.get('message') or err.get('code') or ''}")


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.rstrip("Z").split(".")[0]).replace(tzinfo=UTC)


def credential(config: Mapping[str, Any]):
    """An azure-identity credential for the configured auth method (imported here: lazy)."""
    from azure import identity

    verify = config.get("ca_bundle") or True
    authority = config["authority_host"]
    custom = authority.rstrip("/") != settings.AUTHORITY_HOST
    method = config["auth"]
    if method == "client_secret":
        return identity.ClientSecretCredential(config["tenant_id"], config["client_id"],
                                               reveal(config["client_secret"]), authority=authority,
                                               disable_instance_discovery=custom, connection_verify=verify)
    if method == "managed_identity":
        return identity.ManagedIdentityCredential(client_id=config.get("client_id"), connection_verify=verify)
    if method == "azure_cli":
        return identity.AzureCliCredential(tenant_id=config.get("tenant_id") or "")
    return identity.DefaultAzureCredential(authority=authority, managed_identity_client_id=config.get("client_id"),
                                           disable_instance_discovery=custom, connection_verify=verify)


class TokenAuth:
    """The Authorization header from an azure-identity credential, which caches and refreshes its token; ``renew``
    starts from a fresh credential (a token the server calls expired before its time: clock skew, revocation)."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config, self.scope = config, config["management_url"].rstrip("/") + "/.default"
        self.cred = credential(config)

    def __call__(self) -> dict[str, str]:
        from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError

        try:
            return {"Authorization": f"Bearer {self.cred.get_token(self.scope).token}"}
        except ClientAuthenticationError as exc:  # refused by Entra (AADSTS…): trying again cannot help
            error = PermanentError if "AADSTS" in str(exc) else ExtractError
            raise error(f"authentication failed: {_first_line(exc)}") from exc
        except ServiceRequestError as exc:
            raise ExtractError(f"cannot reach the Microsoft Entra authority: {_first_line(exc)}") from exc

    def renew(self) -> None:
        self.cred = credential(self.config)


def _first_line(exc: Exception) -> str:
    text = getattr(exc, "message", None) or str(exc)
    lines = [s.strip() for s in text.splitlines() if s.strip()]
    picked = next((s for s in lines if "AADSTS" in s), lines[0] if lines else exc.__class__.__name__)
    return picked[:300]
