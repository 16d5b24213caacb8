"""A worker killed (SIGKILL) in the middle of a backfill and started again: Temporal resumes the run, the months
completed before the crash are not redone, and every month's totals are exact (no duplicate, nothing missing)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path

from abitest import csv_total, total
from connectortest import SECRET_ENV
from workflowtest import WorkerProcess, cost_details, dev_server, fast_retry, last, quiet_quality, target

from app.connectors.registry import Registry
from app.connectors.service import ConnectorService
from app.core.warehouse import EmbeddedWarehouse
from app.workflows.types import BACKFILL, TASK_QUEUE, BackfillInput, RunReport

MONTHS = 6
KILL_AFTER = 2
TIMEOUT_S = 120.0
MONTH_TASK = "abi.extract_month"


async def completed_months(client, wid: str) -> list[str]:
    """Months whose extract activity has completed, as recorded in Temporal's history."""
    scheduled, done = {}, []
    async for event in client.get_workflow_handle(wid).fetch_history_events():
        attrs = event.activity_task_scheduled_event_attributes
        if event.HasField("activity_task_scheduled_event_attributes") and attrs.activity_type.name == MONTH_TASK:
            scheduled[event.event_id] = json.loads(attrs.input.payloads[0].data)["month"]
        if event.HasField("activity_task_completed_event_attributes"):
            done.append(scheduled.get(event.activity_task_completed_event_attributes.scheduled_event_id))
    return [m for m in done if m]


async def wait_for(predicate, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(what)


async def scenario(tmp_path: Path, env_vars: dict[str, str], months: list[str]) -> tuple[list[str], RunReport]:
    env = await dev_server()
    first = second = None
    try:
        first = WorkerProcess(target(env), env_vars, tmp_path / "worker-1.log").start()
        wid = f"test-backfill-{uuid.uuid4().hex[:8]}"
        inp = BackfillInput("azure", months[0], months[-1], max_parallel=2,
                            retry=fast_retry(), quality=quiet_quality())
        handle = await env.client.start_workflow(BACKFILL, inp, id=wid, task_queue=TASK_QUEUE, result_type=RunReport)

        async def enough() -> bool:
            return len(await completed_months(env.client, wid)) >= KILL_AFTER

        await wait_for(enough, "months completed before the kill")
        first.kill()
        done_at_kill = await completed_months(env.client, wid)
        second = WorkerProcess(target(env), env_vars, tmp_path / "worker-2.log").start()
        result = await asyncio.wait_for(handle.result(), TIMEOUT_S)
        second.stop()
        return done_at_kill, result
    finally:
        for proc in (first, second):
            if proc:
                proc.kill()
        await env.shutdown()


def test_worker_killed_mid_backfill_resumes_without_redoing_completed_months(tmp_path, fake_azure, monkeypatch,
                                                                            months_ago):
    fake_azure.polls, fake_azure.retry_after = 3, 0.3  # each report takes about a second to be ready
    data = tmp_path / "data"
    monkeypatch.setenv(SECRET_ENV, fake_azure.client_secret)
    registry = Registry(f"sqlite:///{data / 'registry.db'}")
    ConnectorService(registry).add("azure", "azure-cost-details", cost_details(fake_azure))
    registry.close()
    months = [f"{months_ago(n):%Y-%m}" for n in range(MONTHS, 0, -1)]
    env_vars = {"ABI_DATA_DIR": str(data), SECRET_ENV: fake_azure.client_secret}

    done_at_kill, result = asyncio.run(scenario(tmp_path, env_vars, months))

    assert KILL_AFTER <= len(done_at_kill) < MONTHS, "the worker was not killed mid-backfill"
    assert sorted(load.month for load in result.loads) == months
    wh = EmbeddedWarehouse(data)
    try:
        tasks = wh.rows("SELECT month, countIf(status = 'completed') AS n FROM abi.workflow_tasks GROUP BY month")
        completed = {t["month"]: int(t["n"]) for t in tasks}
        assert set(completed) == set(months)
        assert all(completed[m] == 1 for m in done_at_kill), (done_at_kill, completed)  # not redone
        assert sum(completed.values()) <= MONTHS + 2  # only the (at most 2) months in flight at the kill ran twice
        for month in months:
            first = f"BillingPeriodStart = toDateTime('{month}-01')"
            for metric, dataset in (("BilledCost", "ActualCost"), ("EffectiveCost", "AmortizedCost")):
                source = fake_azure.data.month_file(months_ago(months[::-1].index(month) + 1), dataset)
                assert total(wh, metric, first) == csv_total(source, "CostInBillingCurrency"), (month, metric)
        status = wh.rows(f"SELECT {last('status')} AS s FROM abi.workflow_runs AS r GROUP BY run_id")
        assert status == [{"s": "completed"}]
        assert wh.scalar("SELECT count() FROM system.tables WHERE startsWith(name, '_abi_')") == 0
    finally:
        wh.close()
