"""The workflows as Moose ``Workflow``/``Task`` declarations (``moose dev`` / ``moose prod`` run them on Temporal).

- ``daily-extraction``: scheduled (``ABI_DAILY_CRON``, default ``0 2 * * *``, UTC): the previous and the current
  billing month of every enabled connector, then the quality checks.
- ``backfill``: ``{"connector", "start", "end", "max_parallel"?, "run_key"?}``: up to 13 months, resumable: months
  completed under ``run_key`` (default: the connector and range) are skipped, so a retried or repeated run resumes;
  give a new ``run_key`` to load a range again.
- ``data-quality``: ``{"connector"?, "start"?, "end"?, "today"?}``: freshness and anomalies on demand.

Task functions only call :mod:`app.workflows.runner`. Inside Moose the warehouse is Moose's ClickHouse (from
``ABI_CLICKHOUSE_URL``, else Moose's ``MOOSE_CLICKHOUSE_CONFIG__*`` settings); the Temporal worker of
:mod:`app.workflows.worker` is the other way to run the same steps.
"""

from __future__ import annotations

import os
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any, Optional
from urllib.parse import quote

from moose_lib import Task, TaskConfig, TaskContext, Workflow, WorkflowConfig
from pydantic import BaseModel

from app.workflows import runner
from app.workflows.activities import Runtime
from app.workflows.types import (
    BACKFILL,
    DAILY,
    DEFAULT_CRON,
    QUALITY,
    BackfillInput,
    DailyInput,
    MonthLoad,
    QualityInput,
    QualitySettings,
    RunReport,
    SourceTotal,
    quality_periods,
)

DAILY_CRON = os.environ.get("ABI_DAILY_CRON") or DEFAULT_CRON


class BackfillRequest(BaseModel):
    connector: str
    start: str
    end: str
    max_parallel: int = 3
    run_key: Optional[str] = None
    full: bool = True


class QualityRequest(BaseModel):
    connector: Optional[str] = None
    start: Optional[str] = None
    end: Optional[str] = None
    today: Optional[str] = None


class LoadSummary(BaseModel):
    """What the extraction task hands to the quality task."""

    run_id: str
    workflow: str
    connectors: list[str]
    parameters: dict[str, Any]
    loads: list[dict[str, Any]]
    rows: int


class QualitySummary(BaseModel):
    run_id: str
    rows: int
    checks: int
    failed: int
    warnings: int
    anomalies: int
    problems: list[str]


def moose_warehouse():
    """``ABI_CLICKHOUSE_URL``, else the ClickHouse Moose itself is configured with."""
    from app.core.server_warehouse import ServerWarehouse
    from app.core.warehouse import open_warehouse

    if os.environ.get("ABI_CLICKHOUSE_URL") or not os.environ.get("MOOSE_CLICKHOUSE_CONFIG__HOST_PORT"):
        return open_warehouse()
    env = lambda key, default="": os.environ.get(f"MOOSE_CLICKHOUSE_CONFIG__{key}", default)  # noqa: E731
    scheme = "https" if env("USE_SSL", "false").lower() == "true" else "http"
    auth = f"{quote(env('USER', 'default'), safe='')}:{quote(env('PASSWORD'), safe='')}@"
    host = f"{env('HOST', '127.0.0.1')}:{env('HOST_PORT')}"
    return ServerWarehouse(f"{scheme}://{auth}{host}/{env('DB_NAME', 'abi')}")


def _summary(report: RunReport, params: Any) -> LoadSummary:
    return LoadSummary(run_id=report.run_id, workflow=report.workflow, connectors=report.connectors,
                       parameters=asdict(params), loads=[asdict(load) for load in report.loads], rows=report.rows)


def _report(summary: LoadSummary) -> RunReport:
    loads = [MonthLoad(**{**d, "totals": [SourceTotal(**t) for t in d["totals"]]}) for d in summary.loads]
    return RunReport(summary.run_id, summary.workflow, summary.connectors, loads)


def run_daily(ctx: TaskContext[None]) -> LoadSummary:
    inp = DailyInput()
    with _runtime() as rt:
        return _summary(runner.daily(rt, inp, runner.new_run_id(DAILY)), inp)


def run_backfill(ctx: TaskContext[BackfillRequest]) -> LoadSummary:
    req = ctx.input
    inp = BackfillInput(req.connector, req.start, req.end, req.max_parallel, req.run_key, req.full)
    with _runtime() as rt:
        return _summary(runner.backfill(rt, inp, runner.new_run_id(BACKFILL)), inp)


def run_checks(ctx: TaskContext[LoadSummary]) -> QualitySummary:
    report = _report(ctx.input)
    with _runtime() as rt:
        got = runner.finish(rt, report, ctx.input.parameters, QualitySettings())
    return QualitySummary(run_id=report.run_id, rows=report.rows, **asdict(got))


def run_quality(ctx: TaskContext[QualityRequest]) -> QualitySummary:
    inp = QualityInput(**ctx.input.model_dump())
    report = RunReport(runner.new_run_id(QUALITY), QUALITY, [inp.connector] if inp.connector else [])
    today = date.fromisoformat(inp.today) if inp.today else datetime.now(UTC).date()
    periods = quality_periods(inp.start, inp.end, today)  # every month of the range, once
    with _runtime() as rt:
        got = runner.finish(rt, report, inp, inp.quality, periods, inp.today)
    return QualitySummary(run_id=report.run_id, rows=0, **asdict(got))


class _runtime:  # noqa: N801 - a context manager used like a function
    def __enter__(self) -> Runtime:
        self.rt = Runtime.open(moose_warehouse())
        return self.rt

    def __exit__(self, *exc: object) -> None:
        self.rt.close()


def _workflow(name: str, first: Task, then: Task, schedule: Optional[str] = None) -> Workflow:
    first.config.on_complete = [then]
    return Workflow(name, WorkflowConfig(starting_task=first, schedule=schedule, timeout="24h"))


daily_extraction = _workflow(
    DAILY, Task[None, LoadSummary]("extract", TaskConfig(run=run_daily, retries=3, timeout="12h")),
    Task[LoadSummary, QualitySummary]("quality", TaskConfig(run=run_checks, retries=3, timeout="1h")), DAILY_CRON)
backfill = _workflow(
    BACKFILL, Task[BackfillRequest, LoadSummary]("extract", TaskConfig(run=run_backfill, retries=3, timeout="24h")),
    Task[LoadSummary, QualitySummary]("quality", TaskConfig(run=run_checks, retries=3, timeout="1h")))
data_quality = Workflow(QUALITY, WorkflowConfig(starting_task=Task[QualityRequest, QualitySummary](
    "quality", TaskConfig(run=run_quality, retries=3, timeout="1h")), timeout="2h"))
