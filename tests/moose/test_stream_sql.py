"""The streaming path's SQL in the embedded engine, without Moose: raw table → the two views → FOCUS / quarantine.

Checks that a row posted to the stream lands exactly as the bulk loader loads the same row from its file (same
mapping), that invalid rows reach the quarantine with their reasons and the posted row, and that the lookup
resource's setup can run again while views depend on it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamrows import declare_stream, post, posted_rows

from app.core.loader import ingest
from app.core.warehouse import EmbeddedWarehouse
from app.ingest.lookup_resource import lookup_setup, lookup_teardown

SAMPLE = Path(__file__).resolve().parents[2].parent / "shared" / "samples" / "azure" / "EA_ActualCost_Small.csv"
COMPARED = "* EXCEPT (x_IngestionId, x_IngestedAt)"


def test_streamed_rows_equal_bulk_loaded_rows(stream_wh: EmbeddedWarehouse) -> None:
    if not SAMPLE.is_file():
        pytest.skip(f"shared sample not found: {SAMPLE}")
    wh = stream_wh
    table = declare_stream(wh, "azure-cost")
    post(wh, table, posted_rows(SAMPLE, "stream"))
    wh.command("CREATE TABLE abi.streamed AS abi.focus_cost ENGINE = MergeTree ORDER BY tuple()")
    wh.command("INSERT INTO abi.streamed SELECT * FROM abi.focus_cost")
    assert wh.scalar("SELECT count() FROM abi.streamed") == 11
    assert wh.scalar("SELECT count() FROM abi.focus_quarantine") == 0

    assert ingest(wh, [SAMPLE]).ok  # the bulk path replaces the same scope with the same rows
    assert wh.scalar("SELECT count() FROM abi.focus_cost") == 11
    for left, right in (("focus_cost", "streamed"), ("streamed", "focus_cost")):
        diff = wh.rows(f"SELECT {COMPARED} FROM abi.{left} EXCEPT SELECT {COMPARED} FROM abi.{right}")
        assert diff == [], f"rows of {left} not in {right}: {diff[:1]}"


def test_invalid_rows_are_quarantined_with_reasons_and_the_posted_row(stream_wh: EmbeddedWarehouse) -> None:
    wh = stream_wh
    table = declare_stream(wh, "azure-cost")
    good = {"BillingAccountId": "8611537", "BillingCurrencyCode": "EUR", "Date": "2026-10-02",
            "CostInBillingCurrency": "2.50", "MeterCategory": "Storage", "x_SourceRow": 1}
    bad = [{"Date": "not-a-date", "CostInBillingCurrency": "abc", "x_SourceRow": 7, "x_SourceFile": "f.csv"},
           {"BillingAccountId": "1", "BillingCurrencyCode": "EURO", "Date": "2026-10-03",
            "CostInBillingCurrency": "1.5"}]
    post(wh, table, [good, *bad])
    assert wh.rows("SELECT toString(BilledCost) AS c, BillingCurrency AS cur FROM abi.focus_cost") == [
        {"c": "2.5", "cur": "EUR"}]
    rows = {r["source_file"]: r for r in wh.rows("SELECT * FROM abi.focus_quarantine")}
    assert set(rows) == {"f.csv", "ingest-api/azure_cost_rows"}
    first = rows["f.csv"]
    assert first["source_row"] == 7 and first["ingestion_id"] == "ingest-api"
    assert 'CostInBillingCurrency: not a number: "abc"' in first["reasons"]
    assert 'Date: not a date: "not-a-date"' in first["reasons"]
    assert json.loads(first["raw_row"])["CostInBillingCurrency"] == "abc"
    second = rows["ingest-api/azure_cost_rows"]
    assert 'BillingCurrency: not an ISO 4217 currency code: "EURO"' in second["reasons"]
    assert second["source_row"] > 0  # no row number posted: a content hash stands for it
    assert json.loads(second["raw_row"])["CostInBillingCurrency"] == "1.5"
    assert wh.scalar("SELECT count() FROM abi.azure_cost_rows") == 3  # the raw table keeps every posted row


def test_a_row_posted_again_adds_nothing_to_focus_or_the_quarantine(stream_wh: EmbeddedWarehouse) -> None:
    wh = stream_wh
    table = declare_stream(wh, "azure-cost")
    rows = [{"BillingAccountId": "8611537", "BillingCurrencyCode": "EUR", "Date": "2026-10-02",
             "CostInBillingCurrency": cost, "MeterCategory": "Storage", "x_SourceFile": "a.csv", "x_SourceRow": n}
            for n, cost in ((1, "2.50"), (2, "1.25"), (3, "abc"))]
    unnamed = {**rows[0], "x_SourceFile": None, "x_SourceRow": None}
    post(wh, table, [*rows, unnamed, unnamed])  # identical rows without lineage share their content hash
    for retry in ([rows[0], rows[2]], [*rows, unnamed]):
        post(wh, table, retry)
    found = wh.rows("SELECT x_SourceFile AS f, toString(BilledCost) AS c FROM abi.focus_cost ORDER BY f, c")
    assert found == [{"f": "a.csv", "c": "1.25"}, {"f": "a.csv", "c": "2.5"},
                     {"f": "ingest-api/azure_cost_rows", "c": "2.5"}]
    assert wh.rows("SELECT source_file, source_row FROM abi.focus_quarantine") == [
        {"source_file": "a.csv", "source_row": 3}]
    assert wh.scalar("SELECT count() FROM abi.azure_cost_rows") == 11  # the raw table keeps every posted row
    post(wh, table, [{**rows[1], "x_SourceRow": 4}])  # a new row of the same file still lands
    assert wh.scalar("SELECT count() FROM abi.focus_cost") == 4


@pytest.mark.parametrize("fmt", ["azure-focus", "focus"])
def test_focus_formats_stream_through_the_focus_mapping(stream_wh: EmbeddedWarehouse, fmt: str) -> None:
    wh = stream_wh
    table = declare_stream(wh, fmt)
    row = {"BilledCost": "3.0", "EffectiveCost": "2.0", "ListCost": "4", "ContractedCost": "3",
           "BillingAccountId": "BA", "BillingCurrency": "USD", "BillingPeriodStart": "2026-10-01T00:00:00Z",
           "BillingPeriodEnd": "2026-11-01T00:00:00Z", "ChargePeriodStart": "2026-10-05T00:00:00Z",
           "ChargePeriodEnd": "2026-10-06T00:00:00Z", "ChargeCategory": "Usage", "ServiceName": "Storage",
           "ServiceCategory": "Storage", "ProviderName": "Microsoft", "PublisherName": "Microsoft",
           "InvoiceIssuerName": "Microsoft", "x_SourceRow": 1}
    post(wh, table, [row, {**row, "ChargeCategory": "Nope", "x_SourceRow": 2}])
    loaded = wh.rows("SELECT toString(EffectiveCost) AS e, x_SourceFormat AS f, x_SourceDataset AS d "
                     "FROM abi.focus_cost")
    assert loaded == [{"e": "2", "f": fmt, "d": "FOCUS"}]
    reasons = wh.scalar("SELECT reasons FROM abi.focus_quarantine WHERE source_row = 2")
    assert any(r.startswith("ChargeCategory: not an allowed value") for r in reasons)


def test_lookup_setup_reruns_while_views_depend_on_it(stream_wh: EmbeddedWarehouse) -> None:
    wh = stream_wh
    table = declare_stream(wh, "azure-cost")
    for statement in lookup_setup():  # Moose re-runs a changed resource's setup
        wh.command(statement)
    post(wh, table, [{"BillingAccountId": "1", "BillingCurrencyCode": "USD", "Date": "2026-10-02",
                       "CostInBillingCurrency": "1", "ConsumedService": "Microsoft.Compute"}])
    assert wh.scalar("SELECT ServiceCategory FROM abi.focus_cost") == "Compute"
    teardown = lookup_teardown(lookup_setup())
    assert teardown and all(s.startswith("DROP ") for s in teardown)


def test_a_rows_short_dates_are_read_in_the_order_the_row_shows(stream_wh: EmbeddedWarehouse) -> None:
    """One posted row has no file around it: ``31/10/2026`` shows its row is day first (it went to January, billed
    in a January-to-November period, with no quarantine); a month name reads as in a file."""
    wh = stream_wh
    table = declare_stream(wh, "azure-cost")
    row = {"BillingAccountId": "8611537", "BillingCurrencyCode": "EUR", "CostInBillingCurrency": "2.50",
           "MeterCategory": "Storage"}
    post(wh, table, [
        {**row, "Date": "04/10/2026", "BillingPeriodStartDate": "01/10/2026", "BillingPeriodEndDate": "31/10/2026",
         "x_SourceRow": 1},
        {**row, "Date": "10/04/2026", "BillingPeriodStartDate": "10/01/2026", "BillingPeriodEndDate": "10/31/2026",
         "x_SourceRow": 2},
        {**row, "Date": "04-Oct-2026", "x_SourceRow": 3},
        {**row, "Date": "04/10/2026", "x_SourceRow": 4}])  # nothing tells: as Azure writes dates, month first
    found = wh.rows("SELECT x_SourceRow AS n, toString(ChargePeriodStart) AS day, toString(BillingPeriodStart) AS p, "
                    "toString(BillingPeriodEnd) AS e FROM abi.focus_cost ORDER BY n")
    october = {"p": "2026-10-01 00:00:00", "e": "2026-11-01 00:00:00"}
    assert found == [{"n": n, "day": "2026-10-04 00:00:00", **october} for n in (1, 2, 3)] + [
        {"n": 4, "day": "2026-04-10 00:00:00", "p": "2026-04-01 00:00:00", "e": "2026-05-01 00:00:00"}]
