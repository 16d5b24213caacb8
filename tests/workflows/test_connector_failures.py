"""Failures an operator meets in the scheduled extraction: a broken connector among healthy ones, errors that
trying again cannot fix, a data-quality range."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import date

import pytest
from abitest import csv_total, total
from temporalio.client import WorkflowFailureError
from test_temporal_workflows import execute, run, runs
from workflowtest import add_connector, cost_details, fast_retry, quiet_quality

from app.connectors.service import ConnectorService
from app.workflows.types import DAILY, DailyInput, quality_periods

RETRIES_SEEN_S = 120.0
WRONG_SECRET = "WORKFLOW_TEST_WRONG_SECRET"


def test_a_connector_refused_by_entra_keeps_no_other_from_its_extraction(runtime, fake_azure, waits, months_ago):
    """The broken connector sorts first: the run stopped there, the healthy one was never extracted, and the
    refusal (AADSTS7000215) was tried six times."""
    os.environ[WRONG_SECRET] = "not-the-secret"
    add_connector(runtime, fake_azure, name="healthy")
    ConnectorService(runtime.registry).add("broken", "azure-cost-details",
                                           cost_details(fake_azure, client_secret=f"env:{WRONG_SECRET}"))
    today = months_ago(0).replace(day=2)
    inp = DailyInput(today=today.isoformat(), retry=fast_retry(), quality=quiet_quality())
    with pytest.raises(WorkflowFailureError) as failed:
        run(execute(runtime, DAILY, inp))
    message = str(failed.value.cause)
    assert "1 of 2 connector(s) failed; connector broken: " in message and "AADSTS7000215" in message
    loaded = runtime.wh.rows("SELECT connector, month, status, attempt FROM abi.workflow_tasks ORDER BY connector, "
                             "month")
    assert {(t["connector"], t["status"]) for t in loaded} == {("broken", "failed"), ("healthy", "completed")}
    assert max(t["attempt"] for t in loaded if t["connector"] == "broken") == 1  # not retried
    previous = fake_azure.data.month_file(months_ago(1), "ActualCost")
    assert total(runtime.wh, "BilledCost", f"BillingPeriodStart = '{months_ago(1)}'") == csv_total(
        previous, "CostInBillingCurrency")
    checked = runtime.wh.rows("SELECT connector, status FROM abi.data_quality_results WHERE `check` = 'reconciliation'")
    assert checked and {(c["connector"], c["status"]) for c in checked} == {("healthy", "pass")}
    assert [r["status"] for r in runs(runtime)] == ["failed"]


@pytest.mark.parametrize(("start", "end", "expected"), [
    (None, None, ["2026-10"]), ("2026-09", None, ["2026-09"]),
    ("2025-12", "2026-02", ["2025-12", "2026-01", "2026-02"]),
])
def test_a_quality_range_is_every_month_of_it_once(start, end, expected):
    assert quality_periods(start, end, date(2026, 11, 5)) == expected


@pytest.mark.parametrize(("start", "end", "error"), [
    ("2026-13", None, "start: '2026-13' is not a month"), ("2026-10", "2026-09", "end 2026-09 is before start"),
    ("2025-01", "2026-10", "at most 13 months"),
])
def test_a_bad_quality_range_is_refused(start, end, error):
    with pytest.raises(ValueError, match=error):
        quality_periods(start, end, date(2026, 11, 5))


def test_a_month_being_retried_shows_its_attempts_and_last_failure(runtime, fake_azure, waits, months_ago):
    """The run said ``running`` with no error while a month failed attempt after attempt."""
    from workflowtest import dev_server, worker

    from app.workflows.temporal.client import describe
    from app.workflows.types import BACKFILL, TASK_QUEUE, BackfillInput

    month = f"{months_ago(1):%Y-%m}"
    add_connector(runtime, fake_azure, max_attempts=1)
    fake_azure.fail(50, 503, match="generateCostDetailsReport")
    inp = BackfillInput("azure", month, month, retry=fast_retry(max_attempts=50, initial_interval_s=0.2,
                                                                max_interval_s=0.2), quality=quiet_quality())

    async def scenario() -> dict:
        env = await dev_server()
        try:
            async with worker(env.client, runtime):
                handle = await env.client.start_workflow(BACKFILL, inp, id="retrying", task_queue=TASK_QUEUE)
                deadline = time.monotonic() + RETRIES_SEEN_S
                while time.monotonic() < deadline:
                    seen = await describe(env.client, "retrying")
                    if seen["pending"] and seen["pending"][0]["attempt"] >= 3:
                        break
                    await asyncio.sleep(0.1)  # polling interval
                await handle.cancel()
                return seen
        finally:
            await env.shutdown()

    seen = run(scenario())
    assert seen["status"] == "running"
    [pending] = seen["pending"]
    assert pending["activity"] == "abi.extract_month" and pending["attempt"] >= 3 and "503" in pending["last_failure"]


@pytest.mark.parametrize(("name", "data", "error"), [
    ("backfill", {"connector": "a", "start": "2026-01", "end": "2026-02", "max_paralel": 2}, "max_paralel"),
    ("backfill", {"connector": "a", "start": "2999-01", "end": "2999-02"}, "2999-01 has not begun"),
    ("daily-extraction", {"months": 0}, "refreshes 1 to 13 months"),
    ("data-quality", {"start": "2026-13"}, "is not a month"),
    ("data-quality", [1], "a JSON object"),
])
def test_workflow_inputs_an_operator_mistypes_are_refused_before_anything_starts(name, data, error):
    from app.workflows.temporal.client import WorkflowUsageError, parse_input

    with pytest.raises(WorkflowUsageError, match=error):
        parse_input(name, data)


def test_a_worker_that_cannot_reach_temporal_says_so_in_one_line():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "app.workflows.worker", "--address", "127.0.0.1:1"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "abi worker: cannot reach Temporal at 127.0.0.1:1" in done.stderr
