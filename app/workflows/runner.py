"""The workflows as plain synchronous code, for Moose's own task runner (``app.workflows.definitions``).

Same steps, same records as the Temporal implementation: the run is recorded in ``workflow_runs``, months load
with bounded parallelism (threads), a backfill skips the months completed under its run key (a retried Moose task
or a re-run with the same ``run_key`` resumes), and the quality checks run on what was loaded.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, is_dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from app.workflows import activities as steps
from app.workflows import store
from app.workflows.activities import Runtime, TaskFailure
from app.workflows.types import (
    BACKFILL,
    DAILY,
    BackfillInput,
    CheckInput,
    DailyInput,
    MonthLoad,
    MonthTask,
    PlanInput,
    QualityReport,
    QualitySettings,
    RunEvent,
    RunReport,
)


def _json(params: Any) -> str:
    return json.dumps(asdict(params) if is_dataclass(params) else params)


def new_run_id(workflow: str) -> str:
    return f"moose-{workflow}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def tracked(rt: Runtime, run_id: str, workflow: str, connector: str, params: Any,
            body: Callable[[RunReport], None], final: bool = True) -> RunReport:
    """Record ``running``, run ``body``; record ``failed`` (and re-raise) or, if ``final``, ``completed``."""
    report = RunReport(run_id, workflow)
    event = RunEvent(run_id, "", workflow, connector, _json(params), "running", store.now())
    steps.record_run(rt, event)
    try:
        body(report)
    except Exception as exc:
        steps.record_run(rt, replace(event, status="failed", ended_at=store.now(), rows_processed=report.rows,
                                     error=str(exc)))
        raise
    if final:
        steps.record_run(rt, replace(event, status="completed", ended_at=store.now(), rows_processed=report.rows))
    return report


def load_months(rt: Runtime, report: RunReport, connector: str, months: list[str], key: str, full: bool,
                parallel: int) -> None:
    """Load months of a connector, ``parallel`` at a time; every month runs, then the first failure is raised."""
    def one(month: str) -> MonthLoad:
        return steps.extract_month(rt, MonthTask(report.run_id, key, report.workflow, connector, month, full))

    with ThreadPoolExecutor(max(1, parallel)) as pool:
        futures = [pool.submit(one, m) for m in months]
    failures = []
    for month, future in zip(months, futures, strict=True):
        if future.exception() is None:
            report.loads.append(future.result())
        else:
            failures.append(f"{month}: {future.exception()}")
    if failures:
        raise TaskFailure(f"{len(failures)} of {len(months)} month(s) failed; {failures[0]}")


def daily(rt: Runtime, inp: DailyInput, run_id: str) -> RunReport:
    """Extraction of the previous and current month for every enabled connector (or one); no quality yet."""
    def body(report: RunReport) -> None:
        today = date.fromisoformat(inp.today) if inp.today else datetime.now(UTC).date()
        report.connectors = steps.connectors(rt, inp.connector)
        failed = []
        for name in report.connectors:  # one connector failing never keeps the others from their extraction
            try:
                load_months(rt, report, name, steps.refresh_months(today, inp.months), f"{run_id}/{name}", False,
                            inp.max_parallel)
            except TaskFailure as exc:
                failed.append(f"connector {name}: {exc}")
        if failed:
            raise TaskFailure(f"{len(failed)} of {len(report.connectors)} connector(s) failed; {'; '.join(failed)}")

    return tracked(rt, run_id, DAILY, inp.connector or "", inp, body, final=False)


def backfill(rt: Runtime, inp: BackfillInput, run_id: str) -> RunReport:
    """A month range of one connector; months completed under ``resume_key`` (default: the range) are skipped."""
    key = inp.resume_key or f"{BACKFILL}/{inp.connector}/{inp.start}/{inp.end}"

    def body(report: RunReport) -> None:
        report.connectors = [inp.connector]
        months = steps.plan_backfill(rt, PlanInput(key, inp.connector, inp.start, inp.end))
        load_months(rt, report, inp.connector, months, key, inp.full, inp.max_parallel)

    return tracked(rt, run_id, BACKFILL, inp.connector, inp, body, final=False)


def finish(rt: Runtime, report: RunReport, params: Any, settings: QualitySettings,
           periods: list[str] | None = None, today: str | None = None) -> QualityReport:
    """Quality checks per connector of a run, then the run recorded as completed (or failed)."""
    connector = report.connectors[0] if len(report.connectors) == 1 else ""
    event = RunEvent(report.run_id, "", report.workflow, connector, _json(params), "running",
                     store.now())
    quality = QualityReport()
    try:
        for name in report.connectors or [connector]:
            loads = [load for load in report.loads if load.connector == name]
            got = steps.check_quality(rt, CheckInput(report.run_id, name, loads, periods or [], today, settings))
            quality.checks, quality.failed = quality.checks + got.checks, quality.failed + got.failed
            quality.warnings, quality.anomalies = quality.warnings + got.warnings, quality.anomalies + got.anomalies
            quality.problems += got.problems
    except Exception as exc:
        steps.record_run(rt, replace(event, status="failed", ended_at=store.now(), rows_processed=report.rows,
                                     error=str(exc)))
        raise
    steps.record_run(rt, replace(event, status="completed", ended_at=store.now(), rows_processed=report.rows))
    return quality
