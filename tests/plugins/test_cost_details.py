"""azure-cost-details against the loopback fake of Azure (Entra token endpoint, ARM, Cost Details API, blobs)."""

from __future__ import annotations

import csv
import gzip
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from connectortest import cost_details_config, resolved

from app.connectors import catalog
from app.connectors.base import (
    ConfigError,
    ConnectionFailed,
    ExtractContext,
    ExtractError,
    month_end,
)

REPORT = "generateCostDetailsReport"


def run(plugin, config, start, end, tmp_path: Path) -> dict[str, list[Path]]:
    units = plugin.extract(config, start, end, ExtractContext(tmp_path / "work"))
    return {u.key: list(u.parts) for u in units}


def data_rows(paths: list[Path]) -> list[list[str]]:
    rows = []
    for path in paths:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", newline="", encoding="utf-8-sig") as handle:
            rows += list(csv.reader(handle))[1:]
    return rows


@pytest.fixture
def plugin():
    return catalog.get("azure-cost-details")


def test_report_flow_multi_blob_gzip(plugin, fake_azure, monkeypatch, tmp_path, waits, months_ago):
    fake_azure.blobs_per_report, fake_azure.compress, fake_azure.polls, fake_azure.retry_after = 3, True, 2, 5
    month = months_ago(2)
    got = run(plugin, resolved(plugin, cost_details_config(fake_azure, monkeypatch)), month, month, tmp_path)
    assert list(got) == [f"{month:%Y-%m}"]  # a billing month is one unit: both reports load together
    parts = got[f"{month:%Y-%m}"]
    assert len(parts) == 6 and all(p.name.endswith(".csv.gz") for p in parts)
    for metric in ("ActualCost", "AmortizedCost"):
        mine = [p for p in parts if p.name.startswith(metric.lower() + "_")]
        with open(fake_azure.data.month_file(month, metric), encoding="utf-8-sig") as src:
            expected = sorted(list(csv.reader(src))[1:])
        assert len(mine) == 3 and sorted(data_rows(mine)) == expected  # every blob, nothing lost or doubled
    assert fake_azure.count("POST", REPORT) == 2
    assert fake_azure.count("GET", "costDetailsOperationResults") == 2 * 3  # two 202s then the 200
    assert fake_azure.count("GET", "/blobs/") == 6
    assert waits == [5.0] * 6  # the Retry-After of every 202, honoured before each poll
    assert {(r.start, r.end) for r in fake_azure.reports.values()} == {(month, month_end(month))}


def test_longer_ranges_are_chunked_per_month(plugin, fake_azure, monkeypatch, tmp_path, waits, months_ago, today):
    config = resolved(plugin, cost_details_config(fake_azure, monkeypatch, metrics=["AmortizedCost"]))
    got = run(plugin, config, months_ago(2), month_end(months_ago(0)), tmp_path)
    assert len(got) == 3
    reports = sorted(fake_azure.reports.values(), key=lambda r: r.start)
    assert [r.start for r in reports] == [months_ago(2), months_ago(1), months_ago(0)]
    for r in reports:
        assert (r.start.year, r.start.month) == (r.end.year, r.end.month) and r.metric == "AmortizedCost"
    assert reports[-1].end == min(month_end(months_ago(0)), today)  # the open month stops today


@pytest.fixture(params=["Etc/GMT-14", "Etc/GMT+12"])
def far_zone(request) -> Iterator[str]:
    """The machine's clock in UTC+14 or UTC-12: at any hour, one of the two is on another day than UTC."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield request.param
    if before is None:
        os.environ.pop("TZ")
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_the_open_month_stops_at_todays_utc_day_in_any_time_zone(plugin, fake_azure, monkeypatch, tmp_path, waits,
                                                                  far_zone, today):
    """Azure's billing days are UTC days: a machine in another zone neither asks a day that has not begun nor skips
    the first day of a month."""
    config = resolved(plugin, cost_details_config(fake_azure, monkeypatch, metrics=["ActualCost"]))
    month = today.replace(day=1)
    assert list(run(plugin, config, month, month_end(month), tmp_path)) == [f"{month:%Y-%m}"]
    assert [(r.start, r.end) for r in fake_azure.reports.values()] == [(month, today)]


def test_throttling_and_server_errors_are_retried_honouring_retry_after(plugin, fake_azure, monkeypatch, tmp_path,
                                                                        waits, months_ago):
    fake_azure.throttle(2, retry_after=7, match=REPORT)
    fake_azure.fail(1, status=500, match="/blobs/")
    fake_azure.fail(1, status=503, match="costDetailsOperationResults")
    config = resolved(plugin, cost_details_config(fake_azure, monkeypatch, metrics=["ActualCost"]))
    got = run(plugin, config, months_ago(1), months_ago(1), tmp_path)
    assert len(data_rows(next(iter(got.values())))) > 100
    assert fake_azure.count("POST", REPORT) == 3
    assert waits.count(7.0) == 2  # Retry-After of the 429s
    backoffs = [w for w in waits if w not in (0.0, 7.0)]
    assert len(backoffs) == 2 and all(0.5 <= w <= 1.0 for w in backoffs)  # 500 and 503: first backoff step


def test_throttling_beyond_the_retry_budget_fails_clearly(plugin, fake_azure, monkeypatch, tmp_path, waits, months_ago):
    fake_azure.throttle(100, retry_after=30, match=REPORT)
    config = resolved(plugin, cost_details_config(fake_azure, monkeypatch, max_attempts=4))
    with pytest.raises(ExtractError) as err:
        run(plugin, config, months_ago(1), months_ago(1), tmp_path)
    assert "429" in str(err.value) and "retry budget" in str(err.value) and "4 attempts" in str(err.value)
    assert fake_azure.count("POST", REPORT) == 4 and waits == [30.0] * 3
    fake_azure.faults.clear()
    waits.clear()
    short = resolved(plugin, cost_details_config(fake_azure, monkeypatch, max_wait_seconds=45))
    fake_azure.throttle(100, retry_after=30, match=REPORT)
    with pytest.raises(ExtractError, match="retry budget"):
        run(plugin, short, months_ago(1), months_ago(1), tmp_path)
    assert waits == [30.0]  # a second wait would pass the 45 s budget


def test_expired_reports_are_requested_again(plugin, fake_azure, monkeypatch, tmp_path, waits, months_ago):
    config = resolved(plugin, cost_details_config(fake_azure, monkeypatch, metrics=["ActualCost"]))
    fake_azure.expire(1)
    got = run(plugin, config, months_ago(1), months_ago(1), tmp_path)
    assert data_rows(next(iter(got.values())))
    assert fake_azure.count("POST", REPORT) == 2
    fake_azure.expire(3)
    with pytest.raises(ExtractError, match="expired before its blobs could be downloaded, 3 times"):
        run(plugin, config, months_ago(1), months_ago(1), tmp_path)


@pytest.mark.parametrize("scope", [
    "/providers/Microsoft.Billing/billingAccounts/8611537",
    "/providers/Microsoft.Billing/billingAccounts/8611537/enrollmentAccounts/123456",
    "/providers/Microsoft.Billing/billingAccounts/aaaa-bbbb:cccc-dddd_2019-05-31/billingProfiles/ABCD-EFGH-IJK",
    "/subscriptions/5f1c2d3e-0000-4000-8000-000000000001",
])
def test_ea_mca_and_subscription_scopes(plugin, fake_azure, monkeypatch, scope):
    config = resolved(plugin, cost_details_config(fake_azure, monkeypatch, scope=scope))
    assert scope in plugin.test_connection(config)
    fake_azure.forbidden_scopes.add(scope)
    with pytest.raises(ConnectionFailed, match="403.*permissions"):
        plugin.test_connection(config)


def test_a_malformed_scope_names_the_field(plugin):
    with pytest.raises(ConfigError) as err:
        plugin.validate_config({"scope": "/subscriptions/not-a-guid", "auth": "azure_cli"})
    assert err.value.field == "scope"
    with pytest.raises(ConfigError) as err:
        plugin.validate_config({"scope": "/subscriptions/5f1c2d3e-0000-4000-8000-000000000001"})
    assert err.value.field == "tenant_id"  # client_secret auth needs the service principal


def test_bad_credentials_and_unreachable_endpoints(plugin, fake_azure, monkeypatch, waits):
    monkeypatch.setenv("T_WRONG_SECRET", "definitely-wrong-secret")
    bad = resolved(plugin, {**cost_details_config(fake_azure, monkeypatch), "client_secret": "env:T_WRONG_SECRET"})
    with pytest.raises(ConnectionFailed) as err:
        plugin.test_connection(bad)
    assert "AADSTS7000215" in str(err.value) and "definitely-wrong-secret" not in str(err.value)
    tenant = resolved(plugin, cost_details_config(fake_azure, monkeypatch, tenant_id="other-tenant"))
    with pytest.raises(ConnectionFailed, match="AADSTS90002"):
        plugin.test_connection(tenant)
    gone = resolved(plugin, cost_details_config(fake_azure, monkeypatch, management_url="https://127.0.0.1:9"))
    with pytest.raises(ConnectionFailed, match="cannot reach 127.0.0.1:9"):
        plugin.test_connection(gone)


def test_default_credential_and_managed_identity(plugin, fake_azure, monkeypatch):
    environment = {"AZURE_TENANT_ID": fake_azure.tenant, "AZURE_CLIENT_ID": fake_azure.client_id,
                   "AZURE_CLIENT_SECRET": fake_azure.client_secret, "AZURE_AUTHORITY_HOST": fake_azure.url}
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    base = {k: v for k, v in cost_details_config(fake_azure, monkeypatch).items()
            if k not in ("tenant_id", "client_id", "client_secret")}
    assert "authenticated (default)" in plugin.test_connection(resolved(plugin, {**base, "auth": "default"}))
    monkeypatch.setenv("IDENTITY_ENDPOINT", f"{fake_azure.url}/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", fake_azure.identity_header)
    assert "authenticated (managed_identity)" in plugin.test_connection(
        resolved(plugin, {**base, "auth": "managed_identity"}))
    assert fake_azure.count("GET", "/msi/token") == 1


def test_history_is_limited_to_13_months(plugin, fake_azure, monkeypatch, tmp_path, months_ago):
    config = resolved(plugin, cost_details_config(fake_azure, monkeypatch))
    with pytest.raises(ExtractError, match="13 months of history"):
        run(plugin, config, months_ago(14), months_ago(13), tmp_path)
    assert fake_azure.count("POST", REPORT) == 0
