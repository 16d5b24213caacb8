"""A FOCUS dataset exported by ABI (Parquet and CSV) reads back as a FOCUS source with the same totals."""

from __future__ import annotations

from pathlib import Path

import pytest
from abitest import load, total

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
        assert (f.source, f.error) == ("azure-focus", None)  # ABI exports carry Microsoft x_ names
        assert f.rows_read == rows and f.rows_loaded == rows, f
        assert {c: total(second, c) for c in columns} == expected
        assert second.scalar("SELECT countIf(toJSONString(Tags) != '{}') FROM abi.focus_cost") == tagged
    finally:
        second.close()


def test_an_export_is_written_in_the_tables_order_and_a_failed_one_leaves_no_file(wh, tmp_path: Path):
    files = generate(tmp_path / "demo")
    load(wh, files.actual, files.amortized)
    first, second = tmp_path / "one.csv", tmp_path / "two.csv"
    assert export(wh, "csv", first) == export(wh, "csv", second) == wh.scalar("SELECT count() FROM abi.focus_cost")
    assert first.read_bytes() == second.read_bytes()  # the same dataset, the same file
    order = ("SELECT groupArray((BillingAccountId, left(toString(ChargePeriodStart), 10), ServiceCategory, "
             "ServiceName, x_SourceFile, x_SourceRow)) AS k FROM file({path:String}, CSVWithNames)")
    keys = [tuple(k) for k in wh.rows(order, {"path": str(first)})[0]["k"]]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    with pytest.raises(WarehouseError, match="throwIf|FUNCTION_THROW"):
        wh.write_file("SELECT throwIf(number = 150000) FROM numbers(200000)", "CSV", first)
    assert first.read_bytes() == second.read_bytes()  # the earlier file stays whole
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo", "one.csv", "two.csv", "warehouse"]


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
