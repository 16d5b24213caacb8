"""Offline tests on recorded wire exchanges (tests/plugins/recordings): paging, polling and manifests."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal

import pytest
from connectortest import RECORDINGS

from app.connectors import catalog
from app.connectors.base import ExtractContext, ExtractError, RowBatch
from app.connectors.http import Http, RecordedTransport, RetryPolicy
from plugins.azure_cost_details.client import HttpCostDetailsClient
from plugins.azure_ea.client import HttpEaUsageClient

EA_PAGES = json.loads((RECORDINGS / "ea_usage_pages.json").read_text())
REPORT = json.loads((RECORDINGS / "cost_details_report.json").read_text())
MARCH = date(2025, 3, 1)


def ea_plugin(recording):
    plugin = type(catalog.get("azure-ea"))()
    transport = RecordedTransport(recording)
    plugin.client_factory = lambda config, quick: HttpEaUsageClient(Http(transport), config["base_url"])
    return plugin, transport


def ea_config(plugin):
    return plugin.validate_config({"enrollment": "8611537", "api_key": "unused-offline"})


def test_ea_pages_are_followed_by_next_link(tmp_path, waits):
    plugin, transport = ea_plugin(EA_PAGES)
    (unit,) = plugin.extract(ea_config(plugin), MARCH, MARCH, ExtractContext(tmp_path))
    batches = list(unit.parts)
    assert len(batches) == len(EA_PAGES) == len(transport.sent) == 3
    assert [len(b.rows) for b in batches] == [len(p["body"]["data"]) for p in EA_PAGES]
    assert all(isinstance(b, RowBatch) for b in batches)
    first = batches[0].rows[0]
    recorded = EA_PAGES[0]["body"]["data"][0]
    assert first["SubscriptionId"] == recorded["subscriptionGuid"] and first["Date"] == recorded["date"][:10]
    assert first["CostInBillingCurrency"] == Decimal(str(recorded["cost"]))  # exact, never through float
    assert first["BillingPeriodStartDate"] == "2025-03-01" and first["BillingPeriodEndDate"] == "2025-03-31"
    assert first["BillingAccountId"] == "8611537" and first["BillingCurrencyCode"] == "USD"


def test_ea_paging_stops_on_a_looping_next_link(tmp_path):
    pages = copy.deepcopy(EA_PAGES[:2])
    pages[1]["body"]["nextLink"] = pages[1]["url"]
    pages.append(pages[1])
    plugin, _ = ea_plugin(pages)
    (unit,) = plugin.extract(ea_config(plugin), MARCH, MARCH, ExtractContext(tmp_path))
    with pytest.raises(ExtractError, match="nextLink loops back"):
        list(unit.parts)


def test_ea_page_without_data_is_refused(tmp_path):
    pages = [copy.deepcopy(EA_PAGES[0])]
    pages[0]["body"] = {"error": "gateway timeout page"}
    plugin, _ = ea_plugin(pages)
    (unit,) = plugin.extract(ea_config(plugin), MARCH, MARCH, ExtractContext(tmp_path))
    with pytest.raises(ExtractError, match="no 'data' array"):
        list(unit.parts)


def test_cost_details_flow_from_a_recording(tmp_path, waits):
    transport = RecordedTransport(REPORT)
    client = HttpCostDetailsClient(Http(transport), "https://management.azure.com")
    done = client.request_report("/subscriptions/00000000-0000-0000-0000-000000000000", "ActualCost", MARCH,
                                 date(2025, 3, 31))
    blobs = done["manifest"]["blobs"]
    assert done["status"] == "Completed" and len(blobs) == 2
    sizes = [client.download(b["blobLink"], tmp_path / f"b{i}.csv") for i, b in enumerate(blobs)]
    assert sizes == [b["byteCount"] for b in blobs]
    assert [m for m, _ in transport.sent] == ["POST", "GET", "GET", "GET", "GET"]
    assert waits == [0.0, 0.0]  # the recorded Retry-After: 0, before each poll
    assert (tmp_path / "b0.csv").read_text().startswith("InvoiceSectionName,")


def test_a_request_that_strays_from_the_recording_fails():
    transport = RecordedTransport(REPORT)
    client = HttpCostDetailsClient(Http(transport), "https://management.azure.com")
    with pytest.raises(AssertionError, match="does not match recording"):
        client.request_report("/subscriptions/11111111-0000-0000-0000-000000000000", "ActualCost", MARCH, MARCH)


def test_backoff_is_exponential_capped_and_bounded(waits):
    answers = [{"method": "GET", "url": "https://x.example/a", "status": 503, "body": {"error": {"message": "busy"}}}
               for _ in range(8)]
    client = Http(RecordedTransport(answers), RetryPolicy(max_attempts=8, base_delay=2, max_delay=10))
    with pytest.raises(ExtractError) as err:
        client.request("GET", "https://x.example/a")
    assert "503 (busy)" in str(err.value) and "8 attempts" in str(err.value)
    caps = [2, 4, 8, 10, 10, 10, 10]
    assert len(waits) == 7 and all(cap / 2 <= w <= cap for w, cap in zip(waits, caps, strict=True))
