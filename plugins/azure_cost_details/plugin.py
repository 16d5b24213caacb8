"""``azure-cost-details``: cost details reports from the Azure Cost Details API; a billing month (its actual and
amortized reports, every blob) is one unit."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from app.connectors.base import (
    ConnectionFailed,
    ExtractContext,
    ExtractError,
    PermanentError,
    PluginInfo,
    SourcePlugin,
    Unit,
    add_months,
    month_end,
    months,
    output_schema,
    utc_today,
)
from plugins.azure_cost_details import settings
from plugins.azure_cost_details.client import CostDetailsClient, ReportExpired

log = logging.getLogger(__name__)

CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["scope"],
    "properties": {
        "scope": {"type": "string", "pattern": settings.SCOPE_PATTERN, "description": settings.SCOPE_HELP},
        "metrics": {"type": "array", "items": {"enum": list(settings.METRICS)}, "minItems": 1, "uniqueItems": True,
                    "default": list(settings.METRICS), "description": "reports to pull for every month"},
        "auth": {"enum": list(settings.AUTH_METHODS), "default": "client_secret",
                 "description": "client_secret (service principal), managed_identity, azure_cli, or default "
                                "(DefaultAzureCredential: environment, workload/managed identity, Azure CLI…)"},
        "tenant_id": {"type": "string", "minLength": 1},
        "client_id": {"type": "string", "minLength": 1, "description": "app id (or user-assigned identity id)"},
        "client_secret": {"type": "string", "format": "password", "minLength": 1},
        "management_url": {"type": "string", "pattern": "^https?://", "default": settings.MANAGEMENT_URL},
        "authority_host": {"type": "string", "pattern": "^https://", "default": settings.AUTHORITY_HOST},
        "ca_bundle": {"type": "string", "description": "CA bundle for TLS verification (private endpoints)"},
        "max_attempts": {"type": "integer", "minimum": 1, "maximum": 20, "default": 6},
        "max_wait_seconds": {"type": "number", "minimum": 0, "default": 900,
                             "description": "total time one call may spend waiting on 429/5xx retries"},
        "poll_timeout_seconds": {"type": "number", "minimum": 1, "default": 3600},
    },
    "allOf": [{"if": {"properties": {"auth": {"const": "client_secret"}}},
               "then": {"required": ["tenant_id", "client_id", "client_secret"]}}],
    "examples": [{"scope": "/providers/Microsoft.Billing/billingAccounts/8611537", "auth": "client_secret",
                  "tenant_id": "00000000-0000-0000-0000-000000000000",
                  "client_id": "11111111-1111-1111-1111-111111111111",
                  "client_secret": "env:AZURE_CLIENT_SECRET"}],
}


class AzureCostDetailsPlugin(SourcePlugin):
    info = PluginInfo(
        name="azure-cost-details", version="1.0.0",
        description="Azure Cost Details API: actual and amortized cost details reports for EA, MCA and "
                    "subscription scopes, one month per report, every blob of the manifest",
        author="ABI contributors", category="azure", tags=("azure", "cost-management", "api", "ea", "mca"),
        requirements=("azure-identity>=1.17", "requests>=2.31"), config_schema=CONFIG_SCHEMA,
        documentation_url="https://learn.microsoft.com/azure/cost-management-billing/automate/"
                          "get-small-usage-datasets-on-demand",
    )

    def __init__(self) -> None:
        self.client_factory: Callable[[Mapping[str, Any], bool], CostDetailsClient] = _live_client

    def test_connection(self, config: Mapping[str, Any]) -> str:
        try:
            name = self.client_factory(config, True).check_scope(config["scope"])
        except ExtractError as exc:
            raise ConnectionFailed(str(exc)) from exc
        return f"authenticated ({config['auth']}); scope {config['scope']} is readable ({name})"

    def extract(self, config: Mapping[str, Any], start: date, end: date, ctx: ExtractContext) -> Iterator[Unit]:
        today = utc_today()
        wanted = [m for m in months(start, end) if m <= today]
        oldest = add_months(today, -settings.HISTORY_MONTHS)
        if wanted and wanted[0] < oldest:
            raise PermanentError(f"the Cost Details API serves {settings.HISTORY_MONTHS} months of history (from "
                               f"{oldest:%Y-%m}); use azure-exports for {wanted[0]:%Y-%m}")
        client = self.client_factory(config, False)
        metrics = config["metrics"]
        for month in wanted:
            parts = self._month(client, config["scope"], metrics, month, min(month_end(month), today), ctx)
            # file names say actualcost_/amortizedcost_: the loader reads each file's dataset from its name
            yield Unit(key=f"{month:%Y-%m}", parts=parts, source="azure-cost",
                       dataset=metrics[0] if len(metrics) == 1 else None)

    def _month(self, client: CostDetailsClient, scope: str, metrics: list[str], month: date, last: date,
               ctx: ExtractContext) -> Iterator[Path]:
        """A billing month is one unit: every report of it (one per metric) loads together or not at all."""
        for metric in metrics:
            yield from self._parts(client, scope, metric, month, last, ctx.workdir / f"{month:%Y-%m}-{metric}", ctx)

    def _parts(self, client: CostDetailsClient, scope: str, metric: str, month: date, last: date, folder: Path,
               ctx: ExtractContext) -> Iterator[Path]:
        for attempt in range(1, settings.MAX_REPORT_REQUESTS + 1):
            try:
                files = self._fetch(client, scope, metric, month, last, folder, ctx)
                break
            except ReportExpired as exc:
                log.warning("report %s %s: %s (request %d of %d)", metric, f"{month:%Y-%m}", exc, attempt,
                            settings.MAX_REPORT_REQUESTS)
                if attempt == settings.MAX_REPORT_REQUESTS:
                    raise ExtractError(f"the {metric} report of {month:%Y-%m} expired before its blobs could be "
                                       f"downloaded, {attempt} times") from exc
        yield from files

    def _fetch(self, client: CostDetailsClient, scope: str, metric: str, month: date, last: date, folder: Path,
               ctx: ExtractContext) -> list[Path]:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        done = client.request_report(scope, metric, month, last)
        if done is None:
            return []
        files = []
        for i, blob in enumerate(done["manifest"]["blobs"]):
            dest = folder / f"{metric.lower()}_{month:%Y%m}_part{i:04d}.csv"
            size = client.download(blob["blobLink"], dest, ctx.progress)
            if blob.get("byteCount") not in (None, size):
                raise ExtractError(f"blob {i} of the {metric} report of {month:%Y-%m} is truncated: "
                                   f"{size} of {blob['byteCount']} bytes")
            files.append(_gzip_named(dest))
        return files

    def get_schema(self) -> dict[str, Any]:
        return output_schema(["azure-cost"], list(settings.METRICS), ["csv", "csv.gz"])


def _gzip_named(path: Path) -> Path:
    with open(path, "rb") as handle:
        if handle.read(2) != b"\x1f\x8b":
            return path
    return path.rename(path.with_name(path.name + ".gz"))


def _live_client(config: Mapping[str, Any], quick: bool) -> CostDetailsClient:
    from app.connectors.http import Http, LiveTransport, RetryPolicy
    from plugins.azure_cost_details.client import HttpCostDetailsClient, TokenAuth

    auth = TokenAuth(config)
    client = Http(LiveTransport(config.get("ca_bundle") or True), RetryPolicy.of(config, quick), auth=auth,
                  renew=auth.renew)
    return HttpCostDetailsClient(client, config["management_url"], config["poll_timeout_seconds"])
