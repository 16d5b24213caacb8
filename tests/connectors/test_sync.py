"""Connector syncs end to end (fake Azure → Cost Details plugin → core data path → FOCUS): reconciliation,
idempotence, and bad input ending in a recorded error, nothing half-loaded, and a re-run that completes."""

from __future__ import annotations

import json

import pytest
from abitest import csv_total, total
from connectortest import NoClose, cost_details_config

from app.connectors.base import ConfigError, PluginError
from app.connectors.service import ConnectorService
from app.core.loader import ensure_schema


@pytest.fixture
def service(sqlite_registry, wh):
    return ConnectorService(sqlite_registry, warehouse=lambda: NoClose(wh))


@pytest.fixture
def month(months_ago):
    return months_ago(1)


def rows(wh, dataset: str | None = None) -> int:
    where = f"WHERE x_SourceDataset = '{dataset}'" if dataset else ""
    return int(wh.scalar(f"SELECT count() FROM abi.focus_cost {where}"))


def test_sync_reconciles_and_is_idempotent_per_billing_period(service, fake_azure, monkeypatch, wh, month, waits):
    fake_azure.blobs_per_report = 2
    service.add("azure", "azure-cost-details", cost_details_config(fake_azure, monkeypatch))
    first = service.sync("azure", f"{month:%Y-%m}")
    assert first["ok"] and [(u["key"], u["status"], u["files"]) for u in first["units"]] == [
        (f"{month:%Y-%m}", "loaded", 4)]
    actual, amortized = (fake_azure.data.month_file(month, m) for m in ("ActualCost", "AmortizedCost"))
    # Microsoft's reconciliation: BilledCost = actual cost, EffectiveCost = amortized cost, per billing period
    assert total(wh, "BilledCost") == csv_total(actual, "CostInBillingCurrency")
    assert total(wh, "EffectiveCost") == csv_total(amortized, "CostInBillingCurrency")
    count = rows(wh)
    assert first["rows_loaded"] == count
    again = service.sync("azure", f"{month:%Y-%m}")
    assert again["ok"] and rows(wh) == count and total(wh, "BilledCost") == csv_total(actual, "CostInBillingCurrency")
    shown = service.show("azure")
    assert shown["last_status"] == "ok" and shown["rows_processed"] == first["rows_read"] + again["rows_read"]


def test_throttling_beyond_the_budget_is_recorded_and_a_rerun_completes(service, fake_azure, monkeypatch, wh, month,
                                                                         waits):
    ensure_schema(wh)
    service.add("azure", "azure-cost-details", cost_details_config(fake_azure, monkeypatch, max_attempts=3))
    fake_azure.throttle(1000, retry_after=60, match="generateCostDetailsReport")
    failed = service.sync("azure", f"{month:%Y-%m}")
    assert not failed["ok"] and "429" in failed["error"] and "retry budget" in failed["error"]
    shown = service.show("azure")
    assert shown["last_status"] == "failed" and "retry budget" in shown["last_error"]
    assert rows(wh) == 0
    fake_azure.faults.clear()
    done = service.sync("azure", f"{month:%Y-%m}")
    assert done["ok"] and rows(wh) > 0 and service.show("azure")["last_error"] is None


def test_a_blob_that_is_not_billing_data_loads_nothing_of_its_month(service, fake_azure, monkeypatch, wh, month,
                                                                     waits):
    ensure_schema(wh)
    fake_azure.blobs_per_report = 2
    fake_azure.bad_reports.add(f"{month:%Y-%m}/ActualCost")
    service.add("azure", "azure-cost-details", cost_details_config(fake_azure, monkeypatch))
    result = service.sync("azure", f"{month:%Y-%m}")
    (unit,) = result["units"]
    assert unit["status"] == "refused" and not result["ok"]
    assert "part0002.csv" in unit["error"] and "required columns missing: CostInBillingCurrency, Date" in unit["error"]
    assert rows(wh) == 0  # the good blobs of both reports of that month were held back too
    shown = service.show("azure")
    assert shown["last_status"] == "failed" and "part0002.csv" in shown["last_error"]
    fake_azure.bad_reports.clear()
    done = service.sync("azure", f"{month:%Y-%m}")
    assert done["ok"] and total(wh, "BilledCost") == csv_total(fake_azure.data.month_file(month, "ActualCost"),
                                                               "CostInBillingCurrency")


def test_unreachable_and_bad_credentials_end_in_recorded_errors(service, fake_azure, monkeypatch, wh, month, waits):
    service.add("gone", "azure-cost-details",
                cost_details_config(fake_azure, monkeypatch, management_url="https://127.0.0.1:9", max_attempts=2))
    result = service.sync("gone", f"{month:%Y-%m}")
    assert not result["ok"] and "cannot reach 127.0.0.1:9" in service.show("gone")["last_error"]
    monkeypatch.setenv("T_WRONG", "wrong-client-secret")
    service.add("denied", "azure-cost-details", {**cost_details_config(fake_azure, monkeypatch),
                                                  "client_secret": "env:T_WRONG"})
    result = service.sync("denied", f"{month:%Y-%m}")
    error = service.show("denied")["last_error"]
    assert not result["ok"] and "AADSTS7000215" in error and "wrong-client-secret" not in error
    assert service.test("denied")["ok"] is False


def test_answers_quoting_the_request_leave_its_sas_signature_and_token_out_of_every_record(
        service, fake_azure, monkeypatch, month, waits, caplog):
    """A blob host whose error names the request URI (the SAS link), a gateway quoting the Authorization header:
    the sync's result, the connector's last error and the log keep the host and status, never the credential."""
    service.add("azure", "azure-cost-details", cost_details_config(fake_azure, monkeypatch, max_attempts=2,
                                                                   metrics=["ActualCost"]))
    fake_azure.fail(10, 400, match="/blobs/", echo=True)
    blob = service.sync("azure", f"{month:%Y-%m}")
    blob_error = service.show("azure")["last_error"]
    fake_azure.faults.clear()
    fake_azure.fail(10, 500, match="generateCostDetailsReport", echo=True)
    with caplog.at_level("WARNING"):
        arm = service.sync("azure", f"{month:%Y-%m}")
    arm_error = service.show("azure")["last_error"]
    said = json.dumps([blob, blob_error, arm, arm_error, service.list()]) + caplog.text
    credentials = [r.sig for r in fake_azure.reports.values()] + sorted(fake_azure.tokens)
    assert len(credentials) >= 2 and not [c for c in credentials if c in said]
    assert "downloading blob actualcost_" in blob_error and "HTTP 400" in blob_error and "sig=REDACTED" in blob_error
    assert "answered 500" in arm_error and "Bearer REDACTED" in arm_error and "retry budget" in arm_error


def test_disabled_connectors_and_bad_ranges_are_refused(service, fake_azure, monkeypatch):
    service.add("azure", "azure-cost-details", cost_details_config(fake_azure, monkeypatch), enabled=False)
    with pytest.raises(PluginError, match="disabled"):
        service.sync("azure", "2026-01")
    with pytest.raises(ConfigError) as err:
        service.sync("azure", "2026-13")
    assert err.value.field == "from"
    with pytest.raises(ConfigError) as err:
        service.sync("azure", "2026-05", "2026-01")
    assert err.value.field == "to"


def test_rows_a_sync_took_back_itself_are_not_counted_loaded():
    """Separate units for actual and amortized data (an export per dataset): the amortized unit supersedes the
    actual unit's usage rows, loaded by this same sync; rows of earlier syncs it replaced are not this sync's."""
    from app.connectors.sync import SyncResult, UnitResult

    actual = UnitResult("actual", "loaded", rows_loaded=100, ingestion_id="i-1")
    earlier = [{"path": "a.csv", "ingestion_id": "i-1", "rows_replaced": 0, "rows_superseded": 60},
               {"path": "old.csv", "ingestion_id": "i-0", "rows_replaced": 40, "rows_superseded": 0}]
    amortized = UnitResult("amortized", "loaded", rows_loaded=110, ingestion_id="i-2", earlier=earlier)
    result = SyncResult("c", "azure-exports", "2026-10", "2026-10", [actual, amortized])
    assert result.rows_taken_back == 60 and result.as_dict()["rows_loaded"] == 150
