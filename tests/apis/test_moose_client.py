"""The registered Moose handlers through Moose's own ``MooseClient`` (clickhouse-connect, server-side parameters)
against a ClickHouse HTTP endpoint (the project's server over chdb, default ClickHouse settings), as in
``moose dev``: same numbers as the independent Python sums, same answers as the warehouse path.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import clickhouse_connect
import pytest
from abitest import PROJECT
from apitest import close, facts, group, top_with_others
from moose_lib import MooseClient

from app.apis import endpoints, operations, service
from app.apis.operations import AnomaliesQuery, DataQualityQuery, WorkflowRunsQuery
from app.apis.params import (
    CommitmentUtilizationQuery,
    CostBreakdownQuery,
    CostTrendQuery,
    DataFreshnessQuery,
    PeriodComparisonQuery,
    TopResourcesQuery,
)
from app.core.server_warehouse import ServerWarehouse

LOAD = ("import sys; from pathlib import Path; sys.path[:0] = ['tests', 'tests/apis']; "
        "from apitest import load_demo, record_operations; from app.core.warehouse import EmbeddedWarehouse; "
        "wh = EmbeddedWarehouse(Path(sys.argv[1])); load_demo(wh, Path(sys.argv[2])); record_operations(wh); "
        "wh.close()")
QUERIES = [
    (endpoints.cost_breakdown, CostBreakdownQuery(group_by=["ServiceCategory", "RegionName"], limit=6)),
    (endpoints.cost_breakdown, CostBreakdownQuery(group_by=["tag:env"], tag=["owner=team-1"], start="2026-10-01")),
    (endpoints.cost_trend, CostTrendQuery(split_by="SubAccountName", limit=2, start="2026-09-28", end="2026-10-03")),
    (endpoints.cost_trend, CostTrendQuery(granularity="monthly", start="2026-08-10", end="2026-11-30")),
    (endpoints.top_resources, TopResourcesQuery(limit=4, metric="ListCost")),
    (endpoints.period_comparison, PeriodComparisonQuery(month="2026-10", group_by="x_ResourceGroupName", limit=3)),
    (endpoints.commitment_utilization, CommitmentUtilizationQuery()),
    (endpoints.data_freshness, DataFreshnessQuery()),
    (operations.data_quality_api, DataQualityQuery()),
    (operations.data_quality_api, DataQualityQuery(latest=False, check=["reconciliation"])),
    (operations.anomalies_api, AnomaliesQuery(direction="up")),
    (operations.anomalies_api, AnomaliesQuery(start="2026-10-01", end="2026-10-31", min_change=1)),
    (operations.workflow_runs_api, WorkflowRunsQuery(run_id="bf-1")),
    (operations.workflow_runs_api, WorkflowRunsQuery(workflow=["backfill"], connector=["azure"])),
]


def _wait(proc: subprocess.Popen, port_file: Path, deadline_s: float = 60) -> int:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, "ClickHouse HTTP server exited"
        if port_file.exists() and port_file.read_text().strip():
            port = int(port_file.read_text())
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2):
                    return port
            except OSError:
                pass
        time.sleep(0.05)  # polling interval
    raise TimeoutError("ClickHouse HTTP server not ready")


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MooseClient, ServerWarehouse, int]]:
    work = tmp_path_factory.mktemp("moose_client")
    subprocess.run([sys.executable, "-c", LOAD, str(work / "wh"), str(work / "files")], cwd=PROJECT, check=True)
    port_file = work / "port"
    cmd = [sys.executable, "-m", "app.stack.clickhouse_http", "--data-dir", str(work / "wh" / "chdb"),
           "--port", "0", "--port-file", str(port_file)]
    with open(work / "server.log", "wb") as log:
        proc = subprocess.Popen(cmd, cwd=PROJECT, stdout=log, stderr=log)
    try:
        port = _wait(proc, port_file)
        client = MooseClient(clickhouse_connect.get_client(host="127.0.0.1", port=port, database="abi"))
        yield client, ServerWarehouse(f"http://127.0.0.1:{port}/abi"), port
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def test_breakdown_numbers_through_moose_client(endpoint):
    client, wh, _ = endpoint
    rows = facts(wh)
    for dims in (["ServiceName"], ["SubAccountName", "tag:app"]):
        result = endpoints.cost_breakdown.query_function(client, CostBreakdownQuery(group_by=dims, limit=5))
        expected = top_with_others(group(rows, [*dims, "BillingCurrency"], "EffectiveCost"), 5)
        assert [(*(r[d] or "" for d in dims), r["currency"]) for r in result.rows] == [k for k, _, _ in expected]
        assert all(close(r["value"], v) for r, (_, v, _) in zip(result.rows, expected, strict=True))


@pytest.mark.parametrize(("api", "params"), QUERIES, ids=lambda v: getattr(v, "name", ""))
def test_moose_handlers_answer_like_the_warehouse_path(endpoint, api, params):
    client, wh, _ = endpoint
    through_moose = api.query_function(client, params)
    direct = api.query_function.answer(service.warehouse_execute(wh), params)
    assert through_moose.model_dump() == direct.model_dump()
    assert through_moose.model_dump_json()


def test_csv_and_bound_values_through_moose_client(endpoint):
    client, _, _ = endpoint
    text = endpoints.top_resources.query_function(client, TopResourcesQuery(limit=2, format="csv"))
    assert isinstance(text, str) and text.startswith("ResourceId,ResourceName,ResourceType,")
    evil = CostBreakdownQuery(service=["Key Vault' OR '1'='1", "a\\'b"], group_by=["tag:x'); DROP TABLE focus_cost"])
    assert endpoints.cost_breakdown.query_function(client, evil).rows == []
    assert endpoints.cost_breakdown.query_function(client, CostBreakdownQuery()).rows


def test_answers_do_not_depend_on_the_server_time_zone(endpoint):
    client, _, port = endpoint
    elsewhere = MooseClient(clickhouse_connect.get_client(host="127.0.0.1", port=port, database="abi",
                                                          settings={"session_timezone": "Pacific/Kiritimati"}))
    for api, params in QUERIES[:6]:
        assert api.query_function(elsewhere, params).model_dump() == api.query_function(client, params).model_dump()


def test_operations_through_moose_client_pick_the_latest_check_and_the_runs_last_state(endpoint):
    client, _, _ = endpoint
    quality = operations.data_quality_api.query_function(client, DataQualityQuery())
    assert {(r["check"], r["status"], r["run_id"]) for r in quality.rows} == {
        ("reconciliation", "fail", "bf-2"), ("freshness", "pass", "bf-1")}
    assert quality.summary == {"pass": 1, "warn": 0, "fail": 1}
    failed = next(r for r in quality.rows if r["status"] == "fail")
    assert (failed["source_value"], failed["focus_value"], failed["difference"]) == (10.5, 9.5, -1.0)  # numbers
    spike = operations.anomalies_api.query_function(client, AnomaliesQuery(direction="up")).rows
    assert [(r["cost"], r["baseline"], r["change"]) for r in spike] == [(120.5, 40.0, 80.5)]
    assert len(operations.data_quality_api.query_function(client, DataQualityQuery(latest=False)).rows) == 3
    runs = operations.workflow_runs_api.query_function(client, WorkflowRunsQuery(run_id="bf-1"))
    assert [(r["status"], r["rows_processed"]) for r in runs.runs] == [("completed", 1200)]
    assert [t["month"] for t in runs.tasks] == ["2026-10"]
    # times as ISO 8601 in UTC, whatever the server's time zone
    assert (runs.runs[0]["started_at"], runs.runs[0]["ended_at"], runs.tasks[0]["finished_at"]) == (
        "2026-11-02T01:00:00.000Z", "2026-11-02T01:05:00.000Z", "2026-11-02T01:05:00.000Z")
    assert failed["checked_at"] == "2026-11-03T02:00:00.000Z" and spike[0]["detected_at"] == "2026-11-02T03:00:00.000Z"
    # filters on columns the answer renames alike (text day and change, aggregated connector): the table's own
    in_range = AnomaliesQuery(start="2026-10-01", end="2026-10-31", min_change=80)
    assert len(operations.anomalies_api.query_function(client, in_range).rows) == 1
    assert not operations.anomalies_api.query_function(client, AnomaliesQuery(min_change=81)).rows
    filtered = WorkflowRunsQuery(workflow=["backfill"], connector=["azure"])
    assert [r["run_id"] for r in operations.workflow_runs_api.query_function(client, filtered).runs] == ["bf-1"]
