"""Create the aggregate tables and views in a warehouse, and rebuild aggregate partitions from the FOCUS table.

Materialized views only see INSERTs into ``focus_cost``. The bulk loader publishes whole months with
``ALTER TABLE … REPLACE PARTITION``, which no view sees, so after publishing it must call
:func:`refresh_aggregates` with the partition ids it replaced: each aggregate partition is recomputed from the
view's own SELECT into a staging table and swapped in with ``REPLACE PARTITION`` (atomic per partition).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from app.core import schema
from app.core.warehouse import Warehouse
from app.models.names import DAILY_COST_TABLE, DAILY_COST_VIEW, FOCUS_TABLE, view_sql

PARTITION_ID = re.compile(r"^\d{6}$")
"""focus_cost's partition ids are toYYYYMM(BillingPeriodStart) values."""


@dataclass(frozen=True)
class Aggregate:
    """A materialized view over focus_cost and its target table (same partition key as focus_cost)."""

    table: str
    view: str
    select: str


AGGREGATES = (Aggregate(DAILY_COST_TABLE, DAILY_COST_VIEW, view_sql(DAILY_COST_TABLE)),)


def ensure_views(wh: Warehouse) -> None:
    """Create the aggregate tables and their materialized views (after ``focus_cost`` exists)."""
    for agg in AGGREGATES:
        schema.ensure_table(wh, agg.table)
        wh.command(f"CREATE MATERIALIZED VIEW IF NOT EXISTS {wh.database}.`{agg.view}` "
                   f"TO {wh.database}.`{agg.table}` AS\n{agg.select}")


def refresh_aggregates(wh: Warehouse, partition_ids: Iterable[str]) -> None:
    """Recompute the given focus_cost partitions (e.g. ``'202610'``) in every aggregate table."""
    ids = sorted(set(partition_ids))
    bad = [p for p in ids if not PARTITION_ID.match(p)]
    if bad:
        raise ValueError(f"not focus_cost partition ids: {bad}")
    if not ids:
        return
    for agg in AGGREGATES:
        _rebuild(wh, agg, ids)


def rebuild_all(wh: Warehouse) -> list[str]:
    """Recompute every partition present in focus_cost or in an aggregate; returns the partition ids."""
    sources = [FOCUS_TABLE] + [agg.table for agg in AGGREGATES]
    union = " UNION DISTINCT ".join(f"SELECT _partition_id AS p FROM {wh.database}.`{t}`" for t in sources)
    ids = [r["p"] for r in wh.rows(f"SELECT DISTINCT p FROM ({union}) ORDER BY p")]
    refresh_aggregates(wh, ids)
    return ids


def _rebuild(wh: Warehouse, agg: Aggregate, ids: list[str]) -> None:
    db = wh.database
    stage = f"_abi_refresh_{agg.table}_{uuid.uuid4().hex[:12]}"
    names = ", ".join(f"`{name}`" for name, _ in schema.columns(agg.table))
    months = ", ".join(ids)
    wh.command(schema.create_table_sql(agg.table, db, name=stage))
    try:
        wh.command(f"INSERT INTO {db}.`{stage}` ({names}) SELECT {names} FROM (\n{agg.select}\n) "
                   f"WHERE toYYYYMM(BillingPeriodStart) IN ({months})")
        filled = {r["p"] for r in wh.rows(f"SELECT DISTINCT _partition_id AS p FROM {db}.`{stage}`")}
        for pid in ids:  # a month left empty in focus_cost is dropped (REPLACE refuses an empty source)
            swap = f"REPLACE PARTITION ID '{pid}' FROM {db}.`{stage}`"
            wh.command(f"ALTER TABLE {db}.`{agg.table}` " + (swap if pid in filled else f"DROP PARTITION ID '{pid}'"))
    finally:
        wh.command(f"DROP TABLE IF EXISTS {db}.`{stage}`")
