"""Writing the workflows' records (runs, month tasks, checks, anomalies) and reading back what resumption needs."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from app.core import schema
from app.core.warehouse import Warehouse, quote
from app.workflows.tables import RUNS_TABLE, TABLES, TASKS_TABLE
from app.workflows.types import RunEvent

INSERT_BATCH = 5000


def now() -> str:
    """UTC now as ClickHouse DateTime64(3) text."""
    return stamp(datetime.now(UTC))


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def ensure_workflow_schema(wh: Warehouse) -> None:
    """Create the workflow tables (declared in ``app.workflows.tables``) if missing."""
    for table in TABLES:
        schema.ensure_table(wh, table)


def insert(wh: Warehouse, table: str, rows: Iterable[dict[str, Any]]) -> int:
    """Append rows (dicts keyed by column) to ``table``; returns how many."""
    batch: list[str] = []
    count = 0
    for row in rows:
        batch.append(json.dumps(row, default=str))
        if len(batch) >= INSERT_BATCH:
            count += _flush(wh, table, batch)
    return count + _flush(wh, table, batch)


def _flush(wh: Warehouse, table: str, lines: list[str]) -> int:
    if not lines:
        return 0
    wh.command(f"INSERT INTO {wh.database}.`{table}` FORMAT JSONEachRow\n" + "\n".join(lines))
    n = len(lines)
    lines.clear()
    return n


def record_run(wh: Warehouse, event: RunEvent) -> None:
    insert(wh, RUNS_TABLE, [{**asdict(event), "recorded_at": now()}])


def record_task(wh: Warehouse, row: dict[str, Any]) -> None:
    insert(wh, TASKS_TABLE, [{"error": None, "finished_at": now(), **row}])


def completed_months(wh: Warehouse, run_key: str, connector: str) -> set[str]:
    """Months already completed under ``run_key`` for ``connector``."""
    rows = wh.rows(f"SELECT DISTINCT month FROM {wh.database}.`{TASKS_TABLE}` WHERE run_key = {quote(run_key)} "
                   f"AND connector = {quote(connector)} AND status = 'completed'")
    return {r["month"] for r in rows}
