"""Schedules: a daily cron that fires at 02:00 (time-skipping test server), and the per-connector Temporal
schedules ``abi workflows schedule`` manages (dev server: created, updated, triggered, deleted)."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from workflowtest import (
    add_connector,
    dev_server,
    fast_retry,
    last,
    quiet_quality,
    time_skipping_server,
    worker,
)

from app.workflows.temporal.client import delete_schedule, list_schedules, set_schedule
from app.workflows.types import DAILY, DEFAULT_CRON, TASK_QUEUE, DailyInput

WAIT_S = 90.0


def daily_runs(rt) -> list[dict]:
    return rt.wh.rows(f"SELECT run_id, min(started_at) AS started, {last('status')} AS status, "
                      f"{last('rows_processed')} AS rows FROM abi.workflow_runs AS r "
                      "WHERE workflow = 'daily-extraction' GROUP BY run_id ORDER BY started, run_id")


async def cron_fires(rt) -> None:
    env = await time_skipping_server()
    try:
        async with worker(env.client, rt):
            inp = DailyInput(connector="azure", months=1, retry=fast_retry(), quality=quiet_quality())
            handle = await env.client.start_workflow(DAILY, inp, id="abi-daily-azure", task_queue=TASK_QUEUE,
                                                     cron_schedule=DEFAULT_CRON)
            await env.sleep(timedelta(hours=26))  # at least one 02:00 UTC passes
            deadline = time.monotonic() + WAIT_S
            while not any(r["status"] == "completed" for r in daily_runs(rt)) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            await handle.terminate()
    finally:
        await env.shutdown()


def test_the_daily_cron_fires_at_two_in_the_morning(runtime, fake_azure, waits):
    add_connector(runtime, fake_azure)
    asyncio.run(cron_fires(runtime))
    runs = daily_runs(runtime)
    assert runs and runs[0]["status"] == "completed" and runs[0]["rows"] > 0
    assert runs[0]["started"][11:16] == "02:00"  # the workflow's clock: the cron's time, not the test's
    assert runtime.wh.scalar("SELECT count() FROM abi.focus_cost") > 0


async def schedule_lifecycle(rt) -> list[list[dict]]:
    env = await dev_server()
    seen = []
    try:
        async with worker(env.client, rt):
            sid = await set_schedule(env.client, "azure")
            seen.append(await list_schedules(env.client))
            await set_schedule(env.client, "azure", "30 5 * * *")  # update in place
            seen.append(await list_schedules(env.client))
            await env.client.get_schedule_handle(sid).trigger()
            deadline = time.monotonic() + WAIT_S
            while not any(r["status"] == "completed" for r in daily_runs(rt)) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            await delete_schedule(env.client, "azure")
            seen.append(await list_schedules(env.client))
    finally:
        await env.shutdown()
    return seen


def test_per_connector_schedules_are_created_updated_triggered_and_deleted(runtime, fake_azure, waits):
    add_connector(runtime, fake_azure)
    created, updated, deleted = asyncio.run(schedule_lifecycle(runtime))
    assert [(s["id"], s["cron"]) for s in created] == [("abi-daily-azure", DEFAULT_CRON)]
    assert all(t[11:16] == "02:00" for t in created[0]["next"])
    assert updated[0]["cron"] == "30 5 * * *" and all(t[11:16] == "05:30" for t in updated[0]["next"])
    assert deleted == []
    runs = daily_runs(runtime)
    assert runs and runs[0]["status"] == "completed" and runs[0]["rows"] > 0
