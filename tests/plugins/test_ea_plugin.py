"""azure-ea (legacy EA reporting API) against the fake: nextLink paging, API key, landing and exact totals."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from abitest import total
from connectortest import ea_config, resolved

from app.connectors import catalog
from app.connectors.base import ConnectionFailed, ExtractContext, month_end
from app.connectors.secrets import seal
from app.connectors.sync import sync


@pytest.fixture
def plugin():
    return catalog.get("azure-ea")


def test_pages_follow_next_link_until_the_end(plugin, fake_azure, monkeypatch, tmp_path, months_ago):
    fake_azure.ea_page_size = 40
    month = months_ago(1)
    (unit,) = plugin.extract(resolved(plugin, ea_config(fake_azure, monkeypatch)), month, month,
                             ExtractContext(tmp_path))
    served = fake_azure.data.ea_rows(month)
    batches = list(unit.parts)
    assert len(batches) == math.ceil(len(served) / 40) == fake_azure.count("GET", "/usagedetails")
    assert sum(len(b.rows) for b in batches) == len(served)
    assert unit.source == "azure-cost" and unit.dataset == "ActualCost"


def test_api_key_and_enrollment_errors_are_clear(plugin, fake_azure, monkeypatch):
    assert "13 billing periods" in plugin.test_connection(resolved(plugin, ea_config(fake_azure, monkeypatch)))
    monkeypatch.setenv("T_BAD_EA_KEY", "expired-key")
    bad = resolved(plugin, ea_config(fake_azure, monkeypatch, api_key="env:T_BAD_EA_KEY"))
    with pytest.raises(ConnectionFailed) as err:
        plugin.test_connection(bad)
    assert "401" in str(err.value) and "check the credentials" in str(err.value) and "expired-key" not in str(err.value)
    with pytest.raises(ConnectionFailed, match="403"):
        plugin.test_connection(resolved(plugin, ea_config(fake_azure, monkeypatch, enrollment="1234567")))


def test_sync_loads_every_row_with_exact_costs(plugin, fake_azure, monkeypatch, sqlite_registry, wh, waits, months_ago):
    fake_azure.ea_page_size = 100
    fake_azure.throttle(1, retry_after=3, match="/usagedetails")  # a throttled page is retried, not lost
    month = months_ago(1)
    config = plugin.validate_config(ea_config(fake_azure, monkeypatch, billing_currency="EUR"))
    sqlite_registry.add("ea", "azure-ea", seal(plugin.info.config_schema, config))
    result = sync(sqlite_registry, wh, "ea", month, month_end(month))
    assert result.ok, result.as_dict()
    served = fake_azure.data.ea_rows(month)
    assert result.units[0].rows_read == result.units[0].rows_loaded == len(served)
    assert total(wh, "BilledCost") == sum(Decimal(str(r["cost"])) for r in served)
    assert wh.scalar("SELECT groupUniqArray(BillingCurrency) FROM abi.focus_cost") == ["EUR"]
    assert wh.scalar("SELECT groupUniqArray(formatDateTime(BillingPeriodStart, '%Y-%m')) FROM abi.focus_cost") == [
        f"{month:%Y-%m}"]
    assert 3.0 in waits
    again = sync(sqlite_registry, wh, "ea", month, month_end(month))
    assert again.ok and total(wh, "BilledCost") == sum(Decimal(str(r["cost"])) for r in served)  # no duplicates
    assert sqlite_registry.get("ea").rows_processed == 2 * len(served)
