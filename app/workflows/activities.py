"""The workflows' steps as plain functions over a :class:`Runtime` (warehouse + registry of one process).

Temporal activities (``app.workflows.temporal.activities``) and Moose tasks (``app.workflows.definitions``) both
call these. Each step is idempotent: a month is loaded through the connector sync (atomic per unit, billing
periods replaced per scope), so a retried or resumed step never duplicates data.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from app.connectors.base import PluginError, add_months, month_end, months
from app.connectors.registry import NotFound, Registry
from app.connectors.service import parse_month
from app.core.loader import ensure_schema
from app.core.locked import LockedWarehouse
from app.core.staging import drop_stale_stages, summed_totals
from app.core.warehouse import Warehouse, open_warehouse
from app.workflows import store
from app.workflows.types import (
    MAX_BACKFILL_MONTHS,
    CheckInput,
    MonthLoad,
    MonthTask,
    PlanInput,
    QualityReport,
    RunEvent,
    SourceTotal,
)

log = logging.getLogger(__name__)


class TaskFailure(Exception):
    """A step that failed; ``kind`` says whether trying again can help."""

    RETRYABLE = ("failed", "throttled")

    def __init__(self, message: str, kind: str = "failed") -> None:
        super().__init__(message)
        self.kind = kind

    @property
    def retryable(self) -> bool:
        return self.kind in self.RETRYABLE


@dataclass
class Runtime:
    """What the steps of one process share: one warehouse (serialized), the registry, per-month locks."""

    wh: Warehouse
    registry: Registry
    _locks: dict[str, threading.Lock] = field(default_factory=lambda: defaultdict(threading.Lock))
    _guard: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(cls, wh: Warehouse | None = None, registry: Registry | None = None) -> Runtime:
        """The configured warehouse (ABI_CLICKHOUSE_URL, else embedded) and registry, schemas ensured."""
        registry = registry or Registry()
        shared = LockedWarehouse(wh or open_warehouse(), registry.publish_lock)
        ensure_schema(shared)
        store.ensure_workflow_schema(shared)
        if shared.embedded:
            drop_stale_stages(shared)
        return cls(shared, registry)

    def month_lock(self, month: str) -> threading.Lock:
        """Loads of the same billing month replace the same partition: one at a time in this process."""
        with self._guard:
            return self._locks[month]

    def close(self) -> None:
        self.registry.close()
        self.wh.close()


def connectors(rt: Runtime, name: str | None = None) -> list[str]:
    """``[name]`` if it exists and is enabled (TaskFailure otherwise), else every enabled connector."""
    if name is None:
        return [c.name for c in rt.registry.list() if c.enabled]
    try:
        conn = rt.registry.get(name)
    except NotFound as exc:
        raise TaskFailure(str(exc), "config") from exc
    if not conn.enabled:
        raise TaskFailure(f"connector {name!r} is disabled", "config")
    return [name]


def refresh_months(today: date, count: int) -> list[str]:
    """The ``count`` billing months ending with today's (Azure revises the previous month's data)."""
    return [f"{add_months(today, -n):%Y-%m}" for n in range(max(1, count) - 1, -1, -1)]


def plan_backfill(rt: Runtime, plan: PlanInput) -> list[str]:
    """Months from ``start`` to ``end`` not yet completed under ``run_key`` (at most 13 months)."""
    connectors(rt, plan.connector)
    try:
        first, last = parse_month(plan.start, "start"), parse_month(plan.end, "end")
        wanted = [f"{m:%Y-%m}" for m in months(first, last)]
    except (PluginError, ValueError) as exc:
        raise TaskFailure(str(exc), "config") from exc
    if len(wanted) > MAX_BACKFILL_MONTHS:
        raise TaskFailure(f"a backfill covers at most {MAX_BACKFILL_MONTHS} months (Azure's history); "
                          f"{plan.start}..{plan.end} is {len(wanted)}", "config")
    done = store.completed_months(rt.wh, plan.run_key, plan.connector)
    log.info("backfill plan run_key=%s connector=%s months=%d done=%d", plan.run_key, plan.connector, len(wanted),
             len(done & set(wanted)))
    return [m for m in wanted if m not in done]


def extract_month(rt: Runtime, task: MonthTask, attempt: int = 1) -> MonthLoad:
    """Sync one billing month of one connector (extract → land → FOCUS → validate → publish, aggregates refreshed by
    the publish) and record the month; TaskFailure when the sync did not complete."""
    from app.connectors.sync import sync

    month = parse_month(task.month, "month")
    base = {"run_key": task.run_key, "run_id": task.run_id, "workflow": task.workflow, "connector": task.connector,
            "month": task.month, "attempt": attempt}
    with rt.month_lock(task.month), rt.wh.holding():  # the warehouse stays ours from the load to the record
        try:
            result = sync(rt.registry, rt.wh, task.connector, month, month_end(month), full=task.full)
        except PluginError as exc:  # unknown or disabled connector
            raise TaskFailure(str(exc), "config") from exc
        return _record_month(rt, task, result, base, attempt)


def _record_month(rt: Runtime, task: MonthTask, result, base: dict, attempt: int) -> MonthLoad:
    if not result.ok:
        error = result.error or next(u.error for u in result.units if u.error)
        store.record_task(rt.wh, {**base, "status": "failed", "rows_read": result.rows_read, "rows_loaded": 0,
                                  "rows_quarantined": 0, "error": error})
        raise TaskFailure(error, "config" if result.permanent else _kind(error, result.units))
    load = _month_load(task, result)
    store.record_task(rt.wh, {**base, "status": "completed", "rows_read": load.rows_read,
                              "rows_loaded": load.rows_loaded, "rows_quarantined": load.rows_quarantined})
    log.info("month loaded connector=%s month=%s status=%s rows=%d attempt=%d seconds=%s", task.connector,
             task.month, load.status, load.rows_read, attempt, json.dumps(load.seconds))
    return load


def _kind(error: str, units: list) -> str:
    if any(u.status == "refused" for u in units):
        return "refused"
    text = error.lower()
    if " 429 " in f" {text} " or "throttl" in text or "too many requests" in text:
        return "throttled"
    return "failed"


def _month_load(task: MonthTask, result) -> MonthLoad:
    """What a month's sync loaded, with the source's own totals (every row read) for reconciliation."""
    loaded = [u for u in result.units if u.status == "loaded"]
    load = MonthLoad(task.connector, task.month, "loaded" if loaded else "unchanged", units=len(loaded),
                     rows_read=sum(u.rows_read for u in loaded),
                     rows_loaded=sum(u.rows_loaded for u in loaded) - result.rows_taken_back,
                     rows_quarantined=sum(u.rows_quarantined for u in loaded),
                     billing_periods=sorted({p for u in loaded for p in u.billing_periods}))
    load.files = sorted(p for u in loaded for p in u.paths)
    load.totals = [SourceTotal(**t) for t in summed_totals(t for u in loaded for t in u.source_totals)]
    load.seconds = {"extract": round(sum(u.extract_seconds for u in result.units), 3),
                    "load": round(sum(u.load_seconds for u in result.units), 3)}
    return load


def record_run(rt: Runtime, event: RunEvent) -> None:
    store.record_run(rt.wh, event)
    log.info("run %s workflow=%s connector=%s status=%s rows=%d", event.run_id, event.workflow, event.connector,
             event.status, event.rows_processed)


def check_quality(rt: Runtime, inp: CheckInput) -> QualityReport:
    """Reconciliation, quarantine rate, freshness and anomalies of a run's loads (recorded in ClickHouse)."""
    from app.workflows import quality

    with rt.month_lock("_anomalies"):
        report = quality.check(rt.wh, inp)
    log.info("quality run=%s connector=%s checks=%d failed=%d warnings=%d anomalies=%d", inp.run_id, inp.connector,
             report.checks, report.failed, report.warnings, report.anomalies)
    return report
