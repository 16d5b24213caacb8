"""End to end through Moose on the local stack: ``POST /ingest/...`` → stream → raw table → the mapping views →
``focus_cost`` / ``focus_quarantine``; records the ingest API refuses → dead-letter queue → Python stream transform
→ ``focus_quarantine``. Every posted row ends in exactly one place, with the values the bulk path computes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from abitest import csv_total
from kafka import KafkaConsumer
from moosetest import MooseApp
from streamrows import posted_rows

from app.core.loader import ingest
from app.core.warehouse import EmbeddedWarehouse

SAMPLE = Path(__file__).resolve().parents[2].parent / "shared" / "samples" / "azure" / "EA_ActualCost_Small.csv"
FOCUS_ROWS = "SELECT * EXCEPT (x_IngestionId, x_IngestedAt) FROM abi.focus_cost WHERE {where} ORDER BY x_SourceRow"
JSON_SETTINGS = "SETTINGS output_format_json_quote_64bit_integers = 0"


def _count(app: MooseApp, table: str, where: str) -> int:
    return int(app.query(f"SELECT count() AS n FROM {table} WHERE {where}")[0]["n"])


def test_azure_cost_rows_land_in_focus_with_the_bulk_paths_values(moose_app: MooseApp, tmp_path: Path) -> None:
    if not SAMPLE.is_file():
        pytest.skip(f"shared sample not found: {SAMPLE}")
    rows = posted_rows(SAMPLE, "e2e-good")
    assert moose_app.post("azure_cost_rows", rows) == (200, "SUCCESS")
    where = "x_IngestionId = 'e2e-good'"
    moose_app.wait_for(f"SELECT count() AS n FROM focus_cost WHERE {where}", lambda r: int(r[0]["n"]) == len(rows))

    streamed = moose_app.query(f"{FOCUS_ROWS.format(where=where)} {JSON_SETTINGS}")
    wh = EmbeddedWarehouse(tmp_path / "bulk")
    try:
        assert ingest(wh, [SAMPLE]).ok
        bulk = wh.rows(FOCUS_ROWS.format(where=f"x_SourceFile = '{SAMPLE}'"))
    finally:
        wh.close()
    assert streamed == bulk
    billed = moose_app.query(f"SELECT toString(sum(BilledCost)) AS s FROM focus_cost WHERE {where}")[0]["s"]
    assert str(csv_total(SAMPLE, "Cost").normalize()) == billed.rstrip("0").rstrip(".")
    assert _count(moose_app, "focus_quarantine", "ingestion_id = 'e2e-good'") == 0

    assert moose_app.post("azure_cost_rows", rows) == (200, "SUCCESS")  # a client's retry
    moose_app.wait_for(f"SELECT count() AS n FROM azure_cost_rows WHERE {where}",
                       lambda r: int(r[0]["n"]) == 2 * len(rows))
    assert _count(moose_app, "focus_cost", where) == len(rows)


def test_invalid_rows_reach_the_quarantine_with_their_reasons(moose_app: MooseApp) -> None:
    good = {"BillingAccountId": "8611537", "BillingCurrencyCode": "USD", "Date": "2026-10-02",
            "CostInBillingCurrency": "2.50", "ConsumedService": "Microsoft.Storage"}
    lineage = {"x_IngestionId": "e2e-mixed", "x_SourceFile": "mixed.csv"}
    rows = [{**good, **lineage, "x_SourceRow": 1},
            {**good, **lineage, "x_SourceRow": 2, "CostInBillingCurrency": "2,5O"},
            {**good, **lineage, "x_SourceRow": 3, "Date": "2026-13-45", "BillingCurrencyCode": "XXXX"}]
    assert moose_app.post("azure_cost_rows", rows) == (200, "SUCCESS")
    where = "ingestion_id = 'e2e-mixed'"
    quarantined = moose_app.wait_for(f"SELECT source_row, reasons, raw_row FROM focus_quarantine WHERE {where} "
                                     "ORDER BY source_row", lambda r: len(r) == 2)
    assert [q["source_row"] for q in quarantined] == [2, 3]
    assert 'CostInBillingCurrency: not a number: "2,5O"' in quarantined[0]["reasons"]
    assert json.loads(quarantined[0]["raw_row"])["CostInBillingCurrency"] == "2,5O"
    assert 'Date: not a date: "2026-13-45"' in quarantined[1]["reasons"]
    assert 'BillingCurrency: not an ISO 4217 currency code: "XXXX"' in quarantined[1]["reasons"]
    loaded = moose_app.wait_for("SELECT x_SourceRow, toString(BilledCost) AS c, ServiceCategory FROM focus_cost "
                                "WHERE x_IngestionId = 'e2e-mixed'", lambda r: len(r) == 1)
    assert loaded == [{"x_SourceRow": 1, "c": "2.5", "ServiceCategory": "Storage"}]
    assert _count(moose_app, "azure_cost_rows", "x_IngestionId = 'e2e-mixed'") == 3  # 1 loaded + 2 quarantined


def test_records_the_ingest_api_refuses_reach_the_dead_letter_queue_and_the_quarantine(moose_app: MooseApp) -> None:
    refused = {"Date": "2026-10-01", "CostInBillingCurrency": 12.5, "x_SourceFile": "dlq.json", "x_SourceRow": 9,
               "x_IngestionId": "e2e-dlq"}
    status, body = moose_app.post("azure_cost_rows", [refused])
    assert status == 400 and "CostInBillingCurrency" in body
    rows = moose_app.wait_for("SELECT source_file, source_row, source_format, reasons, raw_row FROM focus_quarantine "
                              "WHERE ingestion_id = 'e2e-dlq'", lambda r: len(r) == 1)
    row = rows[0]
    assert (row["source_file"], row["source_row"], row["source_format"]) == ("dlq.json", 9, "azure-cost")
    assert row["reasons"][0].startswith("api ValidationError: ") and "CostInBillingCurrency" in row["reasons"][0]
    assert json.loads(row["raw_row"])["CostInBillingCurrency"] == 12.5
    letters = _read_topic(moose_app, "azure_cost_rowsDeadLetterQueue")
    assert any(letter["originalRecord"].get("x_IngestionId") == "e2e-dlq" for letter in letters)
    assert _count(moose_app, "focus_cost", "x_IngestionId = 'e2e-dlq'") == 0


def test_a_request_refused_for_one_record_quarantines_that_record_alone(moose_app: MooseApp) -> None:
    """The client, answered 400, sends the valid records again: each ends in one place."""
    good = {"BillingAccountId": "8611537", "BillingCurrencyCode": "USD", "Date": "2026-10-02",
            "CostInBillingCurrency": "2.50", "ConsumedService": "Microsoft.Storage", "x_SourceFile": "batch.json",
            "x_IngestionId": "e2e-batch"}
    rows = [{**good, "x_SourceRow": 1}, {**good, "x_SourceRow": 2, "CostInBillingCurrency": 7}]
    assert moose_app.post("azure_cost_rows", rows)[0] == 400
    assert moose_app.post("azure_cost_rows", rows[:1]) == (200, "SUCCESS")
    moose_app.wait_for("SELECT count() AS n FROM focus_quarantine WHERE ingestion_id = 'e2e-batch'",
                       lambda r: int(r[0]["n"]) >= 1)
    moose_app.wait_for("SELECT count() AS n FROM focus_cost WHERE x_IngestionId = 'e2e-batch'",
                       lambda r: int(r[0]["n"]) == 1)
    assert moose_app.post("azure_cost_rows", [{**rows[0], "x_SourceRow": 3}]) == (200, "SUCCESS")  # after the DLQ
    moose_app.wait_for("SELECT count() AS n FROM focus_cost WHERE x_IngestionId = 'e2e-batch'",
                       lambda r: int(r[0]["n"]) == 2)
    quarantined = moose_app.query("SELECT source_row FROM focus_quarantine WHERE ingestion_id = 'e2e-batch'")
    assert quarantined == [{"source_row": 2}]


@pytest.mark.parametrize(("ingest_api", "fmt"), [("focus_rows", "focus"), ("azure_focus_rows", "azure-focus")])
def test_focus_rows_stream_into_focus(moose_app: MooseApp, ingest_api: str, fmt: str) -> None:
    row = {"BilledCost": "3.0", "EffectiveCost": "2.0", "ListCost": "4", "ContractedCost": "3",
           "BillingAccountId": "BA-1", "BillingCurrency": "USD", "BillingPeriodStart": "2026-10-01T00:00:00Z",
           "BillingPeriodEnd": "2026-11-01T00:00:00Z", "ChargePeriodStart": "2026-10-05T00:00:00Z",
           "ChargePeriodEnd": "2026-10-06T00:00:00Z", "ChargeCategory": "Usage", "ServiceName": "Storage",
           "ServiceCategory": "Storage", "ProviderName": "Microsoft", "PublisherName": "Microsoft",
           "InvoiceIssuerName": "Microsoft", "x_SourceRow": 1, "x_IngestionId": f"e2e-{fmt}"}
    assert moose_app.post(ingest_api, [row]) == (200, "SUCCESS")
    rows = moose_app.wait_for("SELECT toString(EffectiveCost) AS e, x_SourceFormat AS f, x_SourceDataset AS d "
                              f"FROM focus_cost WHERE x_IngestionId = 'e2e-{fmt}'", lambda r: len(r) == 1)
    assert rows == [{"e": "2", "f": fmt, "d": "FOCUS"}]


def _read_topic(app: MooseApp, topic: str) -> list[dict]:
    """Every record of a topic, read without a consumer group (any Kafka client can, on tansu)."""
    consumer = KafkaConsumer(topic, bootstrap_servers=f"127.0.0.1:{app.stack.kafka_port}", group_id=None,
                             auto_offset_reset="earliest", consumer_timeout_ms=5000)
    try:
        return [json.loads(message.value) for message in consumer]
    finally:
        consumer.close()


def test_tables_moose_creates_have_the_types_abis_ddl_declares(moose_app: MooseApp) -> None:
    from app.core import schema

    created = moose_app.query("SELECT table, name, type FROM system.columns WHERE database = currentDatabase() "
                              "ORDER BY table, position")
    by_table: dict[str, list[tuple[str, str]]] = {}
    for c in created:
        by_table.setdefault(c["table"], []).append((c["name"], c["type"]))
    declared = [t for t in schema.infra_tables() if t in by_table]
    assert {"focus_cost", "focus_quarantine", "focus_daily_cost"} <= set(declared)
    for table in declared:
        assert by_table[table] == schema.columns(table), table
