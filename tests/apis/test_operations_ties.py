"""The operational APIs answer records that tie on their order (a change, a timestamp) the same way every time."""

from __future__ import annotations

from app.apis import operations, service
from app.apis.operations import AnomaliesQuery, WorkflowRunsQuery
from app.workflows import store
from app.workflows.tables import ANOMALIES_TABLE, RUNS_TABLE

ANOMALY = {"day": "2026-10-20", "sub_account_name": "", "service_name": "Virtual Machines", "currency": "USD",
           "cost": "120.5", "baseline": "40", "change": "80.5", "z_score": 6.2, "method": "robust_z",
           "direction": "up", "window_days": 28, "run_id": "dq-1", "detected_at": "2026-11-02 03:00:00.000"}


def test_anomalies_with_equal_changes_come_in_the_order_of_their_accounts(wh):
    """Two accounts with the same spike on one day (an account copied into another currency's, a shared
    subscription): ordered by account, sub account, service and currency, so a limit keeps the same one."""
    store.ensure_workflow_schema(wh)
    store.insert(wh, ANOMALIES_TABLE, [{**ANOMALY, "billing_account_id": "2-second", "sub_account_id": "sub-b"},
                                       {**ANOMALY, "billing_account_id": "1-first", "sub_account_id": "sub-a",
                                        "cost": "-40.5", "change": "-80.5", "direction": "down"}])
    execute = service.warehouse_execute(wh)
    answer = operations.anomalies_api.query_function.answer
    assert [r["billing_account_id"] for r in answer(execute, AnomaliesQuery()).rows] == ["1-first", "2-second"]
    assert [r["billing_account_id"] for r in answer(execute, AnomaliesQuery(limit=1)).rows] == ["1-first"]


def test_a_run_ended_in_the_millisecond_it_started_shows_its_end(wh):
    store.ensure_workflow_schema(wh)
    at = "2026-11-02 01:00:00.000"
    event = {"run_id": "quick", "temporal_run_id": "", "workflow": "quality", "connector": "", "parameters": "{}",
             "started_at": at, "error": None, "recorded_at": at}
    store.insert(wh, RUNS_TABLE, [{**event, "status": "completed", "ended_at": at, "rows_processed": 7}])
    store.insert(wh, RUNS_TABLE, [{**event, "status": "running", "ended_at": None, "rows_processed": 0}])
    execute = service.warehouse_execute(wh)
    for _ in range(2):
        runs = operations.workflow_runs_api.query_function.answer(execute, WorkflowRunsQuery()).runs
        assert [(r["status"], r["rows_processed"]) for r in runs] == [("completed", 7)]
        wh.command(f"OPTIMIZE TABLE abi.{RUNS_TABLE} FINAL")
