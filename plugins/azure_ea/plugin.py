"""``azure-ea``: usage details from the legacy EA reporting API (retired by Microsoft), one billing period per
unit, page by page; rows are landed under current EA export column names as actual cost."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import date
from typing import Any

from app.connectors.base import (
    ConnectionFailed,
    ExtractContext,
    ExtractError,
    PluginInfo,
    RowBatch,
    SourcePlugin,
    Unit,
    month_end,
    months,
    output_schema,
    utc_today,
)
from app.connectors.secrets import reveal
from plugins.azure_ea import settings
from plugins.azure_ea.client import EaUsageClient

CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["enrollment", "api_key"],
    "properties": {
        "enrollment": {"type": "string", "pattern": r"^\d{4,12}$", "description": "EA enrollment number"},
        "api_key": {"type": "string", "format": "password", "minLength": 1, "description": "EA API access key"},
        "base_url": {"type": "string", "pattern": "^https?://", "default": settings.BASE_URL},
        "api_version": {"enum": list(settings.API_VERSIONS), "default": "v3"},
        "billing_currency": {"type": "string", "pattern": "^[A-Z]{3}$", "default": "USD",
                             "description": "the enrollment's currency (the API rows do not carry it)"},
        "enrollment_name": {"type": "string", "default": ""},
        "ca_bundle": {"type": "string"},
        "max_attempts": {"type": "integer", "minimum": 1, "maximum": 20, "default": 6},
        "max_wait_seconds": {"type": "number", "minimum": 0, "default": 900},
    },
    "examples": [{"enrollment": "8611537", "api_key": "env:ABI_EA_API_KEY", "billing_currency": "EUR"}],
}


class AzureEaPlugin(SourcePlugin):
    info = PluginInfo(
        name="azure-ea", version="1.0.0",
        description="Legacy Enterprise Agreement reporting API (usagedetails, nextLink paging, API key): replays "
                    "of archived enrollments",
        author="ABI contributors", category="azure", tags=("azure", "ea", "legacy", "api"),
        requirements=("requests>=2.31",), config_schema=CONFIG_SCHEMA,
        documentation_url="https://learn.microsoft.com/azure/cost-management-billing/automate/"
                          "migrate-ea-usage-details-api",
        retired=True, retired_note=settings.RETIRED_NOTE,
    )

    def __init__(self) -> None:
        self.client_factory: Callable[[Mapping[str, Any], bool], EaUsageClient] = _live_client

    def test_connection(self, config: Mapping[str, Any]) -> str:
        try:
            periods = self.client_factory(config, True).billing_periods(config["enrollment"])
        except ExtractError as exc:
            raise ConnectionFailed(str(exc)) from exc
        return f"enrollment {config['enrollment']} readable: {len(periods)} billing periods"

    def extract(self, config: Mapping[str, Any], start: date, end: date, ctx: ExtractContext) -> Iterator[Unit]:
        client = self.client_factory(config, False)
        for month in months(start, end):
            if month > utc_today():
                break
            yield Unit(key=f"{month:%Y-%m}/ActualCost", parts=self._batches(client, config, month),
                       source="azure-cost", dataset="ActualCost")

    def _batches(self, client: EaUsageClient, config: Mapping[str, Any], month: date) -> Iterator[RowBatch]:
        fixed = {"BillingAccountId": config["enrollment"],
                 "BillingAccountName": config["enrollment_name"] or config["enrollment"],
                 "BillingCurrencyCode": config["billing_currency"], "BillingPeriodStartDate": month.isoformat(),
                 "BillingPeriodEndDate": month_end(month).isoformat(), "ChargeType": "Usage",
                 "Frequency": "UsageBased", "PricingModel": "OnDemand"}
        for page in client.usage_pages(config["enrollment"], month):
            yield RowBatch(settings.COLUMNS, [_row(r, fixed) for r in page])

    def get_schema(self) -> dict[str, Any]:
        schema = output_schema(["azure-cost"], ["ActualCost"], ["json pages → csv"])
        return {**schema, "columns": {"azure-cost": list(settings.COLUMNS)}}


def _row(api_row: Mapping[str, Any], fixed: Mapping[str, str]) -> dict[str, Any]:
    lowered = {k.lower(): v for k, v in api_row.items()}
    out: dict[str, Any] = dict(fixed)
    for column, field in settings.FIELDS.items():
        value = lowered.get(field.lower())
        out[column] = "" if value is None else value
    out["Date"] = str(lowered.get("date") or "")[:10]
    return out


def _live_client(config: Mapping[str, Any], quick: bool) -> EaUsageClient:
    from app.connectors.http import Http, LiveTransport, RetryPolicy
    from plugins.azure_ea.client import HttpEaUsageClient

    key = reveal(config["api_key"])
    client = Http(LiveTransport(config.get("ca_bundle") or True), RetryPolicy.of(config, quick),
                  auth=lambda: {"Authorization": f"bearer {key}"})
    return HttpEaUsageClient(client, config["base_url"], config["api_version"])
