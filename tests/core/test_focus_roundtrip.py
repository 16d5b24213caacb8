"""A FOCUS dataset exported by ABI (Parquet and CSV) reads back as a FOCUS source with the same totals."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from abitest import load, total, write_csv

from app.core.demo import generate
from app.core.export import export
from app.core.warehouse import EmbeddedWarehouse, WarehouseError


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_export_then_ingest_as_focus_keeps_every_row_and_total(wh, tmp_path: Path, fmt: str):
    files = generate(tmp_path / "demo")
    load(wh, files.actual, files.amortized)
    out = tmp_path / f"focus.{fmt}"
    rows = export(wh, fmt, out)
    columns = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")
    expected = {c: total(wh, c) for c in columns}
    tagged = wh.scalar("SELECT countIf(toJSONString(Tags) != '{}') FROM abi.focus_cost")
    wh.close()  # chdb: one data directory per process at a time
    second = EmbeddedWarehouse(tmp_path / "second")
    try:
        result = load(second, out)
        f = result.files[0]
        assert (f.source, f.error) == ("focus", None)  # ABI's own export, whatever x_ names it carries
        assert f.rows_read == rows and f.rows_loaded == rows, f
        assert {c: total(second, c) for c in columns} == expected
        assert second.scalar("SELECT countIf(toJSONString(Tags) != '{}') FROM abi.focus_cost") == tagged
    finally:
        second.close()


def test_an_export_is_written_month_by_month_and_a_failed_one_leaves_no_file(wh, tmp_path: Path):
    from datetime import date

    september, october = generate(tmp_path / "sep", month=date(2026, 9, 1)), generate(tmp_path / "demo")
    load(wh, october.actual, october.amortized)
    load(wh, september.actual)  # a later load of an earlier month: still written first
    first, second = tmp_path / "one.csv", tmp_path / "two.csv"
    assert export(wh, "csv", first) == export(wh, "csv", second) == wh.scalar("SELECT count() FROM abi.focus_cost")
    lines = [path.read_bytes().splitlines() for path in (first, second)]  # the same rows (a merge may reorder)
    assert lines[0][0] == lines[1][0] and sorted(lines[0]) == sorted(lines[1])
    order = ("SELECT groupArray((left(BillingPeriodStart, 7), x_SourceFile, x_SourceRow)) AS k "
             "FROM file({path:String}, CSVWithNames)")
    keys = [tuple(k) for k in wh.rows(order, {"path": str(first)})[0]["k"]]
    assert [k[0] for k in keys] == sorted(k[0] for k in keys) and len(set(keys)) == len(keys)
    earlier = first.read_bytes()
    with pytest.raises(WarehouseError, match="throwIf|FUNCTION_THROW"):
        wh.write_file("SELECT throwIf(number = 150000) FROM numbers(200000)", "CSV", first)
    assert first.read_bytes() == earlier  # the earlier file stays whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo", "one.csv", "sep", "two.csv", "warehouse"]


def test_an_export_of_one_billing_period_holds_that_month_only(wh, tmp_path: Path):
    from datetime import date

    september, october = generate(tmp_path / "sep", month=date(2026, 9, 1)), generate(tmp_path / "oct")
    load(wh, september.actual, october.actual)
    months = {r["m"]: r["n"] for r in wh.rows("SELECT formatDateTime(BillingPeriodStart, '%Y-%m') AS m, count() AS n "
                                              "FROM abi.focus_cost GROUP BY m")}
    assert set(months) == {"2026-09", "2026-10"}
    out = tmp_path / "sep.csv"
    assert export(wh, "csv", out, "2026-09") == months["2026-09"]
    periods = wh.rows("SELECT DISTINCT BillingPeriodStart AS p FROM file({f:String}, CSVWithNames)", {"f": str(out)})
    assert [r["p"] for r in periods] == ["2026-09-01T00:00:00Z"]


LINEAGE = ("x_SourceFile", "x_SourceRow", "x_IngestionId", "x_IngestedAt", "x_SourceColumns", "x_SourceFormat",
           "x_SourceDataset")
"""What a load says of itself: the export's load reads it as ``focus``, its first lineage kept in x_SourceColumns."""
AWS = {"BilledCost": "1.0", "BillingAccountId": "123", "BillingCurrency": "USD", "ChargeCategory": "Usage",
       "BillingPeriodStart": "2026-10-01T00:00:00Z", "BillingPeriodEnd": "2026-11-01T00:00:00Z",
       "ChargeDescription": "t3.micro hours", "ChargeFrequency": "Usage-Based", "ChargePeriodStart":
       "2026-10-01T00:00:00Z", "ChargePeriodEnd": "2026-10-02T00:00:00Z", "ContractedCost": "1.0",
       "EffectiveCost": "1.0", "InvoiceIssuerName": "AWS", "ListCost": "1.0", "PricingQuantity": "10",
       "PricingUnit": "Hours", "ProviderName": "AWS", "PublisherName": "AWS", "ServiceCategory": "Compute",
       "ServiceName": "Amazon Elastic Compute Cloud", "SkuId": "SKU1", "CommitmentDiscountId": "",
       "CommitmentDiscountCategory": ""}
AWS_PURCHASE = AWS | {"BilledCost": "5.0", "ChargeCategory": "Purchase", "ChargeDescription": "SP fee",
                      "ContractedCost": "5.0", "EffectiveCost": "5.0", "ListCost": "5.0", "PricingQuantity": "1",
                      "CommitmentDiscountId": "arn:aws:savingsplans::123:savingsplan/sp1", "SkuId": "SKU2",
                      "CommitmentDiscountCategory": "Spend", "ServiceName": "Savings Plans for AWS Compute usage"}
MICROSOFT = AWS | {"BillingAccountId": "/providers/Microsoft.Billing/billingAccounts/1", "ProviderName": "Microsoft",
                   "PublisherName": "Microsoft", "InvoiceIssuerName": "Microsoft", "BillingCurrency": "EUR",
                   "BillingPeriodEnd": "2026-10-31T23:59:59.999Z", "ChargePeriodEnd": "2026-10-01T23:59:59Z",
                   "ContractedCost": "1.2", "ContractedUnitPrice": "0.1", "ServiceName": "Virtual Machines",
                   "SubAccountId": "/subscriptions/s-1", "x_PricingBlockSize": "1", "x_SkuMeterId": "m",
                   "x_SkuDescription": "", "x_SkuTerm": "", "x_BillingExchangeRate": "0.9"}
MICROSOFT_PURCHASE = MICROSOFT | {"ChargeCategory": "Purchase", "BilledCost": "300", "EffectiveCost": "300",
                                  "CommitmentDiscountId": "/providers/microsoft.capacity/reservationorders/o",
                                  "CommitmentDiscountCategory": "Usage", "SkuId": "DZH318Z0BQ4L/00TG",
                                  "x_SkuMeterId": "", "x_SkuTerm": "12", "x_SkuDescription": "Reserved VM Instance",
                                  "ContractedCost": "300", "ContractedUnitPrice": "300", "PricingQuantity": "1"}


def _values(wh: EmbeddedWarehouse) -> list[tuple]:
    """Every row's FOCUS and x_ values but its lineage, in a stable order."""
    rows = wh.rows(f"SELECT * EXCEPT ({', '.join(LINEAGE)}) FROM abi.focus_cost")
    return sorted(tuple(str(v) for v in r.values()) for r in rows)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_an_abi_export_loads_again_unchanged_whatever_its_provider(tmp_path: Path, fmt: str):
    """AWS rows keep their values (no Microsoft fix: a purchase's EffectiveCost stays), and Microsoft rows (a
    FocusCost export, cost details) keep the fixes of their first load."""
    aws = write_csv(tmp_path / "aws.csv", list(AWS), [AWS, AWS_PURCHASE])
    microsoft = write_csv(tmp_path / "part_0_0001.csv", list(MICROSOFT_PURCHASE), [MICROSOFT, MICROSOFT_PURCHASE])
    files = generate(tmp_path / "demo")
    out, first = tmp_path / f"export.{fmt}", EmbeddedWarehouse(tmp_path / "first")
    try:
        result = load(first, aws, microsoft, files.actual, files.amortized)
        assert [f.source for f in result.files] == ["focus", "azure-focus", "azure-cost", "azure-cost"]
        rows, expected = export(first, fmt, out), _values(first)
    finally:
        first.close()
    second = EmbeddedWarehouse(tmp_path / "second")
    try:
        f = load(second, out).files[0]
        assert (f.source, f.error, f.rows_loaded) == ("focus", None, rows)
        got = _values(second)
    finally:
        second.close()
    assert [r for r in got if r not in expected] == []
    assert got == expected


def test_an_amount_computed_over_20_digits_is_none_and_the_export_loads_again(tmp_path: Path):
    """ListUnitPrice × PricingQuantity = 1.47e20 and ListCost / PricingQuantity = 1.2e20 fit the engine's 128 bits
    but not Decimal(38, 18): they were kept (21 digits before the point), and loading the export quarantined them."""
    day = [datetime(2024, 1, d, tzinfo=UTC) for d in (1, 2)]
    path = tmp_path / "focus.parquet"
    pq.write_table(pa.table({
        **{c: ["x", "y"] for c in ("SubAccountId", "BillingAccountId")}, "BillingCurrency": ["USD"] * 2,
        "BillingPeriodStart": [day[0]] * 2, "BillingPeriodEnd": [datetime(2024, 2, 1, tzinfo=UTC)] * 2,
        "ChargePeriodStart": [day[0]] * 2, "ChargePeriodEnd": [day[1]] * 2, "ChargeCategory": ["Usage"] * 2,
        "ProviderName": ["AWS"] * 2, "ServiceName": ["EC2"] * 2, "ServiceCategory": ["Compute"] * 2,
        "BilledCost": [1.0] * 2, "EffectiveCost": [1.0] * 2, "ContractedCost": [1.0] * 2,
        "ListCost": [0.0, 1.2e19], "ListUnitPrice": pa.array([5860570669110, None], pa.int64()),
        "PricingQuantity": pa.array([Decimal("25052984.8633277"), Decimal("0.1")], pa.decimal128(30, 15))}), path)
    out, first = tmp_path / "export.parquet", EmbeddedWarehouse(tmp_path / "first")
    try:
        assert load(first, path).files[0].rows_loaded == 2
        prices = first.rows("SELECT toString(ListCost) AS cost, ListUnitPrice FROM abi.focus_cost ORDER BY 1")
        assert prices == [{"cost": "1", "ListUnitPrice": "5860570669110"},  # at its contracted cost
                          {"cost": "12000000000000000000", "ListUnitPrice": None}]
        rows, expected = export(first, "parquet", out), _values(first)
    finally:
        first.close()
    second = EmbeddedWarehouse(tmp_path / "second")
    try:
        assert (load(second, out).files[0].rows_loaded, _values(second)) == (rows, expected)
    finally:
        second.close()
