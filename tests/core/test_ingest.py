"""Integration tests of the bulk path on the real embedded engine: real samples, reconciliation, idempotency."""

from __future__ import annotations

import csv
import shutil
from decimal import Decimal

from abitest import csv_total, focus_rows, load, others, total

from app.core.demo import generate


def test_real_ea_actual_sample_loads_and_reconciles(wh, samples):
    path = samples / "azure" / "EA_ActualCost_Small.csv"
    result = load(wh, path)
    f = result.files[0]
    assert (f.source, f.dataset, f.error) == ("azure-cost", "ActualCost", None)
    assert f.rows_read == 11 and f.rows_loaded == 11 and f.rows_quarantined == 0
    assert total(wh, "BilledCost") == csv_total(path, "Cost")
    purchase = focus_rows(wh, "ChargeCategory, BilledCost, EffectiveCost, PricingCategory, CommitmentDiscountType",
                          "x_ChargeType = 'Purchase'")
    assert purchase == [{"ChargeCategory": "Purchase", "BilledCost": "3.25", "EffectiveCost": "0",
                         "PricingCategory": "Standard", "CommitmentDiscountType": "Reservation"}]
    dates = focus_rows(wh, "DISTINCT toString(BillingPeriodStart) AS s, toString(BillingPeriodEnd) AS e")
    assert dates == [{"s": "2023-09-01 00:00:00", "e": "2023-10-01 00:00:00"}]


def test_header_only_file_loads_nothing_without_error(wh, samples):
    result = load(wh, samples / "azure" / "EA_NoRows.csv")
    assert result.ok and result.files[0].rows_read == 0
    assert wh.scalar("SELECT count() FROM abi.focus_cost") == 0


def test_focus_spec_examples_are_read_and_every_row_accounted_for(wh, samples):
    paths = sorted((samples / "focus-spec-examples").glob("*.csv"))
    result = load(wh, *paths)
    assert result.ok
    for f in result.files:
        assert f.source == "focus" and f.rows_read > 0
        assert f.rows_read == f.rows_loaded + f.rows_quarantined
    reasons = wh.rows("SELECT DISTINCT arrayJoin(reasons) AS r FROM abi.focus_quarantine ORDER BY r")
    # partial column sets: the mandatory FOCUS columns they lack are named
    assert {"r": "BillingAccountId: mandatory value missing"} in reasons


def test_the_spec_saas_examples_written_as_dollar_amounts_load_whole(wh, samples):
    paths = sorted((samples / "focus-spec-examples").glob("saas_examples*.csv"))
    result = load(wh, *paths)
    assert result.ok and sum(f.rows_quarantined for f in result.files) == 0
    dollars = Decimal(0)
    for path in paths:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            cells = (r["BilledCost"] for r in csv.DictReader(handle))
            dollars += sum(Decimal(c.strip().lstrip("$").replace(",", "")) for c in cells)
    assert total(wh, "BilledCost") == total(wh, "EffectiveCost") == dollars == Decimal("146800")
    assert wh.rows("SELECT toString(ContractedUnitPrice) AS p, toString(BillingPeriodStart) AS b FROM abi.focus_cost "
                   "WHERE x_SourceFile LIKE '%agreements_c.csv' ORDER BY b") == [
        {"p": "20", "b": f"2025-0{m}-01 00:00:00"} for m in (4, 5, 6)]


def test_actual_and_amortized_reconcile_with_their_exports(wh, tmp_path):
    files = generate(tmp_path / "demo")
    result = load(wh, files.actual, files.amortized)
    assert result.ok
    assert total(wh, "BilledCost") == csv_total(files.actual, "CostInBillingCurrency")
    assert total(wh, "EffectiveCost") == csv_total(files.amortized, "CostInBillingCurrency")
    by_file = {f.dataset: f for f in result.files}
    assert by_file["ActualCost"].rows_loaded == 3  # reservation purchase, savings plan purchase, refund
    for f in result.files:
        assert f.rows_read == f.rows_loaded + f.rows_quarantined + f.rows_superseded


def test_load_order_does_not_matter_and_reloads_never_duplicate(wh, tmp_path):
    files = generate(tmp_path / "demo")
    load(wh, files.actual)
    actual_only = total(wh, "BilledCost")
    assert actual_only == csv_total(files.actual, "CostInBillingCurrency")
    load(wh, files.amortized)
    count = wh.scalar("SELECT count() FROM abi.focus_cost")
    billed, effective = total(wh, "BilledCost"), total(wh, "EffectiveCost")
    assert billed == actual_only and effective == csv_total(files.amortized, "CostInBillingCurrency")
    for _ in range(2):
        load(wh, files.actual, files.amortized)
        load(wh, files.actual)
    assert wh.scalar("SELECT count() FROM abi.focus_cost") == count
    assert (total(wh, "BilledCost"), total(wh, "EffectiveCost")) == (billed, effective)


def test_reload_replaces_only_its_own_scope(wh, tmp_path):
    october = generate(tmp_path / "oct")
    november = generate(tmp_path / "nov", month=__import__("datetime").date(2026, 11, 1), seed=7)
    load(wh, october.actual)
    load(wh, november.actual)
    before = total(wh, "BilledCost")
    load(wh, october.actual)
    assert total(wh, "BilledCost") == before
    periods = wh.rows("SELECT formatDateTime(BillingPeriodStart, '%Y-%m') AS p, count() AS n FROM abi.focus_cost "
                      "GROUP BY p ORDER BY p")
    assert [p["p"] for p in periods] == ["2026-10", "2026-11"]


def test_split_and_gzip_files_of_one_export_load_together(wh, tmp_path):
    files = generate(tmp_path / "demo", compress=True)
    lines = __import__("gzip").open(files.actual, "rt", encoding="utf-8-sig").read().splitlines(keepends=True)
    parts = tmp_path / "parts"
    parts.mkdir()
    half = len(lines) // 2
    for n, chunk in enumerate((lines[1:half], lines[half:])):
        with __import__("gzip").open(parts / f"part_{n}_0001.csv.gz", "wt", encoding="utf-8") as handle:
            handle.writelines([lines[0], *chunk])
    alone = load(wh, parts / "part_1_0001.csv.gz", dataset="ActualCost").files[0]
    assert len(others(alone)) == 1 and "part_0_0001.csv.gz" in others(alone)[0]
    result = load(wh, *sorted(parts.glob("*.gz")), dataset="ActualCost")
    assert result.ok and sum(f.rows_loaded for f in result.files) == len(lines) - 1
    assert not any(others(f) for f in result.files)
    assert total(wh, "BilledCost") == csv_total(files.actual, "CostInBillingCurrency")
    shutil.rmtree(parts)


def test_lineage_columns_point_at_file_and_row(wh, samples):
    path = samples / "azure" / "EA_ActualCost_Small.csv"
    result = load(wh, path)
    rows = focus_rows(wh, "x_SourceFile, x_SourceRow, x_IngestionId")
    assert [r["x_SourceRow"] for r in rows] == list(range(1, 12))
    assert {r["x_SourceFile"] for r in rows} == {str(path)}
    assert {r["x_IngestionId"] for r in rows} == {result.ingestion_id}
    assert Decimal(0) <= total(wh, "EffectiveCost")


def test_commitment_amortization_balances_its_purchases(wh, tmp_path):
    """FOCUS: per commitment, Usage EffectiveCost (used + unused) equals the Purchase BilledCost."""
    files = generate(tmp_path / "demo")
    load(wh, files.actual, files.amortized)
    rows = wh.rows(
        "SELECT CommitmentDiscountId AS id, toString(sumIf(EffectiveCost, ChargeCategory = 'Usage')) AS used, "
        "toString(sumIf(BilledCost, ChargeCategory = 'Purchase' AND ChargeClass IS NULL)) AS bought "
        "FROM abi.focus_cost WHERE CommitmentDiscountId IS NOT NULL GROUP BY id HAVING used != '0' ORDER BY id")
    assert len(rows) == 2
    for r in rows:
        assert abs(Decimal(r["used"]) - Decimal(r["bought"])) < Decimal("0.01"), r


def test_parquet_exports_are_told_actual_or_amortized_by_their_rows(wh, tmp_path):
    import pyarrow.csv as pc
    import pyarrow.parquet as pq

    files = generate(tmp_path / "demo")
    paths = []
    for n, source in enumerate((files.actual, files.amortized)):
        path = tmp_path / f"export{n}" / "20261001-20261031" / "part_0_0001.parquet"  # names say nothing
        path.parent.mkdir(parents=True)
        pq.write_table(pc.read_csv(source), path)  # typed as Azure types them: numbers, text dates
        paths.append(path)
    result = load(wh, *paths)
    assert [f.dataset for f in result.files] == ["ActualCost", "AmortizedCost"]
    assert total(wh, "BilledCost") == csv_total(files.actual, "CostInBillingCurrency")
    assert total(wh, "EffectiveCost") == csv_total(files.amortized, "CostInBillingCurrency")


def test_the_engine_reports_the_bytes_it_reads_of_a_file(wh, tmp_path):
    """What `abi ingest` shows as its `reading` bar on a terminal; a failing display never fails a load."""
    files = generate(tmp_path / "demo")
    payloads: list[dict] = []
    with wh.reporting(payloads.append):
        assert load(wh, files.actual).ok
    with wh.reporting(lambda _p: 1 / 0):
        assert load(wh, files.amortized).ok
    size = files.actual.stat().st_size
    reads = [p["read_bytes"] for p in payloads if p.get("total_bytes_to_read") == size]
    assert reads and max(reads) >= size
    payloads.clear()
    load(wh, files.actual)
    assert payloads == []  # outside the block nothing is reported
