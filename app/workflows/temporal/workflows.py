"""The workflows on Temporal: daily extraction, backfill, data quality.

Each run is recorded in ClickHouse (``workflow_runs``: running, then completed / failed / cancelled with rows
processed and the error) and in its Temporal memo. Months run as activities with bounded parallelism; a month
completed in a run is never redone: Temporal replays finished activities from history after a worker restart, and
a retried run (``resume_key``) skips the months ``workflow_tasks`` records as completed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import asdict, replace
from datetime import date, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from app.workflows.types import (
        BACKFILL,
        DAILY,
        QUALITY,
        BackfillInput,
        CheckInput,
        DailyInput,
        MonthLoad,
        MonthTask,
        PlanInput,
        QualityInput,
        QualityReport,
        RetrySettings,
        RunEvent,
        RunReport,
        quality_periods,
    )

BOOKKEEPING = RetrySettings(initial_interval_s=1.0, max_interval_s=30.0, max_attempts=10, start_to_close_s=600.0,
                            heartbeat_s=60.0)


def _options(s: RetrySettings) -> dict[str, Any]:
    return {"start_to_close_timeout": timedelta(seconds=s.start_to_close_s),
            "heartbeat_timeout": timedelta(seconds=s.heartbeat_s),
            "retry_policy": RetryPolicy(initial_interval=timedelta(seconds=s.initial_interval_s),
                                        backoff_coefficient=s.backoff,
                                        maximum_interval=timedelta(seconds=s.max_interval_s),
                                        maximum_attempts=s.max_attempts)}


async def _activity(name: str, arg: Any, result_type: type | None, s: RetrySettings = BOOKKEEPING) -> Any:
    return await workflow.execute_activity(name, arg, result_type=result_type, **_options(s))


def _stamp() -> str:
    return workflow.now().strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _error(exc: BaseException) -> str:
    cause = exc.cause if isinstance(exc, ActivityError) and exc.cause else exc
    return str(cause) or cause.__class__.__name__


async def tracked(name: str, connector: str, params: Any, body: Callable[[RunReport], Awaitable[None]]) -> RunReport:
    """Record the run as running, run ``body``, record how it ended (the run fails if ``body`` failed)."""
    info = workflow.info()
    report = RunReport(info.workflow_id, name)
    event = RunEvent(info.workflow_id, info.run_id, name, connector, json.dumps(asdict(params)), "running",
                     _stamp())
    try:
        await _record(event)
        await body(report)
    except (asyncio.CancelledError, ActivityError, ApplicationError) as exc:
        if is_cancelled_exception(exc):
            await _record(replace(event, status="cancelled", ended_at=_stamp(), rows_processed=report.rows,
                                  error="cancelled"))
            raise asyncio.CancelledError() from exc
        await _record(replace(event, status="failed", ended_at=_stamp(), rows_processed=report.rows,
                              error=_error(exc)))
        raise ApplicationError(f"{name} failed: {_error(exc)}", non_retryable=True) from exc
    await _record(replace(event, status="completed", ended_at=_stamp(), rows_processed=report.rows))
    return report


async def _record(event: RunEvent) -> None:
    workflow.upsert_memo({"connector": event.connector, "status": event.status, "rows": event.rows_processed,
                          "error": event.error})
    await _activity("abi.record_run", event, None)


async def load_months(report: RunReport, connector: str, months: list[str], key: str, full: bool,
                      parallel: int, s: RetrySettings) -> None:
    """Extract ``months`` of ``connector`` with at most ``parallel`` at a time; failures raised after all ran."""
    gate = asyncio.Semaphore(max(1, parallel))
    info = workflow.info()
    before = len(report.loads)

    async def one(month: str) -> MonthLoad:
        async with gate:
            task = MonthTask(info.workflow_id, key, info.workflow_type, connector, month, full, s.throttle_delay_s)
            load = await _activity("abi.extract_month", task, MonthLoad, s)
            report.loads.append(load)  # as each month ends: a cancelled run still counts the months it loaded
            return load

    results = await asyncio.gather(*(one(m) for m in months), return_exceptions=True)
    report.loads[before:] = sorted(report.loads[before:], key=lambda load: months.index(load.month))
    failures = [(m, r) for m, r in zip(months, results, strict=True) if isinstance(r, BaseException)]
    for _, failure in failures:
        if is_cancelled_exception(failure):
            raise asyncio.CancelledError() from failure
    if failures:
        month, first = failures[0]
        raise ApplicationError(f"{len(failures)} of {len(months)} month(s) failed; {month}: {_error(first)}",
                               non_retryable=True) from first


async def check(report: RunReport, connector: str, loads: list[MonthLoad], today: str | None, inp: Any,
                periods: list[str] | None = None) -> None:
    checked = CheckInput(report.run_id, connector, loads, periods or [], today, inp.quality)
    result: QualityReport = await _activity("abi.check_quality", checked, QualityReport, inp.retry)
    report.quality.checks += result.checks
    report.quality.failed += result.failed
    report.quality.warnings += result.warnings
    report.quality.anomalies += result.anomalies
    report.quality.problems += result.problems


def month_range(today: date, count: int) -> list[str]:
    months, current = [], today.replace(day=1)
    for _ in range(max(1, count)):
        months.insert(0, f"{current:%Y-%m}")
        current = (current - timedelta(days=1)).replace(day=1)
    return months


@workflow.defn(name=DAILY)
class DailyExtraction:
    """Every enabled connector (or one): refresh the previous and the current billing month, then check quality."""

    @workflow.run
    async def run(self, inp: DailyInput) -> RunReport:
        return await tracked(DAILY, inp.connector or "", inp, lambda report: self._body(report, inp))

    async def _body(self, report: RunReport, inp: DailyInput) -> None:
        today = date.fromisoformat(inp.today) if inp.today else workflow.now().date()
        report.connectors = await _activity("abi.list_connectors", inp.connector, list[str])
        failed: list[str] = []
        for name in report.connectors:  # one connector failing never keeps the others from their extraction
            before = len(report.loads)
            key = f"{workflow.info().workflow_id}/{name}"
            try:
                await load_months(report, name, month_range(today, inp.months), key, False, inp.max_parallel,
                                  inp.retry)
            except ApplicationError as exc:
                failed.append(f"connector {name}: {_error(exc)}")
                if len(report.loads) == before:
                    continue
            await check(report, name, report.loads[before:], today.isoformat(), inp)
        if failed:
            raise ApplicationError(f"{len(failed)} of {len(report.connectors)} connector(s) failed; "
                                   + "; ".join(failed), non_retryable=True)


@workflow.defn(name=BACKFILL)
class Backfill:
    """A month range (≤ 13 months) of one connector, chunked per billing month, bounded parallelism, resumable."""

    @workflow.run
    async def run(self, inp: BackfillInput) -> RunReport:
        return await tracked(BACKFILL, inp.connector, inp, lambda report: self._body(report, inp))

    async def _body(self, report: RunReport, inp: BackfillInput) -> None:
        key = inp.resume_key or workflow.info().workflow_id
        report.connectors = [inp.connector]
        plan = PlanInput(key, inp.connector, inp.start, inp.end)
        months: list[str] = await _activity("abi.plan_backfill", plan, list[str], inp.retry)
        workflow.logger.info("backfill %s: %d month(s) to load under key %s", inp.connector, len(months), key)
        try:
            await load_months(report, inp.connector, months, key, inp.full, inp.max_parallel, inp.retry)
        except ApplicationError:  # some months failed: check the others, then fail
            if report.loads:
                await check(report, inp.connector, report.loads, None, inp)
            raise
        if report.loads:
            await check(report, inp.connector, report.loads, None, inp)


@workflow.defn(name=QUALITY)
class DataQuality:
    """Freshness and anomalies over a period range (reconciliation and quarantine rates run after each load)."""

    @workflow.run
    async def run(self, inp: QualityInput) -> RunReport:
        return await tracked(QUALITY, inp.connector or "", inp, lambda report: self._body(report, inp))

    async def _body(self, report: RunReport, inp: QualityInput) -> None:
        today = date.fromisoformat(inp.today) if inp.today else workflow.now().date()
        try:
            periods = quality_periods(inp.start, inp.end, today)
        except ValueError as exc:  # a bad month never gets better: no retry
            raise ApplicationError(f"input of {QUALITY}: {exc}", non_retryable=True) from exc
        await check(report, inp.connector or "", [], today.isoformat(), inp, periods)


WORKFLOW_CLASSES = (DailyExtraction, Backfill, DataQuality)
INPUT_TYPES = {DAILY: DailyInput, BACKFILL: BackfillInput, QUALITY: QualityInput}
