"""The daily aggregate: declared once for Moose and the embedded engine, kept by its view, rebuilt after loads."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date

import pytest
from abitest import PROJECT

from app.core import schema
from app.core.demo import generate
from app.core.loader import ensure_schema, ingest
from app.views.daily_cost import DAILY_COST_TABLE, DAILY_COST_VIEW
from app.views.refresh import ensure_views, rebuild_all, refresh_aggregates

SUMS = "count() AS n, toString(sum(EffectiveCost)) AS effective, toString(sum(BilledCost)) AS billed"
AGG_SUMS = "sum(RowCount) AS n, toString(sum(EffectiveCost)) AS effective, toString(sum(BilledCost)) AS billed"
API_NAMES = {"cost-breakdown", "cost-trend", "top-resources", "period-comparison", "commitment-utilization",
             "data-freshness"}


def infra_map() -> dict:
    out = subprocess.run([sys.executable, "-m", "moose_lib.dmv2_serializer"], cwd=PROJECT, capture_output=True,
                         text=True, check=True).stdout
    return json.loads(re.search(r"___MOOSE_STUFF___start (.*) end___MOOSE_STUFF___", out, re.S).group(1))


def by_month(wh, table: str, sums: str) -> dict:
    return {r.pop("p"): r for r in wh.rows(f"SELECT _partition_id AS p, {sums} FROM abi.{table} GROUP BY p")}


def in_sync(wh) -> bool:
    return by_month(wh, "focus_cost", SUMS) == by_month(wh, DAILY_COST_TABLE, AGG_SUMS)


def test_infra_map_declares_the_apis_and_the_daily_view():
    infra = infra_map()
    assert API_NAMES <= set(infra["apis"])
    assert infra["materializedViews"][DAILY_COST_VIEW]["targetTable"] == DAILY_COST_TABLE
    assert infra["materializedViews"][DAILY_COST_VIEW]["sourceTables"] == ["`focus_cost`"]
    table = infra["tables"][DAILY_COST_TABLE]
    assert table["engineConfig"]["engine"] == "SummingMergeTree"
    assert table["partitionBy"] == infra["tables"]["focus_cost"]["partitionBy"]
    params = {p["name"]: p for p in infra["apis"]["cost-breakdown"]["queryParams"]}
    assert params["metric"]["required"] is False and "Metric" in params["metric"]["comment"]
    assert infra["apis"]["cost-breakdown"]["responseSchema"]["properties"]["rows"]["type"] == "array"


def test_embedded_aggregate_matches_the_declaration(wh):
    ensure_schema(wh)
    ensure_views(wh)
    embedded = [(r["name"], r["type"]) for r in wh.rows(
        "SELECT name, type FROM system.columns WHERE database = 'abi' AND table = {t:String} ORDER BY position",
        {"t": DAILY_COST_TABLE})]
    assert embedded == schema.columns(DAILY_COST_TABLE)
    engine = wh.rows("SELECT engine, partition_key FROM system.tables WHERE database = 'abi' AND name = {t:String}",
                     {"t": DAILY_COST_TABLE})[0]
    assert engine == {"engine": "SummingMergeTree", "partition_key": "toYYYYMM(BillingPeriodStart)"}
    assert wh.scalar("SELECT engine FROM system.tables WHERE database = 'abi' AND name = {t:String}",
                     {"t": DAILY_COST_VIEW}) == "MaterializedView"


@pytest.fixture
def loaded(wh, tmp_path):
    ensure_schema(wh)
    ensure_views(wh)
    files = generate(tmp_path / "demo")
    assert ingest(wh, [files.actual, files.amortized]).ok
    return wh


def test_the_loader_refreshes_the_partitions_it_replaces(loaded, tmp_path):
    wh = loaded
    assert in_sync(wh), "publish refreshes the aggregate of every partition it replaced"
    november = generate(tmp_path / "nov", month=date(2026, 11, 1), seed=3)
    assert ingest(wh, [november.actual]).ok
    assert in_sync(wh)


def test_replaced_partitions_are_invisible_to_the_view_until_refreshed(loaded):
    wh = loaded
    wh.command("CREATE TABLE abi.copy AS abi.focus_cost")
    wh.command("INSERT INTO abi.copy SELECT * FROM abi.focus_cost WHERE ChargeCategory != 'Tax'")
    wh.command("ALTER TABLE abi.focus_cost REPLACE PARTITION ID '202610' FROM abi.copy")
    assert not in_sync(wh), "REPLACE PARTITION bypasses the materialized view"
    refresh_aggregates(wh, ["202610"])
    assert in_sync(wh)
    rows = wh.scalar("SELECT count() FROM abi.focus_daily_cost")
    assert rows < wh.scalar("SELECT count() FROM abi.focus_cost"), "the aggregate is smaller than its source"


def test_the_view_adds_inserted_rows_and_refresh_is_idempotent(loaded):
    wh = loaded
    rebuild_all(wh)
    wh.command("INSERT INTO abi.focus_cost SELECT * FROM abi.focus_cost WHERE ServiceName = 'Key Vault'")
    assert in_sync(wh), "rows inserted into focus_cost reach the aggregate through the view"
    before = by_month(wh, DAILY_COST_TABLE, AGG_SUMS)
    refresh_aggregates(wh, ["202610", "202610"])
    refresh_aggregates(wh, ["202610"])
    assert by_month(wh, DAILY_COST_TABLE, AGG_SUMS) == before


def test_refresh_drops_a_month_emptied_in_focus_cost(loaded):
    wh = loaded
    rebuild_all(wh)
    wh.command("ALTER TABLE abi.focus_cost DROP PARTITION ID '202610'")
    refresh_aggregates(wh, ["202610"])
    assert wh.scalar("SELECT count() FROM abi.focus_daily_cost") == 0
    assert rebuild_all(wh) == []


def test_refresh_refuses_what_is_not_a_partition_id(loaded):
    for bad in ("2026-10", "202610' OR 1", ""):
        with pytest.raises(ValueError, match="partition"):
            refresh_aggregates(loaded, [bad])
