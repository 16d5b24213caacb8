"""The Moose declarations' task functions (what ``moose dev`` runs), called as Moose's runner calls them, and the
operational APIs (``workflow-runs``, ``data-quality``, ``anomalies``) over what they recorded."""

from __future__ import annotations

import json

import pytest
from abitest import csv_total, total
from connectortest import SECRET_ENV
from moose_lib.dmv2 import get_workflow
from moose_lib.dmv2.workflow import TaskContext
from workflowtest import cost_details

from app.apis.server import WarehouseClient, answer
from app.connectors.registry import Registry
from app.connectors.service import ConnectorService
from app.core.warehouse import EmbeddedWarehouse
from app.workflows import definitions
from app.workflows.definitions import BackfillRequest, LoadSummary


@pytest.fixture
def moose_env(tmp_path, monkeypatch, fake_azure):
    data = tmp_path / "data"
    monkeypatch.setenv("ABI_DATA_DIR", str(data))
    monkeypatch.delenv("ABI_CLICKHOUSE_URL", raising=False)
    monkeypatch.delenv("MOOSE_CLICKHOUSE_CONFIG__HOST_PORT", raising=False)
    monkeypatch.setenv(SECRET_ENV, fake_azure.client_secret)
    registry = Registry()
    ConnectorService(registry).add("azure", "azure-cost-details", cost_details(fake_azure))
    registry.close()
    return data


def run_task(workflow: str, task: str, payload):
    """As Moose's activity wrapper does: find the task, validate the input into its model, call ``run``."""
    found = get_workflow(workflow).get_task(task)
    model = found.model_type
    data = model.model_validate(payload) if model is not None else None
    return found.config.run(TaskContext(state={}, input=data))


def api(wh, path: str) -> dict:
    status, body, _ = answer(WarehouseClient(wh), path.split("?")[0], path.partition("?")[2])
    assert status == 200, body
    return json.loads(body)


def test_moose_backfill_tasks_load_resume_and_are_visible_through_the_apis(moose_env, fake_azure, waits, months_ago):
    first, last = f"{months_ago(2):%Y-%m}", f"{months_ago(1):%Y-%m}"
    request = {"connector": "azure", "start": first, "end": last, "max_parallel": 2}
    summary = run_task("backfill", "extract", request)
    assert isinstance(summary, LoadSummary) and sorted(d["month"] for d in summary.loads) == [first, last]
    quality = run_task("backfill", "quality", summary.model_dump())
    assert quality.checks >= 6 and not [p for p in quality.problems if not p.startswith("freshness")]
    again = run_task("backfill", "extract", request)  # same range: resumes, every month already done
    assert again.loads == [] and again.rows == 0
    wh = EmbeddedWarehouse(moose_env)
    try:
        actual = fake_azure.data.month_file(months_ago(1), "ActualCost")
        assert total(wh, "BilledCost", f"BillingPeriodStart = toDateTime('{last}-01')") == csv_total(
            actual, "CostInBillingCurrency")
        runs = api(wh, "/api/workflow-runs?workflow=backfill")["runs"]
        assert [r["status"] for r in runs] == ["running", "completed"]  # newest first: the resumed run
        done = api(wh, f"/api/workflow-runs?run_id={summary.run_id}")
        assert done["runs"][0]["rows_processed"] == summary.rows > 0
        assert sorted(t["month"] for t in done["tasks"]) == [first, last]
        checks = api(wh, "/api/data-quality?check=reconciliation&connector=azure")
        assert checks["summary"] == {"pass": 4, "warn": 0, "fail": 0}
        assert api(wh, "/api/anomalies?direction=up")["rows"] == []
        csv = answer(WarehouseClient(wh), "/api/data-quality", "format=csv&check=freshness")[1].decode()
        assert csv.startswith("check,connector,billing_period,subject,status")
        assert answer(WarehouseClient(wh), "/api/workflow-runs", "status=bogus")[0] == 400
    finally:
        wh.close()


def test_moose_daily_and_quality_workflows_run_on_every_enabled_connector(moose_env, fake_azure, waits, months_ago):
    summary = run_task("daily-extraction", "extract", None)
    assert summary.connectors == ["azure"] and {d["month"] for d in summary.loads} == {
        f"{months_ago(1):%Y-%m}", f"{months_ago(0):%Y-%m}"}
    run_task("daily-extraction", "quality", summary.model_dump())
    checked = run_task("data-quality", "quality", {"start": f"{months_ago(1):%Y-%m}"})
    assert checked.checks >= 1  # freshness of the billing account
    assert definitions.daily_extraction.config.schedule == "0 2 * * *"
    wh = EmbeddedWarehouse(moose_env)
    try:
        statuses = {r["workflow"]: r["status"] for r in api(wh, "/api/workflow-runs")["runs"]}
        assert statuses == {"daily-extraction": "completed", "data-quality": "completed"}
    finally:
        wh.close()


def test_backfill_requests_are_validated_like_moose_does():
    with pytest.raises(ValueError):
        BackfillRequest.model_validate({"connector": "azure"})
